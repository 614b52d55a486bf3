#include "placement/planner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace meridian::placement {
namespace {

proto::ServerInfo Server(uint64_t id, const std::string& zone, bool alive = true) {
  proto::ServerInfo server;
  server.set_id(id);
  server.set_zone(zone);
  server.set_address("127.0.0.1:" + std::to_string(9000 + id));
  server.set_alive(alive);
  return server;
}

std::map<uint64_t, std::string> ZoneOf(const std::vector<proto::ServerInfo>& servers) {
  std::map<uint64_t, std::string> zones;
  for (const proto::ServerInfo& s : servers) zones[s.id()] = s.zone();
  return zones;
}

TEST(EvenSplitPointsTest, EightRangesSplitOnMultiplesOf0x20) {
  const std::vector<std::string> points = EvenSplitPoints(8);
  ASSERT_EQ(points.size(), 7u);
  for (int i = 0; i < 7; ++i)
    EXPECT_EQ(points[i], std::string(1, static_cast<char>(0x20 * (i + 1))));
  EXPECT_TRUE(EvenSplitPoints(1).empty());
  EXPECT_EQ(EvenSplitPoints(2), std::vector<std::string>{std::string(1, '\x80')});
}

TEST(PlanBootstrapTest, EveryGroupHasOneReplicaInEachOfDistinctZones) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "c"),
                                                  Server(4, "a"), Server(5, "b"), Server(6, "c")};
  const auto zone_of = ZoneOf(servers);
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, 8);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->groups_size(), 8);
  for (int i = 0; i < plan->groups_size(); ++i) {
    const proto::GroupInfo& group = plan->groups(i);
    EXPECT_EQ(group.id(), static_cast<uint64_t>(i + 1));
    EXPECT_EQ(group.leader(), 0u);
    ASSERT_EQ(group.replicas_size(), 3);
    std::set<std::string> zones;
    for (uint64_t id : group.replicas()) zones.insert(zone_of.at(id));
    EXPECT_EQ(zones.size(), 3u) << "group " << group.id();
  }
}

TEST(PlanBootstrapTest, SpreadsReplicasEvenlyOverServers) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "c"),
                                                  Server(4, "a"), Server(5, "b"), Server(6, "c")};
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, 8);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::map<uint64_t, int> load;
  std::map<uint64_t, int> first;  // replicas[0], the preferred leader position
  for (const proto::GroupInfo& group : plan->groups()) {
    for (uint64_t id : group.replicas()) ++load[id];
    ++first[group.replicas(0)];
  }
  ASSERT_EQ(load.size(), 6u);
  for (const auto& [id, n] : load) {
    EXPECT_GE(n, 4) << "server " << id;
    EXPECT_LE(n, 4) << "server " << id;  // 24 replicas over 6 servers
  }
  EXPECT_GE(first.size(), 3u);
}

TEST(PlanBootstrapTest, MoreZonesThanRequiredStillBalances) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "c"),
                                                  Server(4, "d")};
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, 8);
  ASSERT_TRUE(plan.ok()) << plan.status();
  std::map<uint64_t, int> load;
  for (const proto::GroupInfo& group : plan->groups()) {
    for (uint64_t id : group.replicas()) ++load[id];
  }
  for (const auto& [id, n] : load) EXPECT_EQ(n, 6) << "server " << id;  // 24 over 4
}

TEST(PlanBootstrapTest, RangesCoverTheKeySpaceInOrder) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "c")};
  for (int n : {1, 2, 3, 7, 8, 256}) {
    absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, n);
    ASSERT_TRUE(plan.ok()) << plan.status();
    ASSERT_EQ(plan->ranges_size(), n);
    EXPECT_EQ(plan->ranges(0).start(), "");
    EXPECT_EQ(plan->ranges(n - 1).end(), "");
    for (int i = 0; i < n; ++i) {
      const proto::RangeInfo& range = plan->ranges(i);
      EXPECT_EQ(range.group(), plan->groups(i).id());
      EXPECT_EQ(range.generation(), kInitialGeneration);
      if (i + 1 < n) {
        EXPECT_EQ(range.end(), plan->ranges(i + 1).start()) << "gap or overlap after range " << i;
        EXPECT_LT(range.start(), range.end());
      }
    }
  }
}

