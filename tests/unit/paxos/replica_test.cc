// paxos::Replica unit tests, named after the rules they check, on the in-process harness.
#include "spanserver/paxos/replica.h"

#include <gtest/gtest.h>

#include "tests/unit/paxos/harness.h"

namespace meridian::paxos {
namespace {

using testing::Commands;
using testing::ElectLeader;
using testing::Harness;
using testing::RunFor;
using testing::TestOptions;

TEST(ReplicaTest, AFreshGroupElectsOneLeaderWithALease) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ASSERT_NE(leader, 0u);
  EXPECT_TRUE(h.replica(leader).HasLease(h.Now()));
  int leaders = 0;
  for (ReplicaId id = 1; id <= 3; ++id) leaders += h.replica(id).role() == Role::kLeader;
  EXPECT_EQ(leaders, 1);
}

TEST(ReplicaTest, ProposalsCommitAndApplyInTheSameOrderEverywhere) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  ASSERT_NE(leader, 0u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(h.replica(leader).Propose("cmd" + std::to_string(i), h.Now()).ok());
    if (i % 5 == 0) h.Stabilize();
  }
  h.Stabilize();
  h.Advance(300'000);  // a heartbeat carries the last commit point to the followers
  h.Stabilize();
  for (ReplicaId id = 1; id <= 3; ++id) {
    std::vector<std::string> cmds;
    for (const Entry& e : h.applied(id)) {
      if (e.type == EntryType::kNormal) cmds.push_back(e.command);
    }
    ASSERT_EQ(cmds.size(), 20u) << "replica " << id;
    EXPECT_EQ(cmds.front(), "cmd0");
    EXPECT_EQ(cmds.back(), "cmd19");
    EXPECT_EQ(h.applied(id), h.applied(leader));
  }
}

TEST(ReplicaTest, AFollowerRejectsProposalsNamingTheLeader) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId follower = leader == 1 ? 2 : 1;
  auto r = h.replica(follower).Propose("x", h.Now());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("leader is " + std::to_string(leader)), std::string::npos)
      << r.status();
}

