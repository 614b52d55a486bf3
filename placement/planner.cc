#include "placement/planner.h"

#include <algorithm>
#include <cstdint>
#include <map>
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
    if (server.alive()) zones[server.zone()].push_back(server.id());
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
