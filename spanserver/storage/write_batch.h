// WriteBatch: a set of MVCC, group-record (and, in stores written before storage::PaxosLog,
// Paxos-log and hard-state) writes that Engine::Write applies
// atomically: after a crash either all of them are in the store or none is. Writes apply in the
// order they were added, so a later write to the same key wins.
//
// It wraps a leveldb::WriteBatch behind a pointer so that this header (which spanserver/paxos
// adapters include) pulls in no LevelDB header.
//
// Thread safety: not thread-safe; a batch is built by one thread and then handed to Engine::Write
// or GroupCommitWriter, which only read it.
#ifndef MERIDIAN_SPANSERVER_STORAGE_WRITE_BATCH_H_
#define MERIDIAN_SPANSERVER_STORAGE_WRITE_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "truetime/interval.h"

namespace leveldb {
class WriteBatch;
}  // namespace leveldb

namespace meridian::storage {

class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&& other) noexcept;
  WriteBatch& operator=(WriteBatch&& other) noexcept;
  WriteBatch(const WriteBatch&) = delete;
  WriteBatch& operator=(const WriteBatch&) = delete;

  // MVCC: a new version of `key` in `tablet` at commit timestamp `ts`. Writing the same
  // (tablet, key, ts) twice keeps the later value. `ts` must be above the tablet's GC horizon
  // (the tablet layer guarantees it by choosing commit timestamps above it).
  void Put(uint64_t tablet, std::string_view key, truetime::Timestamp ts, std::string_view value);
  // MVCC: a tombstone version: reads at or after `ts` see no value.
  void Delete(uint64_t tablet, std::string_view key, truetime::Timestamp ts);

  // Paxos: stores `entry` in slot `index` of `group`'s log, replacing what the slot held.
  void AppendLog(uint64_t group, uint64_t index, std::string_view entry);
  // Paxos: empties slot `index` of `group`'s log (no-op when it is a hole).
  void EraseLog(uint64_t group, uint64_t index);
  // Paxos: replaces `group`'s hard state.
  void SaveHardState(uint64_t group, std::string_view hard_state);
  void EraseHardState(uint64_t group);
  // Paxos: replaces `group`'s replica marker (paxos/replica_marker.h).
  void SaveReplicaMarker(uint64_t group, std::string_view marker);
  // A group's compaction point, checkpoint or install record (format.h group_record_key).
  void SaveGroupRecord(char record, uint64_t group, std::string_view value);
  void EraseGroupRecord(char record, uint64_t group);
  // A key and value as a snapshot carries them (Engine::ReadRaw), and the erasure of one key.
  // Only for installing snapshots: the caller checks the keys belong to the group.
  void PutRaw(std::string_view key, std::string_view value);
  void EraseRaw(std::string_view key);

  // Appends all of `other`'s writes after this batch's.
  void Append(const WriteBatch& other);
  void Clear();

  // Number of writes added since construction or Clear().
  size_t Count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // Size of the batch's serialized form in bytes (what the LevelDB log will receive).
  size_t ApproximateBytes() const;

 private:
  friend class Engine;

  leveldb::WriteBatch& Rep();

  std::unique_ptr<leveldb::WriteBatch> rep_;  // null only after being moved from
  size_t count_ = 0;
};

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_WRITE_BATCH_H_
