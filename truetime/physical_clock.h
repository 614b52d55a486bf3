// PhysicalClock: the machine's raw clocks (wall and monotonic) and sleep, behind one interface so
// that sources built on them (DriftModelClockSource, NtpClockSource) run on virtual time in tests.
//
// SystemPhysicalClock() is the production clock: CLOCK_REALTIME, CLOCK_MONOTONIC and
// std::this_thread::sleep_for. ManualPhysicalClock is a test clock that moves only when told to.
//
// Thread safety: both implementations are safe to call from several threads at once.
#ifndef MERIDIAN_TRUETIME_PHYSICAL_CLOCK_H_
#define MERIDIAN_TRUETIME_PHYSICAL_CLOCK_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "truetime/interval.h"

namespace meridian::truetime {

class PhysicalClock {
 public:
  virtual ~PhysicalClock() = default;

  // Wall-clock time (CLOCK_REALTIME in production). May jump when the clock is stepped.
  virtual Timestamp WallNowUs() = 0;
  // Monotonic time in microseconds from an arbitrary origin; never goes backwards.
  virtual int64_t MonoNowUs() = 0;
  // Blocks for about `us` microseconds; `us` <= 0 returns at once.
  virtual void SleepFor(int64_t us) = 0;
};

// The process-wide system clock. Never null; lives for the whole process.
PhysicalClock* SystemPhysicalClock();

// A clock that moves only through Advance/SleepFor (both clocks together) or SetWallUs (a step of
// the wall clock alone, as a clock discipline would do).
class ManualPhysicalClock : public PhysicalClock {
 public:
  ManualPhysicalClock(Timestamp wall_us, int64_t mono_us) : wall_us_(wall_us), mono_us_(mono_us) {}

  Timestamp WallNowUs() override;
  int64_t MonoNowUs() override;
  // Advances both clocks by `us` (ignored when <= 0).
  void SleepFor(int64_t us) override { Advance(us); }

  void Advance(int64_t us);
  void SetWallUs(Timestamp wall_us);

 private:
  absl::Mutex mu_;
  Timestamp wall_us_ ABSL_GUARDED_BY(mu_);
  int64_t mono_us_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_PHYSICAL_CLOCK_H_
