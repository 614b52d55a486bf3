// Balancer rounds (RunOnce) against a MetadataStateMachine standing in for the placement group,
// with the soft state laid over by the test (every server alive, every replica started, each
// group led by its first replica, the range sizes the test reports). Rounds run on the test
// thread at times the test picks, so pacing is checked without sleeping.
#include "placement/balancer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "placement/metadata.h"
#include "tests/unit/placement/balance_test_util.h"
#include "tests/unit/placement/move_test_util.h"

namespace meridian::placement {
namespace {

using testing::CreateGroupCommand;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Ids;
using testing::kMiB;
using testing::RangesOf;
using testing::ResultOf;

constexpr int64_t kSecond = 1'000'000;

std::tuple<uint64_t, uint64_t, uint64_t> Transfer(uint64_t group, uint64_t from, uint64_t to) {
  return {group, from, to};
}

class FakeHost : public BalancerHost {
 public:
  bool IsLeader() override { return leader; }
  absl::StatusOr<proto::Topology> ReadTopology() override {
    proto::Topology t = metadata.Snapshot();
    for (proto::ServerInfo& s : *t.mutable_servers()) s.set_alive(!s.removed());
    for (proto::GroupInfo& g : *t.mutable_groups()) {
      g.set_leader(g.replicas(0));
      for (uint64_t id : g.replicas()) {
        if (not_started.contains({g.id(), id})) continue;
        proto::ReplicaLog* log = g.add_logs();
        log->set_server(id);
        log->set_entries(1);
      }
    }
    for (const proto::RangeInfo& r : t.ranges()) {
      const auto size = sizes.find(r.start());
      if (size == sizes.end()) continue;
      for (proto::GroupInfo& g : *t.mutable_groups()) {
        if (g.id() != r.group()) continue;
        proto::RangeStats* stats = g.add_range_stats();
        stats->set_start(r.start());
        stats->set_approx_bytes(size->second.first);
        stats->set_split_key(size->second.second);
      }
    }
    return t;
  }
  absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) override {
    if (before_propose) before_propose();
    proposed.push_back(command);
    return metadata.ApplyCommand(command);
  }
  absl::Status TransferLeader(uint64_t group, uint64_t from, uint64_t to) override {
    transfers.push_back({group, from, to});
    return transfer_status;
  }
  void MoveRecorded() override { ++moves_recorded; }

  MetadataStateMachine metadata;
  bool leader = true;
  std::set<std::pair<uint64_t, uint64_t>> not_started;            // (group, server)
  std::map<std::string, std::pair<uint64_t, std::string>> sizes;  // start -> (bytes, split key)
  std::function<void()> before_propose;
  std::vector<proto::PlacementCommand> proposed;
  std::vector<std::tuple<uint64_t, uint64_t, uint64_t>> transfers;
  absl::Status transfer_status;
  int moves_recorded = 0;
};

void Apply(MetadataStateMachine& sm, const proto::PlacementCommand& command) {
  ASSERT_TRUE(sm.ApplyCommand(command).ok());
}

// Servers 1, 2, 3 in zones a, b, c (server 4 of move_test_util.h is removed); group 1 on 1, 2, 3
// holds ["", "m"), group 2 on 2, 3, 1 holds ["m", +inf): one leadership each for servers 1, 2.
class BalancerTest : public ::testing::Test {
 protected:
  BalancerTest() {
    testing::SetUpTwoRanges(host_.metadata);
    proto::PlacementCommand remove;
    remove.mutable_remove_server()->set_server_id(4);
    Apply(host_.metadata, remove);
    proto::PlacementCommand reorder;
    for (uint64_t id : {2, 3, 1}) reorder.mutable_set_replicas()->add_replicas(id);
    for (uint64_t id : {1, 2, 3}) reorder.mutable_set_replicas()->add_expected(id);
    reorder.mutable_set_replicas()->set_group(2);
    Apply(host_.metadata, reorder);
  }

  std::string Round(int64_t now_us) {
    absl::StatusOr<std::string> done = balancer_.RunOnce(now_us);
    EXPECT_TRUE(done.ok()) << done.status();
    return done.ok() ? *done : "";
  }

