#include "spanserver/server/routing_table.h"

#include <algorithm>

namespace meridian::spanserver {

void RoutingTable::SetIdentity(ServerIdentity identity) {
  absl::MutexLock lock(&mu_);
  identity_ = std::move(identity);
}

ServerIdentity RoutingTable::identity() const {
  absl::MutexLock lock(&mu_);
  return identity_;
}

void RoutingTable::SetTopology(std::vector<RangeEntry> ranges,
                               std::map<uint64_t, std::string> addresses) {
  absl::MutexLock lock(&mu_);
  ranges_ = std::move(ranges);
  addresses_ = std::move(addresses);
}

std::optional<RangeEntry> RoutingTable::FindRange(uint64_t group, uint64_t generation,
                                                  std::string_view key) const {
  absl::MutexLock lock(&mu_);
  const RangeEntry* found = nullptr;
  for (const RangeEntry& range : ranges_) {
    if (range.group != group) continue;
    if (key.empty() ? (found == nullptr || range.start < found->start) : range.Contains(key)) {
      found = &range;
    }
  }
  if (found == nullptr || found->generation != generation) return std::nullopt;
  return *found;
}

std::vector<RangeEntry> RoutingTable::RangesOf(uint64_t group) const {
  absl::MutexLock lock(&mu_);
  std::vector<RangeEntry> out;
  for (const RangeEntry& range : ranges_) {
    if (range.group == group) out.push_back(range);
  }
  std::sort(out.begin(), out.end(),
            [](const RangeEntry& a, const RangeEntry& b) { return a.start < b.start; });
  return out;
}

uint64_t RoutingTable::GroupGeneration(uint64_t group, std::string_view key) const {
  absl::MutexLock lock(&mu_);
  for (const RangeEntry& range : ranges_) {
    if (range.Contains(key)) return range.group == group ? range.generation : 0;
  }
  return 0;
}

std::string RoutingTable::AddressOf(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = addresses_.find(id);
  return it == addresses_.end() ? std::string() : it->second;
}

void RoutingTable::AddHost(uint64_t group, std::shared_ptr<replication::GroupHost> host) {
  absl::MutexLock lock(&mu_);
  hosts_[group] = std::move(host);
}

void RoutingTable::RemoveHost(uint64_t group) {
  absl::MutexLock lock(&mu_);
  hosts_.erase(group);
}

std::shared_ptr<replication::GroupHost> RoutingTable::FindHost(uint64_t group) const {
  absl::MutexLock lock(&mu_);
  auto it = hosts_.find(group);
  return it == hosts_.end() ? nullptr : it->second;
}

std::vector<std::pair<uint64_t, std::shared_ptr<replication::GroupHost>>> RoutingTable::Hosts()
    const {
  absl::MutexLock lock(&mu_);
  return {hosts_.begin(), hosts_.end()};
}

std::vector<std::shared_ptr<replication::GroupHost>> RoutingTable::TakeHosts() {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<replication::GroupHost>> hosts;
  for (auto& [group, host] : hosts_) hosts.push_back(std::move(host));
  hosts_.clear();
  return hosts;
}

}  // namespace meridian::spanserver
