// The balance planner's rules (balance_planner.h) as pure functions: each test builds the
// topology the balancer would see and checks the one decision, or that there is none.
#include "placement/balance_planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/placement/balance_test_util.h"

namespace meridian::placement {
namespace {

using ::testing::ElementsAre;
using testing::Group;
using testing::GroupOf;
using ::testing::HasSubstr;
using testing::Ids;
using testing::kMiB;
using testing::MakePolicy;
using testing::Range;
using testing::ServerOf;
using testing::Servers;

// --- Rule 2: split by size -----------------------------------------------------------------

proto::Topology TwoRangesWithSizes(uint64_t low_bytes, uint64_t high_bytes) {
  proto::Topology t = Servers({"a", "b", "c"});
  Group(t, 1, {1, 2, 3});
  Group(t, 2, {2, 3, 1});
  Range(t, "", "m", 1, static_cast<int64_t>(low_bytes), "f");
  Range(t, "m", "", 2, static_cast<int64_t>(high_bytes), "t");
  return t;
}

TEST(PlanSplitBySizeTest, SplitsTheLargestRangeOverTheThresholdAtItsSplitKey) {
  const proto::Topology t = TwoRangesWithSizes(100 * kMiB, 70 * kMiB);
  const std::optional<Decision> d = PlanSplitBySize(t, 64 * kMiB);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kStartMove);
  const proto::MoveInfo& split = d->command.start_move().move();
  EXPECT_EQ(split.kind(), proto::MoveInfo::SPLIT);
  EXPECT_EQ(split.start(), "");
  EXPECT_EQ(split.end(), "m");
  EXPECT_EQ(split.from_group(), 1u);
  EXPECT_EQ(split.split_key(), "f");
  EXPECT_THAT(d->reason, HasSubstr("holds 100 MiB, over 64 MiB"));
}

TEST(PlanSplitBySizeTest, NothingAtOrBelowTheThresholdOrWithThresholdZero) {
  const proto::Topology t = TwoRangesWithSizes(64 * kMiB, 10 * kMiB);
  EXPECT_FALSE(PlanSplitBySize(t, 64 * kMiB).has_value());  // "exceeds": 64 MiB is not over
  EXPECT_FALSE(PlanSplitBySize(t, 0).has_value());
  EXPECT_TRUE(PlanSplitBySize(t, 63 * kMiB).has_value());
}

TEST(PlanSplitBySizeTest, SkipsASplitKeyNotStrictlyInsideTheRange) {
  proto::Topology t = TwoRangesWithSizes(100 * kMiB, 70 * kMiB);
  GroupOf(t, 1).mutable_range_stats(0)->set_split_key("m");  // the range's end: stale
  const std::optional<Decision> d = PlanSplitBySize(t, 64 * kMiB);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command.start_move().move().split_key(), "t");  // the other one
  GroupOf(t, 2).mutable_range_stats(0)->set_split_key("");     // none reported
  EXPECT_FALSE(PlanSplitBySize(t, 64 * kMiB).has_value());
}

TEST(PlanSplitBySizeTest, NothingWhileAMoveOrSplitIsRecorded) {
  proto::Topology t = TwoRangesWithSizes(100 * kMiB, 70 * kMiB);
  proto::MoveInfo* move = t.add_moves();
  move->set_id(1);
  move->set_start("m");
  move->set_from_group(2);
  move->set_to_group(1);
  EXPECT_FALSE(PlanSplitBySize(t, 64 * kMiB).has_value());
}

TEST(PlanSplitBySizeTest, IgnoresASizeReportedByAGroupThatNoLongerHoldsTheRange) {
  proto::Topology t = TwoRangesWithSizes(1, 1);
  proto::RangeStats* stale = GroupOf(t, 1).add_range_stats();  // ["m", +inf) is group 2's
  stale->set_start("m");
  stale->set_approx_bytes(500 * kMiB);
  stale->set_split_key("t");
  EXPECT_FALSE(PlanSplitBySize(t, 64 * kMiB).has_value());
}

// --- Rule 3: data across groups ------------------------------------------------------------

