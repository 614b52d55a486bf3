// Per-group placement policies (proto::Policy): what a valid policy is, and the questions the
// planners ask of one. A policy belongs to a group; every range takes the policy of the group
// that holds it, so an operator names a group by any key of its ranges.
//
// The default policy (nothing set) is what a group nobody configured does: it keeps as many
// replicas as it has, in any zones, with no preferred leader zone.
//
// A policy is valid (PolicyRefusal) when:
//  - replicas is 0 (keep the group's count), 3 or 5;                          else INVALID_ARGUMENT
//  - every listed zone is non-empty and listed once, and leader_zone, when set with a zone list,
//    is one of them;                                                          else INVALID_ARGUMENT
//  - every listed zone and the leader zone are zones some server registered in;
//                                                                         else FAILED_PRECONDITION
//  - servers can meet it: replicas go to distinct zones, so the wanted count (replicas, or the
//    group's current count when 0) needs as many allowed zones that each have a usable server,
//    and the leader zone needs one too. Usable: not removed, not draining and — when the caller
//    knows liveness (require_alive) — alive.                           else FAILED_PRECONDITION
// The service checks with require_alive (it knows who heartbeats); the state machine, which
// only knows the replicated state, checks again without it when it applies SetPolicy.
//
// Thread safety: pure functions; safe from any thread.
#ifndef MERIDIAN_PLACEMENT_POLICY_H_
#define MERIDIAN_PLACEMENT_POLICY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

// Why `policy` may not be set on group `group` of `topology` (see above), or OK. NOT_FOUND for
// an unknown group.
absl::Status PolicyRefusal(const proto::Topology& topology, uint64_t group,
                           const proto::Policy& policy, bool require_alive);

// Nothing set: replicas 0, no zones, no leader zone.
bool IsDefaultPolicy(const proto::Policy& policy);
// True when the policy lets a replica live in `zone` (no zone list, or `zone` is in it).
bool ZoneAllowed(const proto::Policy& policy, std::string_view zone);
// The number of replicas `group` should have: its policy's, else as many as it has.
int WantedReplicas(const proto::GroupInfo& group);
// For logs and `meridian status`: "default", or e.g. "5 replicas; zones a,b,c; leader in a".
std::string DescribePolicy(const proto::Policy& policy);

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_POLICY_H_