TEST(PlanBootstrapTest, FailsWithTooFewZones) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "a")};
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, 8);
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PlanBootstrapTest, DeadServersDoNotCount) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"),
                                                  Server(3, "c", /*alive=*/false)};
  EXPECT_EQ(PlanBootstrap(servers, 3, 8).status().code(), absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 2, 4);
  ASSERT_TRUE(plan.ok()) << plan.status();
  for (const proto::GroupInfo& group : plan->groups()) {
    EXPECT_THAT(group.replicas(), testing::UnorderedElementsAre(1, 2));
  }
}

TEST(PlanBootstrapTest, RejectsBadArguments) {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a")};
  EXPECT_EQ(PlanBootstrap(servers, 1, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanBootstrap(servers, 1, 257).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanBootstrap(servers, 0, 8).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanBootstrapTest, IsDeterministic) {
  const std::vector<proto::ServerInfo> servers = {Server(4, "a"), Server(2, "b"), Server(3, "c"),
                                                  Server(1, "a")};
  absl::StatusOr<proto::PlacementCommand::Bootstrap> a = PlanBootstrap(servers, 3, 8);
  absl::StatusOr<proto::PlacementCommand::Bootstrap> b = PlanBootstrap(servers, 3, 8);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->SerializeAsString(), b->SerializeAsString());
}

proto::Topology EightRanges() {
  const std::vector<proto::ServerInfo> servers = {Server(1, "a"), Server(2, "b"), Server(3, "c")};
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, 8);
  proto::Topology topology;
  *topology.mutable_ranges() = plan->ranges();
  *topology.mutable_groups() = plan->groups();
  topology.set_bootstrapped(true);
  return topology;
}

TEST(LocateTest, Boundaries) {
  const proto::Topology topology = EightRanges();
  auto group_of = [&](const std::string& key) {
    absl::StatusOr<proto::RangeInfo> range = Locate(topology, key);
    EXPECT_TRUE(range.ok()) << range.status();
    return range.ok() ? range->group() : 0;
  };
  EXPECT_EQ(group_of(""), 1u);
  EXPECT_EQ(group_of(std::string(1, '\0')), 1u);
  EXPECT_EQ(group_of("\x1f\xff\xff"), 1u);
  EXPECT_EQ(group_of("\x20"), 2u);  // a split point belongs to the range it starts
  EXPECT_EQ(group_of(std::string("\x20\x00", 2)), 2u);
  EXPECT_EQ(group_of("A"), 3u);  // 0x41
  EXPECT_EQ(group_of("a"), 4u);  // 0x61
  EXPECT_EQ(group_of("\x7f"), 4u);
  EXPECT_EQ(group_of("\x80"), 5u);  // bytes compare unsigned
  EXPECT_EQ(group_of("\xdf\xff"), 7u);
  EXPECT_EQ(group_of("\xe0"), 8u);
  EXPECT_EQ(group_of("\xff\xff\xff\xff"), 8u);
}

