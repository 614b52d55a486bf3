// The client's retry decisions (pure): what to do after one attempt of a call, given how it
// ended, and the backoff between attempts. client.h states the rules in user terms; this is
// where they are implemented, so they can be tested without a cluster.
//
// Thread safety: the functions are pure; a Backoff is not thread-safe (one per call).
#ifndef MERIDIAN_CLIENT_SRC_RETRY_POLICY_H_
#define MERIDIAN_CLIENT_SRC_RETRY_POLICY_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "common/random.h"

namespace meridian::client {

// Reads are idempotent and may be retried after any transient failure; writes only when they
// were certainly not proposed.
enum class CallKind { kRead, kWrite };

// How one attempt ended, as the adapter saw it.
struct AttemptResult {
  absl::StatusCode code = absl::StatusCode::kOk;
  std::string message;
  // False when the request certainly never reached the server (see RpcNeverSent).
  bool sent = true;
  // Trailing metadata "meridian-leader" was present; leader_hint is its value (may be empty).
  bool has_leader_hint = false;
  std::string leader_hint;
  // Trailing metadata "meridian-stale-map" was present.
  bool stale_map = false;
};

enum class Action {
  kReturn,           // return the attempt's status as it is (success or a final error)
  kFollowLeader,     // retry at once at Decision::leader
  kRefreshAndRetry,  // refresh the location, back off, retry
  kOutcomeUnknown,   // a write that may have been applied: return "outcome unknown"
};

struct Decision {
  Action action = Action::kReturn;
  std::string leader;  // for kFollowLeader
};

// The decision after one attempt sent to `address`.
Decision Decide(CallKind kind, const AttemptResult& result, const std::string& address);

// True when gRPC failed the call before sending it: UNAVAILABLE from the channel's address pick
// ("failed to connect to all addresses").
bool RpcNeverSent(absl::StatusCode code, const std::string& message);

// Exponential backoff with jitter: the n-th delay (n from 0) is drawn uniformly from
// [d/2, d] with d = min(initial * 2^n, max).
class Backoff {
 public:
  Backoff(int64_t initial_us, int64_t max_us, Random* random);
  int64_t NextDelayUs();

 private:
  int64_t next_us_;
  const int64_t max_us_;
  Random* random_;
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_RETRY_POLICY_H_
