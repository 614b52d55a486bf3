// paxos::Replica against forged or corrupt messages from the wire (issue 21, hardened inputs).
// Each test sends one attack to a replica of a healthy group and checks that it is refused
// (counted in refused_messages(), with the replica's hard state, log and commit point unchanged)
// or, for an announced commit point, bounded by what the replica holds.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <ostream>

#include "spanserver/paxos/replica.h"
#include "tests/unit/paxos/harness.h"

namespace meridian::paxos {
namespace {

using testing::ElectLeader;
using testing::Harness;
using testing::TestOptions;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr GroupId kGroup = 7;  // TestOptions().group

// What must not change when a replica refuses a message.
struct Durable {
  HardState hard;
  Index last_index = 0;
  Index commit = 0;
  friend bool operator==(const Durable&, const Durable&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Durable& d) {
    return os << d.hard.ToString() << " last_index=" << d.last_index << " commit=" << d.commit;
  }
};

Interval Later(Interval now, int64_t us) { return {now.earliest + us, now.latest + us}; }

Durable DurableOf(Replica& r) { return {r.hard_state(), r.last_index(), r.commit()}; }

Message From(ReplicaId from, ReplicaId to, MessageType type, Ballot ballot) {
  Message m;
  m.type = type;
  m.group = kGroup;
  m.from = from;
  m.to = to;
  m.ballot = ballot;
  return m;
}

struct Group {
  Harness h{3, TestOptions()};
  ReplicaId leader = 0;
  ReplicaId follower = 0;

  Group() {
    leader = ElectLeader(h);
    follower = leader == 1 ? 2 : 1;
  }
  Replica& L() { return h.replica(leader); }
  Replica& F() { return h.replica(follower); }
};

TEST(ReplicaInputsTest, AnAcceptWithAnOverflowingRoundIsRefusedAndNotPromised) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  const Durable before = DurableOf(g.F());
  g.F().Step(From(g.leader, g.follower, MessageType::kAccept, {kInt64Max, g.leader}), g.h.Now());
  g.h.Stabilize();
  EXPECT_EQ(g.F().refused_messages(), 1u);
  EXPECT_EQ(DurableOf(g.F()), before);
  // The next campaign's round is one above the real ones, not a wrapped-around negative one.
  g.F().Campaign(Later(g.h.Now(), 10'000'000));
  EXPECT_EQ(g.F().ballot().round, before.hard.promised.round + 1);
}

TEST(ReplicaInputsTest, APrepareFarAboveEveryRoundSeenIsRefused) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  const Durable before = DurableOf(g.F());
  const ReplicaId third = 6 - g.leader - g.follower;
  const int64_t round = before.hard.promised.round + kMaxBallotRoundStep + 1;
  g.F().Step(From(third, g.follower, MessageType::kPrepare, {round, third}), g.h.Now());
  g.h.Stabilize();
  EXPECT_EQ(g.F().refused_messages(), 1u);
  EXPECT_EQ(DurableOf(g.F()), before);
}

TEST(ReplicaInputsTest, ARejectionNamingAnOverflowingPromiseDoesNotDeposeTheLeader) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  Message m = From(g.follower, g.leader, MessageType::kAccepted, g.L().ballot());
  m.reject = true;
  m.promised = {kInt64Max, g.follower};
  g.L().Step(m, g.h.Now());
  EXPECT_EQ(g.L().refused_messages(), 1u);
  EXPECT_EQ(g.L().role(), Role::kLeader);
}

TEST(ReplicaInputsTest, ACampaignFromAPromiseAtTheTopRoundDoesNotOverflow) {
  MemoryLogStorage storage;
  HardState hs;
  hs.promised = {kInt64Max, 2};
  hs.members = {1, 2, 3};
  storage.SaveHardState(hs);
  Options o = TestOptions();
  o.id = 1;
  o.members = {1, 2, 3};
  const Interval start{1'000'000'000, 1'000'002'000};
  Replica r(o, &storage, start);
  r.Campaign(Later(start, 10'000'000));
  EXPECT_EQ(r.role(), Role::kFollower);
  EXPECT_EQ(r.hard_state().promised, hs.promised);
}

TEST(ReplicaInputsTest, AForgedAcceptedMatchBeyondTheLeadersLogIsNotCounted) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  absl::StatusOr<Index> slot = g.L().Propose("x", g.h.Now());
  ASSERT_TRUE(slot.ok());
  g.h.Flush();  // the leader persists the entry; its Accepts stay undelivered
  g.h.queue().clear();
  const Index commit = g.L().commit();
  ASSERT_LT(commit, *slot);
  Message m = From(g.follower, g.leader, MessageType::kAccepted, g.L().ballot());
  m.match = Index{1} << 40;
  g.L().Step(m, g.h.Now());
  EXPECT_EQ(g.L().refused_messages(), 1u);
  EXPECT_EQ(g.L().commit(), commit);
  EXPECT_LT(g.L().match_of(g.follower), *slot);
}

