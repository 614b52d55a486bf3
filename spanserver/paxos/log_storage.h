// LogStorage: how a paxos::Replica reads its own durable log and hard state.
//
// The replica never writes through this interface: it hands entries and hard state to the
// application in Ready(), and the application writes them (to LevelDB through
// storage::PaxosLogStorage, or to the simulator's disk) before calling Advance(). Reads must
// see every write the application has made, synced or not. A failed read is a broken disk:
// implementations CHECK-fail rather than return wrong data (fail-stop, as etcd's raft does).
// Thread safety: called only from the thread that drives the replica.
#ifndef MERIDIAN_SPANSERVER_PAXOS_LOG_STORAGE_H_
#define MERIDIAN_SPANSERVER_PAXOS_LOG_STORAGE_H_

#include <optional>
#include <vector>

#include "spanserver/paxos/types.h"

namespace meridian::paxos {

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // The hard state saved last, or a default HardState when none was ever saved.
  virtual HardState LoadHardState() = 0;
  // The highest slot holding an entry, or 0.
  virtual Index LastIndex() = 0;
  // The highest slot removed by compaction, or 0: every slot at or below it is chosen and covered
  // by the state machine's durable checkpoint, and no longer stored.
  virtual Index Compacted() = 0;
  // The entry in `index`, or nullopt for a hole.
  virtual std::optional<Entry> Get(Index index) = 0;
  // The entries in [lo, hi] in slot order (holes skipped), stopping once `max_bytes` of commands
  // are returned (always at least one entry when there is one).
  virtual std::vector<Entry> Entries(Index lo, Index hi, size_t max_bytes) = 0;
};

// A LogStorage in memory, for tests, benchmarks and the interaction harness. Not thread-safe.
class MemoryLogStorage : public LogStorage {
 public:
  HardState LoadHardState() override { return hard_state_; }
  Index LastIndex() override;
  Index Compacted() override { return compacted_; }
  std::optional<Entry> Get(Index index) override;
  std::vector<Entry> Entries(Index lo, Index hi, size_t max_bytes) override;

  // What the application calls to persist a Ready.
  void SaveHardState(const HardState& hs) { hard_state_ = hs; }
  void Put(const Entry& entry);
  void Erase(Index index);
  // Removes every slot at or below `upto` and remembers it as the compaction point.
  void Compact(Index upto);

 private:
  HardState hard_state_;
  Index compacted_ = 0;
  std::vector<std::optional<Entry>> slots_;  // slots_[i] holds slot i + 1
};

}  // namespace meridian::paxos

#endif  // MERIDIAN_SPANSERVER_PAXOS_LOG_STORAGE_H_