// Group 1 holds 150 MiB in three ranges, group 2 10 MiB, group 3 40 MiB; three servers.
proto::Topology Unbalanced() {
  proto::Topology t = Servers({"a", "b", "c"});
  for (uint64_t g : {1, 2, 3}) Group(t, g, {1, 2, 3});
  Range(t, "", "d", 1, 100 * kMiB);
  Range(t, "d", "h", 1, 20 * kMiB);
  Range(t, "h", "k", 1, 30 * kMiB);
  Range(t, "k", "p", 2, 10 * kMiB);
  Range(t, "p", "", 3, 40 * kMiB);
  return t;
}

TEST(PlanDataBalanceTest, MovesTheHeaviestGroupsSmallestRangeToTheLightestGroup) {
  const std::optional<Decision> d = PlanDataBalance(Unbalanced(), 64 * kMiB, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kStartMove);
  const proto::MoveInfo& move = d->command.start_move().move();
  EXPECT_EQ(move.kind(), proto::MoveInfo::MOVE);
  EXPECT_EQ(move.start(), "d");
  EXPECT_EQ(move.end(), "h");
  EXPECT_EQ(move.from_group(), 1u);
  EXPECT_EQ(move.to_group(), 2u);
  EXPECT_THAT(d->reason, HasSubstr("group 1 holds 150 MiB in 3 ranges"));
}

TEST(PlanDataBalanceTest, ANewGroupWhileThereAreFewerGroupsThanUsableServers) {
  proto::Topology t = Unbalanced();
  proto::ServerInfo* fourth = t.add_servers();
  fourth->set_id(4);
  fourth->set_zone("a");
  fourth->set_alive(true);
  const std::optional<Decision> d = PlanDataBalance(t, 64 * kMiB, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kMoveToNewGroup);
  EXPECT_THAT(d->new_group, ElementsAre(4, 2, 3));  // the least loaded server of each zone
  EXPECT_EQ(d->command.start_move().move().start(), "d");
  EXPECT_EQ(d->command.start_move().move().to_group(), 0u);  // set once the group exists
  // A draining server does not count.
  fourth->set_draining(true);
  EXPECT_EQ(PlanDataBalance(t, 64 * kMiB, 3)->kind, Decision::Kind::kStartMove);
}

TEST(PlanDataBalanceTest, AnEmptyGroupIsTheDestinationFirst) {
  proto::Topology t = Unbalanced();
  Group(t, 4, {1, 2, 3});  // e.g. created by a decision a failover interrupted
  const std::optional<Decision> d = PlanDataBalance(t, 64 * kMiB, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command.start_move().move().to_group(), 4u);
  EXPECT_THAT(d->reason, HasSubstr("empty group 4"));
}

TEST(PlanDataBalanceTest, NothingWithoutEnoughImbalanceOrRangesOrSizes) {
  proto::Topology t = Unbalanced();
  GroupOf(t, 2).mutable_range_stats(0)->set_approx_bytes(80 * kMiB);  // 150 <= 2 * 80
  GroupOf(t, 3).mutable_range_stats(0)->set_approx_bytes(80 * kMiB);
  EXPECT_FALSE(PlanDataBalance(t, 64 * kMiB, 3).has_value());

  EXPECT_FALSE(PlanDataBalance(Unbalanced(), 150 * kMiB, 3).has_value());  // not over it
  EXPECT_FALSE(PlanDataBalance(Unbalanced(), 0, 3).has_value());

  t = Unbalanced();
  GroupOf(t, 3).clear_range_stats();  // a size not reported yet
  EXPECT_FALSE(PlanDataBalance(t, 64 * kMiB, 3).has_value());

  proto::Topology one_range = Servers({"a", "b", "c"});
  Group(one_range, 1, {1, 2, 3});
  Group(one_range, 2, {1, 2, 3});
  Range(one_range, "", "m", 1, 500 * kMiB);
  Range(one_range, "m", "", 2, 0);
  EXPECT_FALSE(PlanDataBalance(one_range, 64 * kMiB, 3).has_value());  // split it first
}

