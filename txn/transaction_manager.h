// txn::TransactionManager: the transaction state of one replica of one data group — participant
// and coordinator of client-driven two-phase commit (SPANNER.md §4, ARCHITECTURE.md
// "Transactions") — as a pure state machine.
//
// Every replica of a group runs one. It owns no thread, clock, socket or file: the driver (the
// spanserver's tablet on its Asio strand, or the simulator's node) hands it events — a client
// request, a message from another group, a committed log entry, a tick — each with the group's
// replica and a TrueTime reading, and carries out the Actions it returns: replies to requests,
// messages to other groups, and when to tick next. The manager proposes its log records
// (records.h) itself through the replica (AssignTimestamp then Propose on the same call, so record
// timestamps increase in log order), and learns their fate only from Apply.
//
// It sees the replica only through txn::ReplicaPort (replica_port.h): every method takes a
// ReplicaPort, or a paxos::Replica that it wraps in a PaxosReplicaPort. Tests drive it with a
// scripted port (tests/unit/txn/testdata/ holds 2PC scripts run that way).
//
// This class is a thin front over parts, one responsibility each: Participant (participant.h),
// Coordinator (coordinator.h), ReadPath (read_path.h: safe time, snapshot and locking reads),
// LeaderState (leader_state.h: lock table, parked requests), DecisionMemory (decision_memory.h:
// the bounded memory of decisions and outcomes) and AppliedState (applied_state.h). The front
// settles leadership before each call, routes events to the parts, and applies the wound-wait
// and idle-expiry policies that span them.
//
// Replicated state (the same on every replica, rebuilt by replaying the log after a restart):
//   * the data, written through the Store at each record's commit timestamp;
//   * prepared transactions (participant): writes, read keys, prepare timestamp, coordinator;
//   * decisions (coordinator): committed at s, or aborted;
//   * finished transactions (participant) and the last write timestamp (LastTS);
//   * t_paxos_safe: the highest record timestamp applied.
// A checkpoint image (Checkpoint, Restore; the format is in txn/checkpoint.h) holds exactly this
// replicated state except the data: the applied index, LastTS and t_paxos_safe; the prepared
// transactions; the finished ids; and every decision and remembered id, in the order the bounds
// (options.h) drop them. Its contract, for Paxos log truncation: a fresh manager that restores
// the image a manager wrote after applying entry C, and then applies entries C+1.., holds the
// same replicated state at every later entry as a manager that applied 1.. — byte for byte: its
// Checkpoint() is the same. The data is the Store's, which must already hold the versions of
// entries 1..C.
// Leader-only soft state (dropped whenever this replica stops leading or its ballot changes):
//   the LockTable, each transaction's stage and the requests waiting for locks or for its record,
//   recently aborted ids, and (coordinator) the prepare reports and acks heard. Commit waits and
//   waiting snapshot reads outlive leadership: the decisions they wait on are durable.
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
//   SnapshotRead (any replica) at a timestamp t (t = 0: TT.now().latest here, the first read of
//               a strong read-only transaction, answered with the t it chose): served once t <=
//               t_safe = min(t_paxos_safe, t_tm_safe) where t_tm_safe = min prepare timestamp - 1;
//               waits at most snapshot_wait_us, then UNAVAILABLE (the client tries another
//               replica). A leader asked for a newer snapshot logs a safe-time record at that
//               timestamp. Records take effect in increasing timestamp order: one below a record
//               already applied (an old leader's, recovered late) is ignored, identically
//               everywhere.
//   Idle leaders log an empty safe-time record every safe_time_interval_us, so followers'
//   t_paxos_safe keeps up with real time.
//
// Deviations from Spanner, on purpose:
//   * Participants send their prepare timestamp both to the client and to the coordinator
//     (kPrepared, which the coordinator uses); the client's Commit only names the participants
//     (the SDK sends it together with the prepares, with prepare_ts 0; the simulator's clients
//     do that or pass understated copies on). A coordinator that trusted the client's copy would
//     let a participant commit below its prepare timestamp (the plant
//     testing_trust_client_prepare_ts shows the simulator catches it).
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

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"
#include "txn/lock_table.h"
#include "txn/options.h"
#include "txn/ownership.h"
#include "txn/replica_port.h"
#include "txn/types.h"

namespace meridian::txn {

class TransactionManager {
 public:
  // `store` is not owned and must outlive the manager.
  TransactionManager(GroupId group, Store* store, const TransactionManagerOptions& options = {});
  ~TransactionManager();

  TransactionManager(const TransactionManager&) = delete;
  TransactionManager& operator=(const TransactionManager&) = delete;

  // --- Replicated state: call for every committed entry, in log order, on every replica
  // (including entries the replica re-applies after a restart). A normal entry whose command is
  // not a record (records.h) is an INVALID_ARGUMENT error (the log and the code disagree: stop
  // the replica); so is a Store failure, reported after the entry took effect.
  absl::StatusOr<ApplyResult> Apply(ReplicaPort& replica, const paxos::Entry& entry, Interval now,
                                    Actions* out);

