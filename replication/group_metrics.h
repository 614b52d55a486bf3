// GroupMetrics: what a GroupHost reports to the process's metrics registry (common/metrics.h):
// leader changes and the leader's remaining lease per group, and the latency of its Paxos rounds
// (process-wide). Kept apart from GroupHost so that its strand code stays about Paxos.
//
// A Paxos round is timed from the moment the leader's log is seen to grow to a slot (after the
// event that proposed it: a GroupHost::Propose or a transaction's record) until that slot is
// applied at the leader: accepted by a majority, written with sync, applied. One sample per
// growth of the log, however many entries it added; the slots waiting are bounded by
// kMaxTimedSlots (later ones go untimed until the backlog drains).
//
// Several replicas of one group in one process (in-process tests, the simulator) share the
// group's series.
//
// Thread safety: call from the group's strand; the metrics themselves are atomics.
#ifndef MERIDIAN_REPLICATION_GROUP_METRICS_H_
#define MERIDIAN_REPLICATION_GROUP_METRICS_H_

#include <chrono>
#include <cstddef>
#include <deque>
#include <utility>

#include "common/metrics.h"
#include "replication/group_host.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian::replication {

class GroupMetrics {
 public:
  explicit GroupMetrics(paxos::GroupId group);

  // The state GroupHost publishes after every event, with the replica's lease end.
  void OnPublished(const GroupState& state, truetime::Timestamp lease_end, truetime::Interval now);
  // Every slot up to `applied` is applied here.
  void OnApplied(paxos::Index applied);

  static constexpr size_t kMaxTimedSlots = 1024;

 private:
  // The leader the replica reports now (kNoReplica when it knows none): a new known leader
  // counts as a change.
  void OnLeader(paxos::ReplicaId leader);
  // The log ends at `last_index` now; `leading`: this replica leads (only a leader's slots are
  // timed, and losing leadership forgets them).
  void OnLog(bool leading, paxos::Index last_index);

  metrics::Counter& leader_changes_;
  metrics::Gauge& lease_remaining_;
  paxos::ReplicaId leader_ = paxos::kNoReplica;  // the last known one
  // Slots of this leader's log not applied yet, with when they were first seen; ascending.
  std::deque<std::pair<paxos::Index, std::chrono::steady_clock::time_point>> timed_;
  paxos::Index seen_ = 0;  // the last slot timed or passed over
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GROUP_METRICS_H_
