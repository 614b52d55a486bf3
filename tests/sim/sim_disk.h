// SimDisk: one node's simulated disk holding its Paxos log and hard state, in two layers, the
// replica's marker (paxos/replica_marker.h), the state machine's checkpoint (the log's compaction
// point never passes it) and a snapshot install's record. Writes land in the unsynced layer;
// Sync() makes them durable; Crash() loses whatever was not synced, as a power cut does (LevelDB's
// fault_injection_test does the same). Reads see both layers, as LogStorage requires. The marker
// is written synced, straight to the durable layer, before the replica first starts. A snapshot
// install is two synced writes, as the server's (replication/snapshot.h): BeginInstall records
// that the state machine's data is being replaced; FinishInstall writes the snapshot as the
// checkpoint, compacts the log through it and clears the record. A restart that finds the record
// discards the checkpoint (DiscardInstall): the data it described is gone.
//
// Seed: none drawn here (the node driver picks sync latencies). Faults: crash loses the unsynced
// layer; Wipe() loses everything (log, hard state, marker, checkpoint, install record, unsynced
// layer), as a replaced or reformatted disk does. Checkers: none. Thread safety: none; the
// EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_SIM_DISK_H_
#define MERIDIAN_TESTS_SIM_SIM_DISK_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica_marker.h"

namespace meridian::sim {

// A state machine's replicated state through an applied index: what a checkpoint holds and a
// snapshot carries.
struct SimState {
  paxos::Index index = 0;
  uint64_t log_digest = 0;  // LogDigest (history.h) of the entries 1..index the state reflects
  std::string image;        // the state machine's checkpoint image
  std::string data;         // its data (the store a checkpoint image does not hold)
  // A served snapshot's: the configuration committed at slot config_index <= index, which the
  // installing replica takes on (a checkpoint leaves them empty: the hard state holds its own).
  paxos::Config config;
  paxos::Index config_index = 0;
};

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
  // The state machine's checkpoint (unsynced, like the other writes).
  void WriteCheckpoint(SimState state) { unsynced_checkpoint_ = std::move(state); }
  // The newest checkpoint written, synced or not.
  const std::optional<SimState>& checkpoint() const {
    return unsynced_checkpoint_ ? unsynced_checkpoint_ : checkpoint_;
  }
  bool HasUnsynced() const {
    return unsynced_hard_.has_value() || !unsynced_.empty() || unsynced_compacted_ > compacted_ ||
           unsynced_checkpoint_.has_value();
  }
  void Sync();
  void Crash();
  void Wipe();

  // A snapshot install (see above); each is a synced write, so everything written before it is
  // durable too.
  void BeginInstall();
  void FinishInstall(SimState state);
  bool install_record() const { return install_record_; }
  // At start, after an install was cut short: the checkpoint and the record go (synced).
  void DiscardInstall();

  // Durable at once (a synced write).
  void WriteMarker(const paxos::ReplicaMarker& marker) { marker_ = marker; }
  const std::optional<paxos::ReplicaMarker>& marker() const { return marker_; }
  // Any state, synced or not: log entries, a compaction point or checkpoint, or a hard state
  // other than the initial one.
  bool HasState();

 private:
  std::optional<paxos::ReplicaMarker> marker_;
  paxos::HardState hard_;
  std::map<paxos::Index, paxos::Entry> log_;
  std::optional<paxos::HardState> unsynced_hard_;
  std::map<paxos::Index, paxos::Entry> unsynced_;
  paxos::Index compacted_ = 0;
  paxos::Index unsynced_compacted_ = 0;
  std::optional<SimState> checkpoint_;
  std::optional<SimState> unsynced_checkpoint_;
  bool install_record_ = false;  // durable
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_SIM_DISK_H_
