// Shows each simulator checker failing on purpose on a hand-made bad history (and passing on a
// good one), independently of the replica: a checker never seen to fail proves nothing.
//
// Seed: none (hand-made histories). Workload: register commands. Faults: none. Checkers: slot
// (with restored and installed states), lease, linearizability, durability.
#include "tests/sim/checkers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace meridian::sim {
namespace {

using paxos::Ballot;
using paxos::EntryType;

ApplyRecord Put(paxos::ReplicaId r, uint64_t inc, paxos::Index i, uint64_t id,
                const std::string& key = "k") {
  return ApplyRecord{1, r, inc, i, EntryType::kNormal, EncodePut(id, key), 0};
}
ApplyRecord Get(paxos::ReplicaId r, paxos::Index i, uint64_t id, const std::string& key = "k") {
  return ApplyRecord{1, r, 1, i, EntryType::kNormal, EncodeGet(id, key), 0};
}
ApplyRecord Noop(paxos::ReplicaId r, uint64_t inc, paxos::Index i) {
  return ApplyRecord{1, r, inc, i, EntryType::kNoop, "", 0};
}
// A state through `index` that replica `r` took on (kState) or took (kCheckpoint), holding the
// values of `log` (entries 1..index, in slot order) and a state hash of `hash`.
ApplyRecord State(ApplyKind kind, paxos::ReplicaId r, uint64_t inc, paxos::Index index,
                  const std::vector<ApplyRecord>& log, uint64_t hash = 7) {
  ApplyRecord s{1, r, inc, index, EntryType::kNormal, "", 0};
  s.kind = kind;
  for (const ApplyRecord& e : log) {
    if (e.index <= index) s.log_digest = LogDigest(s.log_digest, e.index, e.type, e.command);
  }
  s.state_hash = hash;
  return s;
}
Op MakeOp(uint64_t id, OpKind kind, TrueUs invoke, TrueUs complete, Outcome outcome,
          uint64_t read_value = 0) {
  return Op{id, 1, kind, "k", invoke, complete, outcome, read_value};
}

TEST(CommandTest, RoundTrips) {
  auto c = DecodeCommand(EncodePut(42, "key one"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->kind, OpKind::kPut);
  EXPECT_EQ(c->id, 42u);
  EXPECT_EQ(c->key, "key one");
  EXPECT_FALSE(DecodeCommand("").has_value());
  EXPECT_FALSE(DecodeCommand("P x k").has_value());
  EXPECT_FALSE(DecodeCommand("P 0 k").has_value());
}

TEST(CheckSlotsTest, AgreeingReplicasPass) {
  EXPECT_FALSE(CheckSlots(
      {Put(1, 1, 1, 10), Put(2, 1, 1, 10), Noop(1, 1, 2), Noop(2, 1, 2), Put(1, 2, 1, 10)}));
}

TEST(CheckSlotsTest, TwoValuesInOneSlotFail) {
  auto v = CheckSlots({Put(1, 1, 1, 10), Put(2, 1, 1, 11)});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "slot");
}

TEST(CheckSlotsTest, RestartReplayingADifferentValueFails) {
  auto v = CheckSlots({Put(1, 1, 1, 10), Noop(1, 2, 1)});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "slot");
}

TEST(CheckSlotsTest, GapInAppliesFails) {
  EXPECT_TRUE(CheckSlots({Put(1, 1, 1, 10), Noop(1, 1, 3)}).has_value());
}

TEST(CheckSlotsTest, AppliesGoOnFromARestoredOrInstalledState) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10), Put(1, 1, 2, 11), Noop(1, 1, 3)};
  std::vector<ApplyRecord> history = log;
  history.push_back(State(ApplyKind::kCheckpoint, 1, 1, 3, log));
  history.push_back(State(ApplyKind::kState, 1, 2, 3, log));  // restarted from the checkpoint
  history.push_back(Put(1, 2, 4, 12));
  history.push_back(State(ApplyKind::kState, 2, 1, 2, log));  // installed a snapshot through 2
  history.push_back(Noop(2, 1, 3));
  EXPECT_FALSE(CheckSlots(history));
}

