// OffsetFileClock: FOR TESTS ONLY. A PhysicalClock whose wall clock is another clock's plus an
// offset in microseconds read from a file, so that a test can step one server's clock (the chaos
// suite, tests/chaos/) without touching the host's clock, which every process on the host shares.
//
// The file holds one decimal integer (microseconds, may be negative; whitespace around it is
// ignored). A missing or empty file means 0. A file whose content does not parse keeps the offset
// last read (and says so on stderr, once per such content). The file is re-read at most once per
// `reread_interval_us` of the base clock's monotonic time, so the cost on the hot path is one
// monotonic clock read and two relaxed atomic loads; a writer should replace the file atomically
// (write a temporary file, rename it over) so that no read sees half a number.
//
// The monotonic clock and sleeping are the base clock's, untouched: a step of the wall clock is
// what a clock discipline (or a lying clock) does, and what TrueTime must be robust to within its
// epsilon. Whether a server notices a clock that steps beyond its epsilon is issue 24's business.
//
// Thread safety: every method may be called from several threads at once; one caller at a time
// re-reads the file while the others use the previous offset.
#ifndef MERIDIAN_TRUETIME_OFFSET_FILE_CLOCK_H_
#define MERIDIAN_TRUETIME_OFFSET_FILE_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "truetime/physical_clock.h"

namespace meridian::truetime {

class OffsetFileClock : public PhysicalClock {
 public:
  static constexpr int64_t kDefaultRereadIntervalUs = 50'000;

  // `base` must outlive this clock. Reads the file once here.
  OffsetFileClock(PhysicalClock* base, std::string path,
                  int64_t reread_interval_us = kDefaultRereadIntervalUs);

  Timestamp WallNowUs() override;
  int64_t MonoNowUs() override { return base_->MonoNowUs(); }
  void SleepFor(int64_t us) override { base_->SleepFor(us); }

  // The offset in force now (re-reading the file if it is due).
  int64_t OffsetUs();

 private:
  void Reread();

  PhysicalClock* const base_;
  const std::string path_;
  const int64_t reread_interval_us_;
  std::atomic<int64_t> offset_us_{0};
  // The base monotonic time at or after which the file is read again; the caller that moves it
  // forward (compare-and-swap) is the one that reads.
  std::atomic<int64_t> next_read_mono_us_{0};
  absl::Mutex malformed_mu_;
  std::string last_malformed_ ABSL_GUARDED_BY(malformed_mu_);  // the content last complained of
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_OFFSET_FILE_CLOCK_H_
