#include "placement/planner.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

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
    if (!s.alive() || s.removed() || s.draining()) continue;
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
      const bool gone = server->removed() || server->draining() ||
                        (!server->alive() && dead_for_us(id) >= dead_timeout_us);
      if (!gone) continue;
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

}  // namespace meridian::placement
