// txn::TransactionManager: the transaction state of one replica of one data group — participant
// and coordinator in one pure state machine (SPANNER.md §4, ARCHITECTURE.md "Transactions").
//
// Every replica of a group runs one. It owns no thread, clock, socket or file: the driver (the
// spanserver's tablet on its Asio strand, or the simulator's node) hands it events — a client
// request, a message from another group, a committed log entry, a tick — each with the group's
// paxos::Replica and a TrueTime reading, and carries out the Actions it returns: replies to
// requests, messages to other groups, and when to tick next. The manager proposes its log records
// itself through the replica (AssignTimestamp then Propose on the same call, so record timestamps
// increase in log order), and learns their fate only from Apply.
//
// Replicated state (the same on every replica, rebuilt by replaying the log after a restart):
//   * the data, written through the Store at each record's commit timestamp;
//   * prepared transactions (participant): writes, read keys, prepare timestamp, coordinator;
//   * decisions (coordinator): committed at s, or aborted;
//   * finished transactions (participant) and the last write timestamp (LastTS);
//   * t_paxos_safe: the highest record timestamp applied.
// Leader-only soft state (dropped whenever this replica stops leading or its ballot changes):
//   the LockTable, requests waiting for locks, proposals in flight, commit waits in progress.
//
// The protocol (client-driven two-phase commit):
//   Read        (leader)  S-lock the keys (wound-wait by start timestamp), return the newest
//                         committed values. The transaction's writes are buffered by the client.
//   Prepare     (leader of each participant group other than the coordinator) X-lock the writes,
//               check the read locks are still held, pick p > every timestamp this leader
//               assigned, log a prepare record (writes + read keys); once applied, reply p and
//               report p to the coordinator's leader (kPrepared); report it again (to every
//               replica) every report_resend_us until the outcome comes or it inquires.
//   Commit      (leader of the coordinator group; also the one-group fast path with no
//               participants) X-lock its own writes, check its read locks, wait (holding them)
//               until every participant reported its prepare timestamp, pick
//               s >= every reported prepare timestamp, > TT.now().latest, > every timestamp
//               assigned (the client's copies of the prepare timestamps are not trusted);
//               log the commit record (the decision, with its own writes); commit-wait until
//               TT.after(s) — overlapping the Paxos round, never skipped — then reply s, release
//               locks, and tell every participant the outcome.
//   Outcome     (participant, from the coordinator or the client) log a finish record: apply the
//               writes at s (or drop them), then release the locks.
//   Abort       (client) release a transaction that has not prepared here; at the coordinator,
//               log an abort decision unless it already decided (a Commit waiting for reports
//               is answered ABORTED: the SDK sends its Commit with the prepares and aborts
//               there when a prepare failed).
//   Prepared    (coordinator, from a participant's leader) record the reported prepare timestamp;
//               a Commit waiting for it goes on once every participant reported.
//   Inquiry     (coordinator, from a prepared participant that waited too long, or that had to
//               wound a prepared transaction) answer the decision; with no decision yet, log an
//               abort first (presumed abort), unless the commit record is already in flight (a
//               Commit still waiting for reports is aborted too).
//   ReadOnly    (leader of one group) s_read = LastTS() when nothing is prepared, else
//               TT.now().latest; then a snapshot read at s_read.
//   SnapshotRead (any replica) at a timestamp t: served once t <= t_safe =
//               min(t_paxos_safe, t_tm_safe) where t_tm_safe = min prepare timestamp - 1; waits
//               at most snapshot_wait_us, then UNAVAILABLE (the client tries another replica).
//               A leader asked for a newer snapshot logs a safe-time record at that timestamp.
//               Records take effect in increasing timestamp order: one below a record already
//               applied (an old leader's, recovered late) is ignored, identically everywhere.
//   Idle leaders log an empty safe-time record every safe_time_interval_us, so followers'
//   t_paxos_safe keeps up with real time.
//
// Deviations from Spanner, on purpose:
//   * Participants send their prepare timestamp both to the client and to the coordinator
//     (kPrepared, which the coordinator uses); the client's Commit only names the participants
//     (the SDK sends it together with the prepares, with prepare_ts 0; the simulator's clients
//     do that or pass understated copies on). Until 2026-11-30 only the client's copy existed; a
//     client that understated one made a participant commit below its prepare timestamp (the
//     simulator's clients understate every copy they pass on, and the plant
//     testing_trust_client_prepare_ts is caught).
//   * Read keys are logged in the prepare (and commit) record, and a new leader re-takes S locks
//     for prepared transactions: otherwise a leader change between prepare and commit would lose
//     the read locks, and a write could slip under a read at a timestamp below s.
//   * Aborts answered to a Commit request are logged first: a duplicated or retried Commit must
//     never commit a transaction whose client was told ABORTED.
//   * A prepared transaction cannot be wounded: the wounder waits, and the participant asks the
//     coordinator to abort it (an Inquiry), which breaks wound-wait cycles that cross groups.
//
// Errors in replies: UNAVAILABLE (not the leader, no lease, leader still catching up, leadership
// lost while the request waited — for a Commit the outcome is then unknown), ABORTED (the
// transaction was wounded, expired, lost its read locks, or the coordinator decided abort:
// retry the whole transaction), INVALID_ARGUMENT (malformed), RESOURCE_EXHAUSTED (lock table
// limits). A snapshot read whose timestamp safe time did not reach in time gets UNAVAILABLE.
//
// Thread safety: none; one strand or thread drives a manager and its replica.
#ifndef MERIDIAN_TXN_TRANSACTION_MANAGER_H_
#define MERIDIAN_TXN_TRANSACTION_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"
#include "txn/lock_table.h"

