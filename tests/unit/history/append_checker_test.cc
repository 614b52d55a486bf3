// The list-append checker on hand-made histories: clean ones pass, and each anomaly type is
// planted once and must be reported with that type (these prove the checker can fail).
#include "tools/history/append_checker.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/history/test_histories.h"

namespace meridian::history {
namespace {

using ::meridian::history::testing::A;
using ::meridian::history::testing::Fail;
using ::meridian::history::testing::Info;
using ::meridian::history::testing::MakeHistory;
using ::meridian::history::testing::Ok;
using ::meridian::history::testing::R;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

CheckResult Check(const History& history, const CheckOptions& options = {}) {
  absl::StatusOr<CheckResult> result = CheckAppendHistory(history, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : CheckResult{};
}

std::set<std::string> Types(const CheckResult& result) {
  std::set<std::string> types;
  for (const auto& [type, count] : result.anomaly_counts) types.insert(type);
  return types;
}

TEST(AppendCheckerTest, SerialHistoryPasses) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1), R("y", {})}),
      Ok(1, 20, 30, {R("x", {1}), A("y", 2)}),
      Ok(0, 40, 50, {R("x", {1}), R("y", {2}), A("x", 3)}),
      Ok(1, 60, 70, {R("x", {1, 3}), R("y", {2})}),
  }));
  EXPECT_TRUE(result.ok) << result.report;
  EXPECT_EQ(result.txns_ok, 4);
  EXPECT_EQ(result.keys, 2);
  EXPECT_GT(result.edges_ww + result.edges_wr + result.edges_rw, 0);
  EXPECT_THAT(result.summary, HasSubstr("no anomalies"));
}

TEST(AppendCheckerTest, ConcurrentSerializableHistoryPasses) {
  // Serial order T2, T3, T1, T4 though T1 was invoked first: allowed, as they overlap in time.
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 100, {A("x", 1)}),                      // T1
      Fail(4, 5, 8, {A("x", 9)}),                      // no effect
      Ok(1, 10, 50, {A("x", 2), R("y", {})}),          // T2
      Ok(2, 20, 60, {A("y", 3), R("x", {2})}),         // T3
      Info(5, 30, -1, {A("y", 10)}),                   // never completes, never seen
      Ok(3, 110, 120, {R("x", {2, 1}), R("y", {3})}),  // T4
  }));
  EXPECT_TRUE(result.ok) << result.report;
  EXPECT_EQ(result.txns_ok, 4);
  EXPECT_EQ(result.txns_failed, 1);
  EXPECT_EQ(result.txns_info, 1);
  EXPECT_EQ(result.txns_info_observed, 0);
}

TEST(AppendCheckerTest, G0WriteCycle) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1), A("y", 1)}),
      Ok(1, 0, 10, {A("x", 2), A("y", 2)}),
      Ok(2, 20, 30, {R("x", {1, 2}), R("y", {2, 1})}),
  }));
  EXPECT_FALSE(result.ok);
  EXPECT_THAT(Types(result), ElementsAre(kG0)) << result.report;
  ASSERT_EQ(result.anomalies.size(), 1u);
  const Anomaly& g0 = result.anomalies[0];
  ASSERT_EQ(g0.cycle.size(), 2u);
  EXPECT_EQ(g0.cycle[0].edge, EdgeType::kWW);
  EXPECT_EQ(g0.cycle[1].edge, EdgeType::kWW);
  EXPECT_THAT(g0.cycle[0].why + g0.cycle[1].why, HasSubstr("\"x\""));
  EXPECT_THAT(g0.cycle[0].why + g0.cycle[1].why, HasSubstr("\"y\""));
}

TEST(AppendCheckerTest, G1aAbortedRead) {
  const CheckResult result = Check(MakeHistory({
      Fail(0, 0, 10, {A("x", 1)}),
      Ok(1, 20, 30, {R("x", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG1a)) << result.report;
  ASSERT_EQ(result.anomalies.size(), 1u);
  ASSERT_EQ(result.anomalies[0].txns.size(), 2u);
  EXPECT_EQ(result.anomalies[0].txns[1].outcome, EventType::kFail);
}

TEST(AppendCheckerTest, G1bIntermediateRead) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 30, {A("x", 1), A("x", 2)}),
      Ok(1, 10, 20, {R("x", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG1b)) << result.report;
}

TEST(AppendCheckerTest, G1cCircularInformationFlow) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1), R("y", {1})}),
      Ok(1, 0, 10, {A("y", 1), R("x", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG1c)) << result.report;
}

