#include "truetime/truetime.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "truetime/containment_check.h"
#include "truetime/drift_model_clock_source.h"
#include "truetime/physical_clock.h"
#include "truetime/simulated_clock.h"

namespace meridian::truetime {
namespace {

constexpr Timestamp kStartUs = 1'700'000'000'000'000;

// Seed, workload and checker of the containment scenario:
//   seed: the argument; nodes: `nodes` TrueTime instances, each over a SimulatedClockSource with
//   offset, drift, sync phase and resync offsets drawn inside `bounds` from the seed, all on one
//   SimulatedTime. Each step advances true time by 0..50 ms, then one random node calls Now(),
//   and two random nodes call After(t) and Before(t) for a t near true time.
//   Faults: clock skew and drift within the bound; with `violation_us` > 0, one random node is
//   made to violate its bound by that much from a random step on (the planted bug).
//   Checkers: CheckContainsTrueTime on every Now(); After(t) on one node and Before(t) on another
//   at the same true time never both hold.
// Returns the first violation with the seed and step, or OK.
absl::Status RunContainmentScenario(uint64_t seed, int nodes, int steps, int64_t violation_us) {
  meridian::Random rng(seed);
  const SimulatedClockBounds bounds{
      .base_error_us = 1000, .max_drift_ppm = 200, .sync_interval_us = 1'000'000};
  SimulatedTime time(kStartUs);
  std::vector<SimulatedClockSource*> clocks;
  std::vector<std::unique_ptr<TrueTime>> tts;
  for (int i = 0; i < nodes; ++i) {
    auto clock = std::make_unique<SimulatedClockSource>(&time, bounds,
                                                        RandomSimulatedClockParams(bounds, rng));
    clocks.push_back(clock.get());
    tts.push_back(std::make_unique<TrueTime>(
        std::move(clock), TrueTime::Options{.max_epsilon_us = bounds.MaxErrorUs()}));
  }
  const int violating_node = static_cast<int>(rng.Uniform(nodes));
  const int violation_step = static_cast<int>(rng.Uniform(steps));

  for (int step = 0; step < steps; ++step) {
    const std::string where = absl::StrCat("seed ", seed, " step ", step, ": ");
    if (violation_us > 0 && step == violation_step)
      clocks[violating_node]->SetViolation(violation_us);
    time.Advance(rng.Range(0, 50'000));
    const Timestamp true_us = time.NowUs();

    const int node = static_cast<int>(rng.Uniform(nodes));
    const absl::StatusOr<Interval> now = tts[node]->Now();
    if (!now.ok()) return absl::InternalError(where + now.status().ToString());
    if (absl::Status s = CheckContainsTrueTime(*now, true_us); !s.ok()) {
      return absl::InternalError(absl::StrCat(where, "node ", node, ": ", s.message()));
    }

    const Timestamp t = true_us + rng.Range(-3 * bounds.MaxErrorUs(), 3 * bounds.MaxErrorUs());
    const int a = static_cast<int>(rng.Uniform(nodes));
    const int b = static_cast<int>(rng.Uniform(nodes));
    const absl::StatusOr<bool> after = tts[a]->After(t);
    const absl::StatusOr<bool> before = tts[b]->Before(t);
    if (!after.ok() || !before.ok()) {
      return absl::InternalError(where + "After/Before failed");
    }
    if (*after && *before) {
      return absl::InternalError(absl::StrCat(where, "node ", a, " says After(", t, ") and node ",
                                              b, " says Before(", t, ")"));
    }
  }
  return absl::OkStatus();
}

TEST(TrueTimeTest, EveryIntervalContainsTrueTimeOnSkewedDriftingClocks) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const absl::Status s = RunContainmentScenario(seed, /*nodes=*/20, /*steps=*/5000, 0);
    ASSERT_TRUE(s.ok()) << s;
  }
}

// The checker above is only worth something if it catches a clock that lies.
TEST(TrueTimeTest, ContainmentCheckerCatchesAClockViolatingItsBound) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    const absl::Status s = RunContainmentScenario(seed, /*nodes=*/20, /*steps=*/5000, 1);
    if (!s.ok()) {
      ++caught;
      EXPECT_NE(s.message().find("TrueTime violation"), absl::string_view::npos) << s;
      if (seed == 1) std::cout << "planted bug caught: " << s.message() << "\n";
    }
  }
  EXPECT_EQ(caught, 10);
}