namespace meridian::txn {

using paxos::GroupId;
using truetime::Interval;

// A write buffered by a transaction: a value, or a delete when `value` is empty.
struct Mutation {
  std::string key;
  std::optional<std::string> value;  // nullopt = delete

  friend bool operator==(const Mutation&, const Mutation&) = default;
};

// The group's multi-version data, owned by the driver (LevelDB in the server, a map in the
// simulator). Write must be idempotent: replaying the log rewrites the same versions.
class Store {
 public:
  virtual ~Store() = default;
  // The newest version of `key` at or below `ts`: nullopt when there is none or it is a delete.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key, Timestamp ts) = 0;
  // Writes every mutation as the version at `ts`, atomically.
  virtual absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes) = 0;
};

// A request from a client, identified by the driver's `id` (echoed in its Reply).
using RequestId = uint64_t;

struct ParticipantRef {
  GroupId group = 0;
  // As the participant replied to its Prepare; 0 when the client sent its Commit together with
  // the prepares. Used only by the plant testing_trust_client_prepare_ts: the coordinator waits
  // for the participants' own reports (kPrepared).
  Timestamp prepare_ts = 0;
};

struct ReadRequest {  // read-write transaction read at the leader, under S locks
  TxnRef txn;
  std::vector<std::string> keys;
};
struct PrepareRequest {
  TxnRef txn;
  GroupId coordinator = 0;
  std::vector<Mutation> writes;    // this group's writes
  std::vector<std::string> reads;  // keys this transaction read here (must still be S-locked)
};
struct CommitRequest {
  TxnRef txn;
  std::vector<Mutation> writes;              // the coordinator group's own writes
  std::vector<std::string> reads;            // keys read in the coordinator group
  std::vector<ParticipantRef> participants;  // every other group, prepared
};
struct AbortRequest {
  TxnId txn = 0;
  bool coordinator = false;  // this group was to coordinate: log an abort decision
  std::vector<GroupId> participants;
};
struct ReadOnlyRequest {  // strong read-only transaction in one group, at its leader
  std::vector<std::string> keys;
};
struct SnapshotReadRequest {  // at any replica
  std::vector<std::string> keys;
  Timestamp read_ts = 0;
};

struct Reply {
  RequestId id = 0;
  absl::Status status;
  std::vector<std::optional<std::string>> values;  // reads: one per key, in request order
  Timestamp ts = 0;  // Prepare: p; Commit: s; ReadOnly/SnapshotRead: the read timestamp
  // UNAVAILABLE only: the request's record was in flight when leadership was lost, so it may or
  // may not take effect (never retry it blindly).
  bool outcome_unknown = false;
};

// Group-to-group messages, sent to the leader of `to` (the driver routes them; losing one is
// safe: participants ask again).
struct GroupMessage {
  enum class Type : uint8_t {
    kOutcome,   // coordinator -> participant: the decision
    kInquiry,   // participant -> coordinator: what happened to txn? (abort it if undecided)
    kAck,       // participant -> coordinator: the outcome is applied (logged) here
    kPrepared,  // participant -> coordinator: prepared here at commit_ts (its prepare timestamp)
  };
  Type type = Type::kOutcome;
  GroupId from = 0;
  GroupId to = 0;
  TxnId txn = 0;
  bool committed = false;   // kOutcome
  Timestamp commit_ts = 0;  // kOutcome, when committed; kPrepared: the prepare timestamp
  // The first try of a message on the common path (a coordinator's outcome once its commit wait
  // ends, a participant's ack once its finish applied): the sender may send it to the leader of
  // `to` it believes in, alone, instead of to every replica (only the leader acts on it). Every
  // retry (inquiries, answers to them, outcome resends) leaves this false and reaches every
  // replica, so a stale belief costs a retry interval, never progress.
  bool leader_only = false;
};

struct Actions {
  std::vector<Reply> replies;
  std::vector<GroupMessage> messages;
  // Call Tick once TT.after(tick_after) holds (a commit wait ends); 0 = nothing pending beyond
  // the driver's regular tick.
  Timestamp tick_after = 0;
};

