// ClockSource: where TrueTime gets wall time together with a bound on that time's error.
//
// A source answers "what time is it, and how wrong could that be": absolute time is promised to
// lie within [now_us - error_us, now_us + error_us] at some instant during Read(). TrueTime turns
// readings into intervals, applies the uncertainty guard and implements commit wait; sources only
// measure. SleepFor is part of the interface so that commit wait sleeps through the same seam the
// time comes from: a simulated source advances virtual time instead of blocking a thread.
//
// Thread safety: implementations document their own; every source in truetime/ is safe to call
// from several threads at once.
#ifndef MERIDIAN_TRUETIME_CLOCK_SOURCE_H_
#define MERIDIAN_TRUETIME_CLOCK_SOURCE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "truetime/interval.h"

namespace meridian::truetime {

// One reading of a clock source.
struct ClockReading {
  Timestamp now_us = 0;  // the source's estimate of absolute time
  int64_t error_us = 0;  // >= 0; absolute time is within now_us ± error_us

  friend bool operator==(const ClockReading&, const ClockReading&) = default;
};

class ClockSource {
 public:
  virtual ~ClockSource() = default;

  // The current time and its error bound. UNAVAILABLE when the source cannot bound its error (for
  // example the kernel reports the clock unsynchronised); the caller must not serve then.
  virtual absl::StatusOr<ClockReading> Read() = 0;

  // A one-line description for logs and status pages, e.g. "fixed(epsilon=1000us)".
  virtual std::string Describe() const = 0;

  // Blocks (or, for simulated sources, advances virtual time) for about `us` microseconds of the
  // source's time. `us` <= 0 returns at once.
  virtual void SleepFor(int64_t us) = 0;
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_CLOCK_SOURCE_H_
