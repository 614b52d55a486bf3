#include "placement/planner.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "placement/policy.h"

namespace meridian::placement {

std::vector<std::string> EvenSplitPoints(int num_ranges) {
  std::vector<std::string> points;
  for (int i = 1; i < num_ranges; ++i) {
    points.push_back(std::string(1, static_cast<char>(256 * i / num_ranges)));
  }
  return points;
}

namespace {

// Replicas each server hosts in `topology`.
std::map<uint64_t, int> ReplicasPerServer(const proto::Topology& topology) {
  std::map<uint64_t, int> load;
  for (const proto::GroupInfo& g : topology.groups()) {
    for (uint64_t id : g.replicas()) ++load[id];
  }
  return load;
}

// The best live server to take `group`'s replica on `old` (file comment), or 0.
uint64_t ChooseReplacement(const proto::Topology& topology, const proto::GroupInfo& group,
                           const proto::ServerInfo& old, const std::map<uint64_t, int>& load) {
  std::set<std::string> group_zones;
  for (uint64_t id : group.replicas()) {
    for (const proto::ServerInfo& s : topology.servers()) {
      if (s.id() == id && id != old.id()) group_zones.insert(s.zone());
    }
  }
  // Lower is better: (zone rank, load, id).
  std::optional<std::tuple<int, int, uint64_t>> best;
  for (const proto::ServerInfo& s : topology.servers()) {
    if (!s.alive() || s.removed() || s.draining() || !s.storage_failed().empty()) continue;
    if (!ZoneAllowed(group.policy(), s.zone())) continue;
    if (std::find(group.replicas().begin(), group.replicas().end(), s.id()) !=
        group.replicas().end()) {
      continue;
    }
    const int zone_rank = s.zone() == old.zone() ? 0 : group_zones.contains(s.zone()) ? 2 : 1;
    const auto it = load.find(s.id());
    const std::tuple<int, int, uint64_t> key{zone_rank, it == load.end() ? 0 : it->second, s.id()};
    if (!best || key < *best) best = key;
  }
  return best ? std::get<2>(*best) : 0;
}

bool IsFenced(const proto::GroupInfo& group, uint64_t server) {
  return std::any_of(group.fenced().begin(), group.fenced().end(),
                     [server](const proto::ReplicaFence& f) { return f.server() == server; });
}

// Whether `group` keeps a majority of its replicas healthy (alive, not draining or removed, not
// fenced) without the one on `lost`: only then may a fenced replica be replaced.
bool HealthyMajorityWithout(const proto::Topology& topology, const proto::GroupInfo& group,
                            uint64_t lost) {
  int healthy = 0;
  for (uint64_t id : group.replicas()) {
    if (id == lost || IsFenced(group, id)) continue;
    for (const proto::ServerInfo& s : topology.servers()) {
      if (s.id() == id && s.alive() && !s.removed() && !s.draining()) ++healthy;
    }
  }
  return healthy >= group.replicas_size() / 2 + 1;
}

// Whether `group`'s replica on `server` is lost: its server was removed, is being drained or has
// been silent past the timeout, or it is fenced and the group has a healthy majority without it.
bool ReplicaLost(const proto::Topology& topology, const proto::GroupInfo& group,
                 const proto::ServerInfo& server, int64_t dead_for_us, int64_t dead_timeout_us) {
  if (server.removed() || server.draining()) return true;
  if (!server.alive()) return dead_for_us >= dead_timeout_us;
  return IsFenced(group, server.id()) && HealthyMajorityWithout(topology, group, server.id());
}

}  // namespace

std::optional<proto::PlacementCommand::ReplaceReplica> PlanReplacement(
    const proto::Topology& topology, const std::function<int64_t(uint64_t)>& dead_for_us,
    int64_t dead_timeout_us) {
  const std::map<uint64_t, int> load = ReplicasPerServer(topology);
  std::vector<const proto::GroupInfo*> groups;
  for (const proto::GroupInfo& g : topology.groups()) groups.push_back(&g);
  std::sort(groups.begin(), groups.end(),
            [](const proto::GroupInfo* a, const proto::GroupInfo* b) { return a->id() < b->id(); });
  for (const proto::GroupInfo* group : groups) {
    for (uint64_t id : group->replicas()) {
      const proto::ServerInfo* server = nullptr;
      for (const proto::ServerInfo& s : topology.servers()) {
        if (s.id() == id) server = &s;
      }
      if (server == nullptr) continue;
      if (!ReplicaLost(topology, *group, *server, server->alive() ? 0 : dead_for_us(id),
                       dead_timeout_us)) {
        continue;
      }
      const uint64_t replacement = ChooseReplacement(topology, *group, *server, load);
      if (replacement == 0) continue;
      proto::PlacementCommand::ReplaceReplica out;
      out.set_group(group->id());
      out.set_old_server(id);
      out.set_new_server(replacement);
      return out;
    }
  }
  return std::nullopt;
}

absl::StatusOr<proto::PlacementCommand::Bootstrap> PlanBootstrap(
    const std::vector<proto::ServerInfo>& servers, int zones_required, int num_ranges) {
  if (num_ranges < 1 || num_ranges > kMaxRanges) {
    return absl::InvalidArgumentError(
        absl::StrCat("the number of ranges must be in [1, ", kMaxRanges, "], got ", num_ranges));
  }
  if (zones_required < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("zones_required must be at least 1, got ", zones_required));
  }

