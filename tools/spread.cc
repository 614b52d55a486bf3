// Spreading a workload's key ranges over groups (spread.h).
#include "tools/spread.h"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace meridian::tools {
namespace {

const RangeInfo* RangeOf(const Topology& topology, const std::string& key) {
  for (const RangeInfo& range : topology.ranges) {
    if (range.start <= key && (range.end.empty() || key < range.end)) return &range;
  }
  return nullptr;
}

uint64_t LeaderOf(const Topology& topology, uint64_t group) {
  for (const GroupInfo& g : topology.groups) {
    if (g.id == group) return g.leader;
  }
  return 0;
}

// Splits at every bound from `first` on that does not start a range yet, one at a time (splits
// of one range cannot overlap). Returns how many it made.
absl::StatusOr<int> SplitAt(Client& client, const std::vector<std::string>& bounds, size_t first,
                            absl::Duration timeout) {
  int splits = 0;
  for (size_t i = first; i < bounds.size(); ++i) {
    absl::StatusOr<Topology> topology = client.GetTopology();
    if (!topology.ok()) return topology.status();
    const RangeInfo* range = RangeOf(*topology, bounds[i]);
    if (range != nullptr && range->start == bounds[i]) continue;  // by an earlier run
    if (absl::StatusOr<RangeMove> split = client.SplitRange(bounds[i]); !split.ok()) {
      return split.status();
    }
    ++splits;
    if (absl::Status s = AwaitMoves(client, timeout); !s.ok()) return s;
  }
  return splits;
}

// The group each piece goes to (spread.h SpreadPieces).
absl::StatusOr<std::vector<uint64_t>> Targets(const Topology& topology,
                                              const std::vector<std::string>& bounds,
                                              const SpreadOptions& options) {
  const RangeInfo* first_range = RangeOf(topology, bounds[0]);
  const uint64_t first = options.keep_first && first_range != nullptr ? first_range->group : 0;
  std::vector<uint64_t> order;
  for (const uint64_t g : GroupsByLeader(topology, first)) {
    if (std::find(options.exclude_groups.begin(), options.exclude_groups.end(), g) ==
        options.exclude_groups.end()) {
      order.push_back(g);
    }
  }
  if (order.empty()) return absl::FailedPreconditionError("every group is excluded");
  const size_t pieces = bounds.size() - 1;
  std::vector<uint64_t> targets;
  size_t next = 0;
  if (first != 0) {
    targets.push_back(first);
    if (order[0] == first) next = 1;
  }
  while (targets.size() < pieces) targets.push_back(order[next++ % order.size()]);
  return targets;
}

}  // namespace

std::vector<uint64_t> GroupsByLeader(const Topology& topology, uint64_t first) {
  std::map<uint64_t, std::vector<uint64_t>> by_leader;  // server -> groups, by id
  std::vector<uint64_t> leaderless;
  std::vector<GroupInfo> groups = topology.groups;
  std::sort(groups.begin(), groups.end(),
            [](const GroupInfo& a, const GroupInfo& b) { return a.id < b.id; });
  for (const GroupInfo& g : groups) {
    (g.leader == 0 ? leaderless : by_leader[g.leader]).push_back(g.id);
  }
  std::vector<std::vector<uint64_t>> turns;  // one list per server, in the order they take turns
  for (auto& [server, list] : by_leader) {
    auto it = std::find(list.begin(), list.end(), first);
    if (it == list.end()) {
      turns.push_back(list);
      continue;
    }
    std::rotate(list.begin(), it, it + 1);  // `first` to the front of its server's list
    turns.insert(turns.begin(), list);
  }
  std::vector<uint64_t> order;
  for (size_t round = 0; order.size() + leaderless.size() < groups.size(); ++round) {
    for (const std::vector<uint64_t>& list : turns) {
      if (round < list.size()) order.push_back(list[round]);
    }
  }
  auto it = std::find(leaderless.begin(), leaderless.end(), first);
  if (it != leaderless.end()) {
    leaderless.erase(it);
    order.insert(order.begin(), first);
  }
  order.insert(order.end(), leaderless.begin(), leaderless.end());
  return order;
}

