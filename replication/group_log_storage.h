// GroupLogStorage: one Paxos group's LogStorage over the server's storage::PaxosLog, and the
// writes that persist a Ready into a PaxosLogBatch.
//
// Reads go straight to the PaxosLog; a read error or a malformed record is a broken disk and
// CHECK-fails the process (fail-stop: a replica must never act on a log it cannot read). Writes
// are the application's: AddToBatch() puts a Ready's hard state and entries into a batch that the
// application writes (through the GroupCommitWriter, with sync) before it sends
// Ready::messages_after_persist and calls Replica::Advance().
// Thread safety: as LogStorage, one thread (the group's strand) at a time.
#ifndef MERIDIAN_REPLICATION_GROUP_LOG_STORAGE_H_
#define MERIDIAN_REPLICATION_GROUP_LOG_STORAGE_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/paxos_log.h"

namespace meridian::replication {

class GroupLogStorage : public paxos::LogStorage {
 public:
  // `log` must outlive this object.
  GroupLogStorage(storage::PaxosLog* log, paxos::GroupId group) : log_(log), group_(group) {}

  paxos::HardState LoadHardState() override;
  paxos::Index LastIndex() override;
  paxos::Index Compacted() override;
  std::optional<paxos::Entry> Get(paxos::Index index) override;
  std::vector<paxos::Entry> Entries(paxos::Index lo, paxos::Index hi, size_t max_bytes) override;

  // Adds the durable part of `ready` (hard state, entries) for this group to `batch`.
  void AddToBatch(const paxos::Ready& ready, storage::PaxosLogBatch* batch) const;

 private:
  storage::PaxosLog* log_;
  paxos::GroupId group_;
};

// Upgrades a store of format 1, whose Paxos logs are in LevelDB: every group's hard state,
// compaction point and entries are copied into `log` (synced) and then erased from `engine`
// (synced); a marked group with nothing persisted gets an empty hard state in `log`; then the
// store's format becomes kPaxosLogFormat. A crash in between copies them again. Does nothing to
// a store of that format already. `note` reports what was done.
absl::Status MigrateEngineLogs(storage::Engine* engine, storage::PaxosLog* log,
                               const std::function<void(const std::string&)>& note);

// The storage format whose Paxos logs are in a PaxosLog (storage/format.h).
inline constexpr uint64_t kPaxosLogFormat = 2;

// The compaction point's record in LevelDB before the PaxosLog (storage format 'c':
// uint64(index)); read only by the migration.
inline constexpr char kLegacyCompactionRecord = 'c';
std::string EncodeLegacyCompaction(paxos::Index upto);
absl::StatusOr<paxos::Index> DecodeLegacyCompaction(std::string_view bytes);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GROUP_LOG_STORAGE_H_