TEST(PlanDataBalanceTest, LeavesGroupsWithAPolicyAndEmptyRangesAlone) {
  proto::Topology t = Unbalanced();
  *GroupOf(t, 2).mutable_policy() = MakePolicy(3, {"a", "b", "c"});
  GroupOf(t, 1).mutable_range_stats(1)->set_approx_bytes(0);  // ["d", "h") holds nothing yet
  const std::optional<Decision> d = PlanDataBalance(t, 64 * kMiB, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command.start_move().move().start(), "h");  // the smallest that holds data
  EXPECT_EQ(d->command.start_move().move().to_group(), 3u);

  *GroupOf(t, 1).mutable_policy() = MakePolicy(0, {}, "a");  // the heaviest keeps its data
  EXPECT_FALSE(PlanDataBalance(t, 64 * kMiB, 3).has_value());
}

// --- Rule 1: policies ------------------------------------------------------------------------

TEST(PlanPolicyTest, AddsAReplicaInANewZoneToMeetTheCount) {
  proto::Topology t = Servers({"a", "b", "c", "d", "e", "a"});
  *Group(t, 1, {1, 2, 3}).mutable_policy() = MakePolicy(5);
  Group(t, 2, {4, 2, 3});  // server 4 carries a replica, 5 none
  const std::optional<Decision> d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kSetReplicas);
  EXPECT_EQ(d->command.set_replicas().group(), 1u);
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(1, 2, 3, 5));
  EXPECT_THAT(Ids(d->command.set_replicas().expected()), ElementsAre(1, 2, 3));
  EXPECT_THAT(d->reason, HasSubstr("has 3 replicas of 5: adding server 5 (zone e)"));
}

TEST(PlanPolicyTest, RepeatsAZoneOnlyWhenNoOtherIsLeft) {
  proto::Topology t = Servers({"a", "b", "c", "a"});
  *Group(t, 1, {1, 2, 3}).mutable_policy() = MakePolicy(5);  // zones d and e died since
  const std::optional<Decision> d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(1, 2, 3, 4));
}

TEST(PlanPolicyTest, RemovesTheReplicaOutsideTheAllowedZonesFirst) {
  proto::Topology t = Servers({"a", "b", "c", "d", "e"});
  *Group(t, 1, {1, 4, 2, 5, 3}).mutable_policy() = MakePolicy(3);
  std::optional<Decision> d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  // All allowed, distinct zones, usable: not the first, not the leader, then the highest id.
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(1, 4, 2, 3));

  *GroupOf(t, 1).mutable_policy() = MakePolicy(3, {"a", "b", "c", "e"});
  d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(1, 2, 5, 3));  // 4 is in d
}

TEST(PlanPolicyTest, MovesAReplicaOutOfAZoneNotAllowed) {
  proto::Topology t = Servers({"a", "b", "c", "d"});
  *Group(t, 1, {1, 2, 3}).mutable_policy() = MakePolicy(0, {"a", "b", "d"});
  const std::optional<Decision> d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kReplaceReplica);
  EXPECT_EQ(d->command.replace_replica().group(), 1u);
  EXPECT_EQ(d->command.replace_replica().old_server(), 3u);
  EXPECT_EQ(d->command.replace_replica().new_server(), 4u);
  EXPECT_THAT(d->reason, HasSubstr("in a zone the policy does not allow"));
}

TEST(PlanPolicyTest, SpreadsTwoReplicasOfOneZoneOnceAnotherZoneHasAServer) {
  proto::Topology t = Servers({"a", "b", "c", "a"});
  Group(t, 1, {1, 2, 4});  // left so by re-replication while zone c was down
  ServerOf(t, 3).set_alive(false);
  EXPECT_FALSE(PlanPolicy(t).has_value());  // nowhere better
  ServerOf(t, 3).set_alive(true);
  const std::optional<Decision> d = PlanPolicy(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->command.replace_replica().old_server(), 4u);
  EXPECT_EQ(d->command.replace_replica().new_server(), 3u);
}

