// txn::TransactionManagerOptions: the bounds, intervals and planted bugs of a transaction
// manager (transaction_manager.h). Thread safety: a plain value.
#ifndef MERIDIAN_TXN_OPTIONS_H_
#define MERIDIAN_TXN_OPTIONS_H_

#include <cstddef>
#include <cstdint>

#include "txn/lock_table.h"
#include "txn/range_guard.h"

namespace meridian::txn {

struct TransactionManagerOptions {
  LockTableOptions locks;
  // A transaction (not yet prepared) with no request or keepalive for this long is aborted.
  int64_t txn_idle_timeout_us = 10'000'000;
  // A prepared participant that has not heard the outcome for this long asks the coordinator,
  // and again after each further interval. (A report reaching a coordinator that has decided, or
  // has aborted the transaction, is answered with the outcome at once; this covers the rest.)
  int64_t in_doubt_inquiry_us = 1'000'000;
  // An idle leader logs a safe-time record this often.
  int64_t safe_time_interval_us = 1'000'000;
  // Longest a snapshot read waits for safe time before UNAVAILABLE.
  int64_t snapshot_wait_us = 500'000;
  // Decisions of single-group transactions (no participants; every Kv put is one) are kept for
  // this many later ones, to answer a duplicated Commit with the first outcome; older ones are
  // forgotten, in log order on every replica. Decisions with participants are kept: an in-doubt
  // participant may still ask (presumed abort must never answer for a committed transaction).
  size_t max_local_decisions = 100'000;
  // A coordinator drops a commit decision once every participant acknowledged applying it
  // (kAck): its leader logs the ids with a safe-time record at most this often, and keeps only
  // the id (max_forgotten_ids). Until then the decision is kept to answer in-doubt inquiries.
  // Abort decisions are bounded separately (max_abort_decisions).
  int64_t forget_interval_us = 1'000'000;
  // Abort decisions with participants are kept for this many later ones; older ones leave only
  // their id (kept like a forgotten commit's, max_forgotten_ids), which is enough to answer a
  // late Commit ABORTED (a client's Commit may arrive after a presumed abort; bank seed 8000419
  // replays one), to tell an in-doubt participant "aborted", and to ignore a late record. Past that
  // too, an inquiry presumes abort again.
  size_t max_abort_decisions = 100'000;
  // A commit decision some participant has not acknowledged this long after its timestamp is
  // sent to that participant again (at most once per forget_interval_us), which acks it if it
  // applied the outcome: so a lost ack, or acks an earlier leader heard, delay forgetting only.
  int64_t ack_resend_after_us = 5'000'000;
  // Ids of forgotten commit decisions are kept this many (the newest), so that a stale inquiry,
  // abort or Commit about one (sent before its sender had applied the outcome) is ignored or
  // refused instead of answered with presumed abort; as many ids of forgotten aborts likewise.
  size_t max_forgotten_ids = 1'000'000;
  // Participants remember the outcomes they applied (to refuse a late duplicate Prepare) for
  // this many later ones, forgotten in log order. One forgotten is harmless: a re-prepare asks
  // the coordinator and re-applies the same versions at the same timestamp, or aborts.
  size_t max_finished_outcomes = 100'000;
  // A coordinator's leader keeps the prepare timestamps participants reported (kPrepared) for
  // this many transactions not yet decided (the newest); a commit whose reports were dropped waits
  // until a participant reports again or an inquiry from one aborts it.
  size_t max_prepare_reports = 100'000;
  // A prepared participant's leader that has not heard the outcome reports its prepare timestamp
  // again this often (to every replica of the coordinator group), until it asks instead
  // (in_doubt_inquiry_us). So a report lost with a link, dropped by a coordinator leader that
  // changed (the new one keeps none), or never sent because this group's leader changed after
  // the prepare applied, costs a delay instead of the transaction. 0: never again.
  int64_t report_resend_us = 100'000;
  size_t max_keys_per_request = 10'000;
  size_t max_key_bytes = 4096;
  uint32_t max_scan_rows = 10'000;  // rows one scan request may ask for
  size_t max_value_bytes = 1 << 20;
  // Not the manager's: the per-key checks its driver runs before each request (TxnTablet and the
  // simulator's TxnNode build their RangeGuard from these).
  RangeGuardOptions guard;

  // Planted bugs, so tests can show their checkers catch them. Never set outside tests.
  bool testing_skip_commit_wait = false;           // reply and release before TT.after(s)
  bool testing_release_read_locks_early = false;   // drop S locks when the record is proposed
  bool testing_prepare_ts_not_above = false;       // prepare ts = LastTS() + 1, not assigned
  bool testing_snapshot_ignore_safe_time = false;  // serve snapshot reads above t_safe
  bool testing_trust_client_prepare_ts = false;    // commit with the client's prepare timestamps
  // Apply a release although prepared transactions touch the range (their writes then land in a
  // range the group no longer serves).
  bool testing_release_without_drain = false;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_OPTIONS_H_
