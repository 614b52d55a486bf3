#include "truetime/simulated_clock.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

#include "common/random.h"

namespace meridian::truetime {
namespace {

constexpr Timestamp kStartUs = 1'700'000'000'000'000;

TEST(SimulatedClockTest, ErrorAlwaysCoversTheOffsetForRandomNodes) {
  meridian::Random rng(20240611);
  const SimulatedClockBounds bounds{
      .base_error_us = 1000, .max_drift_ppm = 200, .sync_interval_us = 2'000'000};
  SimulatedTime time(kStartUs);
  for (int node = 0; node < 50; ++node) {
    SimulatedClockSource clock(&time, bounds, RandomSimulatedClockParams(bounds, rng));
    for (int i = 0; i < 2000; ++i) {
      const Timestamp true_us = time.NowUs() + rng.Range(0, 20'000'000);
      const ClockReading r = clock.ReadingAt(true_us);
      ASSERT_LE(std::llabs(r.now_us - true_us), r.error_us)
          << clock.Describe() << " at true time " << true_us;
      ASSERT_GE(r.error_us, bounds.base_error_us);
      ASSERT_LE(r.error_us, bounds.MaxErrorUs());
    }
  }
  EXPECT_EQ(bounds.MaxErrorUs(), 1400);
}

TEST(SimulatedClockTest, SawtoothWithExplicitParams) {
  SimulatedTime time(kStartUs);
  const SimulatedClockBounds bounds{
      .base_error_us = 500, .max_drift_ppm = 200, .sync_interval_us = 10'000'000};
  SimulatedClockSource clock(&time, bounds, {.offset_us = 300, .drift_ppm = -100});
  EXPECT_EQ(*clock.Read(), (ClockReading{kStartUs + 300, 500}));
  time.Advance(5'000'000);  // 5 s: drifted -500 us, bound grew by 1000 us
  EXPECT_EQ(*clock.Read(), (ClockReading{kStartUs + 5'000'000 + 300 - 500, 1500}));
  time.Advance(5'000'000);  // sync: back to the configured offset
  EXPECT_EQ(*clock.Read(), (ClockReading{kStartUs + 10'000'000 + 300, 500}));
  clock.SleepFor(1'000'000);  // sleeping advances the shared timeline
  EXPECT_EQ(time.NowUs(), kStartUs + 11'000'000);
}

TEST(SimulatedClockTest, DeterministicWhateverTheReadOrder) {
  const SimulatedClockBounds bounds;
  meridian::Random rng_a(7), rng_b(7);
  SimulatedTime time(kStartUs);
  SimulatedClockSource a(&time, bounds, RandomSimulatedClockParams(bounds, rng_a));
  SimulatedClockSource b(&time, bounds, RandomSimulatedClockParams(bounds, rng_b));
  std::vector<Timestamp> times;
  for (int i = 0; i < 100; ++i) times.push_back(kStartUs + i * 7'000'000);
  std::vector<ClockReading> forward;
  for (Timestamp t : times) forward.push_back(a.ReadingAt(t));
  for (int i = static_cast<int>(times.size()) - 1; i >= 0; --i) {
    EXPECT_EQ(b.ReadingAt(times[i]), forward[i]);
  }
}

TEST(SimulatedClockTest, ResyncDrawsFreshOffsets) {
  const SimulatedClockBounds bounds{
      .base_error_us = 1000, .max_drift_ppm = 0, .sync_interval_us = 1'000'000};
  SimulatedTime time(kStartUs);
  SimulatedClockSource clock(&time, bounds, {.offset_us = 0, .resync_seed = 99});
  bool changed = false;
  for (int k = 1; k < 20; ++k) {
    const ClockReading r = clock.ReadingAt(kStartUs + k * 1'000'000);
    changed |= r.now_us != kStartUs + k * 1'000'000;
    EXPECT_LE(std::llabs(r.now_us - (kStartUs + k * 1'000'000)), 1000);
  }
  EXPECT_TRUE(changed);
}

TEST(SimulatedClockTest, ViolationPutsTheClockOutsideItsBound) {
  SimulatedTime time(kStartUs);
  SimulatedClockSource clock(&time, SimulatedClockBounds{}, {.offset_us = -20});
  clock.SetViolation(1);
  const ClockReading r = *clock.Read();
  EXPECT_EQ(r.now_us, kStartUs - 1001);
  EXPECT_GT(std::llabs(r.now_us - kStartUs), r.error_us);
  clock.SetViolation(0);
  EXPECT_EQ(clock.Read()->now_us, kStartUs - 20);
}

}  // namespace
}  // namespace meridian::truetime
