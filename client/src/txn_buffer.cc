#include "client/src/txn_buffer.h"

#include <utility>

namespace meridian::client {

std::optional<std::optional<std::string>> TxnBuffer::Lookup(const std::string& key) const {
  if (const auto it = writes_.find(key); it != writes_.end()) return it->second;
  if (const auto it = reads_.find(key); it != reads_.end()) return it->second;
  return std::nullopt;
}

void TxnBuffer::RecordRead(uint64_t group, const std::string& key,
                           std::optional<std::string> value) {
  reads_[key] = std::move(value);
  GroupWork& work = read_groups_[group];
  if (work.routing_key.empty()) work.routing_key = key;
  work.reads.push_back(key);
}

void TxnBuffer::RecordScan(uint64_t group, const std::string& routing_key, std::string start,
                           std::string end) {
  GroupWork& work = read_groups_[group];
  if (work.routing_key.empty()) work.routing_key = routing_key;
  work.read_ranges.emplace_back(std::move(start), std::move(end));
}

std::vector<std::pair<std::string, std::optional<std::string>>> TxnBuffer::WritesIn(
    const std::string& start, const std::string& end) const {
  std::vector<std::pair<std::string, std::optional<std::string>>> out;
  for (auto it = writes_.lower_bound(start); it != writes_.end(); ++it) {
    if (!end.empty() && it->first >= end) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

std::map<uint64_t, TxnBuffer::GroupWork> TxnBuffer::CommitPlan(
    const std::map<std::string, uint64_t>& group_of_write) const {
  std::map<uint64_t, GroupWork> plan = read_groups_;
  for (const auto& [key, value] : writes_) {
    const auto group = group_of_write.find(key);
    if (group == group_of_write.end()) continue;
    GroupWork& work = plan[group->second];
    if (work.routing_key.empty()) work.routing_key = key;
    work.writes.push_back(Mutation{key, value});
  }
  return plan;
}

uint64_t ChooseCoordinator(const std::map<uint64_t, TxnBuffer::GroupWork>& plan) {
  uint64_t best = plan.begin()->first;
  size_t most = plan.begin()->second.writes.size();
  for (const auto& [group, work] : plan) {
    if (work.writes.size() > most) {
      best = group;
      most = work.writes.size();
    }
  }
  return best;
}

}  // namespace meridian::client
