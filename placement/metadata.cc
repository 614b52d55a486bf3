#include "placement/metadata.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace meridian::placement {

absl::StatusOr<std::string> MetadataStateMachine::Apply(const paxos::Entry& entry) {
  if (entry.type == paxos::EntryType::kNoop) return std::string();
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
    case proto::PlacementCommand::OP_NOT_SET:
      break;
  }
  return absl::InternalError("placement command with no operation");
}

std::string MetadataStateMachine::ApplyRegister(
    const proto::PlacementCommand::RegisterServer& command) {
  proto::ServerInfo* target = nullptr;
  uint64_t max_id = 0;
  for (proto::ServerInfo& server : *state_.mutable_servers()) {
    max_id = std::max(max_id, server.id());
    const bool match = command.server_id() != 0 ? server.id() == command.server_id()
                                                : server.address() == command.address();
    if (match) target = &server;
  }
  if (target == nullptr) {
    target = state_.add_servers();
    target->set_id(command.server_id() != 0 ? command.server_id() : max_id + 1);
  }
  target->set_zone(command.zone());
  target->set_address(command.address());
  target->set_peer_address(command.peer_address());
  proto::RegisterResponse response;
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

std::string MetadataStateMachine::ApplyBootstrap(
    const proto::PlacementCommand::Bootstrap& command) {
  if (state_.bootstrapped()) return kBootstrapIgnored;
  state_.set_bootstrapped(true);
  *state_.mutable_groups() = command.groups();
  for (proto::GroupInfo& group : *state_.mutable_groups()) group.set_leader(0);
  *state_.mutable_ranges() = command.ranges();
  std::sort(
      state_.mutable_ranges()->begin(), state_.mutable_ranges()->end(),
      [](const proto::RangeInfo& a, const proto::RangeInfo& b) { return a.start() < b.start(); });
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
