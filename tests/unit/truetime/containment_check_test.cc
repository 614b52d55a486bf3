#include "truetime/containment_check.h"

#include <gtest/gtest.h>

namespace meridian::truetime {
namespace {

TEST(ContainmentCheckTest, AcceptsTimesInsideIncludingEnds) {
  const Interval interval{100, 200};
  EXPECT_TRUE(CheckContainsTrueTime(interval, 100).ok());
  EXPECT_TRUE(CheckContainsTrueTime(interval, 150).ok());
  EXPECT_TRUE(CheckContainsTrueTime(interval, 200).ok());
}

TEST(ContainmentCheckTest, RejectsTimesOutsideWithTheMiss) {
  const absl::Status below = CheckContainsTrueTime(Interval{100, 200}, 90);
  EXPECT_EQ(below.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(below.message(),
            "TrueTime violation: true time 90 is before earliest of [100, 200] by 10 us");
  const absl::Status above = CheckContainsTrueTime(Interval{100, 200}, 205);
  EXPECT_EQ(above.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(above.message(),
            "TrueTime violation: true time 205 is after latest of [100, 200] by 5 us");
}

}  // namespace
}  // namespace meridian::truetime
