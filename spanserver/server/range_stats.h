// RangeStatsCache: the sizes of the ranges of the groups this server leads, for its heartbeats
// (proto::GroupReport.ranges), from which placement splits ranges that grew too large. Each
// range is measured (storage::Engine::MeasureRange: LevelDB's approximate sizes, and a split
// key once it holds at least kSplitKeyMinBytes) again only every refresh_every calls or when the
// group's ranges changed, so that a heartbeat costs a few index lookups at most.
//
// Thread safety: none; the heartbeat thread owns it.
#ifndef MERIDIAN_SPANSERVER_SERVER_RANGE_STATS_H_
#define MERIDIAN_SPANSERVER_SERVER_RANGE_STATS_H_

#include <cstdint>
#include <map>
#include <vector>

#include "proto/placement.pb.h"
#include "spanserver/server/routing_table.h"

namespace meridian {
namespace storage {
class Engine;
}  // namespace storage

namespace spanserver {

inline constexpr uint64_t kSplitKeyMinBytes = 1 << 20;

class RangeStatsCache {
 public:
  // `engine` must outlive the cache.
  RangeStatsCache(storage::Engine* engine, int refresh_every)
      : engine_(engine), refresh_every_(refresh_every) {}

  // Adds the stats of `ranges` (the group's ranges in the server's map) to `report`.
  void Fill(uint64_t group, const std::vector<RangeEntry>& ranges, proto::GroupReport* report);

 private:
  struct Entry {
    std::vector<RangeEntry> ranges;  // as measured
    std::vector<proto::RangeStats> stats;
    int age = 0;  // calls since measured
  };
  storage::Engine* const engine_;
  const int refresh_every_;
  std::map<uint64_t, Entry> groups_;
};

}  // namespace spanserver
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_SERVER_RANGE_STATS_H_
