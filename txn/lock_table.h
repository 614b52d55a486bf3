// txn::LockTable: the locks of read-write transactions at one group leader, as a pure state
// machine with wound-wait deadlock avoidance.
//
// Read-write transactions use strict two-phase locking (SPANNER.md §4.1.2, §4.2.1): reads take
// shared locks at the group leader, writes take exclusive locks, and a transaction keeps every lock
// until it commits or aborts. The table takes events — Acquire, Release, ReleaseAll, Touch,
// ExpireIdle, with the caller's clock reading where time matters — and returns actions: the
// transactions to abort and the waiting requests that are now granted. It owns no thread, clock or
// I/O. The caller aborts the transactions it is told to (then calls ReleaseAll for them) and
// answers the requests it is told are granted.
//
// The protocol:
// * A lock is shared (S) or exclusive (X), on one key or on a key range [start, end) (an empty end
//   is +infinity). Two locks conflict when their spans overlap (the same key, a key inside a range,
//   two overlapping ranges) and at least one is X. A transaction's own locks never conflict.
// * Priority is the transaction's start timestamp: lower is older and wins; equal timestamps are
//   ordered by id. A transaction that is retried after an abort keeps its start timestamp (the
//   caller's job), so it eventually becomes the oldest.
// * Wound-wait. A request by T is checked against every conflicting lock held by another
//   transaction and every conflicting request waiting ahead of it; waiting requests are ordered by
//   priority, so "ahead" means older. T wounds every conflicting holder younger than itself: the
//   holder is reported once, in AcquireResult::wounded, and from then on its Acquire and Touch
//   fail with ABORTED. The table does not take the lock away: the caller aborts the holder and
//   calls ReleaseAll, and then the lock goes to T. If anything conflicts (an older holder, a
//   wounded one that has not released yet, an older waiter), T waits, behind older waiters and
//   ahead of younger ones. A request is granted at once only when nothing conflicts.
// * Re-entrancy and upgrades. A transaction that holds a span in a mode at least as strong as the
//   one requested gets it again at once. S -> X on the same span is an upgrade, decided by the same
//   rules with the transaction's own S lock ignored: of two S holders that both upgrade, the older
//   wounds the younger.
// * Grants. Release and ReleaseAll hand freed spans to waiters in priority order: a waiter is
//   granted when it conflicts with no holder and with no older waiter. A transaction may wait for
//   several spans at once (parallel reads).
// * Keepalives. Every Acquire and Touch counts as activity; ExpireIdle reports, once, each
//   transaction silent for the timeout, and it is treated as wounded from then on. Waiting is not
//   activity: a client keeps sending keepalives while its request waits, or it is presumed dead.
//   The table only reports: whoever drives it decides (a prepared participant, for one, must not
//   abort on its own; its fate belongs to the coordinator, SPANNER.md §4.2.1).
//
// Invariants:
// * No two transactions hold conflicting locks.
// * Whatever blocks a waiting request is older than it, or wounded (CHECKed at every grant). So
//   among transactions that are not wounded, every waits-for edge points to an older transaction
//   and the graph has no cycle: no deadlock. An edge to a wounded transaction goes away when the
//   caller aborts it, which needs no lock. Hence the oldest transaction never waits for long, and
//   with priorities kept across retries every transaction finishes.
// * Bounds: at most max_locks_per_txn spans per transaction (held or waited for),
//   max_waiters_per_lock waiters per span and max_waiters in all. Past them Acquire fails with
//   RESOURCE_EXHAUSTED and changes nothing (it wounds no one).
//
// Cost: a request looks at every lock whose span starts inside its own (at its key, for a key) and
// at every range lock that starts before it; range locks are expected to be few (range reads).
//
// Thread safety: none. One thread or one Asio strand (the tablet's) drives a table.
#ifndef MERIDIAN_TXN_LOCK_TABLE_H_
#define MERIDIAN_TXN_LOCK_TABLE_H_

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "truetime/interval.h"

