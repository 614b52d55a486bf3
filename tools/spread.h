// Placing key ranges on chosen Paxos groups through placement's admin calls (Client::SplitRange,
// Client::MoveRange), for the workloads that spread their tables over a cluster.
#ifndef MERIDIAN_TOOLS_SPREAD_H_
#define MERIDIAN_TOOLS_SPREAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "meridian/client.h"

namespace meridian::tools {

// Keys [start, end) to be served by `group`.
struct Placement {
  std::string start;
  std::string end;
  uint64_t group = 0;
};

// Waits until placement has no move or split in progress (at most `limit`).
absl::Status AwaitMoves(Client& client, absl::Duration limit);

// The group of the range that holds `key` (0 when no range does: a topology being changed), and
// whether that range starts exactly at `key`.
uint64_t GroupOf(const Topology& topology, const std::string& key, bool* starts_at_key = nullptr);

// Makes every placement's start and end a range boundary (splitting where they are not) and
// moves each [start, end) that is not on its group there, one split or move at a time, printing
// progress. Placements must not overlap. Idempotent.
absl::Status PlaceRanges(Client& client, const std::vector<Placement>& plan);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_SPREAD_H_
