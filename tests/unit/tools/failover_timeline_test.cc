// The failover demo's pure pieces: the recovery time and zero windows read off a timeline
// (tools/failover_timeline.h), and what a key may hold at the end (AckLedger,
// tools/failover_workload.h).
#include "tools/failover_timeline.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/failover_workload.h"

namespace meridian::tools {
namespace {

constexpr double kInterval = 0.1;

// One sample per entry of `ops`, the first at time 0.
Timeline TimelineOf(const std::vector<int64_t>& ops) {
  Timeline timeline(kInterval);
  for (size_t i = 0; i < ops.size(); ++i) {
    timeline.Add({.time_s = static_cast<double>(i) * kInterval,
                  .ops = ops[i],
                  .errors = 0,
                  .longest_gap_s = 0});
  }
  return timeline;
}

RecoveryOptions Options() {
  RecoveryOptions options;
  options.baseline_s = 1;
  options.window = 5;
  options.fraction = 0.9;
  return options;
}

TEST(MedianTest, OddEvenAndEmpty) {
  EXPECT_EQ(Median({}), 0);
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2.5);
}

TEST(TimelineTest, RecoveryIsTheFirstSampleBackAtNinetyPercentWithItsWindow) {
  // 1 s at 100 per sample (1000/s), the fault at 1.0 s, 1 s of nothing, then back.
  std::vector<int64_t> ops(10, 100);
  ops.insert(ops.end(), 10, 0);
  ops.insert(ops.end(), 10, 95);
  Timeline timeline = TimelineOf(ops);
  timeline.Mark({.time_s = 1.0, .kind = "fault", .label = "kill"});
  const Recovery r = timeline.Analyze(Options());
  EXPECT_EQ(r.baseline_samples, 10);
  EXPECT_DOUBLE_EQ(r.pre_fault_median_ops_per_s, 1000);
  ASSERT_TRUE(r.recovery_s.has_value());
  EXPECT_NEAR(*r.recovery_s, 1.0, 1e-9);
}

TEST(TimelineTest, ALoneBurstDoesNotCountAsRecovered) {
  std::vector<int64_t> ops(10, 100);
  ops.insert(ops.end(), {0, 0, 300, 0, 0, 0, 0, 100, 100, 100, 100, 100});
  Timeline timeline = TimelineOf(ops);
  timeline.Mark({.time_s = 1.0, .kind = "fault", .label = "kill"});
  const Recovery r = timeline.Analyze(Options());
  ASSERT_TRUE(r.recovery_s.has_value());
  // The burst at 1.2 s is one sample (its window's median is 0); the window from 1.5 s
  // (0, 0, 100, 100, 100) has a median of 100 but starts with nothing; 1.7 s is when it is back.
  EXPECT_NEAR(*r.recovery_s, 0.7, 1e-9);
}

TEST(TimelineTest, NoDipIsRecoveryZeroAndNoRecoveryIsNone) {
  Timeline steady = TimelineOf(std::vector<int64_t>(30, 100));
  steady.Mark({.time_s = 1.05, .kind = "fault", .label = "transfer"});
  ASSERT_TRUE(steady.Analyze(Options()).recovery_s.has_value());
  EXPECT_EQ(*steady.Analyze(Options()).recovery_s, 0);

  std::vector<int64_t> ops(10, 100);
  ops.insert(ops.end(), 20, 50);
  Timeline slow = TimelineOf(ops);
  slow.Mark({.time_s = 1.0, .kind = "fault", .label = "kill"});
  EXPECT_FALSE(slow.Analyze(Options()).recovery_s.has_value());
}

TEST(TimelineTest, WithoutAFaultThereIsNothingToAnalyze) {
  const Recovery r = TimelineOf(std::vector<int64_t>(30, 100)).Analyze(Options());
  EXPECT_EQ(r.baseline_samples, 0);
  EXPECT_FALSE(r.recovery_s.has_value());
}

TEST(TimelineTest, CsvMarksTheEventInItsSample) {
  Timeline timeline = TimelineOf({10, 20, 0});
  timeline.Mark({.time_s = 0.15, .kind = "fault", .label = "kill -9 \"a\""});
  EXPECT_EQ(timeline.Csv(),
            "time_s,ops_in_interval,ops_per_s,errors,longest_gap_ms,event\n"
            "0.000,10,100,0,0.0,\n"
            "0.100,20,200,0,0.0,\"fault: kill -9 \"\"a\"\"\"\n"
            "0.200,0,0,0,0.0,\n");
}

TEST(TimelineTest, GnuplotScriptDrawsEveryEventAndTheLevel) {
  Timeline timeline = TimelineOf(std::vector<int64_t>(30, 100));
  timeline.Mark({.time_s = 1.0, .kind = "fault", .label = "kill"});
  timeline.Mark({.time_s = 2.0, .kind = "restart", .label = "restart span-a1"});
  const Recovery r = timeline.Analyze(Options());
  const std::string gp = timeline.GnuplotScript("t", "/d/x.csv", "/d/x.png", r, Options());
  EXPECT_TRUE(absl::StrContains(gp, "set output '/d/x.png'")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "set arrow from 1.000, graph 0 to 1.000, graph 1")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "set arrow from 2.000, graph 0 to 2.000, graph 1")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "'restart: restart span-a1'")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "plot '/d/x.csv' using 1:3 skip 1")) << gp;
  EXPECT_TRUE(absl::StrContains(gp, "900.0 with lines")) << gp;
}