  // zone -> its live servers, ordered by id; a std::map keeps zones ordered by name.
  std::map<std::string, std::vector<uint64_t>> zones;
  for (const proto::ServerInfo& server : servers) {
    if (server.alive() && !server.draining()) zones[server.zone()].push_back(server.id());
  }
  if (static_cast<int>(zones.size()) < zones_required) {
    return absl::FailedPreconditionError(absl::StrCat("need live servers in ", zones_required,
                                                      " distinct zones, have ", zones.size()));
  }
  for (auto& [zone, ids] : zones) std::sort(ids.begin(), ids.end());

  std::map<uint64_t, int> load;  // server id -> replicas placed so far
  auto least_loaded = [&load](const std::vector<uint64_t>& ids) {
    uint64_t best = ids.front();
    for (uint64_t id : ids) {
      if (load[id] < load[best]) best = id;
    }
    return best;
  };

  proto::PlacementCommand::Bootstrap plan;
  const std::vector<std::string> points = EvenSplitPoints(num_ranges);
  for (int i = 0; i < num_ranges; ++i) {
    const uint64_t group_id = kFirstDataGroup + static_cast<uint64_t>(i);

    // (load of the zone's least-loaded server, zone name, that server)
    std::vector<std::tuple<int, std::string, uint64_t>> candidates;
    for (const auto& [zone, ids] : zones) {
      const uint64_t server = least_loaded(ids);
      candidates.emplace_back(load[server], zone, server);
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.resize(zones_required);

    std::vector<uint64_t> replicas;
    for (const auto& [server_load, zone, server] : candidates) {
      replicas.push_back(server);
      ++load[server];
    }
    std::sort(replicas.begin(), replicas.end());
    std::rotate(replicas.begin(), replicas.begin() + (i % replicas.size()), replicas.end());

    proto::GroupInfo* group = plan.add_groups();
    group->set_id(group_id);
    for (uint64_t id : replicas) group->add_replicas(id);

    proto::RangeInfo* range = plan.add_ranges();
    range->set_start(i == 0 ? "" : points[i - 1]);
    range->set_end(i == num_ranges - 1 ? "" : points[i]);
    range->set_group(group_id);
    range->set_generation(kInitialGeneration);
  }
  return plan;
}

absl::StatusOr<proto::RangeInfo> Locate(const proto::Topology& topology, std::string_view key) {
  if (topology.ranges().empty()) {
    return absl::FailedPreconditionError("the cluster is not bootstrapped yet");
  }
  for (const proto::RangeInfo& range : topology.ranges()) {
    if (std::string_view(range.start()) <= key &&
        (range.end().empty() || key < std::string_view(range.end()))) {
      return range;
    }
  }
  return absl::NotFoundError("no range contains the key: the ranges do not cover the key space");
}

namespace {

// Debian's Abseil has its own string_view.
std::string Escape(std::string_view bytes) {
  return absl::CHexEscape(absl::string_view(bytes.data(), bytes.size()));
}

}  // namespace

std::string RangeName(std::string_view start, std::string_view end) {
  return absl::StrCat("[\"", Escape(start), "\", ",
                      end.empty() ? "+inf" : absl::StrCat("\"", Escape(end), "\""), ")");
}

std::string DescribeMove(const proto::MoveInfo& move) {
  const std::string range = RangeName(move.start(), move.end());
  if (move.kind() == proto::MoveInfo::SPLIT) {
    return absl::StrCat("split ", move.id(), " of ", range, " at \"", Escape(move.split_key()),
                        "\" in group ", move.from_group(), " at generation ", move.generation());
  }
  return absl::StrCat("move ", move.id(), " of ", range, " from group ", move.from_group(),
                      " to group ", move.to_group(), " at generation ", move.generation());
}

absl::StatusOr<std::vector<uint64_t>> PlanNewGroup(const proto::Topology& topology,
                                                   int zones_required) {
  if (zones_required < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("zones_required must be at least 1, got ", zones_required));
  }
  const std::map<uint64_t, int> load = ReplicasPerServer(topology);
  auto load_of = [&load](uint64_t id) {
    const auto it = load.find(id);
    return it == load.end() ? 0 : it->second;
  };
  // zone -> (load, id) of its best server; a std::map keeps zones ordered by name.
  std::map<std::string, std::pair<int, uint64_t>> best;
  for (const proto::ServerInfo& s : topology.servers()) {
    if (!s.alive() || s.draining() || s.removed() || !s.storage_failed().empty()) continue;
    const std::pair<int, uint64_t> key{load_of(s.id()), s.id()};
    auto [it, inserted] = best.emplace(s.zone(), key);
    if (!inserted && key < it->second) it->second = key;
  }
  if (static_cast<int>(best.size()) < zones_required) {
    std::vector<std::string> zones;
    for (const auto& [zone, server] : best) zones.push_back(zone);
    return absl::FailedPreconditionError(absl::StrCat(
        "a new group needs a live server that is neither draining nor removed in each of ",
        zones_required, " zones; ", best.size(), " zones have one",
        zones.empty() ? "" : absl::StrCat(" (", absl::StrJoin(zones, ", "), ")")));
  }
  // (load, zone, id): least loaded first, ties by zone name.
  std::vector<std::tuple<int, std::string, uint64_t>> candidates;
  for (const auto& [zone, server] : best)
    candidates.emplace_back(server.first, zone, server.second);
  std::sort(candidates.begin(), candidates.end());
  std::vector<uint64_t> replicas;
  for (int i = 0; i < zones_required; ++i) replicas.push_back(std::get<2>(candidates[i]));
  return replicas;
}

