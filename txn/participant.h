// txn::Participant: a group's side of two-phase commit for the transactions it does not
// coordinate (transaction_manager.h, "Prepare" and "Outcome").
//
// Replicated state, the same on every replica: the prepared transactions (writes, read keys,
// prepare timestamp, coordinator), and the ids of the newest max_finished_outcomes transactions
// whose outcome was applied here (a late duplicate Prepare of one is refused).
//
// The leader X-locks a Prepare's writes, checks its read locks are still held, picks a prepare
// timestamp above every timestamp it assigned and every version applied, and logs a prepare
// record. Once it applies, the client gets the timestamp and the coordinator's leader a report
// (kPrepared), sent again every report_resend_us until the outcome comes; after
// in_doubt_inquiry_us without news the leader asks the coordinator instead (kInquiry). The
// outcome is logged as a finish record; applying it writes the versions at the commit timestamp
// (or nothing), releases the locks and acks to the coordinator (kAck).
//
// A prepared transaction belongs to its coordinator: it is never aborted here, and a new leader
// takes its locks again, read locks included (they are in the record), so that no write can slip
// under one of its reads between prepare and commit.
//
// Owned by the TransactionManager. Thread safety: none.
#ifndef MERIDIAN_TXN_PARTICIPANT_H_
#define MERIDIAN_TXN_PARTICIPANT_H_

#include <cstdint>
#include <map>
#include <string>
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

class Participant {
 public:
  // A replicated prepared transaction.
  struct Prepared {
    Timestamp prepare_ts = 0;
    TxnRef ref;
    GroupId coordinator = 0;
    std::vector<Mutation> writes;
    std::vector<std::string> reads;
    std::vector<KeyRange> read_ranges = {};
    int64_t last_heard_us = 0;   // soft: when this replica last moved it along or asked
    int64_t last_report_us = 0;  // soft: when this replica applied it or last reported it
  };

  // The arguments are not owned and must outlive this.
  Participant(GroupId group, const TransactionManagerOptions& opt, LeaderState* leader,
              AppliedState* applied);

  // --- Replicated state.
  const Prepared* Find(TxnId txn) const;
  bool Finished(TxnId txn) const { return finished_.contains(txn); }
  bool empty() const { return prepared_.empty(); }
  size_t prepared_count() const { return prepared_.size(); }
  // Prepared transactions that wrote or read a key in [start, end) (empty end: +infinity).
  size_t CountTouching(std::string_view start, std::string_view end) const;
  size_t finished_count() const { return finished_.size(); }
  // t_tm_safe: below every prepare timestamp (kMaxTimestamp when nothing is prepared).
  Timestamp TmSafe() const;

  // --- Checkpoints (txn/checkpoint.h): the replicated state above.
  struct Image {
    // By id (ref.id), ascending; last_heard_us and last_report_us are soft, not in an image.
    std::vector<Prepared> prepared;
    std::vector<TxnId> finished;  // oldest first
  };
  Image Save() const;
  // FAILED_PRECONDITION when `image` exceeds max_finished_outcomes (other options).
  absl::Status CheckRestore(const Image& image) const;
  // Replaces the (empty) state with `image`. Requires CheckRestore OK and distinct ids in each
  // list (DecodeCheckpoint checks them). The soft fields start at 0: a leader resets
  // last_heard_us when it takes the locks again (RetakeLocks), and last_report_us 0 only makes
  // its first tick report the prepare timestamp again, which the coordinator takes as a
  // duplicate.
  void Restore(Image image);

  ApplyResult ApplyPrepare(PrepareRecord record, Timestamp ts, Interval now, Actions* out);
  // An error is the Store's: the replica must stop.
  absl::StatusOr<ApplyResult> ApplyFinish(const FinishRecord& record, Timestamp ts, Interval now,
                                          ReplicaPort& port, Actions* out);

  // --- Leader.
  // A new term: every prepared transaction is active again with its locks.
  void RetakeLocks(Interval now);
  // INVALID_ARGUMENT for a Prepare that no leader could take (checked before leadership).
  absl::Status Check(const PrepareRequest& request) const;
  // A checked Prepare at the established leader. Transactions it wounded go to `wounded`.
  void Prepare(ReplicaPort& port, Interval now, RequestId id, const PrepareRequest& request,
               Actions* out, std::vector<TxnId>* wounded);
  // A Prepare whose write locks are all held: logs the prepare record.
  void ProceedPrepare(TxnId txn, const std::vector<RequestId>& ids, const PrepareRequest& request,
                      Interval now, ReplicaPort& port, Actions* out);
  // The coordinator's decision (kOutcome).
  void OnOutcome(const GroupMessage& message, Interval now, ReplicaPort& port, Actions* out);
  // Reports again, or asks about, prepared transactions whose outcome is late.
  void Tick(Interval now, Actions* out);
  // Outcomes of prepared transactions refused: not from their coordinator, or a commit timestamp
  // below the prepare timestamp or in the future (PlausibleOutcome).
  uint64_t refused_outcomes() const { return refused_outcomes_; }

 private:
  // A Prepare of a transaction prepared or ended here gets the answer it got before (true).
  bool AnsweredBefore(TxnId txn, RequestId id, Actions* out) const;
  // A Prepare of a transaction already preparing here joins it (true); one for a transaction
  // this group coordinates is refused (true); false otherwise.
  bool JoinsEarlier(TxnId txn, Active& a, RequestId id, Actions* out) const;
  void TakeLocks(const Prepared& p, Interval now);
  static bool PlausibleOutcome(const GroupMessage& msg, const Prepared& p, Interval now);
  void ProposeFinish(TxnId txn, bool committed, Timestamp commit_ts, Interval now,
                     ReplicaPort& port);

  const GroupId group_;
  const TransactionManagerOptions& opt_;
  LeaderState* const leader_;
  AppliedState* const applied_;
  std::map<TxnId, Prepared> prepared_;
  BoundedIdSet finished_;
  uint64_t refused_outcomes_ = 0;  // soft: this replica's count
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_PARTICIPANT_H_
