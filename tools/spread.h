// Placing a workload's data over a cluster's groups, the one helper every workload uses for it
// (append --sql spreads its table in three pieces, tpcb one branch per piece, TPC-C warehouses):
// split the key space at given keys with Client::SplitRange and move the pieces with
// Client::MoveRange so that they spread evenly over the groups — and over the servers that lead
// those groups, since a group's reads, locks and commits are its leader's work: two groups led by
// one server load that server as one group would.
//
// Thread safety: the functions are as safe as the Client (thread-safe); they change the
// cluster's map, so two of them must not spread overlapping keys at once.
#ifndef MERIDIAN_TOOLS_SPREAD_H_
#define MERIDIAN_TOOLS_SPREAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "meridian/client.h"

namespace meridian::tools {

// The groups of `topology` in the order pieces take them: round robin over the servers that lead
// them (servers by id; each server's groups by id), groups with no known leader last. So k
// consecutive groups of the order have leaders on min(k, servers) distinct servers as far as the
// groups allow. `first`, when one of the groups, is moved to the front (its server's turn comes
// first). Pure.
std::vector<uint64_t> GroupsByLeader(const Topology& topology, uint64_t first = 0);

struct SpreadOptions {
  // Groups that take no piece (e.g. a database catalog's, which every transaction touches).
  // Piece 0 stays where it is even there when keep_first.
  std::vector<uint64_t> exclude_groups;
  // Piece 0 stays in the group that holds bounds[0] (no move; the order starts there), so what
  // precedes it (a table's catalog) stays with it. Otherwise it is placed as the others are.
  bool keep_first = true;
  // For each split and each move to finish.
  absl::Duration move_timeout = absl::Minutes(2);
};

// Where the pieces ended up.
struct SpreadResult {
  struct Piece {
    std::string start;
    uint64_t group = 0;
    uint64_t leader = 0;  // server id; 0 when unknown
  };
  std::vector<Piece> pieces;
  int splits = 0;  // splits made (a bound that was a range start already needs none)
  int moves = 0;   // moves made (a piece already in its group needs none)
};

// Splits the key space at each of `bounds` (ascending, distinct; bounds[0] too unless
// options.keep_first) and places piece i = [bounds[i], bounds[i + 1]) (i < bounds.size() - 1)
// in the i-th group of GroupsByLeader (cycling; without the excluded groups), waiting until every
// split and move has finished. Keys outside [bounds[0], bounds.back()) stay where they are.
// Idempotent: run again, it finds the splits and moves done. INVALID_ARGUMENT for fewer than
// two bounds or bounds out of order; FAILED_PRECONDITION when every group is excluded;
// DEADLINE_EXCEEDED when a split or move did not finish in options.move_timeout; the Client's
// errors otherwise (the pieces placed by then stay placed).
absl::StatusOr<SpreadResult> SpreadPieces(Client& client, const std::vector<std::string>& bounds,
                                          const SpreadOptions& options = {});

// Keys [start, end) to be served by `group`.
struct Placement {
  std::string start;
  std::string end;
  uint64_t group = 0;
};

// For data laid out in several key regions that must share groups piece by piece (TPC-C's
// warehouses: a warehouse's rows and its entries of two indexes): makes every placement's start
// and end a range boundary, then moves each [start, end) that is not on its group there, waiting
// for each split and move. Placements must not overlap. Idempotent; errors as SpreadPieces'.
absl::Status PlaceRanges(Client& client, const std::vector<Placement>& plan,
                         absl::Duration move_timeout = absl::Minutes(2));

// Waits until placement has no move or split in progress (at most `limit`).
absl::Status AwaitMoves(Client& client, absl::Duration limit);

// Where the pieces' leaders are, one line per server, each prefixed with `indent`:
//   "server 1: 4 of 10 in groups 3 (branch 1, 4), 5 (branch 2, 7)"
// — pieces named `noun` and numbered from `first_number` in bounds order.
std::string DescribeLeaders(const SpreadResult& result, const std::string& noun,
                            int64_t first_number, const std::string& indent);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_SPREAD_H_
