// RangeMap: the simulator's range -> group map with generations, as placement keeps it
// (proto::RangeInfo): disjoint ranges [start, end) covering the key space, each owned by one data
// group at a generation that is bumped whenever its owner or bounds change. The transaction
// workloads keep three kinds of copies: the authoritative one (TxnCluster::map(), changed only by
// the mover's map switch), each simulated server's (lagging the authoritative one by a seeded
// delay, as a spanserver's routing table does; TxnNode's RangeGuard reads it), and each client's
// (refreshed from the authoritative one when a server refuses a key "stale map").
//
// Seed/faults: none (plain data). Checkers: none. Thread safety: a plain value.
#ifndef MERIDIAN_TESTS_SIM_RANGE_MAP_H_
#define MERIDIAN_TESTS_SIM_RANGE_MAP_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "spanserver/paxos/types.h"

namespace meridian::sim {

struct SimRange {
  std::string start;
  std::string end;  // empty: +infinity
  paxos::GroupId group = 0;
  uint64_t generation = 0;
};

class RangeMap {
 public:
  RangeMap() = default;
  // The bootstrap map: maximal runs of the keys (in key order) that share a group, each one
  // range at txn::kInitialRangeGeneration; the first starts at "" and the last ends at +inf.
  static RangeMap Initial(const std::map<std::string, paxos::GroupId>& key_groups);

  // The range holding `key`.
  const SimRange& Find(std::string_view key) const;
  paxos::GroupId GroupOf(std::string_view key) const { return Find(key).group; }
  // The generation of the range holding `key` when it is `group`'s, else 0 (what
  // RoutingTable::GroupGeneration answers).
  uint64_t GroupGeneration(paxos::GroupId group, std::string_view key) const;
  uint64_t MaxGeneration() const;
  const std::vector<SimRange>& ranges() const { return ranges_; }
  // Counts the changes: a copy with a higher version is newer.
  uint64_t version() const { return version_; }

  // The map switch of a finished move: the range [start, end) belongs to `to` at `generation`.
  // False (nothing changes) when no range has exactly those bounds.
  bool Move(const std::string& start, const std::string& end, paxos::GroupId to,
            uint64_t generation);
  // The map switch of a split of [start, end) at `key`: two ranges at `generation`.
  bool Split(const std::string& start, const std::string& end, const std::string& key,
             uint64_t generation);

  // "[\"\",k3)g1@1 [k3,+inf)g2@4" for traces.
  std::string ToString() const;

 private:
  // The index of the range with exactly these bounds, or -1.
  int IndexOf(const std::string& start, const std::string& end) const;

  std::vector<SimRange> ranges_;  // by start
  uint64_t version_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_RANGE_MAP_H_