  // --- Checkpoints, so that the log up to the last applied entry can be truncated (see the
  // contract above). The image of the replicated state after the last entry applied: the same
  // bytes on every replica that applied the same entries.
  std::string Checkpoint() const;
  // Makes this manager's replicated state the image's; the next entry to apply is the one after
  // the image's index. Only on a manager that has applied nothing and does not serve as leader:
  // FAILED_PRECONDITION otherwise, and when the image is of another group or exceeds this
  // manager's bounds (it was written under other options). DATA_LOSS when the bytes are not an
  // image or of another version (txn/checkpoint.h). On an error nothing changes.
  absl::Status Restore(std::string_view image);

  // --- Client requests. The reply may be in `out` now or in a later call's Actions.
  void Read(ReplicaPort& replica, Interval now, RequestId id, const ReadRequest& request,
            Actions* out);
  void Prepare(ReplicaPort& replica, Interval now, RequestId id, const PrepareRequest& request,
               Actions* out);
  void Commit(ReplicaPort& replica, Interval now, RequestId id, const CommitRequest& request,
              Actions* out);
  // Best effort; no reply.
  void Abort(ReplicaPort& replica, Interval now, const AbortRequest& request, Actions* out);
  // A client's keepalive for a transaction with locks here: ABORTED if it was wounded.
  absl::Status Keepalive(TxnId txn, Interval now);
  void ReadOnly(ReplicaPort& replica, Interval now, RequestId id, const ReadOnlyRequest& request,
                Actions* out);
  void SnapshotRead(ReplicaPort& replica, Interval now, RequestId id,
                    const SnapshotReadRequest& request, Actions* out);

  // A message from another group's leader (duplicates and reordering are harmless).
  void Receive(ReplicaPort& replica, Interval now, const GroupMessage& message, Actions* out);

  // Timers: commit waits that ended, lock expiry, in-doubt inquiries, safe-time records,
  // snapshot reads that waited too long, leadership changes. Call on every driver tick and when
  // Actions::tick_after has passed.
  void Tick(ReplicaPort& replica, Interval now, Actions* out);

  // --- The same calls on a paxos::Replica (through a PaxosReplicaPort).
  absl::StatusOr<ApplyResult> Apply(paxos::Replica& replica, const paxos::Entry& entry,
                                    Interval now, Actions* out);
  void Read(paxos::Replica& replica, Interval now, RequestId id, const ReadRequest& request,
            Actions* out);
  void Prepare(paxos::Replica& replica, Interval now, RequestId id, const PrepareRequest& request,
               Actions* out);
  void Commit(paxos::Replica& replica, Interval now, RequestId id, const CommitRequest& request,
              Actions* out);
  void Abort(paxos::Replica& replica, Interval now, const AbortRequest& request, Actions* out);
  void ReadOnly(paxos::Replica& replica, Interval now, RequestId id, const ReadOnlyRequest& request,
                Actions* out);
  void SnapshotRead(paxos::Replica& replica, Interval now, RequestId id,
                    const SnapshotReadRequest& request, Actions* out);
  void Receive(paxos::Replica& replica, Interval now, const GroupMessage& message, Actions* out);
  void Tick(paxos::Replica& replica, Interval now, Actions* out);

  // Read-side state, for status pages and tests.
  Timestamp SafeTime() const;                               // min(t_paxos_safe, t_tm_safe)
  Timestamp SafeTime(const paxos::Replica& replica) const;  // the same
  Timestamp LastTs() const;       // the newest commit timestamp applied here
  size_t prepared_count() const;  // prepared transactions awaiting their outcome
  // Outcomes refused as implausible (Participant::PlausibleOutcome): forged or misrouted
  // messages, or a clock past its bound.
  uint64_t refused_outcomes() const;
  struct Memory {              // entries the manager holds, by kind
    size_t decisions = 0;      // coordinator decisions remembered
    size_t finished = 0;       // participant outcomes remembered
    size_t active = 0;         // leader: transactions with locks or requests in flight
    size_t aborted = 0;        // leader: recently aborted ids
    size_t forgotten_ids = 0;  // coordinator: ids of forgotten commit and abort decisions
  };
  Memory memory() const;
  // Lock requests that had to wait in this leadership's lock table (0 when not leading; starts
  // again from 0 with each leadership).
  uint64_t lock_waits() const;
  bool leading() const;  // serving as the leader (soft state established)
  GroupId group() const;
  // The ranges this group serves (replicated; ownership.h).
  const Ownership& ownership() const;
  // Prepared transactions, and (at the leader) lock spans held or waited for, in [start, end)
  // (empty end: +infinity): a release waits until there are none.
  size_t BusyIn(std::string_view start, std::string_view end) const;
  // At the leader: aborts the transactions with locks in [start, end) that it may abort (as if
  // an older transaction wounded them: prepared ones and those with a record in flight are left
  // to finish), so that a range about to be released drains quickly.
  void WoundIn(ReplicaPort& replica, Interval now, std::string_view start, std::string_view end,
               Actions* out);
  // The last log entry applied, or the image's after Restore: the driver applies the next one.
  paxos::Index applied_index() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The bytes of an empty safe-time record at `ts` (records.h), for tests and the simulator.
std::string EncodeSafeTimeRecord(Timestamp ts);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_TRANSACTION_MANAGER_H_
