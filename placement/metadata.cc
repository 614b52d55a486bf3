#include "placement/metadata.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "placement/planner.h"

namespace meridian::placement {

std::string PlacementRefusal(std::string refusal) {
  proto::PlacementResult result;
  result.set_refusal(std::move(refusal));
  return result.SerializeAsString();
}

absl::StatusOr<std::string> MetadataStateMachine::Apply(const paxos::Entry& entry) {
  if (entry.type != paxos::EntryType::kNormal) return std::string();  // no-op or configuration
  proto::PlacementCommand command;
  if (!command.ParseFromString(entry.command)) {
    return absl::InternalError(
        absl::StrCat("placement log slot ", entry.index, " holds no PlacementCommand"));
  }
  return ApplyCommand(command);
}

absl::StatusOr<std::string> MetadataStateMachine::ApplyCommand(
    const proto::PlacementCommand& command) {
  absl::MutexLock lock(&mu_);
  switch (command.op_case()) {
    case proto::PlacementCommand::kRegisterServer:
      return ApplyRegister(command.register_server());
    case proto::PlacementCommand::kBootstrap:
      return ApplyBootstrap(command.bootstrap());
    case proto::PlacementCommand::kRemoveServer:
      return ApplyRemove(command.remove_server());
    case proto::PlacementCommand::kReplaceReplica:
      return ApplyReplace(command.replace_replica());
    case proto::PlacementCommand::kDrainServer:
      return ApplyDrain(command.drain_server());
    case proto::PlacementCommand::kCreateGroup:
      return ApplyCreateGroup(command.create_group());
    case proto::PlacementCommand::kStartMove:
      return ApplyStartMove(command.start_move());
    case proto::PlacementCommand::kFinishMove:
      return ApplyFinishMove(command.finish_move());
    case proto::PlacementCommand::kMoveDropped:
      return ApplyMoveDropped(command.move_dropped());
    case proto::PlacementCommand::kSetPolicy:
      return ApplySetPolicy(command.set_policy());
    case proto::PlacementCommand::kSetReplicas:
      return ApplySetReplicas(command.set_replicas());
    case proto::PlacementCommand::OP_NOT_SET:
      break;
  }
  return absl::InternalError("placement command with no operation");
}

std::string MetadataStateMachine::RegisterRefusal(
    const proto::PlacementCommand::RegisterServer& command, const proto::ServerInfo* same_id,
    uint64_t* bound) const {
  if (same_id != nullptr) {
    *bound = same_id->id();
    if (same_id->removed()) {
      return absl::StrCat("server ", same_id->id(),
                          " was removed from the cluster; this data directory is stale. Empty it "
                          "to join as a new server");
    }
    if (!same_id->name().empty() && same_id->name() != command.name()) {
      return absl::StrCat("server ", same_id->id(), " registered with the certificate of '",
                          same_id->name(), "', not of '", command.name(),
                          "': a server keeps its certificate name");
    }
    if (same_id->incarnation() != 0 && same_id->incarnation() != command.incarnation()) {
      return absl::StrCat("server ", same_id->id(),
                          " belongs to another data directory (this one was copied or "
                          "recreated); refusing to let it act as server ",
                          same_id->id());
    }
  }
  for (const proto::ServerInfo& server : state_.servers()) {
    if (server.removed() || (same_id != nullptr && server.id() == same_id->id())) continue;
    if (!command.peer_address().empty() && server.peer_address() == command.peer_address() &&
        server.address() != command.address()) {
      // Paxos peers reach server N at its peer address: another server there would receive
      // (and answer) server N's messages.
      *bound = server.id();
      return absl::StrCat("peer address ", command.peer_address(), " belongs to server ",
                          server.id(), "; this server must listen for peers on another address");
    }
    if (server.address() != command.address()) continue;
    if (same_id != nullptr && server.id() == same_id->id()) continue;
    *bound = server.id();
    if (command.server_id() != 0) {
      return absl::StrCat("address ", command.address(), " belongs to server ", server.id(),
                          "; server ", command.server_id(), " must listen on another address");
    }
    return absl::StrCat(
        "address ", command.address(), " belongs to server ", server.id(), " (zone ", server.zone(),
        "), and this data directory is not that server's: it is new, or server ", server.id(),
        "'s data was lost. A server that lost its data must not vote under its old id. If server ",
        server.id(), "'s disk is gone for good, remove it first (meridian server remove ",
        server.id(),
        " --placement=...): this server then joins as a new one, and the groups of "
        "server ",
        server.id(), " run on their other replicas until a replica is added");
  }
  for (const proto::ServerInfo& server : state_.servers()) {
    if (server.removed() || command.name().empty() || server.name() != command.name()) continue;
    if (same_id != nullptr && server.id() == same_id->id()) continue;
    *bound = server.id();
    return absl::StrCat("the certificate name '", command.name(), "' belongs to server ",
                        server.id(),
                        "; give this server its own node certificate, or remove server ",
                        server.id(), " first if this is its replacement");
  }
  return "";
}

std::string MetadataStateMachine::ApplyRegister(
    const proto::PlacementCommand::RegisterServer& command) {
  proto::ServerInfo* target = nullptr;
  uint64_t max_id = 0;
  for (proto::ServerInfo& server : *state_.mutable_servers()) {
    max_id = std::max(max_id, server.id());
    const bool match = command.server_id() != 0
                           ? server.id() == command.server_id()
                           : !server.removed() && server.address() == command.address() &&
                                 command.incarnation() != 0 &&
                                 server.incarnation() == command.incarnation();
    if (match) target = &server;
  }
  proto::RegisterResponse response;
  uint64_t bound = 0;
  if (std::string refusal = RegisterRefusal(command, target, &bound); !refusal.empty()) {
    response.set_refusal(std::move(refusal));
    response.set_bound_server(bound);
    return response.SerializeAsString();
  }
  if (target == nullptr) {
    target = state_.add_servers();
    target->set_id(command.server_id() != 0 ? command.server_id() : max_id + 1);
  }
  target->set_zone(command.zone());
  target->set_address(command.address());
  target->set_peer_address(command.peer_address());
  if (!command.name().empty()) target->set_name(command.name());
  if (target->incarnation() == 0) target->set_incarnation(command.incarnation());
  response.set_server_id(target->id());

  // Keep servers ordered by id and zones sorted and distinct.
  std::sort(state_.mutable_servers()->begin(), state_.mutable_servers()->end(),
            [](const proto::ServerInfo& a, const proto::ServerInfo& b) { return a.id() < b.id(); });
  std::set<std::string> zones;
  for (const proto::ServerInfo& server : state_.servers()) zones.insert(server.zone());
  state_.clear_zones();
  for (const std::string& zone : zones) state_.add_zones(zone);
  return response.SerializeAsString();
}

// Applied as logged; a stale or repeated one (the old replica already replaced, the new server
// already a replica, unknown or removed) changes nothing and says why.
std::string MetadataStateMachine::ApplyReplace(
    const proto::PlacementCommand::ReplaceReplica& command) {
  const proto::ServerInfo* target = nullptr;
  for (const proto::ServerInfo& s : state_.servers()) {
    if (s.id() == command.new_server()) target = &s;
  }
  if (target == nullptr || target->removed() || target->draining()) {
    return absl::StrCat("not replaced: server ", command.new_server(),
                        " is unknown, removed or draining");
  }
  for (proto::GroupInfo& group : *state_.mutable_groups()) {
    if (group.id() != command.group()) continue;
    auto& replicas = *group.mutable_replicas();
    if (std::find(replicas.begin(), replicas.end(), command.new_server()) != replicas.end()) {
      return absl::StrCat("not replaced: server ", command.new_server(), " already serves group ",
                          command.group());
    }
    auto old = std::find(replicas.begin(), replicas.end(), command.old_server());
    if (old == replicas.end()) {
      return absl::StrCat("not replaced: server ", command.old_server(), " does not serve group ",
                          command.group());
    }
    *old = command.new_server();  // same position: a preferred first replica stays first
    return absl::StrCat("group ", command.group(), ": replica on server ", command.old_server(),
                        " replaced by server ", command.new_server());
  }
  return absl::StrCat("not replaced: no group ", command.group());
}

std::string MetadataStateMachine::ApplyDrain(const proto::PlacementCommand::DrainServer& command) {
  for (proto::ServerInfo& server : *state_.mutable_servers()) {
    if (server.id() != command.server_id()) continue;
    server.set_draining(!command.cancel());
    return "";
  }
  return kUnknownServer;
}

std::string MetadataStateMachine::ApplyRemove(
    const proto::PlacementCommand::RemoveServer& command) {
  for (proto::ServerInfo& server : *state_.mutable_servers()) {
    if (server.id() != command.server_id()) continue;
    server.set_removed(true);
    // Peers stop sending it Paxos messages; a new server may listen there now.
    server.clear_peer_address();
    return "";
  }
  return kUnknownServer;
}

std::string MetadataStateMachine::ApplyBootstrap(
    const proto::PlacementCommand::Bootstrap& command) {
  if (state_.bootstrapped()) return kBootstrapIgnored;
  state_.set_bootstrapped(true);
  *state_.mutable_groups() = command.groups();
  for (proto::GroupInfo& group : *state_.mutable_groups()) {
    group.set_leader(0);
    if (group.founders().empty()) *group.mutable_founders() = group.replicas();
  }
  *state_.mutable_ranges() = command.ranges();
  std::sort(
      state_.mutable_ranges()->begin(), state_.mutable_ranges()->end(),
      [](const proto::RangeInfo& a, const proto::RangeInfo& b) { return a.start() < b.start(); });
  uint64_t generation = kInitialGeneration;
  for (const proto::RangeInfo& range : state_.ranges()) {
    generation = std::max(generation, range.generation());
  }
  state_.set_next_generation(generation + 1);
  return kBootstrapApplied;
}

proto::Topology MetadataStateMachine::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

bool MetadataStateMachine::bootstrapped() const {
  absl::MutexLock lock(&mu_);
  return state_.bootstrapped();
}

std::optional<proto::ServerInfo> MetadataStateMachine::FindServer(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  for (const proto::ServerInfo& server : state_.servers()) {
    if (server.id() == id) return server;
  }
  return std::nullopt;
}

}  // namespace meridian::placement
