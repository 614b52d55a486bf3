#include "truetime/time_floor.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>

#include "truetime/truetime.h"

namespace meridian::truetime {
namespace {

class TimeFloorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/time_floor_test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/truetime_floor";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Overwrites `len` bytes at `offset` of the file with 0xff.
  void Damage(off_t offset, size_t len) {
    const int fd = ::open(path_.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    const std::string junk(len, '\xff');
    ASSERT_EQ(::pwrite(fd, junk.data(), len, offset), static_cast<ssize_t>(len));
    ::close(fd);
  }

  std::string dir_;
  std::string path_;
};

TEST_F(TimeFloorTest, ANewFloorRecordsNothingAndCoverPersistsLatestPlusTheMargin) {
  auto floor = TimeFloor::Open(path_, 1000);
  ASSERT_TRUE(floor.ok()) << floor.status();
  EXPECT_EQ((*floor)->recorded(), 0);
  ASSERT_TRUE((*floor)->Cover(5000).ok());
  EXPECT_EQ((*floor)->limit(), 6000);
  ASSERT_TRUE((*floor)->Cover(5999).ok());  // already covered: nothing written
  EXPECT_EQ((*floor)->limit(), 6000);
  ASSERT_TRUE((*floor)->Cover(6000).ok());
  EXPECT_EQ((*floor)->limit(), 7000);
  floor->reset();
  auto reopened = TimeFloor::Open(path_, 1000);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->recorded(), 7000);
}

TEST_F(TimeFloorTest, ATornSlotLeavesTheOtherAndBothDamagedIsDataLoss) {
  {
    auto floor = TimeFloor::Open(path_, 1000);
    ASSERT_TRUE(floor.ok());
    ASSERT_TRUE((*floor)->Cover(5000).ok());  // slot 0: 6000
    ASSERT_TRUE((*floor)->Cover(8000).ok());  // slot 1: 9000
  }
  Damage(16 + 3, 1);  // the newer slot torn: the older one counts
  auto floor = TimeFloor::Open(path_, 1000);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ((*floor)->recorded(), 6000);
  // The next write goes to the damaged slot, not over the good one.
  ASSERT_TRUE((*floor)->Cover(20'000).ok());
  floor->reset();
  floor = TimeFloor::Open(path_, 1000);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ((*floor)->recorded(), 21'000);
  floor->reset();
  Damage(0, 32);
  const auto damaged = TimeFloor::Open(path_, 1000);
  EXPECT_EQ(damaged.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(damaged.status().message().find(path_), std::string::npos);
}

// A source that returns what the test sets.
class SettableClockSource : public ClockSource {
 public:
  explicit SettableClockSource(ClockReading* reading) : reading_(reading) {}
  absl::StatusOr<ClockReading> Read() override { return *reading_; }
  std::string Describe() const override { return "settable"; }
  void SleepFor(int64_t) override {}

 private:
  ClockReading* reading_;
};

TEST_F(TimeFloorTest, ARestartAfterABackwardStepHandsOutNothingBelowTheMark) {
  ClockReading reading{1'000'000'000, 1000};
  {
    auto floor = TimeFloor::Open(path_);
    ASSERT_TRUE(floor.ok());
    TrueTime tt(std::make_unique<SettableClockSource>(&reading),
                {.max_epsilon_us = 10'000, .floor = floor->get()});
    const absl::StatusOr<Interval> now = tt.Now();
    ASSERT_TRUE(now.ok()) << now.status();
    EXPECT_GT((*floor)->limit(), now->latest);
  }
  // The machine restarts with its clock 5 s behind.
  reading.now_us -= 5'000'000;
  auto floor = TimeFloor::Open(path_);
  ASSERT_TRUE(floor.ok());
  EXPECT_EQ((*floor)->recorded(), 1'000'000'000 + 1000 + TimeFloor::kDefaultMarginUs);
  TrueTime tt(std::make_unique<SettableClockSource>(&reading),
              {.max_epsilon_us = 10'000, .floor = floor->get()});
  const absl::StatusOr<Interval> refused = tt.Now();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("behind a time this server handed out before"),
            std::string::npos)
      << refused.status();
  // Once the clock is back within the guard of the mark, intervals start at the mark.
  reading.now_us = (*floor)->recorded() - 2000;
  const absl::StatusOr<Interval> now = tt.Now();
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(now->latest, (*floor)->recorded());
  reading.now_us += 1'000'000;
  EXPECT_EQ(tt.Now()->latest, reading.now_us + 1000);
}

}  // namespace
}  // namespace meridian::truetime
