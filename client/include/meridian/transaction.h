// Transactions of the C++ SDK (client.h has the Client that runs them; ARCHITECTURE.md
// "Transactions" and proto/txn.proto have the protocol).
//
// Read-write transactions. Client::RunTransaction(fn) calls fn with a Transaction; fn reads with
// Get (a locking read at the leader of the key's group: shared lock, wound-wait by the
// transaction's priority) and buffers writes with Put and Delete. When fn returns OK the client
// commits: one group touched -> one Commit at that group's leader; several -> Prepare at every
// group but the coordinator (in parallel) and, right after, Commit at the coordinator, which
// waits for the participants' prepare reports (client-driven two-phase commit). The Commit's
// answer is the outcome; a prepare that fails makes the client abort at the coordinator, which
// then answers the Commit ABORTED. The returned value is the commit timestamp.
//
//   absl::StatusOr<int64_t> ts = client->RunTransaction([](meridian::Transaction& txn) {
//     ASSIGN_OR_RETURN(std::optional<std::string> v, txn.Get("x"));
//     txn.Put("x", v.value_or("") + "!");
//     return absl::OkStatus();
//   });
//
// Retries. If the transaction is aborted anywhere (ABORTED from a read, a prepare or the commit:
// wounded by an older transaction, locks lost at a leader change, idle timeout), the client
// aborts it at every group it touched (best effort), backs off (seeded jitter) and calls fn
// AGAIN from the start, with a new transaction id and the same priority, until
// TransactionOptions::deadline passes or max_attempts attempts were made; it then returns
// ABORTED. fn must therefore be safe to run several times and should propagate the errors of Get
// (a Get that failed dooms the attempt: committing it returns that error). Any other error fn
// returns is returned as is, after aborting.
//
// Outcome unknown. A Commit whose reply was lost (DEADLINE_EXCEEDED, or an UNAVAILABLE without
// the routing markers of client.h: the leader may have logged the decision and then lost
// leadership) returns that code with a message starting "outcome unknown" and IsOutcomeUnknown
// true (meridian/errors.h): the transaction may or may not have committed. It is never retried; the
// client then sends a best-effort abort, which a coordinator honours only while it has not decided
// (so locks held elsewhere are freed sooner). Every other error means it did not commit.
//
// Priority. The transaction's start timestamp is the local wall clock (microseconds) at its first
// attempt: the client has no TrueTime. It only decides who wins lock conflicts (older wins), so a
// skewed client clock can make it win or lose more often, never break correctness: commit
// timestamps are chosen by the servers.
//
// Keepalives. While a transaction holds locks, a background thread of the Client sends a
// keepalive to each group where it read, every ~2 s (servers abort a transaction idle for 10 s).
//
// Read-only transactions (Client::ReadOnly) take no locks and run at one timestamp:
//  - strong, keys in one group: the group leader picks the timestamp (Txn.ReadOnly);
//  - strong, several groups: the first group read (leader first, then other replicas) picks
//    read_ts = its server's TT.now().latest, past every commit acknowledged before the read
//    began (the client has no TrueTime of its own), and the other groups are read at it. A read
//    at a timestamp its server's safe time has not reached waits for it there (<= ~0.5 s, else
//    the next replica);
//  - exact timestamp or maximum staleness (read_ts = now - staleness): at any replica of each
//    group, the leader last.
//
// Thread safety: a Transaction belongs to the one call of fn it was passed to; use it only from
// that thread and not after fn returns. Options and results are plain values.
#ifndef MERIDIAN_TRANSACTION_H_
#define MERIDIAN_TRANSACTION_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace meridian {

namespace client {
class TxnAttempt;
}  // namespace client

struct TransactionOptions {
  // For the whole RunTransaction, every attempt included (counted from the call's start).
  std::chrono::milliseconds deadline{10'000};
  // Attempts of fn at most (>= 1).
  int max_attempts = 100;
};

// INVALID_ARGUMENT for a non-positive deadline or max_attempts.
absl::Status ValidateTransactionOptions(const TransactionOptions& options);

// One write of a transaction: a value, or a delete when `value` is nullopt.
struct Mutation {
  std::string key;
  std::optional<std::string> value;

