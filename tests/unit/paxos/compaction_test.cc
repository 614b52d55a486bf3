// paxos::Replica log compaction and snapshots, on the in-process harness: who needs a snapshot,
// what it may do meanwhile, and that nothing chosen is lost or applied twice.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "spanserver/paxos/replica.h"
#include "tests/unit/paxos/harness.h"

namespace meridian::paxos {
namespace {

using testing::Commands;
using testing::ElectLeader;
using testing::Harness;
using testing::RunFor;
using testing::TestOptions;

void ProposeAll(Harness& h, ReplicaId leader, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(h.replica(leader).Propose(prefix + std::to_string(i), h.Now()).ok());
    h.Stabilize();
  }
  RunFor(h, 300'000);  // a heartbeat carries the commit point to the followers
}

// Every replica applied the same entries, each index once and in order.
void ExpectSameAppliedEverywhere(Harness& h, int n) {
  for (ReplicaId id = 1; id <= static_cast<ReplicaId>(n); ++id) {
    const std::vector<Entry>& applied = h.applied(id);
    for (size_t i = 0; i < applied.size(); ++i) {
      ASSERT_EQ(applied[i].index, i + 1) << "replica " << id;
    }
    EXPECT_EQ(Commands(h, id), Commands(h, 1)) << "replica " << id;
  }
}

TEST(CompactionTest, AFollowerBehindTheLeadersCompactionInstallsASnapshot) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ASSERT_NE(leader, 0u);
  const ReplicaId lagging = leader % 3 + 1;
  const ReplicaId other = lagging % 3 + 1;
  h.Isolate(lagging, true);
  ProposeAll(h, leader, "w", 30);
  h.Compact(leader, h.replica(leader).applied());
  h.Compact(other, h.replica(other).applied());
  EXPECT_EQ(h.replica(leader).compacted(), h.replica(leader).applied());

  h.Isolate(lagging, false);
  RunFor(h, 600'000);
  EXPECT_EQ(h.snapshots_installed(lagging), 1);
  EXPECT_FALSE(h.replica(lagging).snapshot_needed());
  ProposeAll(h, leader, "after", 5);  // and the log tail flows again after the snapshot
  EXPECT_EQ(Commands(h, lagging).size(), 35u);
  ExpectSameAppliedEverywhere(h, 3);
}

TEST(CompactionTest, AFollowerThatStillHasTheEntriesNeedsNoSnapshot) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ProposeAll(h, leader, "w", 10);
  for (ReplicaId id = 1; id <= 3; ++id) h.Compact(id, h.replica(id).applied());
  ProposeAll(h, leader, "x", 10);
  for (ReplicaId id = 1; id <= 3; ++id) EXPECT_EQ(h.snapshots_installed(id), 0) << id;
  ExpectSameAppliedEverywhere(h, 3);
}

TEST(CompactionTest, ACandidateBehindACompactedAcceptorStepsDownAndLosesNothing) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId behind = leader % 3 + 1;
  const ReplicaId current = behind % 3 + 1;
  h.Isolate(behind, true);
  ProposeAll(h, leader, "precious", 20);
  h.Compact(current, h.replica(current).applied());
  // The leader dies; the replica that missed everything comes back, and it alone campaigns
  // (the current one's Prepares are lost).
  h.Isolate(leader, true);
  h.Isolate(behind, false);
  auto no_prepare_from_current = [&](const Message& m) {
    return !(m.from == current && m.type == MessageType::kPrepare);
  };
  bool behind_led_without_the_values = false;
  for (int i = 0; i < 80; ++i) {
    h.Advance(100'000);
    h.Stabilize(no_prepare_from_current);
    if (h.replica(behind).role() == Role::kLeader && Commands(h, behind).size() < 20) {
      behind_led_without_the_values = true;
    }
  }
  EXPECT_FALSE(behind_led_without_the_values);
  const ReplicaId new_leader = h.Leader();
  ASSERT_TRUE(new_leader == behind || new_leader == current) << new_leader;
  ProposeAll(h, new_leader, "next", 3);
  EXPECT_EQ(Commands(h, behind).size(), 23u);
  EXPECT_EQ(Commands(h, behind), Commands(h, current));
  EXPECT_GE(h.snapshots_installed(behind), 1);
}

TEST(CompactionTest, ARestartReplaysOnlyTheTailAfterTheCheckpoint) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId follower = leader % 3 + 1;
  ProposeAll(h, leader, "w", 10);
  const Index checkpoint = h.replica(follower).applied();
  h.Compact(follower, checkpoint);
  ProposeAll(h, leader, "x", 10);
  const std::vector<Entry> before = h.applied(follower);
  h.Restart(follower);
  EXPECT_EQ(h.replica(follower).applied(), checkpoint);
  EXPECT_EQ(h.replica(follower).compacted(), checkpoint);
  RunFor(h, 600'000);
  EXPECT_EQ(h.applied(follower), before);
  EXPECT_EQ(h.snapshots_installed(follower), 0);
}

TEST(CompactionTest, AStateMachineRestartedBehindTheCompactionPointWaitsForASnapshot) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId follower = leader % 3 + 1;
  ProposeAll(h, leader, "w", 10);
  for (ReplicaId id = 1; id <= 3; ++id) h.Compact(id, h.replica(id).applied());
  // The follower's checkpoint is lost (a snapshot install cut short), its compacted log is not.
  h.set_serve_snapshots(false);
  h.Compact(follower, 0);  // nothing new compacted; sets the checkpoint below...
  ProposeAll(h, leader, "x", 2);
  h.Restart(follower);
  EXPECT_TRUE(h.replica(follower).snapshot_needed());
  h.Isolate(leader, true);
  RunFor(h, 5'000'000);
  // It may not lead: a leader must apply, and it cannot until a snapshot arrives.
  EXPECT_NE(h.replica(follower).role(), Role::kLeader);
  EXPECT_GT(h.snapshots_failed(), 0);
  h.set_serve_snapshots(true);
  h.Isolate(leader, false);
  RunFor(h, 3'000'000);
  EXPECT_FALSE(h.replica(follower).snapshot_needed());
  EXPECT_EQ(Commands(h, follower).size(), 12u);
}

TEST(CompactionDeathTest, CompactingPastTheAppliedPointIsABug) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ProposeAll(h, leader, "w", 3);
  EXPECT_DEATH(h.replica(leader).Compact(h.replica(leader).applied() + 1),
               "passes the applied point");
}

}  // namespace
}  // namespace meridian::paxos
