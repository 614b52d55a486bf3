// The bounded memories of decision_memory.h: each bound drops the oldest first, and what a
// coordinator forgets leaves the id that keeps it from answering wrongly.
#include "txn/decision_memory.h"

#include "gtest/gtest.h"

namespace meridian::txn {
namespace {

TEST(BoundedIdSetTest, KeepsTheNewestIds) {
  BoundedIdSet ids(2);
  EXPECT_TRUE(ids.Insert(1));
  EXPECT_TRUE(ids.Insert(2));
  EXPECT_FALSE(ids.Insert(1));  // already there: it does not get younger
  EXPECT_TRUE(ids.Insert(3));
  EXPECT_FALSE(ids.contains(1));
  EXPECT_TRUE(ids.contains(2));
  EXPECT_TRUE(ids.contains(3));
  EXPECT_EQ(ids.size(), 2u);
  ids.clear();
  EXPECT_EQ(ids.size(), 0u);
  EXPECT_TRUE(ids.Insert(1));
}

TEST(BoundedIdSetTest, CapZeroKeepsNothing) {
  BoundedIdSet ids(0);
  EXPECT_TRUE(ids.Insert(1));
  EXPECT_FALSE(ids.contains(1));
}

TransactionManagerOptions Bounds(size_t local, size_t aborts, size_t forgotten) {
  TransactionManagerOptions o;
  o.max_local_decisions = local;
  o.max_abort_decisions = aborts;
  o.max_forgotten_ids = forgotten;
  return o;
}

TEST(DecisionMemoryTest, SingleGroupDecisionsAreBoundedAndLeaveNothing) {
  DecisionMemory m(Bounds(2, 10, 10));
  for (TxnId t = 1; t <= 3; ++t) m.Remember(t, Decision{true, 100 + static_cast<int64_t>(t), {}});
  EXPECT_EQ(m.Find(1), nullptr);
  EXPECT_FALSE(m.Known(1));  // a single-group decision leaves no id
  ASSERT_NE(m.Find(3), nullptr);
  EXPECT_EQ(m.Find(3)->commit_ts, 103);
  EXPECT_EQ(m.size(), 2u);
  EXPECT_TRUE(m.unforgotten_commits().empty());
}

TEST(DecisionMemoryTest, CommitsWithParticipantsStayUntilForgottenThenLeaveTheirId) {
  DecisionMemory m(Bounds(0, 10, 10));
  m.Remember(7, Decision{true, 50, {2, 3}});
  EXPECT_EQ(m.unforgotten_commits().count(7), 1u);
  ASSERT_NE(m.Find(7), nullptr);
  m.Forget(7);
  EXPECT_EQ(m.Find(7), nullptr);
  EXPECT_TRUE(m.ForgottenCommit(7));
  EXPECT_TRUE(m.Known(7));
  EXPECT_TRUE(m.unforgotten_commits().empty());
  EXPECT_EQ(m.forgotten_ids(), 1u);
}

TEST(DecisionMemoryTest, ForgetLeavesAbortsAndSingleGroupDecisionsAlone) {
  DecisionMemory m(Bounds(10, 10, 10));
  m.Remember(1, Decision{false, 0, {2}});
  m.Remember(2, Decision{true, 5, {}});
  m.Forget(1);
  m.Forget(2);
  m.Forget(3);  // unknown
  EXPECT_NE(m.Find(1), nullptr);
  EXPECT_NE(m.Find(2), nullptr);
  EXPECT_EQ(m.forgotten_ids(), 0u);
}

TEST(DecisionMemoryTest, OldAbortDecisionsLeaveTheirIdsBounded) {
  DecisionMemory m(Bounds(10, 1, 1));
  m.Remember(1, Decision{false, 0, {2}});
  m.Remember(2, Decision{false, 0, {2}});
  EXPECT_EQ(m.Find(1), nullptr);
  EXPECT_TRUE(m.ForgottenAbort(1));
  EXPECT_NE(m.Find(2), nullptr);
  m.Remember(3, Decision{false, 0, {2}});
  EXPECT_FALSE(m.Known(1));  // past max_forgotten_ids too: an inquiry presumes abort again
  EXPECT_TRUE(m.ForgottenAbort(2));
  EXPECT_EQ(m.forgotten_ids(), 1u);
}

}  // namespace
}  // namespace meridian::txn
