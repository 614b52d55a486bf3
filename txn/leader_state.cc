// LeaderState; see leader_state.h.
#include "txn/leader_state.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "txn/admission.h"

namespace meridian::txn {

bool InFlight(Stage s) {
  return s == Stage::kPrepareProposed || s == Stage::kPrepared || s == Stage::kFinishProposed ||
         s == Stage::kCommitProposed || s == Stage::kCommitWait || s == Stage::kAbortProposed;
}

LeaderState::LeaderState(const TransactionManagerOptions& opt, ParkedResumer* resumer)
    : opt_(opt), resumer_(resumer) {}

void LeaderState::Establish(const paxos::Ballot& ballot, Interval now) {
  leading_ = true;
  ballot_ = ballot;
  locks_ = std::make_unique<LockTable>(opt_.locks);
  last_proposal_us_ = now.latest;
}

void LeaderState::StepDown(Actions* out) {
  leading_ = false;
  for (auto& [id, a] : active_) {
    const absl::Status lost = absl::UnavailableError(
        InFlight(a.stage) && a.stage != Stage::kPrepared
            ? "leadership lost while the record was in flight: outcome unknown"
            : "leadership lost; retry at the new leader");
    for (Parked& p : a.parked) {
      for (RequestId r : p.ids) out->replies.push_back(ErrorReply(r, lost));
    }
    for (RequestId r : a.reply_ids) {
      out->replies.push_back(ErrorReply(r, lost));
      out->replies.back().outcome_unknown = InFlight(a.stage);
    }
  }
  active_.clear();
  locks_.reset();
  aborted_.clear();
}

absl::Status LeaderState::Propose(ReplicaPort& port, Interval now, Record record) {
  absl::StatusOr<paxos::Index> slot = port.Propose(EncodeRecord(std::move(record)), now);
  if (!slot.ok()) return slot.status();
  last_proposal_us_ = now.latest;
  return absl::OkStatus();
}

bool LeaderState::AcquireFor(const TxnRef& ref, const LockSpan& span, LockMode mode, int64_t now_us,
                             Parked* parked, std::vector<TxnId>* wounded, absl::Status* error) {
  absl::StatusOr<AcquireResult> r = locks_->Acquire(ref, span, mode, now_us);
  if (!r.ok()) {
    *error = r.status();
    return false;
  }
  if (r->outcome == AcquireOutcome::kWaiting) parked->waiting.insert(span);
  wounded->insert(wounded->end(), r->wounded.begin(), r->wounded.end());
  return true;
}

bool LeaderState::AcquireWrites(const TxnRef& ref, const std::vector<Mutation>& writes,
                                Interval now, Parked* parked, std::vector<TxnId>* wounded,
                                absl::Status* error, ReplicaPort& port, Actions* out) {
  for (const Mutation& w : writes) {
    if (!AcquireFor(ref, LockSpan::Key(w.key), LockMode::kExclusive, now.earliest, parked, wounded,
                    error)) {
      for (const LockSpan& s : parked->waiting) Release(ref.id, s, now, port, out);
      parked->waiting.clear();
      return false;
    }
  }
  return true;
}

void LeaderState::Release(TxnId txn, const LockSpan& span, Interval now, ReplicaPort& port,
                          Actions* out) {
  Grants(locks_->Release(txn, span), now, port, out);
}

void LeaderState::ReleaseAll(TxnId txn, Interval now, ReplicaPort& port, Actions* out) {
  if (locks_) Grants(locks_->ReleaseAll(txn), now, port, out);
}

void LeaderState::Grants(const std::vector<Grant>& grants, Interval now, ReplicaPort& port,
                         Actions* out) {
  for (const Grant& g : grants) {
    auto it = active_.find(g.txn);
    if (it == active_.end()) continue;
    std::vector<Parked>& parked = it->second.parked;
    for (size_t i = 0; i < parked.size(); ++i) {
      if (parked[i].waiting.erase(g.span) == 0 || !parked[i].waiting.empty()) continue;
      Parked ready = std::move(parked[i]);
      parked.erase(parked.begin() + static_cast<std::ptrdiff_t>(i));
      resumer_->Resume(g.txn, std::move(ready), now, port, out);
      break;
    }
  }
}

absl::Status LeaderState::CheckReads(const TxnRef& ref, const std::vector<std::string>& reads,
                                     const std::vector<KeyRange>& read_ranges) {
  std::vector<LockSpan> spans;
  for (const std::string& k : reads) spans.push_back(LockSpan::Key(k));
  for (const KeyRange& r : read_ranges) spans.push_back(LockSpan::Range(r.start, r.end));
  for (const LockSpan& span : spans) {
    if (!locks_->Holds(ref.id, span, LockMode::kShared)) {
      return absl::AbortedError(absl::StrCat("transaction ", ref.id,
                                             " no longer holds its read lock on ", span.ToString(),
                                             " (the leader changed or the lock expired)"));
    }
  }
  return absl::OkStatus();
}

void LeaderState::ReleaseReadsEarly(const TxnRef& ref, const std::vector<std::string>& reads,
                                    const std::vector<KeyRange>& read_ranges,
                                    const std::vector<Mutation>& writes, Interval now,
                                    ReplicaPort& port, Actions* out) {
  if (!opt_.testing_release_read_locks_early) return;
  std::set<std::string> written;
  for (const Mutation& m : writes) written.insert(m.key);
  for (const std::string& k : reads) {
    if (written.count(k) == 0) Release(ref.id, LockSpan::Key(k), now, port, out);
  }
  for (const KeyRange& r : read_ranges)
    Release(ref.id, LockSpan::Range(r.start, r.end), now, port, out);
}

void LeaderState::AbortLocal(TxnId txn, const absl::Status& why, Interval now, ReplicaPort& port,
                             Actions* out) {
  auto it = active_.find(txn);
  if (it != active_.end()) {
    for (Parked& p : it->second.parked) {
      for (RequestId r : p.ids) out->replies.push_back(ErrorReply(r, why));
    }
    for (RequestId r : it->second.reply_ids) out->replies.push_back(ErrorReply(r, why));
    active_.erase(it);
  }
  aborted_.Insert(txn);
  ReleaseAll(txn, now, port, out);
}

}  // namespace meridian::txn