namespace {

const proto::GroupInfo* FindGroup(const proto::Topology& topology, uint64_t id) {
  for (const proto::GroupInfo& g : topology.groups()) {
    if (g.id() == id) return &g;
  }
  return nullptr;
}

// True when [a_start, a_end) and [b_start, b_end) share a key (empty end: +infinity).
bool Overlap(std::string_view a_start, std::string_view a_end, std::string_view b_start,
             std::string_view b_end) {
  return (a_end.empty() || b_start < a_end) && (b_end.empty() || a_start < b_end);
}

// The range part of MoveRefusal: the exact range of from_group, nothing overlapping in progress.
std::string RangeRefusal(const proto::Topology& topology, const proto::MoveInfo& move) {
  const std::string name = RangeName(move.start(), move.end());
  const proto::RangeInfo* range = nullptr;
  for (const proto::RangeInfo& r : topology.ranges()) {
    if (r.start() == move.start() && r.end() == move.end()) range = &r;
  }
  if (range == nullptr) return absl::StrCat(name, " is not a range of the map");
  if (range->group() != move.from_group()) {
    return absl::StrCat(name, " belongs to group ", range->group(), ", not group ",
                        move.from_group());
  }
  for (const proto::MoveInfo& m : topology.moves()) {
    if (!Overlap(m.start(), m.end(), move.start(), move.end())) continue;
    const std::string other = RangeName(m.start(), m.end());
    if (m.switched()) {
      return absl::StrCat(name, " is busy: group ", m.from_group(),
                          " is still erasing its old copy of ", other, " (move ", m.id(), ")");
    }
    return absl::StrCat(name, " is busy: ", m.kind() == proto::MoveInfo::SPLIT ? "split " : "move ",
                        m.id(), " of ", other, " is under way");
  }
  return "";
}

}  // namespace

