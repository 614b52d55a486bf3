// Errors of the Meridian SDK that callers branch on. The SDK marks them with a status payload, so
// code tells them apart by calling these functions, never by reading the message (which is for
// people, and may change).
//
// Thread safety: pure functions.
#ifndef MERIDIAN_CLIENT_INCLUDE_MERIDIAN_ERRORS_H_
#define MERIDIAN_CLIENT_INCLUDE_MERIDIAN_ERRORS_H_

#include "absl/status/status.h"

namespace meridian {

// The payload's type URL (absl::Status::GetPayload) that marks an outcome-unknown error.
inline constexpr char kOutcomeUnknownPayload[] = "type.meridian.dev/meridian.OutcomeUnknown";

// True when `status` reports a write or a commit whose outcome is unknown: it was sent, and then
// the answer was lost (client.h "Writes whose outcome is unknown", transaction.h "Outcome
// unknown"). It may or may not have been applied, and the SDK did not retry it. The code is
// DEADLINE_EXCEEDED, UNAVAILABLE or CANCELLED; the message starts "outcome unknown".
bool IsOutcomeUnknown(const absl::Status& status);

// `status` marked as outcome-unknown (an OK status stays OK). The SDK returns such errors; tests
// and wrappers that build their own may use it.
absl::Status MarkOutcomeUnknown(absl::Status status);

}  // namespace meridian

#endif  // MERIDIAN_CLIENT_INCLUDE_MERIDIAN_ERRORS_H_
