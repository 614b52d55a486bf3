#include "client/src/location_cache.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meridian/client.h"

namespace meridian::client {
namespace {

// True when [a_start, a_end) and [b_start, b_end) share a key (empty end = +infinity).
bool Overlaps(const std::string& a_start, const std::string& a_end, const std::string& b_start,
              const std::string& b_end) {
  const bool a_before_b_ends = b_end.empty() || a_start < b_end;
  const bool b_before_a_ends = a_end.empty() || b_start < a_end;
  return a_before_b_ends && b_before_a_ends;
}

}  // namespace

std::map<std::string, LocationCache::Range>::const_iterator LocationCache::Find(
    const std::string& key) const {
  auto it = ranges_.upper_bound(key);
  if (it == ranges_.begin()) return ranges_.end();
  --it;
  if (!it->second.end.empty() && key >= it->second.end) return ranges_.end();
  return it;
}

std::optional<Location> LocationCache::Lookup(const std::string& key) const {
  const auto it = Find(key);
  if (it == ranges_.end()) return std::nullopt;
  Location location;
  location.start = it->first;
  location.end = it->second.end;
  location.group = it->second.group;
  location.generation = it->second.generation;
  if (const auto group = groups_.find(it->second.group); group != groups_.end()) {
    location.replica_addresses = group->second.replica_addresses;
    location.leader_address = group->second.leader_address;
  }
  return location;
}

void LocationCache::Update(const Location& location) {
  std::vector<std::string> overlapping;
  // Every range starting before location.end may overlap; ranges are disjoint, so only the one
  // before location.start can start earlier and still overlap.
  auto it = ranges_.upper_bound(location.start);
  if (it != ranges_.begin()) --it;
  for (; it != ranges_.end(); ++it) {
    if (!location.end.empty() && it->first >= location.end) break;
    if (!Overlaps(it->first, it->second.end, location.start, location.end)) continue;
    if (it->second.generation > location.generation) return;
    overlapping.push_back(it->first);
  }
  for (const std::string& start : overlapping) ranges_.erase(start);
  ranges_[location.start] = Range{location.end, location.group, location.generation};
  groups_[location.group] = Group{location.replica_addresses, location.leader_address};
}

void LocationCache::ReplaceAll(const std::vector<Location>& locations) {
  ranges_.clear();
  groups_.clear();
  for (const Location& location : locations) Update(location);
}

void LocationCache::Invalidate(const std::string& key) {
  const auto it = Find(key);
  if (it != ranges_.end()) ranges_.erase(it);
}

void LocationCache::SetLeader(uint64_t group, const std::string& address) {
  const auto it = groups_.find(group);
  if (it != groups_.end()) it->second.leader_address = address;
}

void LocationCache::ForgetLeader(uint64_t group, const std::string& address) {
  const auto it = groups_.find(group);
  if (it != groups_.end() && it->second.leader_address == address) {
    it->second.leader_address.clear();
  }
}

std::string LocationCache::DebugString() const {
  std::string out;
  for (const auto& [start, range] : ranges_) {
    const auto group = groups_.find(range.group);
    absl::StrAppend(&out, "[", EscapeBytes(start), ", ", EscapeBytes(range.end),
                    ") g=", range.group, " gen=", range.generation);
    if (group != groups_.end()) {
      absl::StrAppend(&out, " leader=", group->second.leader_address,
                      " replicas=", absl::StrJoin(group->second.replica_addresses, ","));
    }
    absl::StrAppend(&out, "\n");
  }
  return out;
}

}  // namespace meridian::client