TEST(CheckSlotsTest, AppliesSkippingTheTailOfAStateFail) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10), Put(1, 1, 2, 11), Noop(1, 1, 3)};
  std::vector<ApplyRecord> history = log;
  history.push_back(State(ApplyKind::kState, 2, 1, 1, log));
  history.push_back(Noop(2, 1, 3));  // slot 2 never applied there
  auto v = CheckSlots(history);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "slot");
}

TEST(CheckSlotsTest, StateWithOtherValuesThanChosenFails) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10), Put(1, 1, 2, 11)};
  std::vector<ApplyRecord> history = log;
  history.push_back(State(ApplyKind::kState, 2, 1, 2, {Put(1, 1, 1, 10), Noop(1, 1, 2)}));
  auto v = CheckSlots(history);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "slot");
}

TEST(CheckSlotsTest, StateBeyondWhatAnyoneAppliedFails) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10)};
  std::vector<ApplyRecord> history = log;
  history.push_back(State(ApplyKind::kState, 2, 1, 2, log));
  EXPECT_TRUE(CheckSlots(history).has_value());
}

TEST(CheckSlotsTest, CheckpointAwayFromTheAppliedPointFails) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10), Put(1, 1, 2, 11)};
  std::vector<ApplyRecord> history = log;
  history.push_back(State(ApplyKind::kCheckpoint, 1, 1, 1, log));
  EXPECT_TRUE(CheckSlots(history).has_value());
}

TEST(CheckSlotsTest, TwoDifferentStatesThroughOneSlotFail) {
  const std::vector<ApplyRecord> log = {Put(1, 1, 1, 10)};
  std::vector<ApplyRecord> history = {Put(1, 1, 1, 10), Put(2, 1, 1, 10)};
  history.push_back(State(ApplyKind::kCheckpoint, 1, 1, 1, log, /*hash=*/7));
  history.push_back(State(ApplyKind::kCheckpoint, 2, 1, 1, log, /*hash=*/8));
  auto v = CheckSlots(history);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "state");
}

TEST(CheckLeasesTest, DisjointLeasesPass) {
  EXPECT_FALSE(CheckLeases({{1, 1, Ballot{1, 1}, 0, 100},
                            {1, 2, Ballot{2, 2}, 101, 200},
                            {1, 1, Ballot{1, 1}, 20, 30} /* same ballot again */,
                            {2, 3, Ballot{1, 3}, 50, 150} /* another group */}));
}

TEST(CheckLeasesTest, OverlappingLeasesFail) {
  auto v = CheckLeases({{1, 1, Ballot{1, 1}, 0, 100}, {1, 2, Ballot{2, 2}, 100, 200}});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "lease");
}

// Slots: put 10 at slot 1, put 11 at slot 2.
std::vector<ApplyRecord> TwoPuts() { return {Put(1, 1, 1, 10), Put(1, 1, 2, 11)}; }

TEST(CheckLinearizableTest, GoodHistoryPasses) {
  std::vector<Op> ops = {
      MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk),
      MakeOp(11, OpKind::kPut, 20, 30, Outcome::kOk),
      MakeOp(12, OpKind::kLeaseRead, 15, 16, Outcome::kOk, 10),
      MakeOp(13, OpKind::kLeaseRead, 25, 40, Outcome::kOk, 10),  // concurrent with put 11
      MakeOp(14, OpKind::kLeaseRead, 41, 42, Outcome::kOk, 11),
      MakeOp(15, OpKind::kPut, 50, kNever, Outcome::kUnknown),  // never applied: fine
  };
  EXPECT_FALSE(CheckLinearizable(ops, TwoPuts()));
}

TEST(CheckLinearizableTest, StaleReadFails) {
  std::vector<Op> ops = {
      MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk), MakeOp(11, OpKind::kPut, 20, 30, Outcome::kOk),
      MakeOp(12, OpKind::kLeaseRead, 35, 36, Outcome::kOk, 10),  // put 11 completed at 30
  };
  auto v = CheckLinearizable(ops, TwoPuts());
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "linearizability");
  EXPECT_NE(v->detail.find("stale read"), std::string::npos);
}

