// The client's one routing loop (client.h "Routing", "Retries"): every call that goes to a range's
// replicas — Get, Scan, Put, Delete and every Txn RPC — runs Router::Call, which repeats
//   locate the range (the cache, else placement) → pick a replica → attempt → Decide
//   (retry_policy.h) → learn (a named leader, a stale map, an unreachable server) → back off
// until the call settles or its deadline passes. A RoutePolicy says which replicas may serve the
// call; Route is the pure per-call state that picks them. The RPC itself is the caller's Attempt
// function, so the Router holds no gRPC and can be tested with scripted attempts.
//
// Thread safety: Router is thread-safe (its mutex guards the location cache and the jitter
// generator, and is never held across an Attempt or a placement call). A Route belongs to one
// call.
#ifndef MERIDIAN_CLIENT_SRC_ROUTER_H_
#define MERIDIAN_CLIENT_SRC_ROUTER_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/src/location_cache.h"
#include "client/src/retry_policy.h"
#include "common/random.h"

namespace meridian::client {

using SteadyTime = std::chrono::steady_clock::time_point;

// Which replicas of the key's group may serve a call.
enum class Replicas {
  // The leader: the cached one, or the one a replica named. A read whose leader is unknown or
  // unreachable asks the other replicas in turn (any of them names the leader); a write never
  // goes anywhere but to a leader.
  kLeader,
  // Every replica in turn, one sweep after another, the leader first (it is the most likely to
  // have the data) or last (spare it). Leader hints do not redirect a sweep.
  kAnyLeaderFirst,
  kAnyLeaderLast,
};

struct RoutePolicy {
  CallKind kind = CallKind::kRead;
  Replicas replicas = Replicas::kLeader;
  // Nonzero: the key must still be in this group; when its range moved to another group the call
  // returns ABORTED without sending (a transaction must start over).
  uint64_t group = 0;
};

// Where one call goes next. Pure: Router::Call feeds it the locations it finds and the outcome of
// each attempt.
class Route {
 public:
  explicit Route(const RoutePolicy& policy) : policy_(policy) {}

  // True once: the next location must come from placement, not from the cache.
  bool TakeRefresh();
  // The address to try at `at`; empty when there is none (call Nowhere then).
  std::string Pick(const Location& at);
  // Pick found nothing at the last location: it is refreshed before the next try.
  void Nowhere();
  // The attempt at `address` did not settle the call (`decision` is kFollowLeader or
  // kRefreshAndRetry). True when the call should back off before its next attempt.
  bool Failed(const Decision& decision, const AttemptResult& result, const std::string& address);

 private:
  std::string PickLeader(const Location& at);
  std::string PickFromSweep(const Location& at);

  const RoutePolicy policy_;
  bool refresh_ = false;
  // kLeader: the leader a replica named, the replicas that could not be reached (reads skip
  // them), where a read's round robin over the replicas goes on, and the hops made at once.
  std::string hint_;
  std::set<std::string> unreachable_;
  size_t next_replica_ = 0;
  int hops_ = 0;
  // kAny*: the replicas of the current sweep in order (empty between sweeps), and the next.
  std::vector<std::string> sweep_;
  size_t next_in_sweep_ = 0;
};

struct RouterOptions {
  // The per-attempt timeout of reads (writes are never cut once sent; see client.h).
  std::chrono::milliseconds attempt_timeout{2'000};
  std::chrono::milliseconds backoff_initial{10};
  std::chrono::milliseconds backoff_max{1'000};
  // The cap while a leader-only call looks for the leader (ClientOptions::leader_backoff_max).
  std::chrono::milliseconds leader_backoff_max{100};
  uint64_t seed = 1;
};

// The backoff of one call, with `random` for its jitter.
Backoff MakeBackoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                    Random* random);
// Sleeps for the next backoff delay, but not past `deadline`.
void SleepBackoff(Backoff& backoff, SteadyTime deadline);

// ABORTED: the range of `key` is no longer in group `expected` but in `now`.
absl::Status RangeMoved(const std::string& key, uint64_t expected, uint64_t now);

class Router {
 public:
  // Asks placement where `key` lives (the Router caches the answer).
  using AskPlacement =
      std::function<absl::StatusOr<Location>(const std::string& key, SteadyTime deadline)>;
  // One attempt of a call at `address`, a replica of `at`, ending by `attempt_deadline`.
  using Attempt = std::function<AttemptResult(const std::string& address, const Location& at,
                                              SteadyTime attempt_deadline)>;

  Router(const RouterOptions& options, AskPlacement ask_placement);

  // Runs the call for `key`, each attempt made by `attempt` at a replica `policy` allows, until an
  // attempt settles it (OK or a final error, returned with its group and address in the message)
  // or `deadline` passes. Then a write returns UNAVAILABLE "not applied: …" and a read
  // DEADLINE_EXCEEDED. A write sent whose answer was lost returns at once, IsOutcomeUnknown.
  // A placement failure ends the call with it (a write's transient one as "not applied").
  absl::Status Call(const RoutePolicy& policy, const std::string& key, SteadyTime deadline,
                    const Attempt& attempt);

  // The verdict on one attempt of a call of `kind` for `key` in `group`, sent to `address`, for
  // callers that make a first attempt of their own (batched prepares, an asynchronous commit).
  struct Verdict {
    Decision decision;
    absl::Status status;                // the attempt's result, named by group and address
    std::optional<absl::Status> final;  // set when the call ends with it
  };
  // Decides, and when the call goes on, teaches the cache what the attempt showed.
  Verdict Judge(CallKind kind, const AttemptResult& result, uint64_t group, const std::string& key,
                const std::string& address);

  // The cached location of `key`, if any.
  std::optional<Location> Cached(const std::string& key);
  // The cached location of `key`, else placement's (then cached). A stale answer is safe: every
  // request carries the range's group and generation, the server refuses one that is not current,
  // and the refreshed location then shows where the key went.
  absl::StatusOr<Location> Locate(const std::string& key, SteadyTime deadline);
  // Replaces the whole cache (a full topology).
  void ReplaceAll(const std::vector<Location>& locations);

 private:
  // Placement's location of `key`, cached.
  absl::StatusOr<Location> LocateAtPlacement(const std::string& key, SteadyTime deadline);
  // What a failed attempt at `address` teaches the cache: the leader it named, a stale range, or
  // a server that could not be reached.
  void Learn(const Decision& decision, const AttemptResult& result, uint64_t group,
             const std::string& key, const std::string& address);
  // A generator for one call's jitter (Random is not thread-safe).
  Random ForkRandom();
  SteadyTime AttemptDeadline(CallKind kind, SteadyTime deadline) const;

  const RouterOptions options_;
  const AskPlacement ask_placement_;
  absl::Mutex mu_;
  LocationCache cache_ ABSL_GUARDED_BY(mu_);
  Random random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_ROUTER_H_
