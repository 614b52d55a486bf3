#include "spanserver/paxos/log_storage.h"

namespace meridian::paxos {

Index MemoryLogStorage::LastIndex() {
  for (size_t i = slots_.size(); i > 0; --i) {
    if (slots_[i - 1].has_value()) return i;
  }
  return 0;
}

void MemoryLogStorage::Compact(Index upto) {
  if (upto <= compacted_) return;
  for (Index i = compacted_ + 1; i <= upto; ++i) Erase(i);
  compacted_ = upto;
}

std::optional<Entry> MemoryLogStorage::Get(Index index) {
  if (index == 0 || index > slots_.size()) return std::nullopt;
  return slots_[index - 1];
}

std::vector<Entry> MemoryLogStorage::Entries(Index lo, Index hi, size_t max_bytes) {
  std::vector<Entry> out;
  size_t bytes = 0;
  for (Index i = std::max<Index>(lo, 1); i <= hi && i <= slots_.size(); ++i) {
    if (!slots_[i - 1].has_value()) continue;
    if (!out.empty() && bytes + slots_[i - 1]->command.size() > max_bytes) break;
    bytes += slots_[i - 1]->command.size();
    out.push_back(*slots_[i - 1]);
  }
  return out;
}

void MemoryLogStorage::Put(const Entry& entry) {
  if (entry.index > slots_.size()) slots_.resize(entry.index);
  slots_[entry.index - 1] = entry;
}

void MemoryLogStorage::Erase(Index index) {
  if (index >= 1 && index <= slots_.size()) slots_[index - 1].reset();
}

}  // namespace meridian::paxos