  static Mutation Put(std::string key, std::string value) {
    return {std::move(key), std::move(value)};
  }
  static Mutation Delete(std::string key) { return {std::move(key), std::nullopt}; }
};

// The handle fn gets: reads and buffered writes of one attempt.
class Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // The value of `key` as this transaction sees it: its own buffered write if it wrote the key,
  // else the newest committed value, read under a shared lock held until the transaction ends.
  // nullopt when there is none. ABORTED: the attempt is over (return the error from fn). Other
  // errors: the read could not be done (e.g. DEADLINE_EXCEEDED when the deadline passed).
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key);
  // Get for a key the transaction means to write: the lock taken is exclusive, as a write's, so
  // that transactions that read a key and then write it wait for each other in turn instead of
  // both taking a shared lock and one wounding the other to upgrade it at commit (the older one
  // still wounds a younger holder). A key read or written earlier in this attempt is answered
  // from there with the lock it has. Errors as Get's.
  absl::StatusOr<std::optional<std::string>> GetForUpdate(std::string_view key);
  // Get (or GetForUpdate, with `for_update`) of several keys at once: the keys this attempt has
  // not read or written yet are read with one request per group (in group order), so keys that
  // share a group cost one round trip. Values in the order of `keys` (a key named twice is read
  // once). Errors as Get's; after any error the attempt is over.
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys, bool for_update = false);
  // The first `limit` (> 0) keys of [start, end) that have a value, in key order, with their
  // values, as this transaction sees them (its buffered writes in the range count; a buffered
  // delete hides its key); an empty `end` is the end of the key space. A locking range read: the
  // transaction holds a shared lock on every span it read (each range's part of [start, end)
  // from the start or the previous range's end, whole even where the limit cut the rows short)
  // until it ends, so no other transaction puts a key into it meanwhile (no phantoms). Errors as
  // Get's; INVALID_ARGUMENT for a limit of 0 or an end not after start.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(std::string_view start,
                                                                        std::string_view end,
                                                                        size_t limit);
  // Buffer a write; it reaches the servers at commit. An empty key fails the commit with
  // INVALID_ARGUMENT.
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);

  // Bounds this attempt's commit timestamp: it commits at or below `max_ts` (microseconds), or
  // not at all (ABORTED, and RunTransaction calls fn again). The lowest bound given counts. For a
  // lease on something the transaction read outside its locks (sql_lite's schema lease).
  void LimitCommitTimestamp(int64_t max_ts);

  uint64_t id() const;       // this attempt's transaction id
  int64_t start_ts() const;  // the priority, the same in every attempt
  int attempt() const;       // 1 for the first call of fn, 2 for the first retry, ...

 private:
  friend class client::TxnAttempt;
  explicit Transaction(client::TxnAttempt* attempt) : attempt_(attempt) {}
  client::TxnAttempt* attempt_;
};

struct ReadOnlyOptions {
  enum class Mode { kStrong, kExactTimestamp, kMaxStaleness };
  Mode mode = Mode::kStrong;
  int64_t timestamp_us = 0;                    // kExactTimestamp: the read timestamp (> 0)
  std::chrono::microseconds max_staleness{0};  // kMaxStaleness: read at now - this (>= 0)
  std::chrono::milliseconds deadline{10'000};  // for the whole read, retries included

  static ReadOnlyOptions Strong() { return {}; }
  static ReadOnlyOptions AtTimestamp(int64_t timestamp_us) {
    ReadOnlyOptions options;
    options.mode = Mode::kExactTimestamp;
    options.timestamp_us = timestamp_us;
    return options;
  }
  static ReadOnlyOptions MaxStaleness(std::chrono::microseconds staleness) {
    ReadOnlyOptions options;
    options.mode = Mode::kMaxStaleness;
    options.max_staleness = staleness;
    return options;
  }
};

// INVALID_ARGUMENT naming the field: a non-positive timestamp (exact mode), negative staleness,
// a non-positive deadline.
absl::Status ValidateReadOnlyOptions(const ReadOnlyOptions& options);

struct ReadResult {
  std::vector<std::optional<std::string>> values;  // one per key, in request order
  int64_t read_ts = 0;                             // every value is as of this timestamp
};

// A read-only transaction of several reads at one timestamp (Client::BeginReadOnly): every Get
// and Scan reads the snapshot at read_ts(), at any replica of each group (the leader first for a
// strong one, or for a timestamp of the last second, which a follower may not have reached yet),
// without locks. A strong transaction's timestamp is chosen by the server of its
// first read: its TT.now().latest, which is past every commit acknowledged before the
// transaction began (read_ts() is 0 until then); an exact or stale one's is the options'. Reads
// at a timestamp the servers' safe time has not reached wait for it there (<= ~0.5 s, then the
// next replica). FAILED_PRECONDITION: read_ts is below a group's GC horizon (too old).
//
// Thread safety: not thread-safe; use one from one thread at a time.
class ReadOnlyTransaction {
 public:
  virtual ~ReadOnlyTransaction() = default;
  virtual int64_t read_ts() const = 0;
  // The values of `keys` (nullopt: none), in order.
  virtual absl::StatusOr<std::vector<std::optional<std::string>>> Get(
      const std::vector<std::string>& keys) = 0;
  // As Transaction::Scan, at read_ts() and without locks.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(
      std::string_view start, std::string_view end, size_t limit) = 0;
};

}  // namespace meridian

#endif  // MERIDIAN_TRANSACTION_H_