TEST(AppendCheckerTest, GSingleReadSkew) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1), A("y", 1)}),
      Ok(1, 20, 40, {A("x", 2), A("y", 2)}),
      Ok(2, 20, 40, {R("x", {1}), R("y", {1, 2})}),  // sees T1 on y but not on x
      Ok(0, 50, 60, {R("x", {1, 2}), R("y", {1, 2})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kGSingle)) << result.report;
  ASSERT_EQ(result.anomalies.size(), 1u);
  std::multiset<EdgeType> edges;
  for (const CycleStep& step : result.anomalies[0].cycle) edges.insert(step.edge);
  EXPECT_THAT(edges, UnorderedElementsAre(EdgeType::kRW, EdgeType::kWR));
  EXPECT_THAT(result.report, HasSubstr("-rw->"));
  EXPECT_THAT(result.report, HasSubstr("-wr->"));
}

TEST(AppendCheckerTest, G2WriteSkew) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {R("x", {}), A("y", 1)}),
      Ok(1, 0, 10, {R("y", {}), A("x", 1)}),
      Ok(2, 20, 30, {R("x", {1}), R("y", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG2)) << result.report;
}

TEST(AppendCheckerTest, StaleReadIsOnlyARealtimeViolation) {
  // Serializable as T2, T1, T3; but T2 began after T1 had committed and missed its append.
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1)}),
      Ok(1, 20, 30, {R("x", {})}),
      Ok(2, 40, 50, {R("x", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kGSingleRealtime)) << result.report;
  EXPECT_THAT(result.report, HasSubstr("-rt->"));
  EXPECT_THAT(result.report, HasSubstr("not strictly serializable"));
}

TEST(AppendCheckerTest, WritesOrderedAgainstRealTime) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1)}),
      Ok(1, 20, 30, {A("x", 2)}),
      Ok(2, 40, 50, {R("x", {2, 1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG0Realtime)) << result.report;
}

TEST(AppendCheckerTest, ReadFromTheFuture) {
  // T1 read a value that T2 appended only after T1 had completed; T2 never completes.
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {R("x", {1})}),
      Info(1, 20, -1, {A("x", 1)}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG1cRealtime)) << result.report;
  EXPECT_EQ(result.txns_info_observed, 1);
}

TEST(AppendCheckerTest, TwoAntiDependenciesAndRealTime) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1)}),              // T1
      Ok(2, 5, 25, {R("x", {}), A("z", 1)}),  // T3: rw to T1
      Ok(1, 20, 30, {R("z", {})}),            // T2: rw to T3, after T1 in real time
      Ok(3, 40, 50, {R("x", {1}), R("z", {1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kG2Realtime)) << result.report;
}

TEST(AppendCheckerTest, IncompatibleOrder) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1)}),
      Ok(1, 0, 10, {A("x", 2)}),
      Ok(2, 20, 30, {R("x", {1, 2})}),
      Ok(3, 20, 30, {R("x", {2, 1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kIncompatibleOrder)) << result.report;
  ASSERT_EQ(result.anomalies.size(), 1u);
  EXPECT_EQ(result.anomalies[0].txns.size(), 2u);
  EXPECT_THAT(result.anomalies[0].explanation, HasSubstr("position 0"));
}

TEST(AppendCheckerTest, IncompatibleOrderOfDifferentLengths) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1), A("x", 2), A("x", 3)}),
      Ok(1, 20, 30, {R("x", {1, 2, 3})}),
      Ok(2, 20, 30, {R("x", {1, 3})}),
  }));
  EXPECT_TRUE(Types(result).contains(kIncompatibleOrder)) << result.report;
}

TEST(AppendCheckerTest, InternalReadMissesOwnAppend) {
  const CheckResult result = Check(MakeHistory({Ok(0, 0, 10, {A("x", 1), R("x", {})})}));
  EXPECT_THAT(Types(result), ElementsAre(kInternal)) << result.report;
}

TEST(AppendCheckerTest, InternalReadsDisagree) {
  const CheckResult result = Check(MakeHistory({
      Ok(1, 0, 5, {A("x", 7)}),
      Ok(0, 10, 20, {R("x", {7}), A("x", 8), R("x", {7})}),
  }));
  EXPECT_TRUE(Types(result).contains(kInternal)) << result.report;
}

TEST(AppendCheckerTest, InternalReadOfOwnFutureAppend) {
  const CheckResult result = Check(MakeHistory({Ok(0, 0, 10, {R("x", {1}), A("x", 1)})}));
  EXPECT_THAT(Types(result), ElementsAre(kInternal)) << result.report;
}