TEST(TrueTimeTest, CommitWaitReturnsOnlyOnceAfterHoldsAndTrueTimeHasPassed) {
  meridian::Random rng(42);
  const SimulatedClockBounds bounds{
      .base_error_us = 1000, .max_drift_ppm = 200, .sync_interval_us = 1'000'000};
  SimulatedTime time(kStartUs);
  for (int i = 0; i < 200; ++i) {
    auto clock = std::make_unique<SimulatedClockSource>(&time, bounds,
                                                        RandomSimulatedClockParams(bounds, rng));
    TrueTime tt(std::move(clock), {.max_epsilon_us = bounds.MaxErrorUs()});
    time.Advance(rng.Range(0, 700'000));
    const Interval now = *tt.Now();
    const Timestamp s = now.latest + 1;  // a commit timestamp
    const absl::StatusOr<int64_t> waited = tt.WaitUntilAfter(s);
    ASSERT_TRUE(waited.ok()) << waited.status();
    EXPECT_GT(time.NowUs(), s) << "commit wait ended before absolute time passed s";
    EXPECT_TRUE(*tt.After(s));
    // Wait is about 2 epsilon: at least the interval width, at most twice the worst epsilon (the
    // interval may widen as drift accumulates while waiting) plus rounding.
    EXPECT_GE(*waited, 2 * now.epsilon_us());
    EXPECT_LE(*waited, 2 * bounds.MaxErrorUs() + 10);
  }
}

TEST(TrueTimeTest, CommitWaitOnAConstantEpsilonIsTwoEpsilon) {
  SimulatedTime time(kStartUs);
  TrueTime tt(std::make_unique<SimulatedClockSource>(
                  &time, SimulatedClockBounds{.base_error_us = 1000, .max_drift_ppm = 0},
                  SimulatedClockParams{.offset_us = 400}),
              {.max_epsilon_us = 1000});
  const Timestamp s = tt.Now()->latest;
  EXPECT_EQ(*tt.WaitUntilAfter(s), 2 * 1000 + 1);
  EXPECT_EQ(time.NowUs(), kStartUs + 2001);
  EXPECT_EQ(*tt.WaitUntilAfter(s), 0);  // already passed: no wait
}

TEST(TrueTimeTest, CommitWaitGivesUpAtTheDeadline) {
  SimulatedTime time(kStartUs);
  TrueTime tt(std::make_unique<SimulatedClockSource>(
                  &time, SimulatedClockBounds{.base_error_us = 1000, .max_drift_ppm = 0},
                  SimulatedClockParams{}),
              {.max_epsilon_us = 1000});
  const absl::StatusOr<int64_t> waited =
      tt.WaitUntilAfter(kStartUs + 10'000'000, /*deadline=*/kStartUs + 5'000);
  EXPECT_EQ(waited.status().code(), absl::StatusCode::kDeadlineExceeded) << waited.status();
  EXPECT_GT(time.NowUs(), kStartUs + 5'000);
  EXPECT_LT(time.NowUs(), kStartUs + 10'000);
}

TEST(TrueTimeTest, GuardRefusesToServePastMaxEpsilonAndRecoversAfterSync) {
  ManualPhysicalClock clock(kStartUs, 0);
  auto source = DriftModelClockSource::Create(DriftModelOptions{}, &clock);
  ASSERT_TRUE(source.ok());
  TrueTime tt(std::move(source).value(), {.max_epsilon_us = 3000});
  EXPECT_TRUE(tt.Now().ok());
  clock.Advance(11'000'000);  // error 1000 + 11 * 200 = 3200 us
  const absl::StatusOr<Interval> now = tt.Now();
  EXPECT_EQ(now.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(now.status().message().find(
                "clock uncertainty 3200 us exceeds maximum 3000 us; refusing to serve"),
            absl::string_view::npos)
      << now.status();
  EXPECT_EQ(tt.After(kStartUs).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tt.Before(kStartUs).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tt.WaitUntilAfter(kStartUs).status().code(), absl::StatusCode::kUnavailable);
  clock.Advance(19'000'000);  // 30 s: the model syncs again
  EXPECT_EQ(*tt.Now(), (Interval{kStartUs + 30'000'000 - 1000, kStartUs + 30'000'000 + 1000}));
}

// A source that returns scripted readings, for the monotonicity and error paths.
class ScriptedClockSource : public ClockSource {
 public:
  explicit ScriptedClockSource(std::deque<absl::StatusOr<ClockReading>> readings)
      : readings_(std::move(readings)) {}
  absl::StatusOr<ClockReading> Read() override {
    auto r = readings_.front();
    if (readings_.size() > 1) readings_.pop_front();
    return r;
  }
  std::string Describe() const override { return "scripted"; }
  void SleepFor(int64_t) override {}

 private:
  std::deque<absl::StatusOr<ClockReading>> readings_;
};

TEST(TrueTimeTest, NowIsMonotoneWhenTheClockStepsBack) {
  TrueTime tt(std::make_unique<ScriptedClockSource>(std::deque<absl::StatusOr<ClockReading>>{
                  ClockReading{1000, 10}, ClockReading{985, 10}, ClockReading{1100, 10}}),
              {.max_epsilon_us = 100});
  EXPECT_EQ(*tt.Now(), (Interval{990, 1010}));
  EXPECT_EQ(*tt.Now(), (Interval{990, 1010}));  // raw [975, 995]: both ends held
  EXPECT_EQ(*tt.Now(), (Interval{1090, 1110}));
}

TEST(TrueTimeTest, NowDetectsAClockThatFellBehindItsOwnBound) {
  TrueTime tt(std::make_unique<ScriptedClockSource>(std::deque<absl::StatusOr<ClockReading>>{
                  ClockReading{1000, 10}, ClockReading{900, 50}}),
              {.max_epsilon_us = 100});
  ASSERT_TRUE(tt.Now().ok());
  const absl::StatusOr<Interval> now = tt.Now();  // raw latest 950 < earlier earliest 990
  EXPECT_EQ(now.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(now.status().message().find("broke its error bound"), absl::string_view::npos);
}

TEST(TrueTimeTest, SourceErrorsPropagate) {
  TrueTime tt(std::make_unique<ScriptedClockSource>(std::deque<absl::StatusOr<ClockReading>>{
                  absl::UnavailableError("kernel clock is not synchronised")}),
              {});
  for (const absl::Status& s : {tt.Now().status(), tt.After(0).status(), tt.Before(0).status(),
                                tt.WaitUntilAfter(0).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_NE(s.message().find("kernel clock is not synchronised"), absl::string_view::npos) << s;
  }
}

TEST(TrueTimeTest, ConcurrentCallersSeeMonotoneIntervals) {
  ManualPhysicalClock clock(kStartUs, 0);
  auto source = DriftModelClockSource::Create({.drift_us_per_s = 0}, &clock);
  ASSERT_TRUE(source.ok());
  TrueTime tt(std::move(source).value(), {});
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      Interval last{kMinTimestamp, kMinTimestamp};
      for (int j = 0; j < 5000; ++j) {
        if (i == 0) clock.Advance(1);
        const Interval now = *tt.Now();
        if (now.earliest < last.earliest || now.latest < last.latest) ++failures[i];
        last = now;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace meridian::truetime
