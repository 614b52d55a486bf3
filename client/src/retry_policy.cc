#include "client/src/retry_policy.h"

#include <algorithm>
#include <string>

#include "absl/strings/match.h"

namespace meridian::client {

Decision Decide(CallKind kind, const AttemptResult& result, const std::string& address) {
  using absl::StatusCode;
  if (result.code == StatusCode::kOk) return {Action::kReturn, ""};
  if (!result.sent) return {Action::kRefreshAndRetry, ""};
  const bool read = kind == CallKind::kRead;
  switch (result.code) {
    case StatusCode::kUnavailable:
      // The markers mean the server rejected the request before proposing anything.
      if (result.stale_map) return {Action::kRefreshAndRetry, ""};
      if (result.has_leader_hint) {
        if (!result.leader_hint.empty() && result.leader_hint != address) {
          return {Action::kFollowLeader, result.leader_hint};
        }
        return {Action::kRefreshAndRetry, ""};
      }
      return {read ? Action::kRefreshAndRetry : Action::kOutcomeUnknown, ""};
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kCancelled:
      return {read ? Action::kRefreshAndRetry : Action::kOutcomeUnknown, ""};
    case StatusCode::kResourceExhausted:
      // The server (or gRPC) refused to take the request on: nothing was proposed.
      return {Action::kRefreshAndRetry, ""};
    default:
      return {Action::kReturn, ""};
  }
}

bool RpcNeverSent(absl::StatusCode code, const std::string& message) {
  return code == absl::StatusCode::kUnavailable &&
         absl::StartsWith(message, "failed to connect to all addresses");
}

Backoff::Backoff(int64_t initial_us, int64_t max_us, Random* random)
    : next_us_(std::max<int64_t>(1, initial_us)),
      max_us_(std::max<int64_t>(1, max_us)),
      random_(random) {}

int64_t Backoff::NextDelayUs() {
  const int64_t d = std::min(next_us_, max_us_);
  next_us_ = std::min(max_us_, next_us_ * 2);
  return random_->Range(d / 2, d);
}

}  // namespace meridian::client
