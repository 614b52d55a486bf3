#include "sql_lite/timestamp.h"

#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kSecondsPerDay = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct Civil {
  int64_t year;
  int64_t month;
  int64_t day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{yoe + era * 400 + (m <= 2), m, d};
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t DaysInMonth(int64_t y, int64_t m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits from the front of `*s`.
bool ReadDigits(std::string_view* s, int n, int64_t* out) {
  if (s->size() < static_cast<size_t>(n)) return false;
  int64_t v = 0;
  for (int i = 0; i < n; ++i) {
    const char c = (*s)[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  s->remove_prefix(n);
  *out = v;
  return true;
}

bool ReadChar(std::string_view* s, char c) {
  if (s->empty() || s->front() != c) return false;
  s->remove_prefix(1);
  return true;
}

// Parses "[.ffffff]" into micros; false on more than six digits or none after the dot.
bool ReadFraction(std::string_view* s, int64_t* micros) {
  *micros = 0;
  if (!ReadChar(s, '.')) return true;
  int digits = 0;
  while (!s->empty() && s->front() >= '0' && s->front() <= '9') {
    if (++digits > 6) return false;
    *micros = *micros * 10 + (s->front() - '0');
    s->remove_prefix(1);
  }
  for (int i = digits; i < 6; ++i) *micros *= 10;
  return digits > 0;
}

// Parses the zone suffix into an offset east of UTC, in seconds.
bool ReadZone(std::string_view* s, int64_t* offset_seconds) {
  *offset_seconds = 0;
  if (s->empty()) return true;
  if (s->front() == ' ') s->remove_prefix(1);
  if (ReadChar(s, 'Z') || ReadChar(s, 'z')) return s->empty();
  int64_t sign = 0;
  if (ReadChar(s, '+')) sign = 1;
  if (sign == 0 && ReadChar(s, '-')) sign = -1;
  int64_t hours = 0, minutes = 0;
  if (sign == 0 || !ReadDigits(s, 2, &hours) || hours > 23) return false;
  if (!s->empty()) {
    ReadChar(s, ':');
    if (!ReadDigits(s, 2, &minutes) || minutes > 59) return false;
  }
  *offset_seconds = sign * (hours * 3600 + minutes * 60);
  return s->empty();
}

}  // namespace

absl::StatusOr<int64_t> ParseTimestamp(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid timestamp '", Sv(text), "': ", Sv(why)));
  };
  std::string_view s = text;
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!ReadDigits(&s, 4, &year) || !ReadChar(&s, '-') || !ReadDigits(&s, 2, &month) ||
      !ReadChar(&s, '-') || !ReadDigits(&s, 2, &day)) {
    return bad("expected YYYY-MM-DD");
  }
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return bad("no such date");
  }
  if (s.size() >= 2 && (s[0] == ' ' || s[0] == 'T') && s[1] >= '0' && s[1] <= '9') {
    s.remove_prefix(1);
    if (!ReadDigits(&s, 2, &hour) || !ReadChar(&s, ':') || !ReadDigits(&s, 2, &minute) ||
        !ReadChar(&s, ':') || !ReadDigits(&s, 2, &second) || !ReadFraction(&s, &micros)) {
      return bad("expected HH:MM:SS[.ffffff] with at most six fraction digits");
    }
    if (hour > 23 || minute > 59 || second > 59) return bad("no such time of day");
  }
  int64_t offset_seconds = 0;
  if (!ReadZone(&s, &offset_seconds)) return bad("expected a zone such as Z, +00 or -07:30");
  const int64_t seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 +
                          minute * 60 + second - offset_seconds;
  const int64_t result = seconds * kMicrosPerSecond + micros;
  if (result < kMinTimestampMicros || result > kMaxTimestampMicros) return bad("out of range");
  return result;
}

std::string FormatTimestamp(int64_t micros) {
  // Floor division, so times before 1970 keep a non-negative time of day.
  int64_t seconds = micros / kMicrosPerSecond;
  int64_t frac = micros % kMicrosPerSecond;
  if (frac < 0) {
    frac += kMicrosPerSecond;
    --seconds;
  }
  int64_t days = seconds / kSecondsPerDay;
  int64_t day_seconds = seconds % kSecondsPerDay;
  if (day_seconds < 0) {
    day_seconds += kSecondsPerDay;
    --days;
  }
  const Civil c = CivilFromDays(days);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld %02lld:%02lld:%02lld",
                static_cast<long long>(c.year), static_cast<long long>(c.month),
                static_cast<long long>(c.day), static_cast<long long>(day_seconds / 3600),
                static_cast<long long>(day_seconds / 60 % 60),
                static_cast<long long>(day_seconds % 60));
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06lld", static_cast<long long>(frac));
    out += buf;
  }
  out += "+00";
  return out;
}

}  // namespace meridian::sql
