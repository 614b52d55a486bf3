// SimDisk: one node's simulated disk holding its Paxos log and hard state, in two layers. Writes
// land in the unsynced layer; Sync() makes them durable; Crash() loses whatever was not synced, as
// a power cut does (LevelDB's fault_injection_test does the same). Reads see both layers, as
// LogStorage requires.
//
// Seed: none drawn here (the node driver picks sync latencies). Faults: crash loses the unsynced
// layer. Checkers: none. Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_SIM_DISK_H_
#define MERIDIAN_TESTS_SIM_SIM_DISK_H_

#include <map>
#include <optional>
#include <vector>

#include "spanserver/paxos/log_storage.h"

namespace meridian::sim {

class SimDisk : public paxos::LogStorage {
 public:
  paxos::HardState LoadHardState() override;
  paxos::Index LastIndex() override;
  std::optional<paxos::Entry> Get(paxos::Index index) override;
  std::vector<paxos::Entry> Entries(paxos::Index lo, paxos::Index hi, size_t max_bytes) override;

  void WriteHardState(const paxos::HardState& hs) { unsynced_hard_ = hs; }
  void WriteEntry(const paxos::Entry& e) { unsynced_[e.index] = e; }
  bool HasUnsynced() const { return unsynced_hard_.has_value() || !unsynced_.empty(); }
  void Sync();
  void Crash();

 private:
  paxos::HardState hard_;
  std::map<paxos::Index, paxos::Entry> log_;
  std::optional<paxos::HardState> unsynced_hard_;
  std::map<paxos::Index, paxos::Entry> unsynced_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_SIM_DISK_H_