TEST(LocateTest, BeforeBootstrapIsFailedPrecondition) {
  EXPECT_EQ(Locate(proto::Topology(), "k").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(LocateTest, GapIsNotFound) {
  proto::Topology topology = EightRanges();
  topology.mutable_ranges()->erase(topology.mutable_ranges()->begin() + 2);
  EXPECT_EQ(Locate(topology, "A").status().code(), absl::StatusCode::kNotFound);
}

// Group 1 on servers 1 (a), 2 (b), 3 (c); spare servers 4 (a), 5 (b), 6 (d); group 2 on 4, 2, 3.
proto::Topology TwoGroups() {
  proto::Topology t;
  for (const proto::ServerInfo& s : {Server(1, "a"), Server(2, "b"), Server(3, "c"), Server(4, "a"),
                                     Server(5, "b"), Server(6, "d")}) {
    *t.add_servers() = s;
  }
  proto::GroupInfo* g1 = t.add_groups();
  g1->set_id(1);
  for (uint64_t id : {1, 2, 3}) g1->add_replicas(id);
  proto::GroupInfo* g2 = t.add_groups();
  g2->set_id(2);
  for (uint64_t id : {4, 2, 3}) g2->add_replicas(id);
  return t;
}

TEST(PlanReplacementTest, NothingWhileEveryReplicaIsAliveOrNotDeadLongEnough) {
  proto::Topology t = TwoGroups();
  EXPECT_FALSE(PlanReplacement(
                   t, [](uint64_t) { return 0; }, 30'000'000)
                   .has_value());
  t.mutable_servers(0)->set_alive(false);
  EXPECT_FALSE(PlanReplacement(
                   t, [](uint64_t) { return 29'000'000; }, 30'000'000)
                   .has_value());
}

TEST(PlanReplacementTest, ADeadServersReplicaMovesToItsZoneFirstThenAnUnusedZone) {
  proto::Topology t = TwoGroups();
  t.mutable_servers(1)->set_alive(false);  // server 2 (b), in both groups
  auto dead = [](uint64_t id) { return id == 2 ? 60'000'000 : 0; };
  auto plan = PlanReplacement(t, dead, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group(), 1u);
  EXPECT_EQ(plan->old_server(), 2u);
  EXPECT_EQ(plan->new_server(), 5u) << "the other server of zone b";
  t.mutable_servers(4)->set_alive(false);  // server 5 (b) is down too: zone d has no replica
  plan = PlanReplacement(t, dead, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->new_server(), 6u);
}

TEST(PlanReplacementTest, ARemovedServerIsReplacedAtOnceAndNoneWhenNoServerIsLeft) {
  proto::Topology t = TwoGroups();
  t.mutable_servers(0)->set_removed(true);  // server 1
  t.mutable_servers(0)->set_alive(false);
  auto plan = PlanReplacement(
      t, [](uint64_t) { return 0; }, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->old_server(), 1u);
  EXPECT_EQ(plan->new_server(), 4u) << "zone a; it serves group 2 but not group 1";
  for (int i = 3; i < 6; ++i) t.mutable_servers(i)->set_alive(false);
  EXPECT_FALSE(PlanReplacement(
                   t, [](uint64_t) { return 0; }, 30'000'000)
                   .has_value());
}

TEST(PlanReplacementTest, ADrainingServersReplicasMoveAndNothingMovesOntoIt) {
  proto::Topology t = TwoGroups();
  t.mutable_servers(1)->set_draining(true);  // server 2 (b), alive
  t.mutable_servers(4)->set_draining(true);  // server 5 (b), the other server of zone b
  auto plan = PlanReplacement(
      t, [](uint64_t) { return 0; }, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->old_server(), 2u);
  EXPECT_EQ(plan->new_server(), 6u) << "not onto draining server 5: zone d, which has none";
}

void Fence(proto::Topology* t, int group_index, uint64_t server) {
  proto::ReplicaFence* f = t->mutable_groups(group_index)->add_fenced();
  f->set_server(server);
  f->set_reason("this server's storage failed: No space left on device");
}

// Server 3 is alive and heartbeating, but its replica of group 1 is fenced: lost like a dead
// server's, at once (no timeout), and replaced where a dead one's would be. Its replica of group
// 2 is not fenced and stays.
TEST(PlanReplacementTest, AFencedReplicaIsReplacedAtOnceWhileItsServerLives) {
  proto::Topology t = TwoGroups();
  auto never_dead = [](uint64_t) { return 0; };
  EXPECT_FALSE(PlanReplacement(t, never_dead, 30'000'000).has_value());
  Fence(&t, 0, 3);
  auto plan = PlanReplacement(t, never_dead, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->group(), 1u);
  EXPECT_EQ(plan->old_server(), 3u);
  EXPECT_EQ(plan->new_server(), 6u) << "zone c has no other server: zone d, which has none";
}

// Fencing a replica never costs a group its healthy majority: with two of three replicas fenced,
// or one fenced and another down (not yet past the dead timeout), nothing is replaced; once the
// down one is dead long enough, it is replaced first (the usual path), and then the fenced one.
TEST(PlanReplacementTest, AFencedReplicaStaysWhileItsGroupHasNoHealthyMajorityWithoutIt) {
  auto never_dead = [](uint64_t) { return 0; };
  proto::Topology two_fenced = TwoGroups();
  Fence(&two_fenced, 0, 2);
  Fence(&two_fenced, 0, 3);
  EXPECT_FALSE(PlanReplacement(two_fenced, never_dead, 30'000'000).has_value());

  proto::Topology t = TwoGroups();
  Fence(&t, 0, 3);
  t.mutable_servers(0)->set_alive(false);  // server 1 (a), silent for 10 s
  EXPECT_FALSE(PlanReplacement(
                   t, [](uint64_t id) { return id == 1 ? 10'000'000 : 0; }, 30'000'000)
                   .has_value());
  auto plan = PlanReplacement(
      t, [](uint64_t id) { return id == 1 ? 60'000'000 : 0; }, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->old_server(), 1u) << "the dead replica first";
  EXPECT_EQ(plan->new_server(), 4u);
  // The dead replica replaced (by server 4, healthy): now the fenced one may go.
  t.mutable_groups(0)->set_replicas(0, 4);
  plan = PlanReplacement(t, never_dead, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->old_server(), 3u);
}

// A server whose storage failed fences every replica placed there: it takes none.
TEST(PlanReplacementTest, NothingMovesOntoAServerWhoseStorageFailed) {
  proto::Topology t = TwoGroups();
  t.mutable_servers(1)->set_alive(false);                               // server 2 (b), dead
  t.mutable_servers(4)->set_storage_failed("No space left on device");  // server 5 (b)
  auto plan = PlanReplacement(
      t, [](uint64_t id) { return id == 2 ? 60'000'000 : 0; }, 30'000'000);
  ASSERT_TRUE(plan.has_value());
  EXPECT_EQ(plan->old_server(), 2u);
  EXPECT_EQ(plan->new_server(), 6u) << "not server 5, the other server of zone b";
}

// --- New groups, moves and splits.

proto::Topology WithServers(const std::vector<proto::ServerInfo>& servers) {
  proto::Topology topology;
  for (const proto::ServerInfo& s : servers) *topology.add_servers() = s;
  return topology;
}

void AddGroup(proto::Topology* topology, uint64_t id, const std::vector<uint64_t>& replicas) {
  proto::GroupInfo* group = topology->add_groups();
  group->set_id(id);
  for (uint64_t r : replicas) group->add_replicas(r);
}

TEST(PlanNewGroupTest, OneLeastLoadedServerPerZoneLeastLoadedFirst) {
  proto::Topology topology =
      WithServers({Server(1, "a"), Server(2, "b"), Server(3, "c"), Server(4, "a"), Server(5, "b")});
  AddGroup(&topology, 1, {1, 2, 3});
  AddGroup(&topology, 2, {1, 5, 3});
  // Loads: 1:2, 2:1, 3:2, 4:0, 5:1. Zone a -> 4 (0), b -> 2 (1; ties with 5 by id), c -> 3 (2).
  absl::StatusOr<std::vector<uint64_t>> replicas = PlanNewGroup(topology, 3);
  ASSERT_TRUE(replicas.ok()) << replicas.status();
  EXPECT_EQ(*replicas, (std::vector<uint64_t>{4, 2, 3}));
  // Two zones: the two least loaded candidates.
  EXPECT_EQ(*PlanNewGroup(topology, 2), (std::vector<uint64_t>{4, 2}));
}

TEST(PlanNewGroupTest, SkipsDeadDrainingAndRemovedServers) {
  proto::Topology topology = WithServers(
      {Server(1, "a"), Server(2, "b"), Server(3, "c"), Server(4, "a"), Server(5, "b", false)});
  topology.mutable_servers(3)->set_draining(true);  // 4
  topology.mutable_servers(1)->set_removed(true);   // 2
  absl::StatusOr<std::vector<uint64_t>> replicas = PlanNewGroup(topology, 3);
  EXPECT_EQ(replicas.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(replicas.status().message()),
              ::testing::HasSubstr("2 zones have one (a, c)"));
  EXPECT_EQ(*PlanNewGroup(topology, 2), (std::vector<uint64_t>{1, 3}));
}

TEST(PlanNewGroupTest, RejectsBadArgumentsAndEmptyClusters) {
  EXPECT_EQ(PlanNewGroup(proto::Topology(), 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PlanNewGroup(proto::Topology(), 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Ranges ["", "m") in group 1 and ["m", +inf) in group 2; group 3 has no range.
proto::Topology TwoRanges() {
  proto::Topology topology = WithServers({Server(1, "a"), Server(2, "b"), Server(3, "c")});
  topology.set_bootstrapped(true);
  for (uint64_t id : {1, 2, 3}) AddGroup(&topology, id, {1, 2, 3});
  proto::RangeInfo* low = topology.add_ranges();
  low->set_end("m");
  low->set_group(1);
  proto::RangeInfo* high = topology.add_ranges();
  high->set_start("m");
  high->set_group(2);
  return topology;
}

TEST(PlanMoveRangeTest, MovesTheRangeHoldingTheKey) {
  absl::StatusOr<MovePlan> plan = PlanMoveRange(TwoRanges(), "q", 3);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_FALSE(plan->in_progress);
  EXPECT_EQ(plan->move.kind(), proto::MoveInfo::MOVE);
  EXPECT_EQ(plan->move.start(), "m");
  EXPECT_EQ(plan->move.end(), "");
  EXPECT_EQ(plan->move.from_group(), 2u);
  EXPECT_EQ(plan->move.to_group(), 3u);
  // The empty key is in the first range: meaningful for a move.
  EXPECT_EQ(PlanMoveRange(TwoRanges(), "", 0)->move.from_group(), 1u);
}

TEST(PlanMoveRangeTest, Errors) {
  EXPECT_EQ(PlanMoveRange(TwoRanges(), "a", 9).status().code(), absl::StatusCode::kNotFound);
  const absl::Status own = PlanMoveRange(TwoRanges(), "a", 1).status();
  EXPECT_EQ(own.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(own.message()), ::testing::HasSubstr("group 1's already"));
  EXPECT_EQ(PlanMoveRange(proto::Topology(), "a", 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(PlanMoveRangeTest, AnIdenticalMoveInProgressIsAnsweredAndAnotherRefused) {
  proto::Topology topology = TwoRanges();
  proto::MoveInfo* recorded = topology.add_moves();
  recorded->set_id(7);
  recorded->set_kind(proto::MoveInfo::MOVE);
  recorded->set_end("m");
  recorded->set_from_group(1);
  recorded->set_to_group(3);
  recorded->set_generation(5);
  absl::StatusOr<MovePlan> same = PlanMoveRange(topology, "b", 3);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->in_progress);
  EXPECT_EQ(same->move.id(), 7u);
  const absl::Status other = PlanMoveRange(topology, "b", 2).status();
  EXPECT_EQ(other.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(other.message()), ::testing::HasSubstr("busy: move 7"));
  EXPECT_EQ(PlanMoveRange(topology, "b", 0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PlanSplitRange(topology, "b").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(PlanSplitRange(topology, "q").ok());  // the other range is free
}

TEST(PlanSplitRangeTest, SplitsTheRangeHoldingTheKeyAtIt) {
  absl::StatusOr<MovePlan> plan = PlanSplitRange(TwoRanges(), "f");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->move.kind(), proto::MoveInfo::SPLIT);
  EXPECT_EQ(plan->move.start(), "");
  EXPECT_EQ(plan->move.end(), "m");
  EXPECT_EQ(plan->move.split_key(), "f");
  EXPECT_EQ(plan->move.from_group(), 1u);
}

TEST(PlanSplitRangeTest, Errors) {
  EXPECT_EQ(PlanSplitRange(TwoRanges(), "").status().code(), absl::StatusCode::kInvalidArgument);
  const absl::Status boundary = PlanSplitRange(TwoRanges(), "m").status();
  EXPECT_EQ(boundary.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(boundary.message()), ::testing::HasSubstr("boundary"));
  EXPECT_EQ(PlanSplitRange(proto::Topology(), "a").status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(MoveRefusalTest, NamesTheRangeWithEscapedBytes) {
  proto::MoveInfo move;
  move.set_kind(proto::MoveInfo::MOVE);
  move.set_start(std::string("\x01", 1));
  move.set_end("m");
  move.set_from_group(1);
  move.set_to_group(3);
  EXPECT_EQ(MoveRefusal(TwoRanges(), move), "[\"\\x01\", \"m\") is not a range of the map");
  EXPECT_EQ(RangeName("m", ""), "[\"m\", +inf)");
}

}  // namespace
}  // namespace meridian::placement
