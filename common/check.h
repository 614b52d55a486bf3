// CHECK(cond): invariants that must never break. On failure it prints the condition, file and
// line (and an optional message) to stderr and aborts, in every build type. Thread-safe.
// Debian's Abseil 20220623 has no absl/log, so Meridian keeps this small one.
#ifndef MERIDIAN_COMMON_CHECK_H_
#define MERIDIAN_COMMON_CHECK_H_

#include <string_view>

namespace meridian::internal {
[[noreturn]] void CheckFailed(const char* condition, const char* file, int line,
                              std::string_view message);
}  // namespace meridian::internal

#define CHECK(cond)                                                                \
  do {                                                                             \
    if (!(cond)) ::meridian::internal::CheckFailed(#cond, __FILE__, __LINE__, ""); \
  } while (false)

#define CHECK_MSG(cond, msg)                                                          \
  do {                                                                                \
    if (!(cond)) ::meridian::internal::CheckFailed(#cond, __FILE__, __LINE__, (msg)); \
  } while (false)

#endif  // MERIDIAN_COMMON_CHECK_H_
