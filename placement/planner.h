// The placement planner: pure functions that decide where data lives. No I/O, no clocks, no
// threads; the service feeds it the metadata and liveness it holds and proposes what it returns.
//
// Bootstrap plan (PlanBootstrap):
//  - Ranges: `num_ranges` ranges split the key space evenly on the first byte and cover it:
//      [ "", s1 ), [ s1, s2 ), ..., [ s_{n-1}, "" )   with s_i = one byte, floor(256 * i / n).
//    For 8 ranges the split points are 0x20, 0x40, 0x60, 0x80, 0xa0, 0xc0, 0xe0. An empty end means
//    +infinity. Every range starts at generation 1.
//  - Groups: one group per range; range i (0-based, in key order) belongs to group i + 1 (data
//    group ids start at 1; group 0 is placement's own group).
//  - Replicas: each group gets exactly one replica in each of `zones_required` distinct zones.
//    Groups are placed one after another, greedily: the zones whose least-loaded live server has
//    the fewest replicas so far win (ties: zone name), and in each winning zone its least-loaded
//    server (ties: lowest id). So every server hosts about the same number of replicas whenever
//    the zones allow it. The replica list is rotated by the group index, so replicas[0] differs
//    from group to group (a spanserver that prefers replicas[0] as leader spreads leaders).
//  Only servers with `alive` set are used. The result depends only on the arguments.
//
// Re-replication (PlanReplacement): a group's replica on a server that was removed, is being
// drained, or has been silent for at least `dead_timeout_us`, moves to a live server that is not
// draining, does not serve the group and is in a zone the group's policy allows (policy.h) —
// in the same zone when one is there, else in a zone the group has no replica in, else any —
// the one serving the fewest replicas (ties: lowest id). Groups are looked at in id order and the
// first replacement found is returned: placement proposes one at a time, and the group's leader
// carries it out in its Paxos configuration (a learner first, then a voter, then the old one out).
// A replica its live server fenced (GroupInfo.fenced: a failed disk, an entry it cannot apply)
// serves nothing of the group until a restart, so it is lost the same way, at once — but only
// while the group keeps a majority of healthy replicas (alive, not draining, removed or fenced)
// without it: the leader can commit the change only with such a majority, and with fewer an
// operator who frees the disks and restarts the fenced servers brings their data back.
//
// New group (PlanNewGroup): one replica in each of `zones_required` zones, on servers that are
// alive, not draining and not removed. In each zone its least-loaded such server is the
// candidate (ties: lowest id); the zones whose candidates carry the fewest replicas win (ties:
// zone name), and the replicas are listed least loaded first (replicas[0] is the preferred
// leader).
//
// Moves and splits (MoveRefusal, PlanMoveRange, PlanSplitRange): the rules of
// PlacementCommand.StartMove, so that the service can answer an admin's request with the right
// status before proposing anything. The state machine applies the same MoveRefusal, which is the
// word that counts (the topology may change between the check and the commit).
//
// Thread safety: pure functions; safe from any thread.
#ifndef MERIDIAN_PLACEMENT_PLANNER_H_
#define MERIDIAN_PLACEMENT_PLANNER_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

// The first generation a range has after bootstrap.
inline constexpr uint64_t kInitialGeneration = 1;
// The first data group id (group 0 is the placement group).
inline constexpr uint64_t kFirstDataGroup = 1;
inline constexpr int kMaxRanges = 256;

// The split points of `num_ranges` even ranges (num_ranges - 1 single-byte keys, ascending).
// Requires 1 <= num_ranges <= kMaxRanges.
std::vector<std::string> EvenSplitPoints(int num_ranges);

// Plans the initial groups and ranges (see the file comment). INVALID_ARGUMENT unless
// 1 <= num_ranges <= kMaxRanges and zones_required >= 1; FAILED_PRECONDITION when fewer than
// `zones_required` distinct zones have a live server.
absl::StatusOr<proto::PlacementCommand::Bootstrap> PlanBootstrap(
    const std::vector<proto::ServerInfo>& servers, int zones_required, int num_ranges);

// The first replacement needed (see the file comment), or nullopt. `dead_for_us(server)` is how
// long a server has been silent.
std::optional<proto::PlacementCommand::ReplaceReplica> PlanReplacement(
    const proto::Topology& topology, const std::function<int64_t(uint64_t)>& dead_for_us,
    int64_t dead_timeout_us);

// The replicas of a new data group (see the file comment). INVALID_ARGUMENT unless
// zones_required >= 1; FAILED_PRECONDITION, naming the zones that qualify, when fewer than
// `zones_required` zones have a live server that is neither draining nor removed.
absl::StatusOr<std::vector<uint64_t>> PlanNewGroup(const proto::Topology& topology,
                                                   int zones_required);

// Why `move` may not start in `topology`, or "" when it may. Its [start, end) must be exactly a
// range of from_group; no recorded move or split (switched moves included: their source is
// still erasing) may overlap it; a MOVE's to_group must be a known group other than from_group;
// a SPLIT's split_key must lie strictly inside the range.
std::string MoveRefusal(const proto::Topology& topology, const proto::MoveInfo& move);

// A move or split an admin asked for, checked against `topology`.
struct MovePlan {
  // What to record: kind, start, end, from_group, and to_group or split_key. After a MoveRange
  // with to_group 0, to_group is 0: the caller creates the group first.
  proto::MoveInfo move;
  // An identical move or split is in progress already: `move` is that one, as recorded.
  bool in_progress = false;
};
// MoveRange(key, to_group): the range holding `key` moves to `to_group` (0: a new group).
// FAILED_PRECONDITION before bootstrap and when MoveRefusal refuses (to_group 0: the range part
// of it); NOT_FOUND for an unknown to_group.
absl::StatusOr<MovePlan> PlanMoveRange(const proto::Topology& topology, std::string_view key,
                                       uint64_t to_group);
// SplitRange(key): the range holding `key` splits at `key`. INVALID_ARGUMENT for an empty key;
// FAILED_PRECONDITION before bootstrap, when `key` is already a boundary, or when the range is
// moving or splitting elsewhere.
absl::StatusOr<MovePlan> PlanSplitRange(const proto::Topology& topology, std::string_view key);

// [start, end) for logs and refusals: `["a", "m")`, `["m", +inf)`, bytes C-escaped.
std::string RangeName(std::string_view start, std::string_view end);
// A move or split for logs: `move 3 of ["a", "m") from group 1 to group 9`, `split 4 of
// ["m", +inf) at "t" in group 2`, then its generation.
std::string DescribeMove(const proto::MoveInfo& move);

// The range of `topology` that contains `key` (start <= key and (end empty or key < end)).
// FAILED_PRECONDITION when the topology has no ranges yet (not bootstrapped); NOT_FOUND when no
// range contains the key (the ranges do not cover the key space: a broken invariant).
absl::StatusOr<proto::RangeInfo> Locate(const proto::Topology& topology, std::string_view key);

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_PLANNER_H_
