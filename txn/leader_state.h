// txn::LeaderState: the soft state only a group's serving leader keeps — the lock table, where
// each transaction stands here (its Stage), the requests parked until their locks are granted or
// their record applies, and the ids of transactions aborted recently — together with the lock
// waits that move parked requests along, and the leader's proposals.
//
// All of it is dropped when this replica stops leading or its ballot changes (StepDown answers
// every waiting request UNAVAILABLE), and built again by the next Establish: a new leader learns
// prepared transactions from the log and takes their locks again (Participant::RetakeLocks).
//
// Lock waits follow lock_table.h: wound-wait by start timestamp. A request takes its locks in
// order; the spans it must wait for park it (Parked::waiting); once the last is granted it is
// handed back through the ParkedResumer, on the same call that freed the lock. Transactions the
// request wounded are reported to the caller, which settles them once the request is parked, so
// that the locks they free go to it.
//
// Owned by the TransactionManager. Thread safety: none.
#ifndef MERIDIAN_TXN_LEADER_STATE_H_
#define MERIDIAN_TXN_LEADER_STATE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "spanserver/paxos/types.h"
#include "txn/decision_memory.h"
#include "txn/lock_table.h"
#include "txn/options.h"
#include "txn/records.h"
#include "txn/replica_port.h"
#include "txn/types.h"

namespace meridian::txn {

// Where a transaction stands at this leader.
enum class Stage : uint8_t {
  kActive,           // reads only (maybe some waiting for locks)
  kPreparing,        // Prepare waits for write locks
  kPrepareProposed,  // prepare record in flight
  kPrepared,         // prepare record applied; waiting for the outcome
  kFinishProposed,   // finish record in flight
  kCommitting,       // Commit waits for write locks (coordinator)
  kAwaitingReports,  // Commit holds its locks and waits for participants' kPrepared reports
  kCommitProposed,   // commit record in flight
  kCommitWait,       // commit record applied; waiting until TT.after(s)
  kAbortProposed,    // abort decision in flight
};

// A record of the transaction's is in the log or on its way there: only the log settles it.
bool InFlight(Stage stage);

// A request parked until its locks are granted (or, a Commit, until every participant reported).
struct Parked {
  enum class Kind : uint8_t { kRead, kPrepare, kCommit } kind = Kind::kRead;
  std::vector<RequestId> ids;                   // the request and its duplicates
  std::set<LockSpan> waiting;                   // spans not granted yet
  std::vector<std::string> keys;                // kRead
  std::optional<ScanSpan> scan = std::nullopt;  // kRead of a range (keys empty)
  PrepareRequest prepare;                       // kPrepare
  CommitRequest commit;                         // kCommit
};

// The leader's view of one transaction.
struct Active {
  TxnRef ref;
  Stage stage = Stage::kActive;
  std::vector<Parked> parked;
  std::vector<RequestId> reply_ids;   // prepare/commit/abort waiting for their record
  std::vector<GroupId> participants;  // coordinator: whom to tell the outcome
  bool wounded = false;
};

// Takes back a parked request whose locks are all granted.
class ParkedResumer {
 public:
  virtual void Resume(TxnId txn, Parked parked, Interval now, ReplicaPort& port, Actions* out) = 0;

 protected:
  ~ParkedResumer() = default;
};

class LeaderState {
 public:
  // `resumer` is not owned and must outlive this.
  LeaderState(const TransactionManagerOptions& opt, ParkedResumer* resumer);

  // --- Leadership.
  bool leading() const { return leading_; }
  // The ballot of the term this state belongs to.
  const paxos::Ballot& ballot() const { return ballot_; }
  // Starts a term: an empty lock table, nothing active.
  void Establish(const paxos::Ballot& ballot, Interval now);
  // Ends the term: every waiting request is answered UNAVAILABLE (outcome unknown when its
  // record was in flight), and the soft state goes.
  void StepDown(Actions* out);

  // --- Proposals. Proposes `record`; the time of the last proposal paces idle safe-time records.
  absl::Status Propose(ReplicaPort& port, Interval now, Record record);
  int64_t last_proposal_us() const { return last_proposal_us_; }
  void set_last_proposal_us(int64_t us) { last_proposal_us_ = us; }

  // --- Transactions here. locks() is null when not leading.
  std::map<TxnId, Active>& active() { return active_; }
  const std::map<TxnId, Active>& active() const { return active_; }
  LockTable* locks() { return locks_.get(); }
  const LockTable* locks() const { return locks_.get(); }
  bool RecentlyAborted(TxnId txn) const { return aborted_.contains(txn); }
  size_t aborted_count() const { return aborted_.size(); }

  // --- Lock waits.
  // Takes `span` for `ref`, parking it in `parked->waiting` when it must wait; wounded holders
  // go to `wounded`. False with `error` when the table refused (ABORTED: `ref` is wounded;
  // RESOURCE_EXHAUSTED: a limit).
  bool AcquireFor(const TxnRef& ref, const LockSpan& span, LockMode mode, int64_t now_us,
                  Parked* parked, std::vector<TxnId>* wounded, absl::Status* error);
  // X-locks every write of a Prepare or Commit for `parked`. False (with `error`) when a lock
  // could not be taken; the spans this request was queued for are then dropped again.
  bool AcquireWrites(const TxnRef& ref, const std::vector<Mutation>& writes, Interval now,
                     Parked* parked, std::vector<TxnId>* wounded, absl::Status* error,
                     ReplicaPort& port, Actions* out);
  // Releases one span of `txn`, resuming whoever it completes.
  void Release(TxnId txn, const LockSpan& span, Interval now, ReplicaPort& port, Actions* out);
  // Releases every lock of `txn` (nothing when not leading), resuming whoever it completes.
  void ReleaseAll(TxnId txn, Interval now, ReplicaPort& port, Actions* out);
  // ABORTED unless `ref` still holds an S (or X) lock on every key it says it read here.
  absl::Status CheckReads(const TxnRef& ref, const std::vector<std::string>& reads,
                          const std::vector<KeyRange>& read_ranges);
  // The plant testing_release_read_locks_early: drops the read-only keys' locks at proposal.
  void ReleaseReadsEarly(const TxnRef& ref, const std::vector<std::string>& reads,
                         const std::vector<KeyRange>& read_ranges,
                         const std::vector<Mutation>& writes, Interval now, ReplicaPort& port,
                         Actions* out);
  // Aborts a transaction that has nothing in flight here: fails its parked and waiting requests
  // with `why`, remembers it as aborted, releases its locks.
  void AbortLocal(TxnId txn, const absl::Status& why, Interval now, ReplicaPort& port,
                  Actions* out);

 private:
  void Grants(const std::vector<Grant>& grants, Interval now, ReplicaPort& port, Actions* out);

  const TransactionManagerOptions& opt_;
  ParkedResumer* const resumer_;
  bool leading_ = false;
  paxos::Ballot ballot_;
  std::unique_ptr<LockTable> locks_;
  std::map<TxnId, Active> active_;
  int64_t last_proposal_us_ = 0;
  BoundedIdSet aborted_{100'000};
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_LEADER_STATE_H_