std::string MoveRefusal(const proto::Topology& topology, const proto::MoveInfo& move) {
  if (std::string refusal = RangeRefusal(topology, move); !refusal.empty()) return refusal;
  const std::string name = RangeName(move.start(), move.end());
  if (move.kind() == proto::MoveInfo::SPLIT) {
    const std::string_view key = move.split_key();
    if (key <= std::string_view(move.start()) || (!move.end().empty() && key >= move.end())) {
      return absl::StrCat("\"", Escape(key), "\" is not strictly inside ", name,
                          ": a split key must not be a range boundary");
    }
    return "";
  }
  if (FindGroup(topology, move.to_group()) == nullptr) {
    return absl::StrCat("no group ", move.to_group(), " to move ", name, " to");
  }
  if (move.to_group() == move.from_group()) {
    return absl::StrCat(name, " is group ", move.to_group(), "'s already");
  }
  return "";
}

namespace {

// The recorded move equal to `move` in what an admin asks (kind, range, target or split key).
std::optional<proto::MoveInfo> SameMove(const proto::Topology& topology,
                                        const proto::MoveInfo& move) {
  for (const proto::MoveInfo& m : topology.moves()) {
    if (m.kind() == move.kind() && m.start() == move.start() && m.end() == move.end() &&
        m.from_group() == move.from_group() && !m.switched() &&
        (m.kind() == proto::MoveInfo::SPLIT ? m.split_key() == move.split_key()
                                            : m.to_group() == move.to_group())) {
      return m;
    }
  }
  return std::nullopt;
}

// `move` checked: the same one in progress, or a refusal as FAILED_PRECONDITION, or itself.
absl::StatusOr<MovePlan> Checked(const proto::Topology& topology, proto::MoveInfo move,
                                 bool check_target) {
  if (std::optional<proto::MoveInfo> same = SameMove(topology, move); same.has_value()) {
    return MovePlan{*std::move(same), /*in_progress=*/true};
  }
  const std::string refusal =
      check_target ? MoveRefusal(topology, move) : RangeRefusal(topology, move);
  if (!refusal.empty()) return absl::FailedPreconditionError(refusal);
  return MovePlan{std::move(move), /*in_progress=*/false};
}

}  // namespace

absl::StatusOr<MovePlan> PlanMoveRange(const proto::Topology& topology, std::string_view key,
                                       uint64_t to_group) {
  absl::StatusOr<proto::RangeInfo> range = Locate(topology, key);
  if (!range.ok()) return range.status();
  if (to_group != 0 && FindGroup(topology, to_group) == nullptr) {
    return absl::NotFoundError(absl::StrCat("no group ", to_group));
  }
  proto::MoveInfo move;
  move.set_kind(proto::MoveInfo::MOVE);
  move.set_start(range->start());
  move.set_end(range->end());
  move.set_from_group(range->group());
  move.set_to_group(to_group);
  return Checked(topology, std::move(move), /*check_target=*/to_group != 0);
}

absl::StatusOr<MovePlan> PlanSplitRange(const proto::Topology& topology, std::string_view key) {
  if (key.empty()) {
    return absl::InvalidArgumentError("a split needs a key: the empty key starts the key space");
  }
  absl::StatusOr<proto::RangeInfo> range = Locate(topology, key);
  if (!range.ok()) return range.status();
  proto::MoveInfo move;
  move.set_kind(proto::MoveInfo::SPLIT);
  move.set_start(range->start());
  move.set_end(range->end());
  move.set_from_group(range->group());
  move.set_split_key(std::string(key));
  return Checked(topology, std::move(move), /*check_target=*/true);
}

}  // namespace meridian::placement
