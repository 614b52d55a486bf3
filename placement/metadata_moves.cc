// MetadataStateMachine: range moves, splits and new groups (metadata.h has the commands' rules).
// Every function checks everything first and changes the state only past its last check, so a
// refused command leaves the state exactly as it was.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "placement/metadata.h"
#include "placement/planner.h"

namespace meridian::placement {
namespace {

// The recorded move with `id`, or null.
proto::MoveInfo* FindMove(proto::Topology& state, uint64_t id) {
  for (proto::MoveInfo& move : *state.mutable_moves()) {
    if (move.id() == id) return &move;
  }
  return nullptr;
}

void EraseMove(proto::Topology& state, uint64_t id) {
  auto& moves = *state.mutable_moves();
  moves.erase(std::remove_if(moves.begin(), moves.end(),
                             [id](const proto::MoveInfo& m) { return m.id() == id; }),
              moves.end());
}

// Why `replicas` may not found a group, or "".
std::string GroupRefusal(const proto::Topology& state,
                         const google::protobuf::RepeatedField<uint64_t>& replicas) {
  if (replicas.empty()) return "a group needs at least one replica";
  std::set<uint64_t> seen;
  for (const uint64_t id : replicas) {
    if (!seen.insert(id).second) return absl::StrCat("server ", id, " is listed twice");
    const auto server = std::find_if(state.servers().begin(), state.servers().end(),
                                     [id](const proto::ServerInfo& s) { return s.id() == id; });
    if (server == state.servers().end()) return absl::StrCat("no server ", id);
    if (server->removed() || server->draining()) {
      return absl::StrCat("server ", id, " is ", server->removed() ? "removed" : "draining");
    }
  }
  return "";
}

}  // namespace

std::string MetadataStateMachine::ApplyCreateGroup(
    const proto::PlacementCommand::CreateGroup& command) {
  if (!state_.bootstrapped()) return PlacementRefusal("the cluster is not bootstrapped yet");
  if (std::string refusal = GroupRefusal(state_, command.replicas()); !refusal.empty()) {
    return PlacementRefusal(absl::StrCat("no group created: ", refusal));
  }
  // Past every check: from here on the command changes the state. Groups are never deleted, so
  // max + 1 never reuses an id; appending keeps the groups ordered by id.
  uint64_t max_id = kFirstDataGroup - 1;
  for (const proto::GroupInfo& g : state_.groups()) max_id = std::max(max_id, g.id());
  proto::GroupInfo* group = state_.add_groups();
  group->set_id(max_id + 1);
  *group->mutable_replicas() = command.replicas();
  *group->mutable_founders() = command.replicas();
  proto::PlacementResult result;
  result.set_group(group->id());
  return result.SerializeAsString();
}

std::string MetadataStateMachine::ApplyStartMove(
    const proto::PlacementCommand::StartMove& command) {
  if (!state_.bootstrapped()) return PlacementRefusal("the cluster is not bootstrapped yet");
  const proto::MoveInfo& asked = command.move();
  if (std::string refusal = MoveRefusal(state_, asked); !refusal.empty()) {
    return PlacementRefusal(std::move(refusal));
  }
  // Past every check. The generation is above every range's, whatever next_generation says
  // (a cluster bootstrapped before it existed has it 0), so that spanservers see it as newer.
  uint64_t generation = std::max<uint64_t>(state_.next_generation(), kInitialGeneration + 1);
  for (const proto::RangeInfo& r : state_.ranges()) {
    generation = std::max(generation, r.generation() + 1);
  }
  proto::MoveInfo* move = state_.add_moves();
  move->set_id(state_.last_move_id() + 1);
  move->set_kind(asked.kind());
  move->set_start(asked.start());
  move->set_end(asked.end());
  move->set_from_group(asked.from_group());
  if (asked.kind() == proto::MoveInfo::SPLIT) {
    move->set_split_key(asked.split_key());
  } else {
    move->set_to_group(asked.to_group());
  }
  move->set_generation(generation);
  state_.set_last_move_id(move->id());
  state_.set_next_generation(generation + 1);
  proto::PlacementResult result;
  *result.mutable_move() = *move;
  return result.SerializeAsString();
}

std::string MetadataStateMachine::ApplyFinishMove(
    const proto::PlacementCommand::FinishMove& command) {
  proto::MoveInfo* move = FindMove(state_, command.id());
  if (move == nullptr) return absl::StrCat("ignored: no move ", command.id(), " in progress");
  if (move->switched()) return absl::StrCat("ignored: move ", command.id(), " switched already");
  const std::string name = RangeName(move->start(), move->end());
  auto& ranges = *state_.mutable_ranges();
  const auto range = std::find_if(ranges.begin(), ranges.end(), [&](const proto::RangeInfo& r) {
    return r.start() == move->start() && r.end() == move->end() && r.group() == move->from_group();
  });
  // StartMove checked it and nothing else changes a range with a move in progress.
  if (range == ranges.end()) {
    return absl::StrCat("ignored: move ", command.id(), ": ", name,
                        " is no longer a range of group ", move->from_group());
  }
  // Past every check.
  range->set_generation(move->generation());
  if (move->kind() == proto::MoveInfo::MOVE) {
    range->set_group(move->to_group());
    move->set_switched(true);
    return absl::StrCat("move ", move->id(), ": ", name, " is group ", move->to_group(),
                        "'s at generation ", move->generation());
  }
  proto::RangeInfo upper = *range;
  upper.set_start(move->split_key());
  range->set_end(move->split_key());
  const std::string result = absl::StrCat(
      "split ", move->id(), ": ", name, " is ", RangeName(range->start(), range->end()), " and ",
      RangeName(upper.start(), upper.end()), " at generation ", move->generation());
  // Insert after the lower half: the ranges stay in key order.
  const int lower = static_cast<int>(range - ranges.begin());
  *ranges.Add() = std::move(upper);
  for (int i = ranges.size() - 1; i > lower + 1; --i) ranges.SwapElements(i, i - 1);
  EraseMove(state_, command.id());
  return result;
}

std::string MetadataStateMachine::ApplyMoveDropped(
    const proto::PlacementCommand::MoveDropped& command) {
  const proto::MoveInfo* move = FindMove(state_, command.id());
  if (move == nullptr) return absl::StrCat("ignored: no move ", command.id(), " in progress");
  if (!move->switched()) {
    return absl::StrCat("ignored: move ", command.id(), " has not switched the map yet");
  }
  EraseMove(state_, command.id());
  return absl::StrCat("move ", command.id(), " done: its old copy is erased");
}

}  // namespace meridian::placement
