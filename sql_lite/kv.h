// The key-value seam under sql_lite: the little that the SQL executor needs from Meridian's
// transactions, shaped after the SDK (client/include/meridian/client.h, transaction.h) so that one
// adapter maps it onto Client::RunTransaction / read-only transactions, and so that sql_lite's own
// tests and the SQLite differential test run on an in-memory implementation (memory_kv.h).
//
// Contract of every implementation:
//  - Keys and values are bytes. Scan(start, end, limit) returns the pairs with start <= key < end
//    (end "" means +infinity) in ascending key order, at most `limit` of them (limit <= 0: all).
//  - KvTransaction reads are serializable: Get and Scan read the newest committed data and lock
//    what they read (a Scan locks its whole range, so a later insert into it by another
//    transaction conflicts). Put and Delete only buffer; nothing is written before commit.
//    Reads MAY or MAY NOT reflect this transaction's own buffered writes (the SDK's do not):
//    sql_lite keeps its writes in its own buffer (row_store.h) and flushes them just before fn
//    returns, so either behaviour is correct.
//  - KvSnapshot reads see exactly the data committed at or before read_timestamp(); no locks.
//  - The timestamp a commit or a snapshot returns has passed: every transaction that commits after
//    the call returned commits above it (TrueTime's commit wait and snapshot wait on a cluster).
//    So a snapshot at a future exact timestamp returns only once that timestamp has passed.
//  - KvDatabase::RunTransaction calls fn, then commits what fn buffered when fn returns OK. When
//    the transaction aborts (ABORTED from a read or the commit), it calls fn AGAIN from the start
//    with a new transaction, until it commits or gives up with ABORTED. fn must therefore be
//    restartable: everything it computes must be recomputed from the reads of the current attempt.
//    Any other error fn returns is returned as is and nothing is written.
//  - KvDatabase::RunReadOnly runs fn once over a snapshot chosen by `bound`; fn's error is
//    returned as is.
//
// Errors: ABORTED (retry the transaction), UNAVAILABLE, DEADLINE_EXCEEDED, and for a commit whose
// outcome is unknown the SDK's "outcome unknown" statuses, all passed through unchanged;
// FAILED_PRECONDITION for a snapshot timestamp below the garbage-collection horizon.
//
// Thread safety: a KvDatabase is thread-safe (any number of RunTransaction / RunReadOnly calls at
// once). A KvTransaction or KvSnapshot belongs to the one call of fn it was passed to: use it from
// that thread only and not after fn returns.
#ifndef MERIDIAN_SQL_LITE_KV_H_
#define MERIDIAN_SQL_LITE_KV_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/limits.h"

namespace meridian::sql {

// The longest key and value sql_lite writes: the servers' limits (common/limits.h), less
// kMaxKeyPrefixBytes of each key for an implementation's own prefix (ClientKvOptions::key_prefix),
// which may be no longer. Statements that would write more fail with INVALID_ARGUMENT first.
inline constexpr size_t kMaxKeyPrefixBytes = 256;
inline constexpr size_t kMaxSqlKeyBytes = kMaxKeyBytes - kMaxKeyPrefixBytes;
inline constexpr size_t kMaxSqlValueBytes = kMaxValueBytes;

struct KvPair {
  std::string key;
  std::string value;

  friend bool operator==(const KvPair&, const KvPair&) = default;
};

// Reads shared by both kinds of transaction.
class KvReader {
 public:
  virtual ~KvReader() = default;
  // The value at `key`, nullopt when there is none.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key) = 0;
  // Pairs in [start, end) ascending, at most `limit` (<= 0: no limit); end "" = +infinity.
  virtual absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                                   int64_t limit) = 0;
  // The values at `keys`, in order: one Get each unless an implementation reads them together
  // (the SDK's snapshots: one request per group).
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys);
  // Get and GetMany of keys the caller means to write (UPDATE's and DELETE's rows, INSERT's
  // keys): a read-write transaction may lock them exclusively at once (the SDK's
  // Transaction::GetForUpdate), so that two transactions updating a row queue on its lock instead
  // of one wounding the other to upgrade a shared lock. By default they are Get and GetMany.
  virtual absl::StatusOr<std::optional<std::string>> GetForUpdate(std::string_view key) {
    return Get(key);
  }
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> GetManyForUpdate(
      const std::vector<std::string>& keys);
};

