#include "truetime/ntp_clock_source.h"

#include <gtest/gtest.h>
#include <sys/timex.h>
#include <time.h>

#include "truetime/physical_clock.h"

namespace meridian::truetime {
namespace {

Timestamp RealtimeUs() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

// Does not assume the machine is synchronised: either an interval around CLOCK_REALTIME or
// UNAVAILABLE.
TEST(NtpClockSourceTest, RealKernelGivesAnIntervalAroundRealtimeOrUnavailable) {
  NtpClockSource source;
  const Timestamp before_us = RealtimeUs();
  const absl::StatusOr<ClockReading> reading = source.Read();
  const Timestamp after_us = RealtimeUs();
  if (!reading.ok()) {
    EXPECT_EQ(reading.status().code(), absl::StatusCode::kUnavailable) << reading.status();
    EXPECT_NE(reading.status().message().find("not synchronised"), absl::string_view::npos);
    return;  // an unsynchronised machine is a valid outcome, not a failure
  }
  EXPECT_GE(reading->error_us, kKernelMaxErrorGrowthUsPerSecond);
  EXPECT_LE(reading->now_us - reading->error_us, after_us);
  EXPECT_GE(reading->now_us + reading->error_us, before_us);
}

TEST(NtpClockSourceTest, SynchronisedKernelStateGivesMaxerrorPlusOneSecondOfGrowth) {
  const auto reading = NtpReadingFromKernelState({TIME_OK, STA_PLL, 1234}, 5'000'000);
  ASSERT_TRUE(reading.ok()) << reading.status();
  EXPECT_EQ(*reading, (ClockReading{5'000'000, 1234 + 500}));
}

TEST(NtpClockSourceTest, UnsyncBitOrTimeErrorIsUnavailable) {
  const auto unsync = NtpReadingFromKernelState({TIME_OK, STA_UNSYNC, 16'000'000}, 1);
  EXPECT_EQ(unsync.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(unsync.status().message().find("not synchronised"), absl::string_view::npos);
  const auto error_state = NtpReadingFromKernelState({TIME_ERROR, 0, 100}, 1);
  EXPECT_EQ(error_state.status().code(), absl::StatusCode::kUnavailable);
}

TEST(NtpClockSourceTest, UsesInjectedClockAndReader) {
  ManualPhysicalClock clock(42'000'000, 0);
  NtpClockSource source(&clock, [] {
    return absl::StatusOr<KernelNtpState>(KernelNtpState{TIME_OK, 0, 700});
  });
  EXPECT_EQ(*source.Read(), (ClockReading{42'000'000, 1200}));
  source.SleepFor(10);
  EXPECT_EQ(clock.WallNowUs(), 42'000'010);

  NtpClockSource failing(&clock, [] {
    return absl::StatusOr<KernelNtpState>(absl::InternalError("ntp_adjtime failed: EPERM"));
  });
  EXPECT_EQ(failing.Read().status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meridian::truetime