TEST(PlanPolicyTest, WaitsForAGroupToSettle) {
  proto::Topology t = Servers({"a", "b", "c", "d", "e"});
  *Group(t, 1, {1, 2, 3}).mutable_policy() = MakePolicy(5);
  GroupOf(t, 1).mutable_logs(2)->set_installing_snapshot(true);
  EXPECT_FALSE(PlanPolicy(t).has_value());
  GroupOf(t, 1).mutable_logs(2)->set_installing_snapshot(false);
  GroupOf(t, 1).mutable_logs()->RemoveLast();  // server 3 has not started its replica
  EXPECT_FALSE(PlanPolicy(t).has_value());
}

TEST(PlanPolicyTest, TheDefaultPolicyChangesNothingInAWellPlacedCluster) {
  proto::Topology t = Servers({"a", "b", "c", "a", "b", "c"});
  for (uint64_t g = 1; g <= 8; ++g) Group(t, g, {1 + g % 3, 4 + (g + 1) % 3, 1 + (g + 2) % 3});
  EXPECT_FALSE(PlanPolicy(t).has_value());
}

// --- Rule 4: replicas across servers ---------------------------------------------------------

// Zone a: server 1 holds 4 replicas, server 4 none.
proto::Topology CrowdedServer() {
  proto::Topology t = Servers({"a", "b", "c", "a"});
  Group(t, 1, {1, 2, 3});
  Group(t, 2, {2, 3, 1});
  Group(t, 3, {3, 1, 2}, /*leader=*/1);
  Group(t, 4, {1, 3, 2});
  return t;
}

TEST(PlanReplicaBalanceTest, MovesAReplicaToTheLeastLoadedServerOfTheZone) {
  const std::optional<Decision> d = PlanReplicaBalance(CrowdedServer());
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kReplaceReplica);
  // Group 2: server 1 is neither its preferred leader (group 1, 4) nor its leader (group 3).
  EXPECT_EQ(d->command.replace_replica().group(), 2u);
  EXPECT_EQ(d->command.replace_replica().old_server(), 1u);
  EXPECT_EQ(d->command.replace_replica().new_server(), 4u);
  EXPECT_THAT(d->reason, HasSubstr("zone a: server 1 holds 4 replicas, server 4 0"));
}

TEST(PlanReplicaBalanceTest, NothingForADifferenceOfOneOrWhileAGroupIsUnsettled) {
  proto::Topology t = Servers({"a", "b", "c", "a"});
  Group(t, 1, {1, 2, 3});
  Group(t, 2, {4, 2, 3});
  Group(t, 3, {1, 2, 3});
  EXPECT_FALSE(PlanReplicaBalance(t).has_value());  // 2 and 1

  t = CrowdedServer();
  GroupOf(t, 4).set_leader(0);
  EXPECT_FALSE(PlanReplicaBalance(t).has_value());
  t = CrowdedServer();
  GroupOf(t, 4).mutable_logs()->RemoveLast();
  EXPECT_FALSE(PlanReplicaBalance(t).has_value());
  t = CrowdedServer();
  ServerOf(t, 4).set_draining(true);
  EXPECT_FALSE(PlanReplicaBalance(t).has_value());
}

// --- Rule 5: leaders -------------------------------------------------------------------------

TEST(PlanLeaderBalanceTest, MovesTheLeaderIntoThePolicysLeaderZoneFirst) {
  proto::Topology t = Servers({"a", "b", "c"});
  *Group(t, 1, {1, 2, 3}).mutable_policy() = MakePolicy(0, {}, "b");
  const std::optional<Decision> d = PlanLeaderBalance(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->kind, Decision::Kind::kTransferLeader);
  EXPECT_EQ(d->group, 1u);
  EXPECT_EQ(d->from, 1u);
  EXPECT_EQ(d->to, 2u);
  // Server 2 becomes the preferred leader, or the group's leader would hand it back to 1.
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(2, 1, 3));
  EXPECT_THAT(Ids(d->command.set_replicas().expected()), ElementsAre(1, 2, 3));
  EXPECT_THAT(d->reason, HasSubstr("its leader belongs in zone b"));
}

