// Status propagation macros. Debian's Abseil (20220623) ships none, so Meridian has its own.
//
//   RETURN_IF_ERROR(DoThing());
//   RETURN_IF_ERROR_CTX(DoThing(), "loading tablet " + name);
//   ASSIGN_OR_RETURN(auto value, ComputeValue());
//   ASSIGN_OR_RETURN_CTX(auto value, ComputeValue(), "reading key");
//
// The _CTX variants prepend "context: " to the message and keep the status code, so a caller far
// up the stack sees both where the error happened and why. Thread-safe: they are expressions.
#ifndef MERIDIAN_COMMON_STATUS_MACROS_H_
#define MERIDIAN_COMMON_STATUS_MACROS_H_

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meridian {

// Returns `status` with "context: " prepended to its message; OK stays OK.
inline absl::Status PrependContext(const absl::Status& status, const std::string& context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), context + ": " + std::string(status.message()));
}

}  // namespace meridian

#define MERIDIAN_CONCAT_INNER_(a, b) a##b
#define MERIDIAN_CONCAT_(a, b) MERIDIAN_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::absl::Status meridian_status_ = (expr); \
    if (!meridian_status_.ok()) {             \
      return meridian_status_;                \
    }                                         \
  } while (false)

#define RETURN_IF_ERROR_CTX(expr, context)                            \
  do {                                                                \
    ::absl::Status meridian_status_ = (expr);                         \
    if (!meridian_status_.ok()) {                                     \
      return ::meridian::PrependContext(meridian_status_, (context)); \
    }                                                                 \
  } while (false)

#define MERIDIAN_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr, on_error) \
  auto tmp = (expr);                                              \
  if (!tmp.ok()) {                                                \
    return on_error(tmp.status());                                \
  }                                                               \
  lhs = std::move(tmp).value()

#define MERIDIAN_IDENTITY_STATUS_(s) (s)

#define ASSIGN_OR_RETURN(lhs, expr)                                                          \
  MERIDIAN_ASSIGN_OR_RETURN_IMPL_(MERIDIAN_CONCAT_(meridian_statusor_, __LINE__), lhs, expr, \
                                  MERIDIAN_IDENTITY_STATUS_)

#define ASSIGN_OR_RETURN_CTX(lhs, expr, context)                 \
  MERIDIAN_ASSIGN_OR_RETURN_IMPL_(                               \
      MERIDIAN_CONCAT_(meridian_statusor_, __LINE__), lhs, expr, \
      [&](const ::absl::Status& s) { return ::meridian::PrependContext(s, (context)); })

#endif  // MERIDIAN_COMMON_STATUS_MACROS_H_