namespace meridian::txn {

using truetime::Timestamp;
using TxnId = uint64_t;

// A transaction as the lock table sees it: who it is and how old.
struct TxnRef {
  TxnId id = 0;
  Timestamp start_ts = 0;  // the priority: lower = older = wins conflicts

  // True when this transaction has priority over `other`: an earlier start, then a lower id.
  bool OlderThan(const TxnRef& other) const {
    return start_ts != other.start_ts ? start_ts < other.start_ts : id < other.id;
  }
};

enum class LockMode : uint8_t { kShared, kExclusive };
const char* LockModeName(LockMode mode);  // "S" or "X"

// What a lock covers: one key, or the keys in [start, end).
struct LockSpan {
  std::string start;
  std::string end;  // ranges only: exclusive; empty = +infinity
  bool is_range = false;

  static LockSpan Key(std::string key);
  static LockSpan Range(std::string start, std::string end);

  bool Overlaps(const LockSpan& other) const;
  // "k" for a key, "[a,b)" or "[a,+inf)" for a range; bytes C-escaped.
  std::string ToString() const;

  friend auto operator<=>(const LockSpan&, const LockSpan&) = default;
};

struct LockTableOptions {
  // Limits; past each, Acquire fails with RESOURCE_EXHAUSTED.
  size_t max_locks_per_txn = 10'000;  // spans a transaction holds or waits for
  size_t max_waiters_per_lock = 256;  // waiting requests on one span
  size_t max_waiters = 100'000;       // waiting requests in the table

  // Planted bug: an older transaction waits for a younger holder instead of wounding it, which
  // allows deadlocks. It exists so that a test can show its checker catches them. Never set
  // outside tests.
  bool testing_wait_instead_of_wound = false;
};

enum class AcquireOutcome : uint8_t { kGranted, kWaiting };

struct AcquireResult {
  AcquireOutcome outcome = AcquireOutcome::kGranted;
  // Transactions this request wounded: abort each, then call ReleaseAll for it. Each wounded
  // transaction is reported once, by the request that wounded it.
  std::vector<TxnId> wounded;
};

// A waiting request that now holds its lock: tell the transaction.
struct Grant {
  TxnId txn = 0;
  LockSpan span;
  LockMode mode = LockMode::kShared;

  friend bool operator==(const Grant&, const Grant&) = default;
};

class LockTable {
 public:
  explicit LockTable(const LockTableOptions& options = {});

  LockTable(const LockTable&) = delete;
  LockTable& operator=(const LockTable&) = delete;

  // Asks for `span` in `mode` for `txn`, at the caller's clock reading `now_us` (activity for
  // ExpireIdle). kGranted: the lock is held. kWaiting: it is queued, and a later Release or
  // ReleaseAll returns its Grant. Either way `wounded` lists transactions to abort. Errors change
  // nothing: INVALID_ARGUMENT for an empty range; FAILED_PRECONDITION when `txn.id` is known with
  // another start timestamp; ABORTED when the transaction was wounded or expired (abort it);
  // RESOURCE_EXHAUSTED past a limit.
  absl::StatusOr<AcquireResult> Acquire(const TxnRef& txn, const LockSpan& span, LockMode mode,
                                        int64_t now_us);

  // Drops the transaction's lock on exactly `span`, or its wait for it (a no-op when it has
  // neither). Returns the waiting requests granted as a result, oldest first.
  std::vector<Grant> Release(TxnId txn, const LockSpan& span);

  // Drops every lock and wait of the transaction and forgets it (commit or abort). Returns the
  // waiting requests granted as a result, oldest first. A no-op for an unknown transaction.
  std::vector<Grant> ReleaseAll(TxnId txn);

  // A keepalive from the transaction's client. ABORTED when the transaction was wounded or
  // expired; OK otherwise (also for a transaction the table does not know: it holds nothing).
  absl::Status Touch(TxnId txn, int64_t now_us);

  // Transactions with no Acquire or Touch for at least `timeout_us` before `now_us`, by id; each is
  // reported once, and is treated as wounded from then on. Abort each and call ReleaseAll.
  std::vector<TxnId> ExpireIdle(int64_t now_us, int64_t timeout_us);