TEST(AppendCheckerTest, ConsistentInternalReadsPass) {
  const CheckResult result = Check(MakeHistory({
      Ok(1, 0, 5, {A("x", 7)}),
      Ok(0, 10, 20, {R("x", {7}), A("x", 8), R("x", {7, 8}), A("x", 9), A("y", 1), R("y", {1})}),
      Ok(1, 30, 40, {R("x", {7, 8, 9}), R("y", {1})}),
  }));
  EXPECT_TRUE(result.ok) << result.report;
}

TEST(AppendCheckerTest, DuplicateElements) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("x", 1)}),
      Ok(1, 20, 30, {R("x", {1, 1})}),
  }));
  EXPECT_THAT(Types(result), ElementsAre(kDuplicateElements)) << result.report;
}

TEST(AppendCheckerTest, GarbageRead) {
  const CheckResult result = Check(MakeHistory({
      Ok(0, 0, 10, {A("y", 7)}), Ok(1, 20, 30, {R("x", {7})}),  // 7 was appended to y, never to x
  }));
  EXPECT_THAT(Types(result), ElementsAre(kGarbageRead)) << result.report;
}

TEST(AppendCheckerTest, ObservedInfoTransactionCountsAsCommitted) {
  const CheckResult clean = Check(MakeHistory({
      Info(0, 0, 10, {A("x", 1)}),
      Ok(1, 20, 30, {R("x", {1})}),
  }));
  EXPECT_TRUE(clean.ok) << clean.report;
  EXPECT_EQ(clean.txns_info_observed, 1);
  // ... and so it takes part in cycles.
  const CheckResult cycle = Check(MakeHistory({
      Info(0, 0, 10, {A("x", 1), A("y", 1)}),
      Ok(1, 0, 10, {A("x", 2), A("y", 2)}),
      Ok(2, 20, 30, {R("x", {1, 2}), R("y", {2, 1})}),
  }));
  EXPECT_THAT(Types(cycle), ElementsAre(kG0)) << cycle.report;
}

TEST(AppendCheckerTest, UnobservedInfoAndFailedTransactionsAreIgnored) {
  const CheckResult result = Check(MakeHistory({
      Info(0, 0, 10, {A("x", 1)}),
      Fail(1, 0, 10, {A("y", 1)}),
      Ok(2, 20, 30, {R("x", {}), R("y", {})}),
  }));
  EXPECT_TRUE(result.ok) << result.report;
  EXPECT_EQ(result.txns_info_observed, 0);
}

TEST(AppendCheckerTest, CommitTimestampsDoNotHideAnAnomaly) {
  History history = MakeHistory({
      Ok(0, 0, 10, {R("x", {}), A("y", 1)}),
      Ok(1, 0, 10, {R("y", {}), A("x", 1)}),
      Ok(2, 20, 30, {R("x", {1}), R("y", {1})}),
  });
  int64_t ts = 100;
  for (Event& event : history) {
    if (event.type == EventType::kOk) event.commit_ts = ts++;
  }
  const CheckResult result = Check(history);
  EXPECT_THAT(Types(result), ElementsAre(kG2)) << result.report;
  EXPECT_THAT(result.report, HasSubstr("commit_ts 100"));
}

TEST(AppendCheckerTest, ReportsAreCappedButAllCounted) {
  std::vector<testing::TxnSpec> txns;
  for (int i = 0; i < 8; ++i) {
    const std::string key = absl::StrCat("x", i);
    txns.push_back(Fail(i, 0, 10, {A(key, 1)}));
    txns.push_back(Ok(10 + i, 20, 30, {R(key, {1})}));
  }
  const CheckResult result = Check(MakeHistory(txns), CheckOptions{.max_report_per_type = 3});
  EXPECT_EQ(result.anomaly_counts.at(kG1a), 8);
  EXPECT_EQ(result.anomalies.size(), 3u);
  EXPECT_THAT(result.report, HasSubstr("G1a: 3 of 8"));
}

TEST(AppendCheckerTest, MalformedHistoryIsAnError) {
  History history = MakeHistory({Ok(0, 0, 10, {A("x", 1)})});
  history.pop_back();                 // drop the completion...
  history.push_back(history.back());  // ... and invoke twice
  history.back().index = 1;
  const absl::StatusOr<CheckResult> result = CheckAppendHistory(history);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("line 2"));
}

}  // namespace
}  // namespace meridian::history
