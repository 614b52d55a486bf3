// The balance planner: pure functions that decide placement's automatic changes beyond
// re-replication (planner.h's PlanReplacement) — meeting group policies, splitting ranges that
// grew too large, spreading data over groups, and replicas and leaders over servers. No I/O, no
// clocks, no threads: the Balancer (balancer.h) feeds it the topology with liveness laid over
// (alive, leaders, logs, range_stats) and carries out what it returns, one decision at a time.
// The same topology and options always give the same decision.
//
// Terms. Usable server: alive, not draining, not removed. Load: the groups a server is a replica
// of. Settled group: TopologyView::Settled (every replica started on a usable server, none
// installing a snapshot). Ties are broken by the lowest id (servers, groups), zone name, or
// range start. Groups are looked at in id order, and the first rule that applies decides:
//
// 1. Policy (PlanPolicy), per settled group; N = the policy's replica count (else its own):
//    a. fewer than N replicas: add the usable server, not a replica yet, in an allowed zone, that
//       is in a zone the group has no replica in (else in one it has: one per zone only where
//       possible), least loaded — SetReplicas with it appended;
//    b. more than N: remove the replica in a zone not allowed, else one whose zone an earlier
//       replica has, else one not usable, else not the first (the preferred leader), else not
//       the leader, else the most loaded, else the highest id — SetReplicas without it;
//    c. a replica in a zone not allowed, or in the zone of an earlier replica: ReplaceReplica it
//       by the least loaded usable server in an allowed zone the group's other replicas are not
//       in (for a zone not allowed, else in any allowed zone).
// 2. Split by size (PlanSplitBySize), only with split_range_bytes > 0, data_moves, and no move
//    or split recorded: among the ranges whose group's leader reported a size above
//    split_range_bytes with a split_key strictly inside the range, the largest splits at its
//    split_key (StartMove SPLIT).
// 3. Data across groups (PlanDataBalance), only with split_range_bytes > 0, data_moves, no move
//    or split recorded, and a size reported for every range of the groups considered. Considered:
//    the groups with the default policy (a group with a policy keeps its ranges: someone chose
//    where that data lives). A group's bytes are its ranges' sizes. Let MAX be the heaviest
//    group and MIN the lightest other one (0 bytes when there is none). When MAX holds more than
//    one range and more than split_range_bytes, and more than twice MIN's bytes, its smallest
//    range that holds data (approx_bytes > 0) moves:
//      - to MIN when MIN holds no range at all (an empty group, e.g. left by an interrupted
//        decision);
//      - else to a new group (CreateGroup on PlanNewGroup's servers, zones_required replicas)
//        while there are fewer data groups than usable servers — the simple cap: on average at
//        most one group per server;
//      - else to MIN.
//    Each move lowers the sum of the squares of the groups' bytes (the range is at most half of
//    MAX and MIN is under half of MAX), so balancing ends.
// 4. Replicas across servers (PlanReplicaBalance), only when every group has a leader and has
//    settled (no replacement under way): in each zone (by name), when its most loaded usable
//    server holds at least 2 more replicas than its least loaded usable one, one replica moves
//    from the first to the second (ReplaceReplica; the group's leader carries it out through
//    membership changes): of a group that has the first and not the second, preferring one
//    whose preferred leader (replicas[0]) and leader it is not.
// 5. Leaders (PlanLeaderBalance), only with leader_moves (the caller rate-limits them). A group's
//    leader, for counting, is its preferred leader replicas[0] while that server is alive (the
//    group's leader hands over to it by itself), else its current leader.
//    a. Leader zone first: a group whose policy names a leader zone and whose preferred leader
//       is not a live server there gets, as preferred leader, its usable replica in that zone
//       that leads the fewest groups.
//    b. Only when every group has a leader: the server leading the most groups (then the next
//       ones) hands one to a usable replica of it that leads at least 2 fewer — the one leading
//       the fewest, of the lowest group — never out of the group's leader zone.
//    The new leader becomes replicas[0] (SetReplicas: a reorder, so that the group's leader does
//    not hand the leadership back to the old first replica), then the current leader is asked to
//    hand over at once (TransferLeader).
//
// Thread safety: pure functions; safe from any thread.
#ifndef MERIDIAN_PLACEMENT_BALANCE_PLANNER_H_
#define MERIDIAN_PLACEMENT_BALANCE_PLANNER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/placement.pb.h"

namespace meridian::placement {

inline constexpr uint64_t kDefaultSplitRangeBytes = uint64_t{64} << 20;

// One decision, for the Balancer to carry out.
struct Decision {
  enum class Kind {
    kReplaceReplica,  // propose `command` (ReplaceReplica)
    kSetReplicas,     // propose `command` (SetReplicas)
    kStartMove,       // propose `command` (StartMove: a split, or a move to an existing group)
    kMoveToNewGroup,  // CreateGroup on `new_group`, then `command` with to_group set to it
    kTransferLeader,  // propose `command` when set (the reorder), then ask `from` to hand
                      // `group` over to `to` (none when `from` is 0 or `to`)
  };
  Kind kind = Kind::kSetReplicas;
  proto::PlacementCommand command;
  std::vector<uint64_t> new_group;  // kMoveToNewGroup: the new group's replicas
  uint64_t group = 0;               // kTransferLeader
  uint64_t from = 0;                // kTransferLeader: the group's current leader, 0 if none
  uint64_t to = 0;                  // kTransferLeader: the new leader
  std::string reason;               // why, for the log
};

struct BalanceOptions {
  uint64_t split_range_bytes = kDefaultSplitRangeBytes;  // 0: no splits by size, no data moves
  int zones_required = 3;                                // replicas of a new group
  bool data_moves = true;    // rules 2 and 3 may decide (the caller's settle period is over)
  bool leader_moves = true;  // rule 5 may decide (the caller's rate limit allows it)
};

// The first decision of rules 1 to 5 (see the file comment), or nullopt.
std::optional<Decision> PlanNext(const proto::Topology& topology, const BalanceOptions& options);

std::optional<Decision> PlanPolicy(const proto::Topology& topology);
std::optional<Decision> PlanSplitBySize(const proto::Topology& topology,
                                        uint64_t split_range_bytes);
std::optional<Decision> PlanDataBalance(const proto::Topology& topology, uint64_t split_range_bytes,
                                        int zones_required);
std::optional<Decision> PlanReplicaBalance(const proto::Topology& topology);
std::optional<Decision> PlanLeaderBalance(const proto::Topology& topology);

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_BALANCE_PLANNER_H_