TEST(PlanLeaderBalanceTest, SpreadsLeadersFromTheBusiestServer) {
  proto::Topology t = Servers({"a", "b", "c"});
  for (uint64_t g = 1; g <= 4; ++g) Group(t, g, {1, 2, 3});
  const std::optional<Decision> d = PlanLeaderBalance(t);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->group, 1u);
  EXPECT_EQ(d->from, 1u);
  EXPECT_EQ(d->to, 2u);
  EXPECT_THAT(Ids(d->command.set_replicas().replicas()), ElementsAre(2, 1, 3));
  EXPECT_THAT(d->reason, HasSubstr("server 1 leads 4 groups, server 2 0"));
}

TEST(PlanLeaderBalanceTest, CountsThePreferredLeaderWhileItIsAlive) {
  proto::Topology t = Servers({"a", "b", "c"});
  Group(t, 1, {1, 2, 3});
  Group(t, 2, {2, 3, 1}, /*leader=*/1);  // 1 is handing it back to 2 by itself
  Group(t, 3, {3, 1, 2}, /*leader=*/1);
  EXPECT_FALSE(PlanLeaderBalance(t).has_value());
  ServerOf(t, 2).set_alive(false);  // now 1 leads 2 groups, 3 one: a difference of 1
  GroupOf(t, 1).set_leader(1);
  EXPECT_FALSE(PlanLeaderBalance(t).has_value());
}

TEST(PlanLeaderBalanceTest, NeverOutOfTheLeaderZoneNorWithoutEveryLeader) {
  proto::Topology t = Servers({"a", "b", "c"});
  for (uint64_t g = 1; g <= 4; ++g) {
    *Group(t, g, {1, 2, 3}).mutable_policy() = MakePolicy(0, {}, "a");
  }
  EXPECT_FALSE(PlanLeaderBalance(t).has_value());

  t = Servers({"a", "b", "c"});
  for (uint64_t g = 1; g <= 4; ++g) Group(t, g, {1, 2, 3});
  GroupOf(t, 4).set_leader(0);
  EXPECT_FALSE(PlanLeaderBalance(t).has_value());
  // A zone rule does not wait for the other groups' leaders.
  *GroupOf(t, 2).mutable_policy() = MakePolicy(0, {}, "c");
  ASSERT_TRUE(PlanLeaderBalance(t).has_value());
  EXPECT_EQ(PlanLeaderBalance(t)->to, 3u);
}

// --- PlanNext ----------------------------------------------------------------------------------

TEST(PlanNextTest, PolicyFirstThenSizesThenReplicasThenLeaders) {
  proto::Topology t = CrowdedServer();  // rule 4 applies
  Range(t, "", "m", 1, 100 * kMiB, "f");
  Range(t, "m", "", 2, 1 * kMiB, "p");
  BalanceOptions options;
  options.split_range_bytes = 64 * kMiB;
  EXPECT_EQ(PlanNext(t, options)->kind, Decision::Kind::kStartMove);  // the split
  options.data_moves = false;
  EXPECT_EQ(PlanNext(t, options)->kind, Decision::Kind::kReplaceReplica);
  *GroupOf(t, 1).mutable_policy() = MakePolicy(0, {"a", "b"});
  EXPECT_EQ(PlanNext(t, options)->command.replace_replica().old_server(), 3u);  // zone c
  t = Servers({"a", "b", "c"});
  for (uint64_t g = 1; g <= 4; ++g) Group(t, g, {1, 2, 3});
  EXPECT_EQ(PlanNext(t, options)->kind, Decision::Kind::kTransferLeader);
  options.leader_moves = false;
  EXPECT_FALSE(PlanNext(t, options).has_value());
  t.set_bootstrapped(false);
  options.leader_moves = true;
  EXPECT_FALSE(PlanNext(t, options).has_value());
}

TEST(PlanNextTest, TheSameTopologyGivesTheSameDecision) {
  proto::Topology t = Unbalanced();
  ServerOf(t, 1).set_zone("a");
  const BalanceOptions options;
  const std::optional<Decision> first = PlanNext(t, options);
  const std::optional<Decision> second = PlanNext(t, options);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->command.SerializeAsString(), second->command.SerializeAsString());
  EXPECT_EQ(first->reason, second->reason);
}

}  // namespace
}  // namespace meridian::placement
