#include "truetime/drift_model_clock_source.h"

#include <gtest/gtest.h>

#include "truetime/physical_clock.h"

namespace meridian::truetime {
namespace {

constexpr int64_t kSecondUs = 1'000'000;
constexpr Timestamp kWallStartUs = 1'700'000'000'000'000;

TEST(DriftModelClockSourceTest, SawtoothRisesAt200UsPerSecondAndResetsEvery30Seconds) {
  ManualPhysicalClock clock(kWallStartUs, 5 * kSecondUs);
  auto source = DriftModelClockSource::Create(DriftModelOptions{}, &clock);
  ASSERT_TRUE(source.ok()) << source.status();

  int64_t previous_error_us = -1;
  for (int64_t second = 0; second <= 95; ++second) {
    const auto reading = (*source)->Read();
    ASSERT_TRUE(reading.ok()) << reading.status();
    EXPECT_EQ(reading->now_us, kWallStartUs + second * kSecondUs);
    EXPECT_EQ(reading->error_us, 1000 + 200 * (second % 30)) << "at second " << second;
    if (second % 30 == 0) {
      EXPECT_EQ(reading->error_us, 1000) << "sync at second " << second;
    } else {
      EXPECT_EQ(reading->error_us - previous_error_us, 200) << "at second " << second;
    }
    previous_error_us = reading->error_us;
    (*source)->SleepFor(kSecondUs);
  }
}

TEST(DriftModelClockSourceTest, PeakJustBeforeSyncRoundsUp) {
  ManualPhysicalClock clock(kWallStartUs, 0);
  auto source = DriftModelClockSource::Create(DriftModelOptions{}, &clock);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->ErrorAtMonoUs(30 * kSecondUs - 1), 7000);  // 5999.9998 rounds up
  EXPECT_EQ((*source)->ErrorAtMonoUs(30 * kSecondUs), 1000);
  EXPECT_EQ((*source)->ErrorAtMonoUs(1), 1001);  // 0.0002 us rounds up
}

TEST(DriftModelClockSourceTest, WallStepsDoNotMoveTheSawtooth) {
  ManualPhysicalClock clock(kWallStartUs, 0);
  auto source = DriftModelClockSource::Create(DriftModelOptions{}, &clock);
  ASSERT_TRUE(source.ok());
  clock.Advance(10 * kSecondUs);
  clock.SetWallUs(kWallStartUs - 3 * kSecondUs);
  const auto reading = (*source)->Read();
  ASSERT_TRUE(reading.ok());
  EXPECT_EQ(reading->now_us, kWallStartUs - 3 * kSecondUs);
  EXPECT_EQ(reading->error_us, 3000);
}

TEST(DriftModelClockSourceTest, ZeroDriftIsFixed) {
  ManualPhysicalClock clock(kWallStartUs, 0);
  auto source = DriftModelClockSource::Create(
      DriftModelOptions{.base_epsilon_us = 1000, .drift_us_per_s = 0}, &clock);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->Describe(), "fixed(epsilon=1000us)");
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ((*source)->Read()->error_us, 1000);
    clock.Advance(kSecondUs + 12345);
  }
}

TEST(DriftModelClockSourceTest, DescribesItself) {
  ManualPhysicalClock clock(kWallStartUs, 0);
  auto source = DriftModelClockSource::Create(DriftModelOptions{}, &clock);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ((*source)->Describe(),
            "drift_model(base=1000us, drift=200us/s, sync_interval=30000000us)");
}

TEST(DriftModelClockSourceTest, RejectsBadOptions) {
  ManualPhysicalClock clock(kWallStartUs, 0);
  EXPECT_EQ(DriftModelClockSource::Create({.base_epsilon_us = -1}, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DriftModelClockSource::Create({.drift_us_per_s = -5}, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DriftModelClockSource::Create({.sync_interval_us = 0}, &clock).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian::truetime