  FakeHost host_;
  const BalancerOptions options_ = {.split_range_bytes = 64 * kMiB, .interval_us = 0};
  Balancer balancer_{&host_, options_};
};

TEST_F(BalancerTest, NothingToDoOrNotTheLeader) {
  EXPECT_EQ(Round(0), "");
  host_.sizes[""] = {100 * kMiB, "f"};
  host_.leader = false;
  EXPECT_EQ(Round(0), "");
  EXPECT_TRUE(host_.proposed.empty());
}

TEST_F(BalancerTest, SplitsByItsSizeThenWaitsForTheSizesToSettle) {
  host_.sizes[""] = {100 * kMiB, "f"};
  EXPECT_THAT(Round(0), HasSubstr("recorded split 1 of [\"\", \"m\") at \"f\" in group 1"));
  EXPECT_EQ(host_.moves_recorded, 1);
  EXPECT_EQ(Round(kSecond), "");  // the split is recorded: no other move or split
  Apply(host_.metadata, testing::FinishCommand(1));  // what the mover does
  EXPECT_EQ(RangesOf(host_.metadata.Snapshot()), "[,f)->1@2 [f,m)->1@2 [m,)->2@1 ");
  // The old report still says 100 MiB, with a split key that is now a boundary.
  EXPECT_EQ(Round(2 * kSecond), "");
  host_.sizes[""] = {80 * kMiB, "c"};  // a fresh report, but within data_settle_us
  EXPECT_EQ(Round(10 * kSecond), "");
  EXPECT_THAT(Round(11 * kSecond), HasSubstr("recorded split 2 of [\"\", \"f\") at \"c\""));
  EXPECT_EQ(host_.proposed.size(), 2u);
}

TEST_F(BalancerTest, MovesARangeToANewGroup) {
  ASSERT_TRUE(ResultOf(host_.metadata.ApplyCommand(testing::SplitCommand("", "m", 1, "f")))
                  .refusal()
                  .empty());
  Apply(host_.metadata, testing::FinishCommand(1));
  host_.sizes[""] = {100 * kMiB, ""};  // no split key: it cannot split
  host_.sizes["f"] = {30 * kMiB, "h"};
  host_.sizes["m"] = {10 * kMiB, "p"};
  EXPECT_EQ(Round(0), "");  // a split happened: the sizes may describe the ranges before it
  const std::string done = Round(options_.data_settle_us);
  EXPECT_THAT(done, HasSubstr("to a new group (2 groups on 3 usable servers)"));
  EXPECT_THAT(done, HasSubstr("recorded move 2 of [\"f\", \"m\") from group 1 to group 3"));
  ASSERT_EQ(host_.proposed.size(), 2u);
  EXPECT_THAT(Ids(host_.proposed[0].create_group().replicas()), ElementsAre(1, 2, 3));
  EXPECT_EQ(host_.proposed[1].start_move().move().to_group(), 3u);
  EXPECT_EQ(host_.moves_recorded, 1);
}

TEST_F(BalancerTest, LeaderMovesAreRateLimited) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ResultOf(host_.metadata.ApplyCommand(CreateGroupCommand({1, 2, 3}))).refusal() ==
                "");
  }
  // Server 1 leads groups 1, 3, 4, 5; server 2 group 2; server 3 none.
  host_.transfer_status = absl::UnavailableError("not the leader");
  const std::string first = Round(0);
  EXPECT_THAT(first, HasSubstr("server 1 leads 4 groups, server 3 0"));
  EXPECT_THAT(first, HasSubstr("server 3 is group 1's preferred leader; asked server 1 to hand "
                               "the leadership over: UNAVAILABLE: not the leader"));
  EXPECT_THAT(Ids(host_.metadata.Snapshot().groups(0).replicas()), ElementsAre(3, 1, 2));
  EXPECT_EQ(Round(options_.leader_transfer_interval_us - 1), "");
  host_.transfer_status = absl::OkStatus();
  EXPECT_THAT(Round(options_.leader_transfer_interval_us),
              HasSubstr("handing group 3's leadership to server 2 (zone b)"));
  EXPECT_EQ(Round(3 * options_.leader_transfer_interval_us), "");  // 2, 2 and 1 now
  EXPECT_THAT(host_.transfers, ElementsAre(Transfer(1, 1, 3), Transfer(3, 1, 2)));
}

TEST_F(BalancerTest, MeetsAReplicaCountOneSettledStepAtATime) {
  for (const char* zone : {"d", "e"}) {
    proto::PlacementCommand command;
    command.mutable_register_server()->set_zone(zone);
    command.mutable_register_server()->set_address(std::string("h:") + zone);
    Apply(host_.metadata, command);  // servers 5 and 6
  }
  proto::PlacementCommand policy;
  policy.mutable_set_policy()->set_group(1);
  policy.mutable_set_policy()->mutable_policy()->set_replicas(5);
  ASSERT_TRUE(ResultOf(host_.metadata.ApplyCommand(policy)).refusal().empty());

  EXPECT_THAT(Round(0), HasSubstr("has 3 replicas of 5: adding server 5 (zone d)"));
  host_.not_started.insert({1, 5});  // server 5 has not started its replica yet
  EXPECT_EQ(Round(1), "");
  host_.not_started.clear();
  EXPECT_THAT(Round(2), HasSubstr("adding server 6 (zone e)"));
  EXPECT_EQ(Round(3), "");
  EXPECT_THAT(Ids(host_.metadata.Snapshot().groups(0).replicas()), ElementsAre(1, 2, 3, 5, 6));
}

TEST_F(BalancerTest, AStaleDecisionIsRefusedAndChangesNothing) {
  proto::PlacementCommand policy;
  policy.mutable_set_policy()->set_group(1);
  policy.mutable_set_policy()->mutable_policy()->set_leader_zone("c");
  ASSERT_TRUE(ResultOf(host_.metadata.ApplyCommand(policy)).refusal().empty());
  // Between the read and the proposal, another replica list was recorded for group 1.
  host_.before_propose = [this] {
    host_.before_propose = nullptr;
    proto::PlacementCommand reorder;
    for (uint64_t id : {2, 1, 3}) reorder.mutable_set_replicas()->add_replicas(id);
    for (uint64_t id : {1, 2, 3}) reorder.mutable_set_replicas()->add_expected(id);
    reorder.mutable_set_replicas()->set_group(1);
    Apply(host_.metadata, reorder);
  };
  EXPECT_THAT(Round(0), HasSubstr("refused: stale: group 1 has replicas 2,1,3, not 1,2,3"));
  EXPECT_TRUE(host_.transfers.empty());
  // The next round plans from the new list.
  EXPECT_THAT(Round(options_.leader_transfer_interval_us), HasSubstr("belongs in zone c"));
  EXPECT_THAT(Ids(host_.metadata.Snapshot().groups(0).replicas()), ElementsAre(3, 2, 1));
  EXPECT_THAT(host_.transfers, ElementsAre(Transfer(1, 2, 3)));
}

}  // namespace
}  // namespace meridian::placement
