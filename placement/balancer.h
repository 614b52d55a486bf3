// Balancer: carries out the balance planner's decisions (balance_planner.h) on the placement
// leader — policies, splits by size, data, replica and leader balancing — one at a time.
//
// A round (RunOnce): when this replica leads placement, read the topology linearizably with
// liveness laid over, ask PlanNext for one decision, log it with its reason, and carry it out:
// propose its command (ReplaceReplica, SetReplicas, StartMove; CreateGroup first for a move to a
// new group) and wait for it to apply; for a leader move, propose the reorder and then ask the
// group's current leader to hand over (TransferLeader). A round never starts a second decision,
// so at most one is in flight; moves and splits then run in the Mover, and the planner proposes
// none while one is recorded.
//
// Pacing, on the caller's clock (RunOnce's now_us):
//  - leader moves: at most one per leader_transfer_interval_us;
//  - splits and data moves: only once no move or split has been seen for data_settle_us (one
//    recorded, or Topology.last_move_id changed since the last round — also after a start or a
//    failover when there ever was one), so that the leaders' size reports (every few seconds,
//    naming a range by its start only) describe the ranges as they are after the last change.
// Refusals by the state machine (a stale SetReplicas, a StartMove that lost a race) change
// nothing and are logged; the next round plans afresh from the new state.
//
// Thread safety: Start, Stop are thread-safe. RunOnce runs a round on the calling thread; it must
// not run while the balancer's own thread does (tests call it instead of Start). The host must
// outlive the Balancer.
#ifndef MERIDIAN_PLACEMENT_BALANCER_H_
#define MERIDIAN_PLACEMENT_BALANCER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "placement/balance_planner.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

// Placement as the balancer sees it: the placement group and the service's soft state in
// placementd (service.cc), fakes in tests. Implementations must be thread-safe.
class BalancerHost {
 public:
  virtual ~BalancerHost() = default;
  // True while this replica leads placement and its soft state is whole: a new leader first
  // hears every live server (a liveness timeout), so that no decision takes a server it has not
  // heard from yet for dead.
  virtual bool IsLeader() = 0;
  // The topology after everything committed before the call has been applied here, with the
  // leader's soft state laid over: alive flags, group leaders, logs, refusals, range_stats.
  virtual absl::StatusOr<proto::Topology> ReadTopology() = 0;
  // Proposes `command` through placement's log; Apply's result once applied here.
  virtual absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) = 0;
  // Asks server `from`, the group's leader, to hand the group's leadership to server `to`.
  virtual absl::Status TransferLeader(uint64_t group, uint64_t from, uint64_t to) = 0;
  // A move or split was recorded: the mover should look at once.
  virtual void MoveRecorded() = 0;
};

struct BalancerOptions {
  uint64_t split_range_bytes = kDefaultSplitRangeBytes;  // 0: no splits by size, no data moves
  int zones_required = 3;                                // replicas of a new group
  int64_t interval_us = 1'000'000;  // between rounds of the balancer's thread; 0: no thread
  int64_t leader_transfer_interval_us = 5'000'000;
  int64_t data_settle_us = 10'000'000;
};

class Balancer {
 public:
  Balancer(BalancerHost* host, BalancerOptions options);
  ~Balancer();  // Stop()s first
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  // Starts the balancer's thread (a round every interval_us), unless interval_us is 0. Call at
  // most once.
  void Start();
  // Stops the thread and waits for it. Idempotent.
  void Stop();

  // One round at `now_us` (microseconds, any monotonic clock): what it did — the decision's
  // reason and outcome — or "" when there was nothing to do or this replica does not lead
  // placement. An error when reading the topology or a proposal failed (the decision may or may
  // not have been applied; the next round plans from what was). A failed TransferLeader is only
  // reported in the answer: the reorder before it gets the leadership there too, more slowly.
  absl::StatusOr<std::string> RunOnce(int64_t now_us);

 private:
  absl::StatusOr<std::string> Carry(const Decision& decision, int64_t now_us);
  absl::StatusOr<std::string> ProposeForResult(const proto::PlacementCommand& command);
  absl::StatusOr<std::string> RecordMove(proto::PlacementCommand command);
  absl::StatusOr<std::string> MoveLeader(const Decision& decision);
  void Loop();

  BalancerHost* const host_;
  const BalancerOptions options_;
  std::thread thread_;
  // The round's thread only.
  int64_t last_leader_move_us_ = std::numeric_limits<int64_t>::min() / 2;
  int64_t last_move_seen_us_ = std::numeric_limits<int64_t>::min() / 2;
  uint64_t last_move_id_seen_ = 0;  // Topology.last_move_id at the last round

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_BALANCER_H_
