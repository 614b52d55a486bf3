// RangeStatsCache implementation; see range_stats.h.
#include "spanserver/server/range_stats.h"

#include <utility>

#include "spanserver/storage/engine.h"

namespace meridian::spanserver {
namespace {

bool SameRanges(const std::vector<RangeEntry>& a, const std::vector<RangeEntry>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].start != b[i].start || a[i].end != b[i].end || a[i].generation != b[i].generation) {
      return false;
    }
  }
  return true;
}

}  // namespace

void RangeStatsCache::Fill(uint64_t group, const std::vector<RangeEntry>& ranges,
                           proto::GroupReport* report) {
  Entry& e = groups_[group];
  if (e.stats.empty() || ++e.age >= refresh_every_ || !SameRanges(e.ranges, ranges)) {
    e.ranges = ranges;
    e.age = 0;
    e.stats.clear();
    for (const RangeEntry& range : ranges) {
      absl::StatusOr<storage::Engine::RangeSize> size =
          engine_->MeasureRange(group, range.start, range.end, kSplitKeyMinBytes);
      if (!size.ok()) continue;  // measured again next time; sizes are advisory
      proto::RangeStats& s = e.stats.emplace_back();
      s.set_start(range.start);
      s.set_approx_bytes(size->bytes);
      if (size->middle_key.has_value()) s.set_split_key(*std::move(size->middle_key));
    }
  }
  for (const proto::RangeStats& s : e.stats) *report->add_ranges() = s;
}

}  // namespace meridian::spanserver
