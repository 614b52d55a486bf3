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
// draining and does not serve the group —
// in the same zone when one is there, else in a zone the group has no replica in, else any —
// the one serving the fewest replicas (ties: lowest id). Groups are looked at in id order and the
// first replacement found is returned: placement proposes one at a time, and the group's leader
// carries it out in its Paxos configuration (a learner first, then a voter, then the old one out).
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

// The range of `topology` that contains `key` (start <= key and (end empty or key < end)).
// FAILED_PRECONDITION when the topology has no ranges yet (not bootstrapped); NOT_FOUND when no
// range contains the key (the ranges do not cover the key space: a broken invariant).
absl::StatusOr<proto::RangeInfo> Locate(const proto::Topology& topology, std::string_view key);

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_PLANNER_H_
