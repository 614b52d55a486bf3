// SimDisk implementation; see sim_disk.h.
//
// Seed: none. Faults: Crash() drops the unsynced layer; Wipe() drops everything. Checkers: none.
#include "tests/sim/sim_disk.h"

#include <algorithm>

namespace meridian::sim {

paxos::HardState SimDisk::LoadHardState() { return unsynced_hard_ ? *unsynced_hard_ : hard_; }

paxos::Index SimDisk::LastIndex() {
  paxos::Index last = log_.empty() ? 0 : log_.rbegin()->first;
  if (!unsynced_.empty()) last = std::max(last, unsynced_.rbegin()->first);
  return last;
}

std::optional<paxos::Entry> SimDisk::Get(paxos::Index index) {
  if (index <= Compacted()) return std::nullopt;
  if (auto it = unsynced_.find(index); it != unsynced_.end()) return it->second;
  if (auto it = log_.find(index); it != log_.end()) return it->second;
  return std::nullopt;
}

std::vector<paxos::Entry> SimDisk::Entries(paxos::Index lo, paxos::Index hi, size_t max_bytes) {
  std::vector<paxos::Entry> out;
  size_t bytes = 0;
  lo = std::max(lo, Compacted() + 1);
  auto a = log_.lower_bound(lo);
  auto b = unsynced_.lower_bound(lo);
  while (true) {
    const paxos::Entry* next = nullptr;
    const bool a_ok = a != log_.end() && a->first <= hi;
    const bool b_ok = b != unsynced_.end() && b->first <= hi;
    if (!a_ok && !b_ok) break;
    if (b_ok && (!a_ok || b->first <= a->first)) {
      if (a_ok && a->first == b->first) ++a;  // the unsynced write shadows the synced one
      next = &b->second;
      ++b;
    } else {
      next = &a->second;
      ++a;
    }
    if (!out.empty() && bytes + next->command.size() > max_bytes) break;
    bytes += next->command.size();
    out.push_back(*next);
  }
  return out;
}

void SimDisk::WriteCompaction(paxos::Index upto) {
  unsynced_compacted_ = std::max(unsynced_compacted_, upto);
  unsynced_.erase(unsynced_.begin(), unsynced_.upper_bound(upto));
}

void SimDisk::Sync() {
  if (unsynced_hard_) hard_ = *unsynced_hard_;
  for (auto& [i, e] : unsynced_) log_[i] = std::move(e);
  compacted_ = std::max(compacted_, unsynced_compacted_);
  log_.erase(log_.begin(), log_.upper_bound(compacted_));
  if (unsynced_checkpoint_) checkpoint_ = std::move(unsynced_checkpoint_);
  unsynced_hard_.reset();
  unsynced_.clear();
  unsynced_checkpoint_.reset();
}

void SimDisk::Crash() {
  unsynced_hard_.reset();
  unsynced_.clear();
  unsynced_compacted_ = compacted_;
  unsynced_checkpoint_.reset();
}

void SimDisk::Wipe() {
  Crash();
  marker_.reset();
  hard_ = paxos::HardState{};
  log_.clear();
  compacted_ = 0;
  unsynced_compacted_ = 0;
  checkpoint_.reset();
  install_record_ = false;
}

void SimDisk::BeginInstall() {
  Sync();
  install_record_ = true;
}

void SimDisk::FinishInstall(SimState state) {
  WriteCompaction(state.index);
  WriteCheckpoint(std::move(state));
  Sync();
  install_record_ = false;
}

void SimDisk::DiscardInstall() {
  Sync();
  checkpoint_.reset();
  install_record_ = false;
}

bool SimDisk::HasState() {
  return LastIndex() > 0 || Compacted() > 0 || checkpoint().has_value() ||
         !(LoadHardState() == paxos::HardState{});
}

}  // namespace meridian::sim
