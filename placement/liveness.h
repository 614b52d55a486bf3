// Liveness: the soft state the placement leader builds from spanserver heartbeats — when each
// server last heartbeated, and which server each data group's leader is. It is not replicated: a
// new placement leader starts empty and relearns it within one heartbeat interval (500 ms).
//
// Rules:
//  - A server is alive when its last heartbeat is at most `timeout_us` old (default 3 s).
//  - Group leader: a report "is_leader" from server S for group G makes S the leader of G unless
//    the recorded leader is another live server that holds its lease while S does not (an old
//    leader that has not yet noticed its deposition keeps reporting is_leader, but without a
//    lease). A report "not leader" from the recorded leader clears it. A recorded leader that is
//    no longer alive is reported as 0.
//  - Refusals: each heartbeat replaces the list of replicas its server refuses to start
//    (GroupReport.refusal); a group lists the refusals of its live servers.
//  - Fenced replicas: likewise, each heartbeat replaces the list of its server's fenced replicas
//    (GroupReport.fenced: a failed disk, an entry it cannot apply); a group lists those of its
//    live servers (GroupInfo.fenced), which the planner treats as lost (planner.h). A restarted
//    server reports its replica unfenced, and the fence is forgotten. A server whose storage
//    failed says so in each heartbeat (HeartbeatRequest.storage_failed) until it restarts; a
//    live one carries it in ServerInfo.storage_failed, and the planners place nothing there.
//  - Range sizes: a report from the group's recorded leader (after the rule above) that carries
//    ranges replaces the group's range stats (one without any leaves them: the leader measures
//    only every few seconds); a group lists them only while the server that reported them is
//    its live leader, so a deposed or dead leader's sizes are dropped.
//  - A removed server (ServerInfo.removed) is never alive.
//  - Dead for: how long a server has not heartbeated, counted from when this leader started
//    watching at the earliest (a new leader, or one whose last heartbeat from anyone is older
//    than the liveness timeout, starts watching anew: it cannot know what it did not see).
// Times are TrueTime timestamps (microseconds) passed in by the caller, so this class is pure.
//
// Thread safety: all methods are thread-safe (one mutex; gRPC handlers call it concurrently).
#ifndef MERIDIAN_PLACEMENT_LIVENESS_H_
#define MERIDIAN_PLACEMENT_LIVENESS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

inline constexpr int64_t kDefaultLivenessTimeoutUs = 3'000'000;

class Liveness {
 public:
  explicit Liveness(int64_t timeout_us = kDefaultLivenessTimeoutUs) : timeout_us_(timeout_us) {}

  // Records a heartbeat received at `now_us`.
  void RecordHeartbeat(const proto::HeartbeatRequest& heartbeat, int64_t now_us);

  bool IsAlive(uint64_t server, int64_t now_us) const;
  // How long `server` has been silent, as far as this leader can tell (see above).
  int64_t DeadFor(uint64_t server, int64_t now_us) const;
  // The recorded leader of `group` if it is alive, else 0.
  uint64_t LeaderOf(uint64_t group, int64_t now_us) const;
  // How long this leader has been watching (see "Dead for"); 0 before the first heartbeat. Once
  // it is at least the liveness timeout, every live server has been heard: a server not alive
  // then is not merely unheard yet.
  int64_t WatchingFor(int64_t now_us) const;

  // Sets every server's `alive` flag and `storage_failed`, every group's `leader`, `refusals`,
  // `fenced`, `logs` and `range_stats` in `topology`.
  void Annotate(proto::Topology* topology, int64_t now_us) const;

 private:
  struct GroupLeader {
    uint64_t server = 0;
    bool has_lease = false;
  };

  bool IsAliveLocked(uint64_t server, int64_t now_us) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  uint64_t LeaderOfLocked(uint64_t group, int64_t now_us) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  const int64_t timeout_us_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, int64_t> last_heartbeat_us_ ABSL_GUARDED_BY(mu_);
  int64_t watching_since_us_ ABSL_GUARDED_BY(mu_) = 0;  // start of the current watch
  int64_t last_any_heartbeat_us_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, GroupLeader> leaders_ ABSL_GUARDED_BY(mu_);
  // server -> group -> why the server refuses to start its replica of the group.
  absl::flat_hash_map<uint64_t, std::map<uint64_t, std::string>> refusals_ ABSL_GUARDED_BY(mu_);
  // server -> group -> why the server fenced its replica of the group.
  absl::flat_hash_map<uint64_t, std::map<uint64_t, std::string>> fenced_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::string> storage_failed_ ABSL_GUARDED_BY(mu_);
  // Per server, per group: its replica's log as last reported.
  absl::flat_hash_map<uint64_t, std::map<uint64_t, proto::ReplicaLog>> logs_ ABSL_GUARDED_BY(mu_);
  // Per group: the range sizes its leader last reported, and which server reported them.
  struct RangeSizes {
    uint64_t server = 0;
    std::vector<proto::RangeStats> ranges;
  };
  absl::flat_hash_map<uint64_t, RangeSizes> range_sizes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_LIVENESS_H_
