// txn::Coordinator: a group's side of two-phase commit for the transactions it coordinates, and
// the one-group commit path (transaction_manager.h, "Commit", "Abort", "Prepared", "Inquiry").
//
// Replicated state: the decisions (DecisionMemory). Any replica: commit waits — a reply or an
// outcome held until TT.after(s) — which outlive leadership because the decision is durable.
// Leader soft state: the prepare timestamps participants reported (kPrepared), the acks heard
// per decided transaction, and the decisions every participant acknowledged, to be forgotten.
//
// The leader's Commit X-locks the coordinator group's writes, checks its read locks, waits
// (holding them) until every participant reported its prepare timestamp, then picks
// s >= every reported prepare timestamp, > TT.now().latest, > every version applied here (and,
// through the port, > every timestamp it assigned), and logs the commit record. Once it applies,
// commit wait runs until TT.after(s) — overlapping the Paxos round, never skipped — then the
// client gets s, the locks go, and the participants are told.
//
// Invariants:
//   * at most one decision per transaction, first one logged wins (a later commit or abort
//     record about it is ignored, identically everywhere);
//   * an ABORTED reply to a Commit is only given once an abort decision is logged, so a retried
//     or duplicated Commit can never commit a transaction whose client was told ABORTED;
//   * presumed abort: an inquiry about a transaction with no decision logs an abort, unless the
//     commit record is already in flight; a forgotten commit is never presumed aborted (its id
//     is kept, DecisionMemory).
//
// Owned by the TransactionManager. Thread safety: none.
#ifndef MERIDIAN_TXN_COORDINATOR_H_
#define MERIDIAN_TXN_COORDINATOR_H_

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "txn/applied_state.h"
#include "txn/decision_memory.h"
#include "txn/leader_state.h"
#include "txn/options.h"
#include "txn/records.h"
#include "txn/replica_port.h"
#include "txn/types.h"

namespace meridian::txn {

class Coordinator {
 public:
  // The arguments are not owned and must outlive this.
  Coordinator(GroupId group, const TransactionManagerOptions& opt, LeaderState* leader,
              AppliedState* applied);

  // --- Replicated state.
  const DecisionMemory& decisions() const { return decisions_; }
  // An error is the Store's: the replica must stop.
  absl::StatusOr<ApplyResult> ApplyCommit(CommitRecord record, Timestamp ts, Interval now,
                                          ReplicaPort& port, Actions* out);
  ApplyResult ApplyAbort(const AbortRecord& record, Timestamp ts, Interval now, ReplicaPort& port,
                         Actions* out);
  // A safe-time record's `forget` list.
  void ApplyForget(const SafeTimeRecord& record);

  // --- Checkpoints (txn/checkpoint.h). The decisions are this part's only replicated state.
  // Not in an image, because no applied record writes them alike on every replica:
  //   * commit_waits_: added by the replica that leads when a commit applies, and by a leader's
  //     answers to duplicate Commits and inquiries (requests and messages, not records). A
  //     replay after a restart does not rebuild them either: a replica serves as leader only
  //     once it applied its lease read point. The decisions they wait on are in the image; a
  //     participant's inquiry or a retried Commit gets the answer again;
  //   * acks_, forgettable_: acks heard by this leader (messages), dropped by StepDown; a new
  //     leader hears them again (ResendUnacked asks for them);
  //   * reports_, reports_order_: prepare reports heard by this leader (messages), dropped by
  //     StepDown; participants report again (report_resend_us);
  //   * last_forget_us_, last_resend_us_: this leader's pacing.
  DecisionMemory::Image Save() const { return decisions_.Save(); }
  // FAILED_PRECONDITION when `image` exceeds this memory's bounds (other options).
  absl::Status CheckRestore(const DecisionMemory::Image& image) const {
    return decisions_.CheckRestore(image);
  }
  // Replaces the (empty) decisions; see DecisionMemory::Restore.
  void Restore(DecisionMemory::Image image) { decisions_.Restore(std::move(image)); }

