// SimDisk: one node's simulated disk holding its Paxos log and hard state, in two layers, and the
// replica's marker (paxos/replica_marker.h). Writes land in the unsynced layer; Sync() makes them
// durable; Crash() loses whatever was not synced, as a power cut does (LevelDB's
// fault_injection_test does the same). Reads see both layers, as LogStorage requires. The marker
// is written synced, straight to the durable layer, before the replica first starts.
//
// Seed: none drawn here (the node driver picks sync latencies). Faults: crash loses the unsynced
// layer; Wipe() loses everything (log, hard state, marker, unsynced layer), as a replaced or
// reformatted disk does. Checkers: none. Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_SIM_DISK_H_
#define MERIDIAN_TESTS_SIM_SIM_DISK_H_

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica_marker.h"

namespace meridian::sim {

class SimDisk : public paxos::LogStorage {
 public:
  paxos::HardState LoadHardState() override;
  paxos::Index LastIndex() override;
  paxos::Index Compacted() override { return std::max(compacted_, unsynced_compacted_); }
  std::optional<paxos::Entry> Get(paxos::Index index) override;
  std::vector<paxos::Entry> Entries(paxos::Index lo, paxos::Index hi, size_t max_bytes) override;

  void WriteHardState(const paxos::HardState& hs) { unsynced_hard_ = hs; }
  void WriteEntry(const paxos::Entry& e) { unsynced_[e.index] = e; }
  // Removes every slot at or below `upto` (unsynced, like the other writes).
  void WriteCompaction(paxos::Index upto);
  bool HasUnsynced() const {
    return unsynced_hard_.has_value() || !unsynced_.empty() || unsynced_compacted_ > compacted_;
  }
  void Sync();
  void Crash();
  void Wipe();

  // Durable at once (a synced write).
  void WriteMarker(const paxos::ReplicaMarker& marker) { marker_ = marker; }
  const std::optional<paxos::ReplicaMarker>& marker() const { return marker_; }
  // Any Paxos state, synced or not: log entries or a hard state other than the initial one.
  bool HasState();

 private:
  std::optional<paxos::ReplicaMarker> marker_;
  paxos::HardState hard_;
  std::map<paxos::Index, paxos::Entry> log_;
  std::optional<paxos::HardState> unsynced_hard_;
  std::map<paxos::Index, paxos::Entry> unsynced_;
  paxos::Index compacted_ = 0;
  paxos::Index unsynced_compacted_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_SIM_DISK_H_
