// TrueTime's value types. A Timestamp is int64 microseconds since the Unix epoch. An Interval is
// what TT.now() returns: absolute time is guaranteed to lie in [earliest, latest]. Pure value
// types; thread-safe to copy.
#ifndef MERIDIAN_TRUETIME_INTERVAL_H_
#define MERIDIAN_TRUETIME_INTERVAL_H_

#include <cstdint>
#include <limits>

namespace meridian::truetime {

using Timestamp = int64_t;  // microseconds since the Unix epoch

inline constexpr Timestamp kMinTimestamp = std::numeric_limits<int64_t>::min();
inline constexpr Timestamp kMaxTimestamp = std::numeric_limits<int64_t>::max();

struct Interval {
  Timestamp earliest = 0;
  Timestamp latest = 0;

  // Epsilon: half the width of the interval.
  int64_t epsilon_us() const { return (latest - earliest) / 2; }
  // TT.after(t): t has definitely passed.
  bool After(Timestamp t) const { return t < earliest; }
  // TT.before(t): t has definitely not arrived.
  bool Before(Timestamp t) const { return t > latest; }

  friend bool operator==(const Interval&, const Interval&) = default;
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_INTERVAL_H_
