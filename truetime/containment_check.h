// CheckContainsTrueTime: the TrueTime invariant as a checker for tests and the simulator.
// An interval returned by TT.now() must contain absolute time; on virtual time, absolute time is
// SimulatedTime::NowUs() at the moment of the call.
//
// Thread safety: a pure function.
#ifndef MERIDIAN_TRUETIME_CONTAINMENT_CHECK_H_
#define MERIDIAN_TRUETIME_CONTAINMENT_CHECK_H_

#include "absl/status/status.h"
#include "truetime/interval.h"

namespace meridian::truetime {

// OK if earliest <= true_us <= latest; otherwise INTERNAL naming the interval, the true time and
// by how much it missed.
absl::Status CheckContainsTrueTime(const Interval& interval, Timestamp true_us);

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_CONTAINMENT_CHECK_H_