struct TransactionManagerOptions {
  LockTableOptions locks;
  // A transaction (not yet prepared) with no request or keepalive for this long is aborted.
  int64_t txn_idle_timeout_us = 10'000'000;
  // A prepared participant that has not heard the outcome for this long asks the coordinator,
  // and again after each further interval.
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
  // late Commit ABORTED (a client's Commit may arrive after a presumed abort: the simulator
  // found one committing a forgotten abort, bank seed 8000419), to tell an in-doubt participant
  // "aborted", and to ignore a late record. Past that too, an inquiry presumes abort again.
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
  size_t max_value_bytes = 1 << 20;

  // Planted bugs, so tests can show their checkers catch them. Never set outside tests.
  bool testing_skip_commit_wait = false;           // reply and release before TT.after(s)
  bool testing_release_read_locks_early = false;   // drop S locks when the record is proposed
  bool testing_prepare_ts_not_above = false;       // prepare ts = LastTS() + 1, not assigned
  bool testing_snapshot_ignore_safe_time = false;  // serve snapshot reads above t_safe
  bool testing_trust_client_prepare_ts = false;    // commit with the client's prepare timestamps
};

// What one applied record did, for logs and the simulator's recorders.
struct ApplyResult {
  enum class Kind : uint8_t {
    kNone,     // a no-op or safe-time record
    kWrite,    // a non-transactional single write (legacy put/delete)
    kCommit,   // a coordinator's commit decision (its writes applied at ts)
    kAbort,    // a coordinator's abort decision
    kPrepare,  // a participant prepared at ts
    kFinish,   // a participant applied the outcome (its writes at ts when committed)
    kIgnored,  // a duplicate or superseded record (e.g. a commit after an abort decision)
  };
  Kind kind = Kind::kNone;
  TxnId txn = 0;
  Timestamp ts = 0;
};

class TransactionManager {
 public:
  // `store` is not owned and must outlive the manager.
  TransactionManager(GroupId group, Store* store, const TransactionManagerOptions& options = {});
  ~TransactionManager();

  TransactionManager(const TransactionManager&) = delete;
  TransactionManager& operator=(const TransactionManager&) = delete;

  // --- Replicated state: call for every committed entry, in log order, on every replica
  // (including entries the replica re-applies after a restart). A normal entry whose command is
  // not a tablet record is an error (the log and the code disagree: stop the replica).
  absl::StatusOr<ApplyResult> Apply(paxos::Replica& replica, const paxos::Entry& entry,
                                    Interval now, Actions* out);

  // --- Client requests. The reply may be in `out` now or in a later call's Actions.
  void Read(paxos::Replica& replica, Interval now, RequestId id, const ReadRequest& request,
            Actions* out);
  void Prepare(paxos::Replica& replica, Interval now, RequestId id, const PrepareRequest& request,
               Actions* out);
  void Commit(paxos::Replica& replica, Interval now, RequestId id, const CommitRequest& request,
              Actions* out);
  // Best effort; no reply.
  void Abort(paxos::Replica& replica, Interval now, const AbortRequest& request, Actions* out);
  // A client's keepalive for a transaction with locks here: ABORTED if it was wounded.
  absl::Status Keepalive(TxnId txn, Interval now);
  void ReadOnly(paxos::Replica& replica, Interval now, RequestId id, const ReadOnlyRequest& request,
                Actions* out);
  void SnapshotRead(paxos::Replica& replica, Interval now, RequestId id,
                    const SnapshotReadRequest& request, Actions* out);

  // A message from another group's leader (duplicates and reordering are harmless).
  void Receive(paxos::Replica& replica, Interval now, const GroupMessage& message, Actions* out);

  // Timers: commit waits that ended, lock expiry, in-doubt inquiries, safe-time records,
  // snapshot reads that waited too long, leadership changes. Call on every driver tick and when
  // Actions::tick_after has passed.
  void Tick(paxos::Replica& replica, Interval now, Actions* out);

  // Read-side state, for status pages and tests.
  Timestamp SafeTime(const paxos::Replica& replica) const;  // min(t_paxos_safe, t_tm_safe)
  Timestamp LastTs() const;       // the newest commit timestamp applied here
  size_t prepared_count() const;  // prepared transactions awaiting their outcome
  struct Memory {                 // entries the manager holds, by kind
    size_t decisions = 0;         // coordinator decisions remembered
    size_t finished = 0;          // participant outcomes remembered
    size_t active = 0;            // leader: transactions with locks or requests in flight
    size_t aborted = 0;           // leader: recently aborted ids
    size_t forgotten_ids = 0;     // coordinator: ids of forgotten commit and abort decisions
  };
  Memory memory() const;
  bool leading() const;  // serving as the leader (soft state established)
  GroupId group() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Log records (the commands of a data group's Paxos log; serialized proto::TabletCommand).
// Exposed for the server's legacy single-key writes, tests and the simulator's recorders.
std::string EncodeSafeTimeRecord(Timestamp ts);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_TRANSACTION_MANAGER_H_
