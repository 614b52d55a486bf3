// Each transaction checker (txn_checkers.h) fails on a hand-made bad history and passes the same
// history once it is made good. Seed/workload/faults: none (hand-made histories). Checkers:
// outcome, snapshot, realtime, bank.
#include "tests/sim/txn_checkers.h"

#include <gtest/gtest.h>

namespace meridian::sim {
namespace {

TxnRecord Rw(txn::TxnId id, TrueUs invoke, TrueUs complete, txn::Timestamp ts, KeyValues reads,
             KeyValues writes) {
  TxnRecord r;
  r.kind = TxnKind::kReadWrite;
  r.txn = id;
  r.attempts = 1;
  r.invoke_us = invoke;
  r.complete_us = complete;
  r.outcome = TxnOutcome::kOk;
  r.ts = ts;
  r.reads = std::move(reads);
  r.writes = std::move(writes);
  return r;
}

TxnRecord Ro(TxnKind kind, TrueUs invoke, TrueUs complete, txn::Timestamp ts, KeyValues reads) {
  TxnRecord r;
  r.kind = kind;
  r.invoke_us = invoke;
  r.complete_us = complete;
  r.outcome = TxnOutcome::kOk;
  r.ts = ts;
  r.reads = std::move(reads);
  return r;
}

TEST(TxnCheckersTest, OutcomeCatchesCommitOfFailedTxnAndWrongTimestamp) {
  std::vector<TxnRecord> records = {Rw(1, 0, 10, 100, {}, {{"x", "1"}})};
  AttemptMap attempts = {{1, {0, {{"x", "1"}}}}};
  std::map<txn::TxnId, Decision> decisions = {{1, {true, 100, 5}}};
  EXPECT_FALSE(CheckOutcomes(records, decisions, attempts));
  decisions[1].ts = 99;
  EXPECT_EQ(CheckOutcomes(records, decisions, attempts)->checker, "outcome");
  decisions[1].ts = 100;
  records[0].outcome = TxnOutcome::kFail;
  EXPECT_EQ(CheckOutcomes(records, decisions, attempts)->checker, "outcome");
  decisions[2] = {true, 200, 6};  // nobody sent txn 2
  records[0].outcome = TxnOutcome::kOk;
  EXPECT_EQ(CheckOutcomes(records, decisions, attempts)->checker, "outcome");
}

TEST(TxnCheckersTest, SnapshotCatchesStaleAndFutureReads) {
  std::vector<TxnRecord> records = {
      Rw(1, 0, 10, 100, {{"x", std::nullopt}}, {{"x", "1"}}),
      Rw(2, 20, 30, 200, {{"x", "1"}}, {{"x", "2"}}),
      Ro(TxnKind::kSnapshotStale, 40, 50, 150, {{"x", "1"}}),
      Ro(TxnKind::kSnapshotNow, 40, 50, 250, {{"x", "2"}}),
  };
  AttemptMap attempts = {{1, {0, {{"x", "1"}}}}, {2, {1, {{"x", "2"}}}}};
  std::map<txn::TxnId, Decision> decisions = {{1, {true, 100, 5}}, {2, {true, 200, 25}}};
  EXPECT_FALSE(CheckSnapshots(records, decisions, attempts));
  records[2].reads["x"] = "2";  // a read at 150 sees the write at 200
  EXPECT_EQ(CheckSnapshots(records, decisions, attempts)->checker, "snapshot");
  records[2].reads["x"] = "1";
  records[1].reads["x"] = std::nullopt;  // txn 2 at 200 missed the write at 100 (lost update)
  EXPECT_EQ(CheckSnapshots(records, decisions, attempts)->checker, "snapshot");
}

TEST(TxnCheckersTest, RealTimeCatchesTimestampsBelowEarlierCommits) {
  std::vector<TxnRecord> records = {
      Rw(1, 0, 10, 100, {}, {{"x", "1"}}),
      Rw(2, 20, 30, 200, {}, {{"y", "1"}}),
      Ro(TxnKind::kSnapshotNow, 40, 50, 250, {{"x", "1"}}),
  };
  EXPECT_FALSE(CheckRealTime(records));
  records[2].ts = 90;  // invoked after txn 1 completed, reads x below its commit
  EXPECT_EQ(CheckRealTime(records)->checker, "realtime");
  records[2].kind = TxnKind::kSnapshotStale;  // stale reads promise nothing
  EXPECT_FALSE(CheckRealTime(records));
  records[1].ts = 50;  // txn 2 started after txn 1 completed, committed below it
  EXPECT_EQ(CheckRealTime(records)->checker, "realtime");
}

TEST(TxnCheckersTest, BankCatchesWrongTotalsNegativesAndPartialSetup) {
  const std::vector<std::string> accounts = {"a", "b"};
  std::vector<TxnRecord> records = {
      Ro(TxnKind::kSnapshotNow, 0, 1, 10, {{"a", std::nullopt}, {"b", std::nullopt}}),
      Ro(TxnKind::kSnapshotNow, 0, 1, 10, {{"a", "150"}, {"b", "50"}}),
      Ro(TxnKind::kSnapshotNow, 0, 1, 10, {{"a", "150"}}),  // not every account: not checked
  };
  EXPECT_FALSE(CheckBank(records, accounts, 200));
  records[1].reads["b"] = "51";
  EXPECT_EQ(CheckBank(records, accounts, 200)->checker, "bank");
  records[1].reads = {{"a", "250"}, {"b", "-50"}};
  EXPECT_EQ(CheckBank(records, accounts, 200)->checker, "bank");
  records[1].reads = {{"a", "100"}, {"b", std::nullopt}};
  EXPECT_EQ(CheckBank(records, accounts, 200)->checker, "bank");
  records[1].outcome = TxnOutcome::kFail;  // failed reads are not checked
  EXPECT_FALSE(CheckBank(records, accounts, 200));
}

}  // namespace
}  // namespace meridian::sim
