// Rules 2 (split by size) and 3 (data across groups) of balance_planner.h.
#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "placement/balance_planner.h"
#include "placement/planner.h"
#include "placement/policy.h"
#include "placement/topology_view.h"

namespace meridian::placement {
namespace {

constexpr double kMiB = 1 << 20;

std::string MiB(uint64_t bytes) {
  return absl::StrCat(static_cast<int64_t>(bytes / kMiB * 10) / 10.0, " MiB");
}

// The size its group's leader reported for each range of the map, by start; a range without a
// report is missing. A report counts only for a range its group still holds (reports are soft
// state and name a range by its start only).
std::map<std::string, const proto::RangeStats*> ReportedSizes(const TopologyView& view) {
  std::map<std::string, const proto::RangeStats*> sizes;
  for (const proto::RangeInfo& r : view.topology().ranges()) {
    const proto::GroupInfo* group = view.Group(r.group());
    if (group == nullptr) continue;
    for (const proto::RangeStats& s : group->range_stats()) {
      if (s.start() == r.start()) sizes[r.start()] = &s;
    }
  }
  return sizes;
}

bool StrictlyInside(const proto::RangeInfo& range, const std::string& key) {
  return key > range.start() && (range.end().empty() || key < range.end());
}

}  // namespace

std::optional<Decision> PlanSplitBySize(const proto::Topology& topology,
                                        uint64_t split_range_bytes) {
  if (split_range_bytes == 0 || !topology.moves().empty()) return std::nullopt;
  const TopologyView view(topology);
  const std::map<std::string, const proto::RangeStats*> sizes = ReportedSizes(view);
  const proto::RangeInfo* largest = nullptr;
  const proto::RangeStats* stats = nullptr;
  for (const proto::RangeInfo& r : topology.ranges()) {  // key order: ties go to the first
    const auto it = sizes.find(r.start());
    if (it == sizes.end() || it->second->approx_bytes() <= split_range_bytes) continue;
    if (!StrictlyInside(r, it->second->split_key())) continue;
    if (stats == nullptr || it->second->approx_bytes() > stats->approx_bytes()) {
      largest = &r;
      stats = it->second;
    }
  }
  if (largest == nullptr) return std::nullopt;
  Decision d;
  d.kind = Decision::Kind::kStartMove;
  proto::MoveInfo* split = d.command.mutable_start_move()->mutable_move();
  split->set_kind(proto::MoveInfo::SPLIT);
  split->set_start(largest->start());
  split->set_end(largest->end());
  split->set_from_group(largest->group());
  split->set_split_key(stats->split_key());
  if (!MoveRefusal(topology, *split).empty()) return std::nullopt;  // no moves: cannot happen
  d.reason = absl::StrCat(RangeName(largest->start(), largest->end()), " of group ",
                          largest->group(), " holds ", MiB(stats->approx_bytes()), ", over ",
                          MiB(split_range_bytes), ": splitting it in the middle of its data");
  return d;
}

namespace {

struct GroupBytes {
  uint64_t bytes = 0;
  std::vector<const proto::RangeInfo*> ranges;
};

// The bytes and ranges of every group with the default policy; nullopt when a range of one of
// them has no reported size.
std::optional<std::map<uint64_t, GroupBytes>> DefaultGroupBytes(const TopologyView& view) {
  const std::map<std::string, const proto::RangeStats*> sizes = ReportedSizes(view);
  std::map<uint64_t, GroupBytes> groups;
  for (const proto::GroupInfo* g : view.groups()) {
    if (IsDefaultPolicy(g->policy())) groups[g->id()];
  }
  for (const proto::RangeInfo& r : view.topology().ranges()) {
    const auto group = groups.find(r.group());
    if (group == groups.end()) continue;
    const auto size = sizes.find(r.start());
    if (size == sizes.end()) return std::nullopt;
    group->second.bytes += size->second->approx_bytes();
    group->second.ranges.push_back(&r);
  }
  return groups;
}

uint64_t SizeOf(const TopologyView& view, const proto::RangeInfo& range) {
  for (const proto::RangeStats& s : view.Group(range.group())->range_stats()) {
    if (s.start() == range.start()) return s.approx_bytes();
  }
  return 0;
}

Decision MoveTo(const proto::RangeInfo& range, uint64_t to_group, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::kStartMove;
  proto::MoveInfo* move = d.command.mutable_start_move()->mutable_move();
  move->set_kind(proto::MoveInfo::MOVE);
  move->set_start(range.start());
  move->set_end(range.end());
  move->set_from_group(range.group());
  move->set_to_group(to_group);
  d.reason = std::move(reason);
  return d;
}

}  // namespace

std::optional<Decision> PlanDataBalance(const proto::Topology& topology, uint64_t split_range_bytes,
                                        int zones_required) {
  if (split_range_bytes == 0 || !topology.moves().empty()) return std::nullopt;
  const TopologyView view(topology);
  const std::optional<std::map<uint64_t, GroupBytes>> groups = DefaultGroupBytes(view);
  if (!groups.has_value() || groups->empty()) return std::nullopt;
  // The heaviest (ties: lowest id), then the lightest other one (ties: lowest id).
  auto max = groups->begin();
  for (auto it = groups->begin(); it != groups->end(); ++it) {
    if (it->second.bytes > max->second.bytes) max = it;
  }
  auto min = groups->end();
  for (auto it = groups->begin(); it != groups->end(); ++it) {
    if (it != max && (min == groups->end() || it->second.bytes < min->second.bytes)) min = it;
  }
  const GroupBytes& heavy = max->second;
  const uint64_t light_bytes = min == groups->end() ? 0 : min->second.bytes;
  if (heavy.ranges.size() < 2 || heavy.bytes <= split_range_bytes ||
      heavy.bytes <= 2 * light_bytes) {
    return std::nullopt;
  }
  const proto::RangeInfo* smallest = nullptr;
  for (const proto::RangeInfo* r : heavy.ranges) {  // key order: ties go to the first
    const uint64_t bytes = SizeOf(view, *r);
    if (bytes > 0 && (smallest == nullptr || bytes < SizeOf(view, *smallest))) smallest = r;
  }
  if (smallest == nullptr) return std::nullopt;
  const std::string why =
      absl::StrCat("group ", max->first, " holds ", MiB(heavy.bytes), " in ", heavy.ranges.size(),
                   " ranges, more than twice the ", MiB(light_bytes), " of ",
                   min == groups->end() ? "any other group" : absl::StrCat("group ", min->first),
                   ": moving its smallest range ", RangeName(smallest->start(), smallest->end()),
                   " (", MiB(SizeOf(view, *smallest)), ")");
  if (min != groups->end() && min->second.ranges.empty()) {
    return MoveTo(*smallest, min->first, absl::StrCat(why, " to the empty group ", min->first));
  }
  int usable = 0;
  for (const proto::ServerInfo& s : topology.servers()) usable += view.Usable(s.id()) ? 1 : 0;
  if (topology.groups_size() < usable) {
    absl::StatusOr<std::vector<uint64_t>> replicas = PlanNewGroup(topology, zones_required);
    if (replicas.ok()) {
      Decision d = MoveTo(*smallest, 0,
                          absl::StrCat(why, " to a new group (", topology.groups_size(),
                                       " groups on ", usable, " usable servers)"));
      d.kind = Decision::Kind::kMoveToNewGroup;
      d.new_group = *std::move(replicas);
      return d;
    }
  }
  if (min == groups->end()) return std::nullopt;
  return MoveTo(*smallest, min->first, absl::StrCat(why, " to group ", min->first));
}

}  // namespace meridian::placement
