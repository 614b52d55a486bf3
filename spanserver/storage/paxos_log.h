// PaxosLog: the Paxos logs and hard states of every group of a server, in append-only segment
// files of their own beside the LevelDB that holds the data (docs/design.md "The Paxos log").
//
// Why not LevelDB: every log record inserted into a memtable is flushed to a table and compacted
// again before a checkpoint lets it go, and the synced LevelDB write that carried it also had to
// wait for the data's memtable inserts. Here a record is written once, read back from memory
// while it is recent, and dropped with its whole segment.
//
// Layout: DIR/NNNNNNNN.log, numbered from 1. A segment is a sequence of records
//     masked crc32c of the rest (4) | body length (4) | type (1) | group (8) | index (8) | data
// followed by zeros (segments are preallocated and zeroed ahead of time: prezeroed_log_env.h).
// Each segment starts with a header record (index = its number, data = the length of the valid
// part of the segment before it) followed by the hard state and compaction point of every group
// then known, so that segments older than one that is kept are never needed for those.
//
// Durability: Write(batch, sync=true) returns once the batch is on disk (one fdatasync). A
// batch is applied in order, and whole or not at all after a crash only in this sense: the
// records of an unsynced or torn batch at the end of the last segment may survive in part, each
// record whole or not at all (its CRC), in order. Recovery stops the last segment at its first
// record that does not check, and writes from then on into a new segment, whose header records
// where the old one ended; an earlier segment that does not reach the end its successor
// recorded is DATA_LOSS.
//
// Truncation: Compact(group, upto) drops the group's slots up to `upto`. The oldest segment is
// removed once no slot it holds is still live; when more than `max_segments` exist and the
// oldest is kept only by a few live slots (a group that stopped compacting: at most a quarter of
// a segment), those slots are copied to the newest segment first.
//
// Reads see every write made before them (synced or not): recent entries from memory (up to
// `cache_bytes_per_group` per group), older ones from the segment files.
//
// Errors: a failed write or sync fails the log for good (as GroupCommitWriter does, for the same
// reasons): every later Write returns that error. A read that finds a record that does not check
// is DATA_LOSS.
//
// Thread safety: thread-safe. Writes are serialized (the group-commit writer makes nearly all of
// them); reads may run concurrently with a write.
#ifndef MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_H_
#define MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "spanserver/storage/engine.h"

namespace leveldb {
class Env;
class RandomAccessFile;
class WritableFile;
}  // namespace leveldb

namespace meridian::storage {

// The writes of one or more Paxos rounds, applied in order.
class PaxosLogBatch {
 public:
  enum class Type : uint8_t { kHeader = 1, kEntry = 2, kHardState = 3, kCompact = 4 };
  struct Record {
    Type type;
    uint64_t group = 0;
    uint64_t index = 0;
    std::shared_ptr<const std::string> data;  // shared with the log's cache once written
  };

  // Slot `index` of `group` holds `entry` (replacing what it held).
  void PutEntry(uint64_t group, uint64_t index, std::string entry);
  // `group`'s hard state is `hard_state`.
  void SaveHardState(uint64_t group, std::string hard_state);
  // Every slot of `group` at or below `upto` is dropped, and stays dropped: a later PutEntry at
  // or below the compaction point is ignored.
  void Compact(uint64_t group, uint64_t upto);

  void Append(PaxosLogBatch&& other);
  bool empty() const { return records_.empty(); }
  size_t bytes() const { return bytes_; }
  const std::vector<Record>& records() const { return records_; }

 private:
  friend class PaxosLog;
  void Add(Type type, uint64_t group, uint64_t index, std::string data);

  std::vector<Record> records_;
  size_t bytes_ = 0;
};

struct PaxosLogOptions {
  // The file system; nullptr: the real one, with segments preallocated and zeroed ahead of time.
  // Not owned; must outlive the log.
  leveldb::Env* env = nullptr;
  // A new segment is started once the current one holds this many bytes.
  uint64_t segment_bytes = 64 << 20;
  // Past this many segments, the oldest one's live slots are copied forward so it can go, when
  // they are at most a quarter of a segment (more live data than that is the log's to keep).
  size_t max_segments = 8;
  // Recent entries kept in memory per group, for reads.
  size_t cache_bytes_per_group = 256 << 10;
  // A planted bug for the power-cut checker: Write(sync=true) does not sync.
  bool testing_ignore_sync = false;
};

class PaxosLog {
 public:
  struct Stats {
    uint64_t writes = 0;    // Write calls that wrote something
    uint64_t syncs = 0;     // of which synced
    uint64_t bytes = 0;     // record bytes written
    uint64_t segments = 0;  // segment files now
    uint64_t segments_removed = 0;
    uint64_t relocated_entries = 0;  // live slots copied forward out of an old segment
    uint64_t disk_reads = 0;         // entries read from a segment file (not in memory)
  };

