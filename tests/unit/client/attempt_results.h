// AttemptResult builders shared by the retry-policy and router tests: what one attempt's answer
// looked like (a code, a leader hint, a stale map, an attempt never sent).
#ifndef MERIDIAN_TESTS_UNIT_CLIENT_ATTEMPT_RESULTS_H_
#define MERIDIAN_TESTS_UNIT_CLIENT_ATTEMPT_RESULTS_H_

#include <string>
#include <utility>

#include "client/src/retry_policy.h"

namespace meridian::client::testing {

inline AttemptResult Result(absl::StatusCode code) {
  AttemptResult r;
  r.code = code;
  return r;
}

inline AttemptResult LeaderHint(std::string leader) {
  AttemptResult r = Result(absl::StatusCode::kUnavailable);
  r.has_leader_hint = true;
  r.leader_hint = std::move(leader);
  return r;
}

inline AttemptResult StaleMap() {
  AttemptResult r = Result(absl::StatusCode::kUnavailable);
  r.stale_map = true;
  return r;
}

// An attempt that never reached the server (it cannot have taken effect).
inline AttemptResult NotSent(absl::StatusCode code) {
  AttemptResult r = Result(code);
  r.sent = false;
  return r;
}

}  // namespace meridian::client::testing

#endif  // MERIDIAN_TESTS_UNIT_CLIENT_ATTEMPT_RESULTS_H_
