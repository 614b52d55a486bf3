// Engine: the one LevelDB of a spanserver, shared by all its tablets and Paxos groups. It stores
//  - MVCC data: one key per (tablet, user key, commit timestamp) version, newest first, each a put
//    or a tombstone; reads see the newest version at or below their read timestamp;
//  - per-tablet garbage-collection horizons: reads below a tablet's horizon fail with
//    FAILED_PRECONDITION instead of returning data whose older versions were removed;
//  - each Paxos group's log (slots that may have holes) and hard state, as opaque bytes.
// The key and value layout is written down in format.h.
//
// Writes go through WriteBatch (atomic across all three kinds) and Engine::Write, usually via a
// GroupCommitWriter that merges many callers' batches into one synced LevelDB write.
//
// Error codes: a LevelDB Corruption is DATA_LOSS, an IOError is UNAVAILABLE (the disk failed; the
// request may be retried at another replica), NotFound is NOT_FOUND, NotSupported is UNIMPLEMENTED,
// InvalidArgument is INVALID_ARGUMENT; each keeps LevelDB's message. On any error the outputs are
// left unspecified and nothing was written (LevelDB writes are atomic).
//
// Thread safety: all methods are thread-safe. Reads run at a LevelDB snapshot, so each one sees
// one consistent state. LevelDB headers are kept out of this file on purpose (only forward
// declarations), because the Paxos adapter includes it.
#ifndef MERIDIAN_SPANSERVER_STORAGE_ENGINE_H_
#define MERIDIAN_SPANSERVER_STORAGE_ENGINE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "spanserver/storage/write_batch.h"
#include "truetime/interval.h"

namespace leveldb {
class Cache;
class DB;
class Env;
class Snapshot;
struct Options;
}  // namespace leveldb

