// Small string helpers for sql_lite. Debian's Abseil (20220623) has its own absl::string_view,
// distinct from std::string_view; sql_lite's interfaces take std::string_view, and Sv() passes one
// to Abseil (absl::StrCat, absl::EqualsIgnoreCase). Thread-safe: pure functions.
#ifndef MERIDIAN_SQL_LITE_TEXT_UTIL_H_
#define MERIDIAN_SQL_LITE_TEXT_UTIL_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace meridian::sql {

inline absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ASCII case-insensitive equality.
inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_TEXT_UTIL_H_