absl::Status PlaceRanges(Client& client, const std::vector<Placement>& plan,
                         absl::Duration move_timeout) {
  std::set<std::string> boundaries;
  for (const Placement& p : plan) {
    boundaries.insert(p.start);
    if (!p.end.empty()) boundaries.insert(p.end);
  }
  const std::vector<std::string> bounds(boundaries.begin(), boundaries.end());
  absl::StatusOr<int> splits = SplitAt(client, bounds, 0, move_timeout);
  if (!splits.ok()) return splits.status();
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  int moves = 0;
  for (const Placement& p : plan) {
    const RangeInfo* range = RangeOf(*topology, p.start);
    if (range != nullptr && range->group == p.group) continue;
    if (absl::StatusOr<RangeMove> move = client.MoveRange(p.start, p.group); !move.ok()) {
      return move.status();
    }
    if (absl::Status s = AwaitMoves(client, move_timeout); !s.ok()) return s;
    if (++moves % 10 == 0) {
      std::printf("placing ranges: %d moved\n", moves);
      std::fflush(stdout);
    }
  }
  std::printf("placing ranges: %zu ranges, %d split, %d moved\n", plan.size(), *splits, moves);
  std::fflush(stdout);
  return absl::OkStatus();
}

absl::Status AwaitMoves(Client& client, absl::Duration limit) {
  const absl::Time give_up = absl::Now() + limit;
  while (true) {
    absl::StatusOr<Topology> topology = client.GetTopology();
    if (topology.ok() && topology->moves.empty()) return absl::OkStatus();
    if (absl::Now() > give_up) {
      return absl::DeadlineExceededError(
          absl::StrCat("range moves and splits did not finish in ", absl::FormatDuration(limit),
                       topology.ok() ? "" : absl::StrCat(": ", topology.status().ToString())));
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

absl::StatusOr<SpreadResult> SpreadPieces(Client& client, const std::vector<std::string>& bounds,
                                          const SpreadOptions& options) {
  if (bounds.size() < 2) return absl::InvalidArgumentError("spreading needs at least two bounds");
  if (!std::is_sorted(bounds.begin(), bounds.end(), std::less_equal<>())) {
    return absl::InvalidArgumentError("the bounds to spread at must ascend");
  }
  SpreadResult result;
  absl::StatusOr<int> splits =
      SplitAt(client, bounds, options.keep_first ? 1 : 0, options.move_timeout);
  if (!splits.ok()) return splits.status();
  result.splits = *splits;
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  absl::StatusOr<std::vector<uint64_t>> targets = Targets(*topology, bounds, options);
  if (!targets.ok()) return targets.status();
  // Moves of distinct ranges run at once; each is recorded before the next starts.
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const RangeInfo* range = RangeOf(*topology, bounds[i]);
    if (range != nullptr && range->group == (*targets)[i]) continue;
    if (absl::StatusOr<RangeMove> move = client.MoveRange(bounds[i], (*targets)[i]); !move.ok()) {
      return move.status();
    }
    ++result.moves;
  }
  if (absl::Status s = AwaitMoves(client, options.move_timeout); !s.ok()) return s;
  topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    const RangeInfo* range = RangeOf(*topology, bounds[i]);
    const uint64_t group = range == nullptr ? 0 : range->group;
    result.pieces.push_back({bounds[i], group, LeaderOf(*topology, group)});
  }
  return result;
}

std::string DescribeLeaders(const SpreadResult& result, const std::string& noun,
                            int64_t first_number, const std::string& indent) {
  // server -> group -> piece numbers
  std::map<uint64_t, std::map<uint64_t, std::vector<int64_t>>> by_server;
  for (size_t i = 0; i < result.pieces.size(); ++i) {
    by_server[result.pieces[i].leader][result.pieces[i].group].push_back(first_number +
                                                                         static_cast<int64_t>(i));
  }
  std::vector<std::string> lines;
  for (const auto& [server, groups] : by_server) {
    std::vector<std::string> parts;
    size_t pieces = 0;
    for (const auto& [group, numbers] : groups) {
      parts.push_back(absl::StrCat(group, " (", noun, " ", absl::StrJoin(numbers, ", "), ")"));
      pieces += numbers.size();
    }
    lines.push_back(absl::StrCat(indent,
                                 server == 0 ? "no known leader" : absl::StrCat("server ", server),
                                 ": ", pieces, " of ", result.pieces.size(), " in group",
                                 groups.size() == 1 ? " " : "s ", absl::StrJoin(parts, ", ")));
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace meridian::tools
