#include "placement/policy.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::placement {
namespace {

// The zones of `policy` that are not zones of `topology`, in the policy's order.
std::vector<std::string> UnknownZones(const proto::Topology& topology,
                                      const proto::Policy& policy) {
  const std::set<std::string> known(topology.zones().begin(), topology.zones().end());
  std::vector<std::string> unknown;
  for (const std::string& zone : policy.zones()) {
    if (!known.contains(zone)) unknown.push_back(zone);
  }
  if (!policy.leader_zone().empty() && !known.contains(policy.leader_zone()) &&
      std::find(unknown.begin(), unknown.end(), policy.leader_zone()) == unknown.end()) {
    unknown.push_back(policy.leader_zone());
  }
  return unknown;
}

// The checks that need no topology.
absl::Status ShapeRefusal(const proto::Policy& policy) {
  if (policy.replicas() != 0 && policy.replicas() != 3 && policy.replicas() != 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a group has 3 or 5 replicas (0: keep the count it has), not ", policy.replicas()));
  }
  std::set<std::string> seen;
  for (const std::string& zone : policy.zones()) {
    if (zone.empty()) return absl::InvalidArgumentError("a zone name is empty");
    if (!seen.insert(zone).second) {
      return absl::InvalidArgumentError(absl::StrCat("zone ", zone, " is listed twice"));
    }
  }
  if (!policy.leader_zone().empty() && !seen.empty() && !seen.contains(policy.leader_zone())) {
    return absl::InvalidArgumentError(absl::StrCat("the leader zone ", policy.leader_zone(),
                                                   " is not one of the allowed zones ",
                                                   absl::StrJoin(policy.zones(), ",")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PolicyRefusal(const proto::Topology& topology, uint64_t group,
                           const proto::Policy& policy, bool require_alive) {
  if (absl::Status shape = ShapeRefusal(policy); !shape.ok()) return shape;
  const auto target = std::find_if(topology.groups().begin(), topology.groups().end(),
                                   [group](const proto::GroupInfo& g) { return g.id() == group; });
  if (target == topology.groups().end())
    return absl::NotFoundError(absl::StrCat("no group ", group));
  if (const std::vector<std::string> unknown = UnknownZones(topology, policy); !unknown.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no server ever registered in zone ", absl::StrJoin(unknown, ", "), "; the zones are ",
        topology.zones().empty() ? "none yet" : absl::StrJoin(topology.zones(), ", ")));
  }
  // The allowed zones that have a server able to take a replica now.
  std::set<std::string> usable;
  for (const proto::ServerInfo& s : topology.servers()) {
    if (s.removed() || s.draining() || (require_alive && !s.alive())) continue;
    if (ZoneAllowed(policy, s.zone())) usable.insert(s.zone());
  }
  const int wanted =
      policy.replicas() != 0 ? static_cast<int>(policy.replicas()) : target->replicas_size();
  const char* const what = require_alive ? "live server" : "server";
  if (static_cast<int>(usable.size()) < wanted) {
    return absl::FailedPreconditionError(
        absl::StrCat(wanted, " replicas need ", wanted, " distinct ",
                     policy.zones().empty() ? "zones" : "allowed zones", " with a ", what,
                     " that is not draining; ", usable.size(), " have one",
                     usable.empty() ? "" : absl::StrCat(" (", absl::StrJoin(usable, ", "), ")")));
  }
  if (!policy.leader_zone().empty() && !usable.contains(policy.leader_zone())) {
    return absl::FailedPreconditionError(absl::StrCat("the leader zone ", policy.leader_zone(),
                                                      " has no ", what, " that is not draining"));
  }
  return absl::OkStatus();
}

bool IsDefaultPolicy(const proto::Policy& policy) {
  return policy.replicas() == 0 && policy.zones().empty() && policy.leader_zone().empty();
}

bool ZoneAllowed(const proto::Policy& policy, std::string_view zone) {
  return policy.zones().empty() ||
         std::find(policy.zones().begin(), policy.zones().end(), zone) != policy.zones().end();
}

int WantedReplicas(const proto::GroupInfo& group) {
  return group.policy().replicas() != 0 ? static_cast<int>(group.policy().replicas())
                                        : group.replicas_size();
}

std::string DescribePolicy(const proto::Policy& policy) {
  if (IsDefaultPolicy(policy)) return "default";
  std::vector<std::string> parts;
  if (policy.replicas() != 0) parts.push_back(absl::StrCat(policy.replicas(), " replicas"));
  if (!policy.zones().empty()) {
    parts.push_back(absl::StrCat("zones ", absl::StrJoin(policy.zones(), ",")));
  }
  if (!policy.leader_zone().empty()) parts.push_back("leader in " + policy.leader_zone());
  return absl::StrJoin(parts, "; ");
}

}  // namespace meridian::placement