TEST(GapTrackerTest, SplitsGapsAtTheFaultAndCountsTheOpenOne) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  GapTracker gaps(t0);
  gaps.Ack(t0 + absl::Milliseconds(50));
  gaps.Ack(t0 + absl::Milliseconds(80));
  EXPECT_EQ(gaps.Take(t0 + absl::Milliseconds(100)), absl::Milliseconds(50));
  gaps.MarkFault(t0 + absl::Milliseconds(100));
  // The gap from 80 ms to 1.3 s ends after the fault: it counts as after, all of it.
  gaps.Ack(t0 + absl::Milliseconds(1300));
  EXPECT_EQ(gaps.Take(t0 + absl::Milliseconds(1400)), absl::Milliseconds(1220));
  GapTracker::Longest longest = gaps.LongestGaps(t0 + absl::Milliseconds(1400));
  EXPECT_EQ(longest.before, absl::Milliseconds(50));
  EXPECT_EQ(longest.after, absl::Milliseconds(1220));
  // Nothing since 1.3 s: at 3 s the open gap (1.7 s) is the longest.
  EXPECT_EQ(gaps.LongestGaps(t0 + absl::Seconds(3)).after, absl::Milliseconds(1700));
  EXPECT_EQ(gaps.Take(t0 + absl::Seconds(3)), absl::Milliseconds(1700));
}

TEST(AckLedgerTest, AKeyHoldsItsLastAcknowledgedValueOrAnUnknownOne) {
  AckLedger ledger;
  bool lost = false;
  ledger.Acknowledged("k", "v1");
  ledger.Unknown("k", "v2");
  ledger.Acknowledged("k", "v3");
  EXPECT_EQ(ledger.Check("k", "v3", &lost), "");
  // v2's request may have landed after v3 was acknowledged.
  EXPECT_EQ(ledger.Check("k", "v2", &lost), "");
  EXPECT_FALSE(lost);
  // An older acknowledged value means v3 was lost.
  EXPECT_TRUE(absl::StrContains(ledger.Check("k", "v1", &lost), "LOST acknowledged value 'v3'"));
  EXPECT_TRUE(lost);
  EXPECT_TRUE(absl::StrContains(ledger.Check("k", std::nullopt, &lost), "holds nothing"));
  EXPECT_TRUE(lost);
  EXPECT_EQ(ledger.unknown_writes(), 1);
}

TEST(AckLedgerTest, AKeyNeverAcknowledgedHoldsNothingOrAnUnknownValue) {
  AckLedger ledger;
  bool lost = false;
  EXPECT_EQ(ledger.Check("fresh", std::nullopt, &lost), "");
  ledger.Unknown("u", "x");
  EXPECT_EQ(ledger.Check("u", std::nullopt, &lost), "");
  EXPECT_EQ(ledger.Check("u", "x", &lost), "");
  const std::string problem = ledger.Check("u", "y", &lost);
  EXPECT_TRUE(absl::StrContains(problem, "no write of it was acknowledged")) << problem;
  EXPECT_FALSE(lost);
}

TEST(AckLedgerTest, TheCorruptedRecordIsCaught) {
  AckLedger ledger;
  EXPECT_FALSE(ledger.CorruptOneForTesting());
  ledger.Acknowledged("k", "v1");
  ASSERT_TRUE(ledger.CorruptOneForTesting());
  bool lost = false;
  EXPECT_FALSE(ledger.Check("k", "v1", &lost).empty());
  EXPECT_TRUE(lost);
}

}  // namespace
}  // namespace meridian::tools