TEST(ReplicaInputsTest, AnAcceptAnnouncingACommitPastTheLogCommitsOnlyWhatIsHeld) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  Message m = From(g.leader, g.follower, MessageType::kAccept, g.L().ballot());
  m.commit = Index{1} << 40;
  g.F().Step(m, g.h.Now());
  g.h.Stabilize();
  EXPECT_LE(g.F().commit(), g.F().last_index());
  EXPECT_LE(g.F().applied(), g.F().last_index());
}

TEST(ReplicaInputsTest, AnAcceptWhoseSnapshotPassesItsCommitIsRefused) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  const Durable before = DurableOf(g.F());
  Message m = From(g.leader, g.follower, MessageType::kAccept, g.L().ballot());
  m.commit = g.L().commit();
  m.snapshot = Index{1} << 40;
  g.F().Step(m, g.h.Now());
  EXPECT_EQ(g.F().refused_messages(), 1u);
  EXPECT_FALSE(g.F().snapshot_needed());
  g.h.Stabilize();
  EXPECT_EQ(DurableOf(g.F()), before);
}

TEST(ReplicaInputsTest, AnAcceptCarryingEntriesOfAnotherBallotIsRefused) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  const Durable before = DurableOf(g.F());
  Message m = From(g.leader, g.follower, MessageType::kAccept, g.L().ballot());
  m.commit = g.L().commit();
  m.entries.push_back({.index = before.last_index + 1,
                       .ballot = {kInt64Max, g.leader},
                       .type = EntryType::kNormal,
                       .command = "forged"});
  g.F().Step(m, g.h.Now());
  g.h.Stabilize();
  EXPECT_EQ(g.F().refused_messages(), 1u);
  EXPECT_EQ(DurableOf(g.F()), before);
}

// A configuration entry whose command does not decode once reached the replica's CHECK on its
// own log's configurations and aborted the process (found by fuzz_paxos_frame;
// tests/fuzz/corpus/paxos_frame/regression-malformed-config-entry). In an Accept and in a
// Promise it is now refused like any other forged field.
TEST(ReplicaInputsTest, AnAcceptCarryingAMalformedConfigurationIsRefused) {
  Group g;
  ASSERT_NE(g.leader, 0u);
  const Durable before = DurableOf(g.F());
  Message m = From(g.leader, g.follower, MessageType::kAccept, g.L().ballot());
  m.commit = g.L().commit();
  m.entries.push_back({.index = before.last_index + 1,
                       .ballot = g.L().ballot(),
                       .type = EntryType::kConfig,
                       .command = "not a configuration"});
  g.F().Step(m, g.h.Now());
  g.h.Stabilize();
  EXPECT_EQ(g.F().refused_messages(), 1u);
  EXPECT_EQ(DurableOf(g.F()), before);
}

TEST(ReplicaInputsTest, APromiseReportingAMalformedConfigurationIsRefused) {
  Harness h(3, TestOptions());
  h.replica(1).Campaign(h.Now());
  h.Flush();
  ASSERT_EQ(h.replica(1).role(), Role::kCandidate);
  const Ballot ballot = h.replica(1).ballot();
  Message m = From(2, 1, MessageType::kPromise, ballot);
  m.promised = ballot;
  m.index = 1;
  m.entries.push_back(
      {.index = 1, .ballot = {1, 3}, .type = EntryType::kConfig, .command = std::string(3, 'x')});
  h.replica(1).Step(m, h.Now());
  EXPECT_EQ(h.replica(1).refused_messages(), 1u);
  h.Stabilize();
  EXPECT_EQ(h.replica(1).role(), Role::kLeader);
}

// A forged Promise reporting a value under a ballot at or above the candidate's own would win
// phase 1's highest-ballot rule over any real value; no acceptor can hold one.
TEST(ReplicaInputsTest, APromiseReportingAValueAboveTheCandidatesBallotIsRefused) {
  Harness h(3, TestOptions());
  h.replica(1).Campaign(h.Now());
  h.Flush();  // the candidate's promise to itself is durable; its Prepares stay queued
  ASSERT_EQ(h.replica(1).role(), Role::kCandidate);
  const Ballot ballot = h.replica(1).ballot();
  Message m = From(2, 1, MessageType::kPromise, ballot);
  m.promised = ballot;
  m.index = 1;
  m.entries.push_back({.index = 1,
                       .ballot = {ballot.round + 1, 3},
                       .type = EntryType::kNormal,
                       .command = "forged"});
  h.replica(1).Step(m, h.Now());
  EXPECT_EQ(h.replica(1).refused_messages(), 1u);
  h.Stabilize();  // the real promises elect replica 1
  ASSERT_EQ(h.replica(1).role(), Role::kLeader);
  testing::RunFor(h, 500'000);
  EXPECT_TRUE(testing::Commands(h, 1).empty());
}

}  // namespace
}  // namespace meridian::paxos
