// MemoryKv: an in-memory, multi-version implementation of the KV seam (kv.h). It is what
// sql_lite's own tests, the sqllogictest runner and the SQLite differential test run on; the
// SDK-backed KvDatabase is a separate adapter.
//
// Every key keeps all its versions (commit timestamp -> value or tombstone); nothing is collected
// unless SetGcHorizon says so. Read-write transactions are serialized by one global lock held for
// the whole attempt (fn and commit), which makes them trivially serializable; read-only snapshots
// take no part in it and read the versions at their timestamp under a short data lock.
// Timestamps come from an injected clock (microseconds); commit timestamps strictly increase and
// stay above every timestamp a snapshot has read at, so a snapshot never changes after it is read.
// A snapshot at an exact timestamp in the future (a schema change's effective time, catalog.h)
// does not wait for the clock: the store's time jumps there instead (every later commit is above
// it, strong snapshots read at or above it, staleness counts back from it), which is what waiting
// until TrueTime has passed it gives on a cluster, without a sleep.
// Like the SDK, a transaction's Get and Scan see committed data only, not its own buffered writes.
//
// Fault injection for tests: InjectAborts(n) makes the next n commits fail ABORTED after fn ran,
// so RunTransaction calls fn again (the executor must be restartable).
//
// Thread safety: thread-safe; see kv.h for the handles passed to fn.
#ifndef MERIDIAN_SQL_LITE_MEMORY_KV_H_
#define MERIDIAN_SQL_LITE_MEMORY_KV_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sql_lite/kv.h"

namespace meridian::sql {

struct MemoryKvOptions {
  // The clock; the default is the wall clock.
  std::function<int64_t()> now_us;
  // RunTransaction gives up with ABORTED after this many attempts (>= 1).
  int max_attempts = 10;
  // Fault injection: the first attempt of every transaction aborts after fn ran (so every
  // read-write statement runs twice and must give the same result).
  bool abort_every_first_attempt = false;
  // Honour KvTransaction::LimitCommitTimestamp (a commit above the bound aborts), so that
  // sql_lite takes schema leases here (catalog.h); off, every statement locks the version row.
  bool commit_bounds = false;
};

class MemoryKv : public KvDatabase {
 public:
  explicit MemoryKv(MemoryKvOptions options = {});

  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override;
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override;
  bool commit_bounds() const override { return options_.commit_bounds; }
  int64_t NowMicros() const override { return options_.now_us(); }

  // The next `n` commits fail with ABORTED (their writes are dropped).
  void InjectAborts(int n);
  // Reads below `timestamp_us` fail FAILED_PRECONDITION (as below the GC horizon of a server).
  void SetGcHorizon(int64_t timestamp_us);
  // Every key with a live value at the newest timestamp, for tests ("key=value" dumps).
  std::vector<KvPair> Dump();
  // Attempts of fn so far (all RunTransaction calls together).
  int64_t attempts();

  // One version of a key: a value, or a tombstone (nullopt).
  using Versions = std::map<int64_t, std::optional<std::string>>;

 private:
  absl::StatusOr<int64_t> RunAttempt(const TransactionFn& fn, int attempt);
  // The snapshot timestamp for `bound`, which commits will never go below.
  absl::StatusOr<int64_t> PickReadTimestamp(const ReadBound& bound);

  MemoryKvOptions options_;
  std::mutex txn_mu_;  // held for each whole read-write attempt: the "global lock"
  absl::Mutex mu_;     // guards the fields below; never held while fn runs
  std::map<std::string, Versions, std::less<>> data_ ABSL_GUARDED_BY(mu_);
  int64_t last_commit_ts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t max_read_ts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t gc_horizon_ts_ ABSL_GUARDED_BY(mu_) = 0;
  int injected_aborts_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t attempts_ ABSL_GUARDED_BY(mu_) = 0;

  friend class MemoryKvReader;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_MEMORY_KV_H_
