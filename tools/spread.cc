#include "tools/spread.h"

#include <cstdio>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"

namespace meridian::tools {
namespace {

constexpr absl::Duration kStepLimit = absl::Minutes(2);

}  // namespace

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
    absl::SleepFor(absl::Milliseconds(100));
  }
}

uint64_t GroupOf(const Topology& topology, const std::string& key, bool* starts_at_key) {
  for (const RangeInfo& range : topology.ranges) {
    if (range.start <= key && (range.end.empty() || key < range.end)) {
      if (starts_at_key != nullptr) *starts_at_key = range.start == key;
      return range.group;
    }
  }
  return 0;
}

absl::Status PlaceRanges(Client& client, const std::vector<Placement>& plan) {
  std::set<std::string> boundaries;
  for (const Placement& p : plan) {
    boundaries.insert(p.start);
    if (!p.end.empty()) boundaries.insert(p.end);
  }
  ASSIGN_OR_RETURN(Topology topology, client.GetTopology());
  int splits = 0;
  for (const std::string& key : boundaries) {
    bool split_already = false;
    GroupOf(topology, key, &split_already);
    if (split_already) continue;
    RETURN_IF_ERROR(client.SplitRange(key).status());
    RETURN_IF_ERROR(AwaitMoves(client, kStepLimit));
    ++splits;
  }
  ASSIGN_OR_RETURN(topology, client.GetTopology());
  int moves = 0;
  for (const Placement& p : plan) {
    if (GroupOf(topology, p.start) == p.group) continue;
    RETURN_IF_ERROR(client.MoveRange(p.start, p.group).status());
    RETURN_IF_ERROR(AwaitMoves(client, kStepLimit));
    if (++moves % 10 == 0) {
      std::printf("placing ranges: %d moved\n", moves);
      std::fflush(stdout);
    }
  }
  std::printf("placing ranges: %zu ranges, %d split, %d moved\n", plan.size(), splits, moves);
  std::fflush(stdout);
  return absl::OkStatus();
}

}  // namespace meridian::tools
