#include "truetime/physical_clock.h"

#include <time.h>

#include <chrono>
#include <thread>

#include "common/check.h"

namespace meridian::truetime {
namespace {

int64_t ReadClockUs(clockid_t id) {
  struct timespec ts;
  CHECK(clock_gettime(id, &ts) == 0);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

class SystemClock : public PhysicalClock {
 public:
  Timestamp WallNowUs() override { return ReadClockUs(CLOCK_REALTIME); }
  int64_t MonoNowUs() override { return ReadClockUs(CLOCK_MONOTONIC); }
  void SleepFor(int64_t us) override {
    if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(us));
  }
};

}  // namespace

PhysicalClock* SystemPhysicalClock() {
  static SystemClock* const clock = new SystemClock();
  return clock;
}

Timestamp ManualPhysicalClock::WallNowUs() {
  absl::MutexLock lock(&mu_);
  return wall_us_;
}

int64_t ManualPhysicalClock::MonoNowUs() {
  absl::MutexLock lock(&mu_);
  return mono_us_;
}

void ManualPhysicalClock::Advance(int64_t us) {
  if (us <= 0) return;
  absl::MutexLock lock(&mu_);
  wall_us_ += us;
  mono_us_ += us;
}

void ManualPhysicalClock::SetWallUs(Timestamp wall_us) {
  absl::MutexLock lock(&mu_);
  wall_us_ = wall_us;
}

}  // namespace meridian::truetime