  // True when `txn` holds exactly `span` in `mode` or a stronger one.
  bool Holds(TxnId txn, const LockSpan& span, LockMode mode) const;

  // The waits-for graph as (waiter, blocker) pairs, sorted: a blocker holds a conflicting lock on
  // an overlapping span, or waits ahead of the waiter for one.
  std::vector<std::pair<TxnId, TxnId>> WaitsFor() const;

  // One line per locked span, in span order: "span: held 1:X waiting 3:S 4:X".
  std::string DebugString() const;

  size_t waiter_count() const { return waiter_count_; }
  // Requests that had to wait since the table was made (for metrics; never decreases).
  uint64_t waits_started() const { return waits_started_; }
  // Spans held or waited for that overlap `span`.
  size_t CountOverlapping(const LockSpan& span) const;
  // The transactions holding or waiting for a span that overlaps `span`, ascending, each once.
  std::vector<TxnId> TxnsOverlapping(const LockSpan& span) const;

 private:
  struct Entry {
    TxnId txn = 0;
    LockMode mode = LockMode::kShared;
  };
  // The requests on one span.
  struct Lock {
    std::vector<Entry> holders;  // at most one per transaction
    std::vector<Entry> waiters;  // in priority order, at most one per transaction
  };
  struct TxnState {
    TxnRef ref;
    int64_t last_active_us = 0;
    bool doomed = false;       // wounded or expired: it must abort
    std::string doom_reason;   // for its ABORTED errors
    std::set<LockSpan> spans;  // spans it holds or waits for
  };

  // What an Acquire found on its span, and what it decided.
  struct Request {
    std::map<LockSpan, Lock>::iterator lock;  // the span's lock, or locks_.end()
    Entry* held = nullptr;                    // the transaction's own hold on the span
    Entry* waiting = nullptr;                 // the transaction's own wait for it
    bool new_span = false;                    // neither: the transaction's spans grow
    bool blocked = false;                     // the request must wait
    std::vector<TxnId> younger_holders;       // conflicting holders it may wound
  };

  // Acquire's checks of the transaction itself (its start timestamp, whether it is doomed); a
  // known transaction counts as active at `now_us` and its span count goes to `txn_spans`.
  absl::Status CheckTxn(const TxnRef& txn, int64_t now_us, size_t* txn_spans);
  Request FindOwn(TxnId txn, const LockSpan& span);
  // Acquire past its checks: holds or queues the request, and wounds younger holders.
  void Take(const TxnRef& txn, const LockSpan& span, LockMode mode, int64_t now_us, Request& r,
            AcquireResult* result);
  void Wound(const TxnRef& txn, const LockSpan& span, const std::vector<TxnId>& younger_holders,
             AcquireResult* result);
  // Calls f(span, lock) for every lock whose span overlaps `span`, including `span`'s own.
  template <typename F>
  void ForEachOverlapping(const LockSpan& span, F&& f) const;
  // Whether a request by `txn` for `span` in `mode` must wait; appends to `younger_holders` (when
  // given) the conflicting holders younger than `txn`, which it may wound.
  bool Blocked(const TxnRef& txn, const LockSpan& span, LockMode mode,
               std::vector<TxnId>* younger_holders) const;
  void RemoveEntries(TxnId txn, const LockSpan& span);
  // Grants, in priority order, the waiters that the release of `released` may have unblocked.
  std::vector<Grant> GrantWaiters(const std::set<LockSpan>& released);

  const LockTableOptions options_;
  std::map<LockSpan, Lock> locks_;  // every span with a holder or a waiter
  std::set<LockSpan> ranges_;       // the range spans among locks_' keys
  // Each transaction from its first granted or queued request until its ReleaseAll.
  std::map<TxnId, TxnState> txns_;
  size_t waiter_count_ = 0;
  uint64_t waits_started_ = 0;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_LOCK_TABLE_H_
