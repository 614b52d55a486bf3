// The client's calls to placementd (proto/placement.proto): Locate, GetTopology, RemoveServer,
// DrainServer, MoveRange, SplitRange, SetPolicy.
// They go to the placement leader: the address that answered last, else the configured ones in
// turn; a placement replica that is not the leader names it ("meridian-leader") and the call
// follows. Every placement call here is safe to retry after any transient error (reads;
// RemoveServer, DrainServer and SetPolicy, which are idempotent at placement; MoveRange and
// SplitRange, which answer the move in progress when repeated), so it retries until its deadline.
//
// Placement calls do not run through Router::Call: they have no key range, no location cache and
// no outcome-unknown writes, only a rotating list of placement replicas.
//
// Thread safety: thread-safe (the mutex guards the current target and the jitter generator and is
// never held across an RPC).
#ifndef MERIDIAN_CLIENT_SRC_PLACEMENT_CLIENT_H_
#define MERIDIAN_CLIENT_SRC_PLACEMENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/src/location_cache.h"
#include "client/src/retry_policy.h"
#include "client/src/router.h"
#include "common/random.h"
#include "meridian/client.h"

namespace meridian::client {

class ConnectionPool;

class PlacementClient {
 public:
  // `addresses` is not empty; `pool` outlives the PlacementClient. Uses the attempt timeout and
  // backoff of `options`.
  PlacementClient(std::vector<std::string> addresses, const RouterOptions& options,
                  ConnectionPool* pool);

  // Where `key` lives.
  absl::StatusOr<Location> Locate(const std::string& key, SteadyTime deadline);
  // The cluster's topology, and in `*locations` the location of each of its ranges.
  absl::StatusOr<Topology> GetTopology(SteadyTime deadline, std::vector<Location>* locations);
  absl::Status RemoveServer(uint64_t server_id, SteadyTime deadline);
  absl::Status DrainServer(uint64_t server_id, bool cancel, SteadyTime deadline);
  absl::StatusOr<RangeMove> MoveRange(const std::string& key, uint64_t to_group,
                                      SteadyTime deadline);
  absl::StatusOr<RangeMove> SplitRange(const std::string& key, SteadyTime deadline);
  // The id of the group whose policy was set.
  absl::StatusOr<uint64_t> SetPolicy(const std::string& key, const Policy& policy,
                                     SteadyTime deadline);

 private:
  // One attempt at the placement replica `address`, ending by `attempt_deadline`.
  using Attempt =
      std::function<AttemptResult(const std::string& address, SteadyTime attempt_deadline)>;
  // Runs a call at the placement leader, retrying until it settles or `deadline` passes.
  absl::Status Call(const Attempt& attempt, SteadyTime deadline);
  // Where the next attempt goes after one at `address` that did not settle with `decision`.
  void Retarget(const Decision& decision, const std::string& address);

  const std::vector<std::string> addresses_;
  const RouterOptions options_;
  ConnectionPool* const pool_;
  absl::Mutex mu_;
  std::string target_ ABSL_GUARDED_BY(mu_);  // where placement calls go first
  Random random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_PLACEMENT_CLIENT_H_
