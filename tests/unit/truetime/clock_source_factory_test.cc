#include "truetime/clock_source_factory.h"

#include <gtest/gtest.h>
#include <sys/timex.h>

namespace meridian::truetime {
namespace {

ClockSourceOptions Options(PhysicalClock* clock, KernelNtpReader reader = nullptr) {
  ClockSourceOptions options;
  options.clock = clock;
  options.ntp_reader = std::move(reader);
  return options;
}

KernelNtpReader FakeKernel(int state, int status, int64_t maxerror_us) {
  return [=] { return absl::StatusOr<KernelNtpState>(KernelNtpState{state, status, maxerror_us}); };
}

TEST(ClockSourceFactoryTest, ParsesFlagValues) {
  for (const char* name : {"auto", "ntp", "fixed"}) {
    const auto kind = ParseClockSourceKind(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(ClockSourceKindName(*kind), name);
  }
  EXPECT_EQ(ParseClockSourceKind("gps").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClockSourceFactoryTest, FixedIsAConstantEpsilon) {
  ManualPhysicalClock clock(1'000'000, 0);
  auto source = MakeClockSource(ClockSourceKind::kFixed, Options(&clock));
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Describe(), "fixed(epsilon=1000us)");
  EXPECT_EQ(*(*source)->Read(), (ClockReading{1'000'000, 1000}));
  ClockSourceOptions negative = Options(&clock);
  negative.fixed_epsilon_us = -1;
  EXPECT_EQ(MakeClockSource(ClockSourceKind::kFixed, negative).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ClockSourceFactoryTest, AutoPicksNtpWhenTheKernelIsSynchronised) {
  ManualPhysicalClock clock(1'000'000, 0);
  auto source =
      MakeClockSource(ClockSourceKind::kAuto, Options(&clock, FakeKernel(TIME_OK, 0, 300)));
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Describe().rfind("ntp(", 0), 0u) << (*source)->Describe();
  EXPECT_EQ((*source)->Read()->error_us, 800);
}

TEST(ClockSourceFactoryTest, AutoFallsBackToTheDriftModelWhenUnsynchronised) {
  ManualPhysicalClock clock(1'000'000, 0);
  auto source = MakeClockSource(ClockSourceKind::kAuto,
                                Options(&clock, FakeKernel(TIME_ERROR, STA_UNSYNC, 16'000'000)));
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Describe(),
            "drift_model(base=1000us, drift=200us/s, sync_interval=30000000us)");
}

TEST(ClockSourceFactoryTest, NtpWhenUnsynchronisedIsCreatedButReadsUnavailable) {
  ManualPhysicalClock clock(1'000'000, 0);
  auto source =
      MakeClockSource(ClockSourceKind::kNtp, Options(&clock, FakeKernel(TIME_OK, STA_UNSYNC, 0)));
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Read().status().code(), absl::StatusCode::kUnavailable);

  KernelNtpReader failing = [] {
    return absl::StatusOr<KernelNtpState>(absl::InternalError("ntp_adjtime failed"));
  };
  auto broken = MakeClockSource(ClockSourceKind::kNtp, Options(&clock, failing));
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInternal);
}

TEST(ClockSourceFactoryTest, RealKernelAutoAlwaysGivesASource) {
  auto source = MakeClockSource(ClockSourceKind::kAuto, ClockSourceOptions());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_TRUE((*source)->Read().ok()) << (*source)->Describe();
}

}  // namespace
}  // namespace meridian::truetime
