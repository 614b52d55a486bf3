// EngineLogStorage: one Paxos group's LogStorage over the spanserver's storage::Engine (LevelDB),
// and the writes that persist a Ready into a storage::WriteBatch.
//
// Reads go straight to the Engine; a read error or a malformed record is a broken disk and
// CHECK-fails the process (fail-stop: a replica must never act on a log it cannot read). Writes
// are the application's: AddToBatch() puts a Ready's hard state and entries into a batch that the
// application commits (usually through the GroupCommitWriter, with sync) before it sends
// Ready::messages_after_persist and calls Replica::Advance().
// Thread safety: as LogStorage, one thread (the group's strand) at a time.
#ifndef MERIDIAN_REPLICATION_ENGINE_LOG_STORAGE_H_
#define MERIDIAN_REPLICATION_ENGINE_LOG_STORAGE_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {

class EngineLogStorage : public paxos::LogStorage {
 public:
  // `engine` must outlive this object.
  EngineLogStorage(storage::Engine* engine, paxos::GroupId group)
      : engine_(engine), group_(group) {}

  paxos::HardState LoadHardState() override;
  paxos::Index LastIndex() override;
  paxos::Index Compacted() override;
  std::optional<paxos::Entry> Get(paxos::Index index) override;
  std::vector<paxos::Entry> Entries(paxos::Index lo, paxos::Index hi, size_t max_bytes) override;

  // Adds the durable part of `ready` (hard state, entries) for this group to `batch`.
  void AddToBatch(const paxos::Ready& ready, storage::WriteBatch* batch) const;

  // The compaction point's record (storage format 'c': uint64(index)).
  static constexpr char kCompactionRecord = 'c';
  static std::string EncodeCompaction(paxos::Index upto);
  static absl::StatusOr<paxos::Index> DecodeCompaction(std::string_view bytes);

 private:
  storage::Engine* engine_;
  paxos::GroupId group_;
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_ENGINE_LOG_STORAGE_H_