TEST(CheckLinearizableTest, ReadFromTheFutureFails) {
  std::vector<Op> ops = {
      MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk), MakeOp(11, OpKind::kPut, 20, 30, Outcome::kOk),
      MakeOp(12, OpKind::kLeaseRead, 12, 15, Outcome::kOk, 11),  // put 11 invoked at 20
  };
  EXPECT_TRUE(CheckLinearizable(ops, TwoPuts()).has_value());
}

TEST(CheckLinearizableTest, NonMonotonicReadsFail) {
  std::vector<Op> ops = {
      MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk),
      MakeOp(11, OpKind::kPut, 20, kNever, Outcome::kUnknown),
      MakeOp(12, OpKind::kLeaseRead, 25, 26, Outcome::kOk, 11),
      MakeOp(13, OpKind::kLeaseRead, 27, 28, Outcome::kOk, 10),
  };
  auto v = CheckLinearizable(ops, TwoPuts());
  ASSERT_TRUE(v.has_value());
  EXPECT_NE(v->detail.find("non-monotonic"), std::string::npos);
}

TEST(CheckLinearizableTest, WritesOutOfRealTimeOrderFail) {
  // Put 11 completed before put 10 was invoked, yet sits at the earlier slot... swapped here.
  std::vector<Op> ops = {
      MakeOp(11, OpKind::kPut, 0, 5, Outcome::kOk),
      MakeOp(10, OpKind::kPut, 6, 10, Outcome::kOk),
  };
  EXPECT_TRUE(CheckLinearizable(ops, TwoPuts()).has_value());
}

TEST(CheckLinearizableTest, FailedPutInTheLogFails) {
  std::vector<Op> ops = {MakeOp(10, OpKind::kPut, 0, 10, Outcome::kFailed)};
  EXPECT_TRUE(CheckLinearizable(ops, TwoPuts()).has_value());
}

TEST(CheckLinearizableTest, LogReadMustSeeLatestPutBeforeItsSlot) {
  std::vector<ApplyRecord> log = {Put(1, 1, 1, 10), Put(1, 1, 2, 11), Get(1, 3, 12)};
  std::vector<Op> ops = {
      MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk), MakeOp(11, OpKind::kPut, 0, 10, Outcome::kOk),
      MakeOp(12, OpKind::kGet, 0, 10, Outcome::kOk, 10),  // slot 3 must see put 11
  };
  EXPECT_TRUE(CheckLinearizable(ops, log).has_value());
  ops[2].read_value = 11;
  EXPECT_FALSE(CheckLinearizable(ops, log));
}

TEST(CheckDurabilityTest, LostAcknowledgedWriteFails) {
  std::vector<Op> ops = {MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk)};
  // Replica 1 applied put 10 at slot 1 before a crash; after restart (incarnation 2) it has not.
  std::vector<ApplyRecord> applies = {Put(1, 1, 1, 10), Put(2, 1, 1, 10)};
  std::vector<ReplicaFinal> finals = {{1, 1, 2, 0}, {1, 2, 1, 1}};
  auto v = CheckDurability(ops, applies, finals);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->checker, "durability");
  applies.push_back(Put(1, 2, 1, 10));
  finals[0].applied = 1;
  EXPECT_FALSE(CheckDurability(ops, applies, finals));
}

TEST(CheckDurabilityTest, AStateThroughTheSlotHoldsTheWrite) {
  std::vector<Op> ops = {MakeOp(10, OpKind::kPut, 0, 10, Outcome::kOk)};
  std::vector<ApplyRecord> applies = {Put(1, 1, 1, 10), Noop(1, 1, 2)};
  std::vector<ReplicaFinal> finals = {{1, 2, 1, 2}};
  EXPECT_TRUE(CheckDurability(ops, applies, finals).has_value());
  applies.push_back(State(ApplyKind::kState, 2, 1, 2, applies));  // replica 2 installed it
  EXPECT_FALSE(CheckDurability(ops, applies, finals));
}

}  // namespace
}  // namespace meridian::sim