namespace meridian::storage {

using truetime::Timestamp;

struct EngineOptions {
  // The file system. nullptr means leveldb::Env::Default(). Not owned; must outlive the Engine.
  // Tests pass leveldb::NewMemEnv(...) or a fault-injecting env.
  leveldb::Env* env = nullptr;
  bool create_if_missing = true;
  bool error_if_exists = false;
  // LevelDB memtable size before it is flushed to a table file.
  size_t write_buffer_size = 4 << 20;
  // LevelDB block cache; 0 keeps LevelDB's default (8 MiB).
  size_t block_cache_bytes = 0;
  // With `env` null: write LevelDB's log into space zeroed ahead of time (prezeroed_log_env.h),
  // so that a synced write does not have to write the file's size too. (With `env` null, table
  // files are always written in large pieces: table_file_env.h.)
  bool prezeroed_log = false;
  // A planted bug for the power-cut tests: LevelDB's old log files are closed without a sync
  // (sync_on_close_env.h is left out).
  bool testing_unsynced_close = false;
};

struct KeyValue {
  std::string key;
  std::string value;
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct LogEntry {
  uint64_t index = 0;
  std::string data;
  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

class Engine {
 public:
  // Opens (by default creating) the LevelDB at `path`. Fails with the mapped LevelDB status, e.g.
  // UNAVAILABLE when another process holds the lock, DATA_LOSS on corruption.
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const std::string& path,
                                                      const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Applies `batch` atomically. With `sync` the LevelDB log is fsynced before returning, so the
  // batch survives a power cut, and so does every batch written before it (also those in a log
  // file LevelDB switched away from: sync_on_close_env.h). Without it a power cut may lose the
  // batch, whole (never part of it), until a later synced batch.
  absl::Status Write(const WriteBatch& batch, bool sync);

  // The store's format version (format.h kFormatVersion): older ones are upgraded by their
  // users (version 1 kept the Paxos logs in LevelDB: replication::MigrateEngineLogs).
  uint64_t format_version() const { return format_version_; }
  // Records `version` (synced).
  absl::Status SetFormatVersion(uint64_t version);

  // ---- MVCC data ----

  // One-write conveniences over Write().
  absl::Status Put(uint64_t tablet, std::string_view key, Timestamp ts, std::string_view value,
                   bool sync = false);
  absl::Status Delete(uint64_t tablet, std::string_view key, Timestamp ts, bool sync = false);

  // The value of the newest version of `key` with commit timestamp <= read_ts; nullopt when there
  // is no such version or it is a tombstone. FAILED_PRECONDITION when read_ts is below the
  // tablet's GC horizon.
  absl::StatusOr<std::optional<std::string>> Get(uint64_t tablet, std::string_view key,
                                                 Timestamp read_ts) const;

  // The keys in [start, end) that have a visible value at read_ts, each once with its newest
  // version <= read_ts, in key order; tombstoned keys are left out. An empty `end` means no upper
  // bound. At most `limit` pairs (0 means no limit); to continue, scan again from the last key
  // returned with a '\0' byte appended. FAILED_PRECONDITION when read_ts is below the horizon.
  absl::StatusOr<std::vector<KeyValue>> Scan(uint64_t tablet, std::string_view start,
                                             std::string_view end, Timestamp read_ts,
                                             size_t limit = 0) const;

  // Raises the tablet's GC horizon to `horizon` (durably) and removes every version that no read
  // at or above it can see: of each key's versions at or below the horizon only the newest is
  // kept, and not even that one when it is a tombstone. Versions above the horizon are untouched.
  // The horizon never moves down: a smaller `horizon` than the current one collects at the current
  // one. Returns the number of versions removed. Writing a version at or below the horizon is a
  // caller bug (the tablet layer commits above it). Concurrent calls are serialized.
  absl::StatusOr<uint64_t> CollectGarbage(uint64_t tablet, Timestamp horizon);

  // The tablet's GC horizon: reads below it fail. kMinTimestamp when never collected.
  Timestamp GcHorizon(uint64_t tablet) const;

  // ---- Paxos log and hard state (written with WriteBatch::AppendLog/EraseLog/SaveHardState) ----

  // The entries in slots [lo, hi) of `group`'s log, in index order, holes skipped (so every entry
  // carries its index). Stops before the entry that would take the total data size past
  // `max_bytes`, but always returns the first entry found.
  absl::StatusOr<std::vector<LogEntry>> ReadLog(
      uint64_t group, uint64_t lo, uint64_t hi,
      size_t max_bytes = std::numeric_limits<size_t>::max()) const;
  // The entry in slot `index`, or nullopt for a hole.
  absl::StatusOr<std::optional<std::string>> ReadLogEntry(uint64_t group, uint64_t index) const;
  // The lowest / highest occupied slot of `group`'s log, or nullopt when the log is empty.
  absl::StatusOr<std::optional<uint64_t>> FirstLogIndex(uint64_t group) const;
  absl::StatusOr<std::optional<uint64_t>> LastLogIndex(uint64_t group) const;

  // Adds to `batch` the erasure of every occupied slot below `upto_exclusive` (prefix; after a
  // snapshot) or at or above `from_inclusive` (suffix). The slots are listed when this is called,
  // so the group's log must not change until the batch is written (the group's single strand
  // guarantees it). The one-argument forms write the erasures at once, synced.
  absl::Status TruncateLogPrefix(uint64_t group, uint64_t upto_exclusive, WriteBatch* batch) const;
  absl::Status TruncateLogSuffix(uint64_t group, uint64_t from_inclusive, WriteBatch* batch) const;
  absl::Status TruncateLogPrefix(uint64_t group, uint64_t upto_exclusive);
  absl::Status TruncateLogSuffix(uint64_t group, uint64_t from_inclusive);

  // The hard state saved last for `group`, or nullopt when none was ever saved.
  absl::StatusOr<std::optional<std::string>> LoadHardState(uint64_t group) const;

  // Every group that has a log entry or a hard state, ascending; recovery after a restart starts
  // one replica per group listed.
  absl::StatusOr<std::vector<uint64_t>> ListGroups() const;

  // The replica marker saved for `group` (WriteBatch::SaveReplicaMarker), or nullopt.
  absl::StatusOr<std::optional<std::string>> LoadReplicaMarker(uint64_t group) const;
  // Every group that has a replica marker, ascending.
  absl::StatusOr<std::vector<uint64_t>> ListMarkedGroups() const;

  // ---- Compaction, checkpoints and snapshots (engine_snapshot.cc) ----

  // A group record (format.h; written with WriteBatch::SaveGroupRecord), or nullopt.
  absl::StatusOr<std::optional<std::string>> LoadGroupRecord(char record, uint64_t group) const;

  // A consistent read-only view of the whole store at the moment it was taken; it pins the
  // versions it sees until destroyed. Must not outlive the engine.
  class Snapshot {
   public:
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    friend class Engine;
    Snapshot(leveldb::DB* db, const leveldb::Snapshot* snapshot) : db_(db), snapshot_(snapshot) {}
    leveldb::DB* db_;
    const leveldb::Snapshot* snapshot_;
  };
  std::unique_ptr<Snapshot> TakeSnapshot() const;
  // The raw keys and values of `snapshot` (or of the current state when null) in [start, end),
  // in order, stopping once `max_bytes` are returned (at least one pair when there is one).
  absl::StatusOr<std::vector<KeyValue>> ReadRaw(const Snapshot* snapshot, std::string_view start,
                                                std::string_view end, size_t max_bytes) const;
  // Adds to `batch` the erasure of up to `max_keys` keys in [start, end); returns how many.
  absl::StatusOr<size_t> EraseRange(std::string_view start, std::string_view end, size_t max_keys,
                                    WriteBatch* batch) const;
  // Reads `tablet`'s horizon again from the store (a snapshot installed a new one).
  absl::Status ReloadHorizon(uint64_t tablet);
  // Garbage collection of `tablet` is skipped until UnblockGc (BlockGc waits for a running one to
  // finish): a collection that saw a snapshot half written could drop a tombstone whose older
  // versions arrive later, and bring a deleted key back.
  void BlockGc(uint64_t tablet);
  void UnblockGc(uint64_t tablet);

  // ---- Range sizes, for splits (engine_stats.cc) ----

  struct RangeSize {
    // LevelDB's estimate of the bytes on disk of `tablet`'s versions of keys in [start, end):
    // flushed tables only (data still in the memtable counts 0), so approximate by design.
    uint64_t bytes = 0;
    // A user key near the middle of those bytes, strictly inside (start, end); set only when
    // bytes >= split_min_bytes and such a key exists.
    std::optional<std::string> middle_key;
  };
  absl::StatusOr<RangeSize> MeasureRange(uint64_t tablet, std::string_view start,
                                         std::string_view end, uint64_t split_min_bytes) const;

 private:
  Engine(std::unique_ptr<leveldb::Env> table_env, std::unique_ptr<leveldb::Env> env,
         std::unique_ptr<leveldb::Env> sync_env, std::unique_ptr<leveldb::Cache> cache,
         std::unique_ptr<leveldb::DB> db);

  static absl::Status OpenParanoid(leveldb::Options options, const std::string& path,
                                   leveldb::DB** db);
  // Records this binary's format version in a store without one; refuses a newer one.
  absl::Status CheckFormat(const std::string& path);
  absl::Status LoadHorizons();
  // FAILED_PRECONDITION when read_ts is below the tablet's horizon. Called after the read's
  // snapshot is taken: CollectGarbage raises the horizon before it deletes anything, so a read
  // that passes this check cannot miss a version its snapshot should hold.
  absl::Status CheckReadable(uint64_t tablet, Timestamp read_ts) const;
  // Erasures of the occupied slots of `group` in [lo, hi) into `batch`; hi == UINT64_MAX means
  // no upper bound.
  absl::Status EraseLogRange(uint64_t group, uint64_t lo, uint64_t hi, WriteBatch* batch) const;
  // The value stored at `key`, or nullopt.
  absl::StatusOr<std::optional<std::string>> GetOptional(const std::string& key) const;
  // Group ids found under one key space (`tag` uint64(group) ...), ascending.
  absl::Status ListIds(char tag, std::vector<uint64_t>* ids) const;

  // Declared before db_: LevelDB must close before its envs and block cache are freed. When the
  // engine made its own envs (EngineOptions::env null): table_env_ over the default env, and
  // env_ (prezeroed_log) over table_env_; always sync_env_ (sync_on_close_env.h) outermost,
  // freed first.
  std::unique_ptr<leveldb::Env> table_env_;
  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<leveldb::Env> sync_env_;
  std::unique_ptr<leveldb::Cache> cache_;
  std::unique_ptr<leveldb::DB> db_;
  uint64_t format_version_ = 0;  // set by CheckFormat

  mutable absl::Mutex horizons_mu_;
  absl::flat_hash_map<uint64_t, Timestamp> horizons_ ABSL_GUARDED_BY(horizons_mu_);

  // Serializes CollectGarbage calls; held across their I/O, never with horizons_mu_ waited on.
  absl::Mutex gc_mu_ ABSL_ACQUIRED_BEFORE(horizons_mu_);
  absl::flat_hash_set<uint64_t> gc_blocked_ ABSL_GUARDED_BY(gc_mu_);
};

}  // namespace meridian::storage

#endif  // MERIDIAN_SPANSERVER_STORAGE_ENGINE_H_