TEST(ReplicaTest, NoNewLeaderBeforeTheOldLeasesVotesExpire) {
  Harness h(3, TestOptions());
  const ReplicaId old_leader = ElectLeader(h);
  ASSERT_NE(old_leader, 0u);
  h.Isolate(old_leader, true);
  // Well inside the lease: nobody else may win.
  h.Advance(1'000'000);
  h.Stabilize();
  h.Advance(500'000);
  h.Stabilize();
  for (ReplicaId id = 1; id <= 3; ++id) {
    if (id != old_leader) {
      EXPECT_NE(h.replica(id).role(), Role::kLeader) << id;
    }
  }
  // After the lease (plus an election timeout), a new leader appears and the old lease is over.
  for (int i = 0; i < 60; ++i) {
    h.Advance(100'000);
    h.Stabilize();
  }
  ReplicaId new_leader = 0;
  for (ReplicaId id = 1; id <= 3; ++id) {
    if (id != old_leader && h.replica(id).role() == Role::kLeader) new_leader = id;
  }
  ASSERT_NE(new_leader, 0u);
  EXPECT_FALSE(h.replica(old_leader).HasLease(h.Now()));
  EXPECT_TRUE(h.replica(new_leader).HasLease(h.Now()));
}

TEST(ReplicaTest, ANewLeaderRecoversAValueAcceptedByOnlyOneReplica) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId f1 = leader % 3 + 1, f2 = f1 % 3 + 1;
  ASSERT_TRUE(h.replica(leader).Propose("precious", h.Now()).ok());
  h.Flush();
  // Only f1 receives the Accept; the leader dies before learning anything.
  h.Stabilize([&](const Message& m) {
    return m.type == MessageType::kAccept ? m.to == f1 : m.type != MessageType::kAccepted;
  });
  h.Isolate(leader, true);
  h.queue().clear();
  for (int i = 0; i < 60; ++i) {
    h.Advance(100'000);
    h.Stabilize();
  }
  const ReplicaId new_leader = h.Leader() == leader ? 0 : h.Leader();
  ASSERT_TRUE(new_leader == f1 || new_leader == f2);
  h.Advance(300'000);
  h.Stabilize();
  bool found = false;
  for (const Entry& e : h.applied(f2)) found |= e.command == "precious";
  EXPECT_TRUE(found) << "the value accepted at one replica must survive the leader change";
}

TEST(ReplicaTest, LeaderTransferHandsOverWithoutWaitingForTheLease) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId target = leader % 3 + 1;
  ASSERT_TRUE(h.replica(leader).Propose("before", h.Now()).ok());
  h.Stabilize();
  h.Advance(10'000);
  h.Stabilize();
  ASSERT_TRUE(h.replica(leader).TransferLeadership(target, h.Now()).ok());
  for (int i = 0; i < 5 && h.Leader() != target; ++i) {
    h.Advance(10'000);  // far less than a lease
    h.Stabilize();
  }
  EXPECT_EQ(h.Leader(), target);
  EXPECT_TRUE(h.replica(target).HasLease(h.Now()));
  EXPECT_FALSE(h.replica(leader).HasLease(h.Now()));
}

TEST(ReplicaTest, LeadershipMovesToThePreferredLeader) {
  Options o = TestOptions();
  o.preferred_leader = 3;
  Harness h(3, o);
  h.replica(1).Campaign(h.Now());
  h.Stabilize();
  ASSERT_EQ(h.Leader(), 1u);
  for (int i = 0; i < 10 && h.Leader() != 3; ++i) {
    h.Advance(50'000);
    h.Stabilize();
  }
  EXPECT_EQ(h.Leader(), 3u);
  EXPECT_TRUE(h.replica(3).HasLease(h.Now()));
  h.Advance(50'000);
  h.Stabilize();
  EXPECT_EQ(h.Leader(), 3u) << "the preferred leader keeps leadership";
}

TEST(ReplicaTest, ARestartedReplicaCatchesUpFromTheLeader) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  const ReplicaId lagger = leader % 3 + 1;
  h.Isolate(lagger, true);
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(h.replica(leader).Propose("v" + std::to_string(i), h.Now()).ok());
  h.Stabilize();
  h.Isolate(lagger, false);
  h.Restart(lagger);
  for (int i = 0; i < 5; ++i) {
    h.Advance(300'000);
    h.Stabilize();
  }
  EXPECT_EQ(h.applied(lagger), h.applied(leader));
  EXPECT_GE(h.applied(lagger).size(), 31u);
}

TEST(ReplicaTest, TimestampsStayInsideTheLeaseAndIncrease) {
  Harness h(3, TestOptions());
  const ReplicaId leader = ElectLeader(h);
  h.Advance(300'000);
  h.Stabilize();
  Timestamp last = 0;
  for (int i = 0; i < 10; ++i) {
    auto ts = h.replica(leader).AssignTimestamp(h.Now(), 0);
    ASSERT_TRUE(ts.ok()) << ts.status();
    EXPECT_GT(*ts, last);
    EXPECT_GE(*ts, h.Now().latest);
    EXPECT_LT(*ts, h.replica(leader).lease_end());
    last = *ts;
  }
  EXPECT_EQ(h.replica(leader).s_max(), last);
  const ReplicaId follower = leader % 3 + 1;
  EXPECT_EQ(h.replica(follower).AssignTimestamp(h.Now(), 0).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST(ReplicaTest, LimitsGiveClearErrors) {
  Options o = TestOptions();
  o.max_command_bytes = 10;
  o.max_inflight_entries = 3;
  Harness h(3, o);
  const ReplicaId leader = ElectLeader(h);
  EXPECT_EQ(h.replica(leader).Propose(std::string(11, 'x'), h.Now()).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status last;
  for (int i = 0; i < 5; ++i) last = h.replica(leader).Propose("x", h.Now()).status();
  EXPECT_EQ(last.code(), absl::StatusCode::kResourceExhausted);
}

TEST(ReplicaTest, ASingleReplicaGroupCommitsAloneAndKeepsItsLease) {
  Harness h(1, TestOptions());
  ASSERT_EQ(ElectLeader(h), 1u);
  ASSERT_TRUE(h.replica(1).Propose("solo", h.Now()).ok());
  h.Stabilize();
  ASSERT_FALSE(h.applied(1).empty());
  EXPECT_EQ(h.applied(1).back().command, "solo");
  for (int i = 0; i < 50; ++i) {  // five leases
    h.Advance(200'000);
    h.Stabilize();
    ASSERT_TRUE(h.replica(1).HasLease(h.Now())) << "after " << (i + 1) * 200 << " ms";
  }
}

}  // namespace
}  // namespace meridian::paxos
