#include "truetime/offset_file_clock.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace meridian::truetime {
namespace {

class OffsetFileClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "offset-clock-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    path_ = dir_ + "/offset_us";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void WriteOffset(const std::string& content) {
    std::ofstream(path_ + ".tmp") << content;
    std::filesystem::rename(path_ + ".tmp", path_);
  }

  ManualPhysicalClock base_{1'000'000'000, 5'000};
  std::string dir_;
  std::string path_;
};

TEST_F(OffsetFileClockTest, NoFileMeansNoOffset) {
  OffsetFileClock clock(&base_, path_);
  EXPECT_EQ(clock.WallNowUs(), 1'000'000'000);
  EXPECT_EQ(clock.MonoNowUs(), 5'000);
}

TEST_F(OffsetFileClockTest, AddsTheOffsetReadAtConstruction) {
  WriteOffset("-750\n");
  OffsetFileClock clock(&base_, path_);
  EXPECT_EQ(clock.WallNowUs(), 1'000'000'000 - 750);
  EXPECT_EQ(clock.MonoNowUs(), 5'000);  // the monotonic clock is never stepped
}

TEST_F(OffsetFileClockTest, RereadsOnlyOncePerInterval) {
  OffsetFileClock clock(&base_, path_, /*reread_interval_us=*/50'000);
  WriteOffset("300");
  base_.Advance(49'999);
  EXPECT_EQ(clock.OffsetUs(), 0) << "re-read before the interval passed";
  base_.Advance(1);
  EXPECT_EQ(clock.OffsetUs(), 300);
  EXPECT_EQ(clock.WallNowUs(), 1'000'000'000 + 50'000 + 300);
  WriteOffset("0");
  base_.Advance(50'000);
  EXPECT_EQ(clock.OffsetUs(), 0);
}

TEST_F(OffsetFileClockTest, MalformedContentKeepsTheLastOffsetAndARemovedFileClearsIt) {
  WriteOffset("1200");
  OffsetFileClock clock(&base_, path_, /*reread_interval_us=*/10);
  EXPECT_EQ(clock.OffsetUs(), 1200);
  WriteOffset("12oo");
  base_.Advance(10);
  EXPECT_EQ(clock.OffsetUs(), 1200);
  std::filesystem::remove(path_);
  base_.Advance(10);
  EXPECT_EQ(clock.OffsetUs(), 0);
}

}  // namespace
}  // namespace meridian::truetime