  // Opens the log in `dir` (created when missing), reading every segment to rebuild the index.
  static absl::StatusOr<std::unique_ptr<PaxosLog>> Open(const std::string& dir,
                                                        PaxosLogOptions options = {});
  ~PaxosLog();
  PaxosLog(const PaxosLog&) = delete;
  PaxosLog& operator=(const PaxosLog&) = delete;

  // Writes `batch`; with `sync` it is durable when this returns OK.
  absl::Status Write(const PaxosLogBatch& batch, bool sync);

  // Every group with a hard state, an entry or a compaction point, ascending.
  std::vector<uint64_t> Groups() const;
  std::optional<std::string> HardState(uint64_t group) const;
  // The group's compaction point (0 when none).
  uint64_t Compacted(uint64_t group) const;
  // The highest slot holding an entry, or nullopt.
  std::optional<uint64_t> LastIndex(uint64_t group) const;
  // The entry in slot `index`, or nullopt for a hole.
  absl::StatusOr<std::optional<std::string>> Get(uint64_t group, uint64_t index) const;
  // The entries in slots [lo, hi), in order, holes skipped, stopping before the entry that would
  // take their size past `max_bytes` (but always returning the first one found).
  absl::StatusOr<std::vector<LogEntry>> Read(uint64_t group, uint64_t lo, uint64_t hi,
                                             size_t max_bytes) const;

  Stats stats() const;
  const std::string& dir() const { return dir_; }

 private:
  struct Slot {
    uint64_t segment = 0;
    uint64_t offset = 0;  // of the record's data in the segment file
    uint32_t length = 0;
    std::shared_ptr<const std::string> cached;  // null once evicted
  };
  struct Group {
    std::map<uint64_t, Slot> slots;
    std::optional<std::string> hard_state;
    uint64_t compacted = 0;
    size_t cached_bytes = 0;
    uint64_t lowest_cached = 0;  // no slot below it is cached
  };
  struct Segment {
    uint64_t number = 0;
    uint64_t end = 0;         // bytes of valid records
    uint64_t live = 0;        // slots of any group located here
    uint64_t live_bytes = 0;  // and their data
    // Opened on the first disk read (by readers, under mu_); reopened to read past its size.
    mutable std::shared_ptr<leveldb::RandomAccessFile> reader;
    mutable uint64_t reader_size = 0;
  };

  PaxosLog(std::string dir, PaxosLogOptions options, leveldb::Env* env,
           std::unique_ptr<leveldb::Env> owned_env);

  // Reading the segments at Open (paxos_log_recovery.cc).
  absl::Status Recover();
  absl::Status ReplaySegment(uint64_t number, std::optional<uint64_t> expected_end, uint64_t* end);
  // `length` is the record's data size; with `cache` its data is kept in memory (record.data
  // may be null otherwise, for an entry).
  void ApplyRecord(const PaxosLogBatch::Record& record, uint64_t segment, uint64_t data_offset,
                   uint32_t length, bool cache) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Writing.
  absl::Status StartSegment(uint64_t previous_end);
  absl::Status AppendRecord(const PaxosLogBatch::Record& record, bool cache);
  absl::Status MaybeRollAndTrim();
  // When there are more than max_segments, the live slots of the oldest one, to copy forward.
  absl::Status CollectOldestLive(PaxosLogBatch* out);
  // Forgets the oldest segments while none of their slots is live; returns their numbers, for
  // RemoveSegmentFiles (called without mu_: no I/O under it).
  std::vector<uint64_t> TakeDeadSegments() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveSegmentFiles(const std::vector<uint64_t>& numbers);
  void Evict(Group& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unlink(const Slot& slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Fail(absl::Status status);

  // The data of `slot` from its segment file; NOT_FOUND when that segment is gone (the slot
  // moved meanwhile: the caller looks it up again).
  absl::StatusOr<std::string> ReadSlot(uint64_t group, uint64_t index, const Slot& slot) const;
  std::string SegmentPath(uint64_t number) const;

  const std::string dir_;
  const PaxosLogOptions options_;
  std::unique_ptr<leveldb::Env> owned_env_;
  leveldb::Env* const env_;

  // Held by Write (and Open) throughout: one writer at a time.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::unique_ptr<leveldb::WritableFile> file_;
  uint64_t file_number_ = 0;
  uint64_t file_end_ = 0;
  absl::Status failure_;
  std::string buffer_;  // the records of the Write in progress

  mutable absl::Mutex mu_;
  absl::flat_hash_map<uint64_t, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  mutable Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_PAXOS_LOG_H_
