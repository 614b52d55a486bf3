// paxos::Replica membership changes, on the in-process harness: learners catch up without
// counting, one voter changes at a time, and no candidate leads under a stale configuration.
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

// Proposes `config` at the leader and runs until every live replica has it committed.
void ChangeConfig(Harness& h, ReplicaId leader, const Config& config) {
  absl::StatusOr<Index> index = h.replica(leader).ProposeConfig(config, h.Now());
  ASSERT_TRUE(index.ok()) << index.status();
  RunFor(h, 600'000);
  EXPECT_EQ(h.replica(leader).hard_state().config_index, *index);
  EXPECT_EQ(h.replica(leader).config(), config);
}

TEST(MembershipTest, ALearnerCatchesUpIsPromotedAndAVoterLeaves) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(h.replica(leader).Propose("a" + std::to_string(i), h.Now()).ok());
  RunFor(h, 300'000);

  const Config with_learner{{1, 2, 3}, {4}};
  h.AddReplica(4, with_learner);
  ChangeConfig(h, leader, with_learner);
  EXPECT_EQ(Commands(h, 4).size(), 10u) << "the learner received and applied the log";
  EXPECT_EQ(h.replica(4).config(), with_learner);

  ChangeConfig(h, leader, Config{{1, 2, 3, 4}, {}});
  const ReplicaId leaving = leader % 3 + 1;
  std::vector<ReplicaId> voters;
  for (ReplicaId id : {1, 2, 3, 4}) {
    if (id != leaving) voters.push_back(id);
  }
  ChangeConfig(h, leader, Config{voters, {}});
  EXPECT_TRUE(h.replica(leaving).removed());

  // The group goes on without the removed replica, even with one more voter down.
  h.Isolate(leaving, true);
  ASSERT_TRUE(h.replica(leader).Propose("after", h.Now()).ok());
  RunFor(h, 600'000);
  for (ReplicaId id : voters) EXPECT_EQ(Commands(h, id).back(), "after") << id;
  RunFor(h, 5'000'000);
  EXPECT_NE(h.replica(leaving).role(), Role::kLeader);
}

TEST(MembershipTest, OneChangeAtATimeAndNeverTheLeaderItself) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  RunFor(h, 300'000);
  Replica& r = h.replica(leader);
  EXPECT_EQ(r.ProposeConfig(Config{{1, 2, 3, 4, 5}, {}}, h.Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "two voters added at once";
  std::vector<ReplicaId> others;
  for (ReplicaId id : {1, 2, 3}) {
    if (id != leader) others.push_back(id);
  }
  EXPECT_EQ(r.ProposeConfig(Config{others, {}}, h.Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "the leader removing itself";
  EXPECT_EQ(r.ProposeConfig(Config{{1, 2, 3}, {3}}, h.Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "a replica listed twice";
  ASSERT_TRUE(r.ProposeConfig(Config{{1, 2, 3}, {4}}, h.Now()).ok());
  EXPECT_EQ(r.ProposeConfig(Config{{1, 2, 3}, {4, 5}}, h.Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "while the previous change is not committed";
  EXPECT_EQ(h.replica(others[0]).ProposeConfig(Config{{1, 2, 3}, {}}, h.Now()).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "at a follower";
}

TEST(MembershipTest, ALearnerCountsForNothing) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const Config with_learner{{1, 2, 3}, {4}};
  h.AddReplica(4, with_learner);
  ChangeConfig(h, leader, with_learner);
  // Only the leader and the learner are reachable: nothing commits, and the learner never leads.
  for (ReplicaId id : {1, 2, 3}) {
    if (id != leader) h.Isolate(id, true);
  }
  const Index before = h.replica(leader).commit();
  ASSERT_TRUE(h.replica(leader).Propose("needs a voter majority", h.Now()).ok());
  RunFor(h, 1'000'000);
  EXPECT_EQ(h.replica(leader).commit(), before);
  h.Isolate(leader, true);
  h.Isolate(4, false);
  RunFor(h, 6'000'000);
  EXPECT_EQ(h.replica(4).role(), Role::kFollower);
}

TEST(MembershipTest, NoCandidateLeadsUnderAConfigurationOlderThanTheCommittedOne) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId stale = leader % 3 + 1;
  const ReplicaId other = stale % 3 + 1;
  // The stale replica misses the changes that make the group four voters {1, 2, 3, 4}.
  h.Isolate(stale, true);
  const Config with_learner{{1, 2, 3}, {4}};
  h.AddReplica(4, with_learner);
  ChangeConfig(h, leader, with_learner);
  ChangeConfig(h, leader, Config{{1, 2, 3, 4}, {}});
  ASSERT_TRUE(h.replica(leader).Propose("chosen", h.Now()).ok());
  RunFor(h, 600'000);
  // The leader and the new voter die: two of four voters are left, no majority. Under its old
  // configuration {1, 2, 3} the stale replica would need one promise besides its own, and
  // `other` is there to give it; `other` must refuse.
  h.Isolate(leader, true);
  h.Isolate(4, true);
  h.Isolate(stale, false);
  RunFor(h, 8'000'000);
  EXPECT_NE(h.replica(stale).role(), Role::kLeader);
  EXPECT_NE(h.replica(other).role(), Role::kLeader);
}

TEST(MembershipTest, ARestartKeepsTheConfiguration) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const Config with_learner{{1, 2, 3}, {4}};
  h.AddReplica(4, with_learner);
  ChangeConfig(h, leader, with_learner);
  const ReplicaId follower = leader % 3 + 1;
  h.Restart(follower);
  EXPECT_EQ(h.replica(follower).config(), with_learner);
  h.Restart(4);
  EXPECT_EQ(h.replica(4).config(), with_learner);
}

}  // namespace
}  // namespace meridian::paxos
