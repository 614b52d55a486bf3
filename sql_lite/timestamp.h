// TIMESTAMP values as SQL text: microseconds since the Unix epoch <-> "YYYY-MM-DD
// HH:MM:SS[.ffffff]+00".
//
// Text grammar accepted by ParseTimestamp (always read as a whole string):
//   timestamp := date [ (' ' | 'T') time ] [ zone ]
//   date      := YYYY '-' MM '-' DD                     (0001-01-01 through 9999-12-31)
//   time      := HH ':' MM ':' SS [ '.' 1 to 6 digits ]
//   zone      := 'Z' | 'z' | ('+' | '-') HH [ ':'? MM ] | ' ' zone
// A missing zone means UTC (Spanner defaults to America/Los_Angeles; Meridian does not know time
// zones). FormatTimestamp writes UTC with "+00" and six fraction digits only when micros != 0, so
// ParseTimestamp(FormatTimestamp(t)) == t for every t in range. Thread-safe: pure functions.
#ifndef MERIDIAN_SQL_LITE_TIMESTAMP_H_
#define MERIDIAN_SQL_LITE_TIMESTAMP_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meridian::sql {

// The smallest and largest timestamps SQL text can name: 0001-01-01 00:00:00 and
// 9999-12-31 23:59:59.999999 UTC.
inline constexpr int64_t kMinTimestampMicros = -62135596800000000;
inline constexpr int64_t kMaxTimestampMicros = 253402300799999999;

// INVALID_ARGUMENT with a reason when `text` is not a timestamp of the grammar above or is out of
// range.
absl::StatusOr<int64_t> ParseTimestamp(std::string_view text);

// Any int64 formats; values outside [kMinTimestampMicros, kMaxTimestampMicros] produce years that
// ParseTimestamp refuses.
std::string FormatTimestamp(int64_t micros);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_TIMESTAMP_H_