  // --- Requests at the established leader.
  // INVALID_ARGUMENT for a Commit that no leader could take (checked before leadership).
  absl::Status Check(const CommitRequest& request) const;
  // Transactions it wounded go to `wounded`.
  void Commit(ReplicaPort& port, Interval now, RequestId id, const CommitRequest& request,
              Actions* out, std::vector<TxnId>* wounded);
  // A client's abort of a transaction not prepared here.
  void Abort(ReplicaPort& port, Interval now, const AbortRequest& request, Actions* out);
  // A Commit whose write locks are all held: logs the commit record once every participant
  // reported, or parks it until they have.
  void ProceedCommit(TxnId txn, const std::vector<RequestId>& ids, const CommitRequest& request,
                     Interval now, ReplicaPort& port, Actions* out);
  // Logs an abort decision for `txn` (unless it is decided: then `ids` get that decision) and
  // answers `ids` ABORTED once it applied; `participants` are told.
  void ProposeAbortDecision(TxnId txn, const TxnRef& ref, std::vector<RequestId> ids,
                            std::vector<GroupId> participants, Interval now, ReplicaPort& port,
                            Actions* out);

  // --- Group messages at the established leader.
  void OnPrepared(const GroupMessage& message, Interval now, ReplicaPort& port, Actions* out);
  void OnAck(const GroupMessage& message);
  void OnInquiry(const GroupMessage& message, Interval now, ReplicaPort& port, Actions* out);

  // --- Timers.
  // Any replica: answers and outcomes whose commit wait is over.
  void FinishCommitWaits(Interval now, ReplicaPort& port, Actions* out);
  // Leader: tells participants again about commit decisions they have not acknowledged.
  void ResendUnacked(Interval now, Actions* out);
  // Leader: logs a safe-time record when idle for safe_time_interval_us (so followers' safe time
  // keeps up), carrying the decisions every participant acknowledged, at most once per
  // forget_interval_us unless many are waiting.
  void LogSafeTime(Interval now, ReplicaPort& port);
  // Leadership ended: the soft state goes.
  void StepDown();

 private:
  struct CommitWaiter {
    Timestamp commit_ts = 0;
    TxnId txn = 0;
    std::vector<RequestId> ids;
    std::vector<GroupId> participants;
    bool release = true;  // the transaction's own commit wait: release its locks at the end
    // TT.now().latest when its commit record applied here; 0 for a decision answered again.
    Timestamp applied_at = 0;
  };

  // A Commit of a transaction decided here gets the decision, or is refused when only its id is
  // left (true).
  bool AnsweredBefore(TxnId txn, RequestId id, Actions* out);
  // A Commit for a transaction already committing or aborting here joins it (true); one for a
  // transaction this group only participates in is refused (true); false otherwise.
  bool JoinsEarlier(TxnId txn, Active& a, RequestId id, Actions* out);
  void AnswerDecided(TxnId txn, const Decision& d, const std::vector<RequestId>& ids, Actions* out);
  void AnswerForgottenAbort(TxnId txn, const std::vector<RequestId>& ids,
                            const std::vector<GroupId>& participants, Actions* out);
  void AwaitReports(TxnId txn, const std::vector<RequestId>& ids, const CommitRequest& req);
  std::optional<std::vector<ParticipantRef>> Reported(
      TxnId txn, std::vector<ParticipantRef> participants) const;
  void FinishCommitWait(CommitWaiter w, Interval now, ReplicaPort& port, Actions* out);

  const GroupId group_;
  const TransactionManagerOptions& opt_;
  LeaderState* const leader_;
  AppliedState* const applied_;
  DecisionMemory decisions_;
  std::vector<CommitWaiter> commit_waits_;
  // Leader: acks heard per decided transaction, and decisions every participant acknowledged,
  // to be forgotten with the next safe-time record.
  std::map<TxnId, std::set<GroupId>> acks_;
  std::vector<TxnId> forgettable_;
  // Leader: the prepare timestamps participants reported for transactions not yet decided, and
  // their arrival order (max_prepare_reports).
  std::map<TxnId, std::map<GroupId, Timestamp>> reports_;
  std::deque<TxnId> reports_order_;
  int64_t last_forget_us_ = 0;
  int64_t last_resend_us_ = 0;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_COORDINATOR_H_
