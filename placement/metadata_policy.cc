// MetadataStateMachine: group policies and replica lists (metadata.h has the commands' rules).
// Every function checks everything first and changes the state only past its last check, so a
// refused command leaves the state exactly as it was.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "placement/metadata.h"
#include "placement/policy.h"

namespace meridian::placement {
namespace {

proto::GroupInfo* FindGroup(proto::Topology& state, uint64_t id) {
  for (proto::GroupInfo& g : *state.mutable_groups()) {
    if (g.id() == id) return &g;
  }
  return nullptr;
}

// Why `group` may not take `replicas` as its list, or "".
std::string ReplicasRefusal(const proto::Topology& state, const proto::GroupInfo& group,
                            const google::protobuf::RepeatedField<uint64_t>& replicas) {
  if (replicas.empty()) return "a group needs at least one replica";
  std::set<uint64_t> seen;
  for (const uint64_t id : replicas) {
    if (!seen.insert(id).second) return absl::StrCat("server ", id, " is listed twice");
    const auto server = std::find_if(state.servers().begin(), state.servers().end(),
                                     [id](const proto::ServerInfo& s) { return s.id() == id; });
    if (server == state.servers().end()) return absl::StrCat("no server ", id);
    if (server->removed()) return absl::StrCat("server ", id, " is removed");
    const bool is_new =
        std::find(group.replicas().begin(), group.replicas().end(), id) == group.replicas().end();
    if (is_new && server->draining()) return absl::StrCat("server ", id, " is draining");
  }
  return "";
}

}  // namespace

std::string MetadataStateMachine::ApplySetPolicy(
    const proto::PlacementCommand::SetPolicy& command) {
  if (!state_.bootstrapped()) return PlacementRefusal("the cluster is not bootstrapped yet");
  const absl::Status refusal =
      PolicyRefusal(state_, command.group(), command.policy(), /*require_alive=*/false);
  if (!refusal.ok()) return PlacementRefusal(std::string(refusal.message()));
  // Past every check.
  *FindGroup(state_, command.group())->mutable_policy() = command.policy();
  return PlacementRefusal("");
}

std::string MetadataStateMachine::ApplySetReplicas(
    const proto::PlacementCommand::SetReplicas& command) {
  if (!state_.bootstrapped()) return PlacementRefusal("the cluster is not bootstrapped yet");
  proto::GroupInfo* group = FindGroup(state_, command.group());
  if (group == nullptr) return PlacementRefusal(absl::StrCat("no group ", command.group()));
  if (!std::equal(group->replicas().begin(), group->replicas().end(), command.expected().begin(),
                  command.expected().end())) {
    return PlacementRefusal(absl::StrCat("stale: group ", command.group(), " has replicas ",
                                         absl::StrJoin(group->replicas(), ","), ", not ",
                                         absl::StrJoin(command.expected(), ",")));
  }
  if (std::string refusal = ReplicasRefusal(state_, *group, command.replicas()); !refusal.empty()) {
    return PlacementRefusal(absl::StrCat("group ", command.group(), ": ", refusal));
  }
  // Past every check. The group's leader walks its Paxos configuration to the new list.
  *group->mutable_replicas() = command.replicas();
  return PlacementRefusal("");
}

}  // namespace meridian::placement
