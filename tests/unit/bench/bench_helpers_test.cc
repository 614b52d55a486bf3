#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "bench/txn_load.h"
#include "bench/txn_report.h"
#include "gtest/gtest.h"

namespace meridian::bench {
namespace {

TEST(ParseProcStatCpuTicksTest, AddsUserAndSystemTicks) {
  // Fields 14 (utime) and 15 (stime) are 250 and 75.
  EXPECT_EQ(ParseProcStatCpuTicks("1234 (spanserver) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 "
                                  "0 0 20 0 8 0 100 1000 50"),
            325);
}

TEST(ParseProcStatCpuTicksTest, CountsFieldsAfterTheLastParenthesis) {
  // A command name may hold spaces and ')'; counting from the first ')' would read "b" as the
  // state and be off by two fields.
  EXPECT_EQ(ParseProcStatCpuTicks("99 (a) b (c)) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0"), 10);
}

TEST(ParseProcStatCpuTicksTest, RefusesTextOfAnotherShape) {
  EXPECT_EQ(ParseProcStatCpuTicks(""), std::nullopt);
  EXPECT_EQ(ParseProcStatCpuTicks("no parenthesis 1 2 3 4 5 6 7 8 9 10 11 12 13"), std::nullopt);
  EXPECT_EQ(ParseProcStatCpuTicks("1 (x) S 1 1 1 0"), std::nullopt);  // cut before utime
  EXPECT_EQ(ParseProcStatCpuTicks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 3 0"), std::nullopt);
  EXPECT_EQ(ParseProcStatCpuTicks("1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3 0"), std::nullopt);
}

// Spins until this process has used `micros` more CPU time (getrusage), so the test waits on
// CPU used, not on a clock.
void BurnCpu(int64_t micros) {
  const int64_t until = SelfCpuMicros() + micros;
  volatile uint64_t sink = 0;
  while (SelfCpuMicros() < until) {
    for (int i = 0; i < 10000; ++i) sink = sink + static_cast<uint64_t>(i);
  }
}

TEST(ProcessCpuMicrosTest, FollowsTheCpuThisProcessUses) {
  const std::optional<int64_t> before = ProcessCpuMicros(getpid());
  ASSERT_TRUE(before.has_value());
  BurnCpu(200000);
  const std::optional<int64_t> after = ProcessCpuMicros(getpid());
  ASSERT_TRUE(after.has_value());
  // 200 ms used, read at clock-tick resolution (10 ms at 100 Hz).
  EXPECT_GE(*after - *before, 150000);
  EXPECT_LE(*after - *before, 2000000);
}

TEST(ProcessCpuMicrosTest, IsUnknownForAProcessThatDoesNotExist) {
  EXPECT_EQ(ProcessCpuMicros(-1), std::nullopt);
}

TEST(UsableCpusTest, IsAtLeastOne) { EXPECT_GE(UsableCpus(), 1); }

TEST(CpuBoundMsTest, IsTheCpuPerCallSpreadOverTheProcessors) {
  EXPECT_DOUBLE_EQ(CpuBoundMs(CpuPerOp{17.0, 1.0}, 2), 9.0);
  EXPECT_DOUBLE_EQ(CpuBoundMs(CpuPerOp{17.0, 1.0}, 1), 18.0);
}

TEST(CpuBoundMsTest, IsUnknownWithoutAMeasurement) {
  EXPECT_EQ(CpuBoundMs(CpuPerOp{}, 2), -1);
  EXPECT_EQ(CpuBoundMs(CpuPerOp{17.0, -1}, 2), -1);
  EXPECT_EQ(CpuBoundMs(CpuPerOp{17.0, 1.0}, 0), -1);
}

TEST(RunClosedLoopTest, OpensTheWindowOnceBeforeItsCallsAndClosesItAfterThem) {
  std::atomic<bool> stop{false};
  std::vector<bool> events;
  std::atomic<int64_t> calls_when_opened{-1};
  std::atomic<int64_t> calls{0};
  LoadOptions options{1, 0.05, 0.2, 7, {}};
  options.on_window = [&](bool open) {
    events.push_back(open);
    if (open) calls_when_opened = calls.load();
  };
  const LoadResult r = RunClosedLoop(
      options,
      [&](int, Random&) {
        ++calls;
        return OpOutcome{};
      },
      stop);
  ASSERT_EQ(events, (std::vector<bool>{true, false}));
  EXPECT_GT(r.ops, 0);
  // The window opened after the warm-up's calls.
  EXPECT_GT(calls_when_opened.load(), 0);
}

TEST(RunClosedLoopTest, DoesNotOpenAWindowThatWasStoppedBeforeIt) {
  std::atomic<bool> stop{true};
  int events = 0;
  LoadOptions options{1, 0.05, 0.2, 7, {}};
  options.on_window = [&](bool) { ++events; };
  RunClosedLoop(
      options, [](int, Random&) { return OpOutcome{}; }, stop);
  EXPECT_EQ(events, 0);
}

TEST(ParseFlagTableTest, SetsEachTargetFromItsFlag) {
  int clients = 1;
  uint64_t seed = 1;
  std::string json;
  const char* args[] = {"bench", "--clients=8", "--seed=42", "--json=out.json"};
  ParseFlagTable("bench", 4, const_cast<char**>(args),
                 {{"--clients", &clients}, {"--seed", &seed}, {"--json", &json}}, "usage\n");
  EXPECT_EQ(clients, 8);
  EXPECT_EQ(seed, 42u);
  EXPECT_EQ(json, "out.json");
}

TEST(ParseFlagTableTest, AnUnknownFlagOrABadNumberIsFatal) {
  int clients = 1;
  const char* unknown[] = {"bench", "--bogus=1"};
  EXPECT_EXIT(
      ParseFlagTable("bench", 2, const_cast<char**>(unknown), {{"--clients", &clients}}, ""),
      ::testing::ExitedWithCode(2), "unknown flag --bogus=1");
  const char* bad[] = {"bench", "--clients=8x"};
  EXPECT_EXIT(ParseFlagTable("bench", 2, const_cast<char**>(bad), {{"--clients", &clients}}, ""),
              ::testing::ExitedWithCode(2), "not a number: --clients=8x");
}

}  // namespace
}  // namespace meridian::bench
