// RangeMap implementation; see range_map.h.
#include "tests/sim/range_map.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "txn/ownership.h"

namespace meridian::sim {

RangeMap RangeMap::Initial(const std::map<std::string, paxos::GroupId>& key_groups) {
  CHECK(!key_groups.empty());
  RangeMap map;
  for (const auto& [key, group] : key_groups) {
    if (!map.ranges_.empty() && map.ranges_.back().group == group) continue;
    if (!map.ranges_.empty()) map.ranges_.back().end = key;
    map.ranges_.push_back(
        SimRange{map.ranges_.empty() ? "" : key, "", group, txn::kInitialRangeGeneration});
  }
  return map;
}

const SimRange& RangeMap::Find(std::string_view key) const {
  CHECK(!ranges_.empty());
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), key,
                             [](std::string_view k, const SimRange& r) { return k < r.start; });
  CHECK(it != ranges_.begin());
  return *std::prev(it);
}

uint64_t RangeMap::GroupGeneration(paxos::GroupId group, std::string_view key) const {
  const SimRange& r = Find(key);
  return r.group == group ? r.generation : 0;
}

uint64_t RangeMap::MaxGeneration() const {
  uint64_t max = 0;
  for (const SimRange& r : ranges_) max = std::max(max, r.generation);
  return max;
}

int RangeMap::IndexOf(const std::string& start, const std::string& end) const {
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (ranges_[i].start == start && ranges_[i].end == end) return static_cast<int>(i);
  }
  return -1;
}

bool RangeMap::Move(const std::string& start, const std::string& end, paxos::GroupId to,
                    uint64_t generation) {
  const int i = IndexOf(start, end);
  if (i < 0) return false;
  ranges_[i].group = to;
  ranges_[i].generation = generation;
  ++version_;
  return true;
}

bool RangeMap::Split(const std::string& start, const std::string& end, const std::string& key,
                     uint64_t generation) {
  const int i = IndexOf(start, end);
  if (i < 0 || key <= start || (!end.empty() && key >= end)) return false;
  SimRange upper = ranges_[i];
  upper.start = key;
  upper.generation = generation;
  ranges_[i].end = key;
  ranges_[i].generation = generation;
  ranges_.insert(ranges_.begin() + i + 1, std::move(upper));
  ++version_;
  return true;
}

std::string RangeMap::ToString() const {
  std::string out;
  for (const SimRange& r : ranges_) {
    absl::StrAppend(&out, out.empty() ? "" : " ", "[", r.start, ",", r.end.empty() ? "+inf" : r.end,
                    ")g", r.group, "@", r.generation);
  }
  return out;
}

}  // namespace meridian::sim