// One attempt of a read-write transaction (SDK: meridian::Transaction).
class KvTransaction : public KvReader {
 public:
  virtual void Put(std::string_view key, std::string_view value) = 0;
  virtual void Delete(std::string_view key) = 0;
  // Bounds this attempt's commit timestamp (SDK: Transaction::LimitCommitTimestamp): an attempt
  // that cannot commit at or below `max_ts` aborts, and RunTransaction calls fn again. Called
  // only when KvDatabase::commit_bounds() says the bound is honoured.
  virtual void LimitCommitTimestamp(int64_t max_ts) { (void)max_ts; }
  // 1 for the first call of fn in a RunTransaction, 2 for the next, ...
  virtual int attempt() const { return 1; }
};

// A read-only snapshot (SDK: a read-only transaction at one timestamp).
class KvSnapshot : public KvReader {
 public:
  // Every read returns the data as of this timestamp (microseconds since the Unix epoch).
  virtual int64_t read_timestamp() const = 0;
  // True when read_timestamp() is a strong read's "last commit" timestamp (Spanner's LastTS for a
  // read of one group, KvDatabase::ReadKeys): past every committed write to what it reads, but
  // perhaps below times the caller has seen pass that are not writes there — a schema version's
  // effective time. A reader that depends on such a time must read again the ordinary way.
  virtual bool at_last_commit() const { return false; }
};

// What KvDatabase::ReadKeys returns.
struct KvPointReads {
  std::vector<std::optional<std::string>> values;  // one per key, in order
  int64_t read_timestamp = 0;
};

// Which snapshot a read-only run reads (SDK: ReadOnlyOptions).
struct ReadBound {
  enum class Mode : uint8_t { kStrong, kExactTimestamp, kMaxStaleness };
  Mode mode = Mode::kStrong;
  int64_t timestamp_us = 0;  // kExactTimestamp
  int64_t staleness_us = 0;  // kMaxStaleness: read at now - staleness_us

  static ReadBound Strong() { return {}; }
  static ReadBound Exact(int64_t timestamp_us) {
    return {.mode = Mode::kExactTimestamp, .timestamp_us = timestamp_us, .staleness_us = 0};
  }
  static ReadBound MaxStaleness(int64_t staleness_us) {
    return {.mode = Mode::kMaxStaleness, .timestamp_us = 0, .staleness_us = staleness_us};
  }
};

class KvDatabase {
 public:
  using TransactionFn = std::function<absl::Status(KvTransaction&)>;
  using SnapshotFn = std::function<absl::Status(KvSnapshot&)>;

  virtual ~KvDatabase() = default;
  // Runs fn in a read-write transaction, retrying aborted attempts (see the top of this file).
  // Returns the commit timestamp.
  virtual absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) = 0;
  // Runs fn once over a snapshot chosen by `bound`. Returns the snapshot's timestamp.
  virtual absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) = 0;
  // The values of `keys` (nullopt: none), in order, in one snapshot chosen by `bound`, and its
  // timestamp. This default reads them in RunReadOnly; an implementation may do it in one request
  // (the SDK's strong read of keys in one group: at the leader, at its last commit, no wait).
  virtual absl::StatusOr<KvPointReads> ReadKeys(const ReadBound& bound,
                                                const std::vector<std::string>& keys);
  // True when transactions honour KvTransaction::LimitCommitTimestamp (catalog.h's schema leases
  // depend on it); false keeps every read-write statement on the locked version row.
  virtual bool commit_bounds() const { return false; }
  // The caller's clock (microseconds since the Unix epoch): where schema leases read. Safety never
  // depends on it, only how long a lease lasts (a read at an exact timestamp has passed once it
  // returns, and commits land above it).
  virtual int64_t NowMicros() const;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_KV_H_
