// Coordinator; see coordinator.h.
#include "txn/coordinator.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "txn/admission.h"

namespace meridian::txn {
namespace {

std::vector<GroupId> Groups(const std::vector<ParticipantRef>& participants) {
  std::vector<GroupId> groups;
  groups.reserve(participants.size());
  for (const ParticipantRef& p : participants) groups.push_back(p.group);
  return groups;
}

void AddNew(const std::vector<GroupId>& groups, std::vector<GroupId>* to) {
  for (GroupId g : groups) {
    if (std::find(to->begin(), to->end(), g) == to->end()) to->push_back(g);
  }
}

}  // namespace

Coordinator::Coordinator(GroupId group, const TransactionManagerOptions& opt, LeaderState* leader,
                         AppliedState* applied)
    : group_(group), opt_(opt), leader_(leader), applied_(applied), decisions_(opt) {}

// ---- replicated state ------------------------------------------------------------------------

absl::StatusOr<ApplyResult> Coordinator::ApplyCommit(CommitRecord record, Timestamp ts,
                                                     Interval now, ReplicaPort& port,
                                                     Actions* out) {
  const TxnId txn = record.txn;
  if (decisions_.Known(txn)) return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
  if (absl::Status st = applied_->Write(ts, record.writes); !st.ok()) return st;
  const std::vector<GroupId> participants = Groups(record.participants);
  decisions_.Remember(txn, Decision{true, ts, participants});
  if (!leader_->leading()) return ApplyResult{ApplyResult::Kind::kCommit, txn, ts};
  std::vector<RequestId> ids;
  if (auto it = leader_->active().find(txn); it != leader_->active().end()) {
    ids = std::move(it->second.reply_ids);
    it->second.reply_ids.clear();
    it->second.stage = Stage::kCommitWait;
  }
  CommitWaiter w{ts, txn, std::move(ids), participants};
  w.applied_at = now.latest;
  // Commit wait ends at TT.after(s). It often has by now (the Paxos round outlasted 2 epsilon):
  // then reply at once instead of from a tick, which costs a timer's wakeup.
  if (opt_.testing_skip_commit_wait || now.After(ts)) {
    FinishCommitWait(std::move(w), now, port, out);
  } else {
    commit_waits_.push_back(std::move(w));
    WakeAt(out, ts);
  }
  return ApplyResult{ApplyResult::Kind::kCommit, txn, ts};
}

ApplyResult Coordinator::ApplyAbort(const AbortRecord& record, Timestamp ts, Interval now,
                                    ReplicaPort& port, Actions* out) {
  const TxnId txn = record.txn;
  if (decisions_.Known(txn)) return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
  decisions_.Remember(txn, Decision{false, 0, record.participants});
  if (leader_->leading()) {
    for (GroupId g : record.participants) {
      out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, group_, g, txn, false, 0});
    }
    leader_->AbortLocal(txn, WasAborted(txn), now, port, out);
  }
  return ApplyResult{ApplyResult::Kind::kAbort, txn, ts};
}

void Coordinator::ApplyForget(const SafeTimeRecord& record) {
  for (TxnId txn : record.forget) decisions_.Forget(txn);
}

// ---- requests --------------------------------------------------------------------------------

absl::Status Coordinator::Check(const CommitRequest& req) const {
  if (absl::Status st = ValidateWrites(opt_, req.writes); !st.ok()) return st;
  if (absl::Status st = ValidateKeys(opt_, req.reads); !st.ok()) return st;
  for (const ParticipantRef& p : req.participants) {
    // prepare_ts 0: not known to the client, which sent this Commit together with the prepares
    // (the reports carry the timestamps the commit uses).
    if (p.group == 0 || p.group == group_ || p.prepare_ts < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("bad participant: group ", p.group, " prepared at ", p.prepare_ts));
    }
  }
  return absl::OkStatus();
}

void Coordinator::Commit(ReplicaPort& port, Interval now, RequestId id, const CommitRequest& req,
                         Actions* out, std::vector<TxnId>* wounded) {
  const TxnId txn = req.txn.id;
  if (AnsweredBefore(txn, id, out)) return;
  const std::vector<GroupId> participants = Groups(req.participants);
  Active& a = leader_->active()[txn];
  a.ref = req.txn;
  if (JoinsEarlier(txn, a, id, out)) return;
  if (leader_->RecentlyAborted(txn) || a.wounded ||
      !leader_->CheckReads(req.txn, req.reads, req.read_ranges).ok()) {
    ProposeAbortDecision(txn, req.txn, {id}, participants, now, port, out);
    return;
  }
  // Past every check: from here on the request takes locks.
  Parked parked;
  parked.kind = Parked::Kind::kCommit;
  parked.ids = {id};
  parked.commit = req;
  if (absl::Status error;
      !leader_->AcquireWrites(req.txn, req.writes, now, &parked, wounded, &error, port, out)) {
    ProposeAbortDecision(txn, req.txn, {id}, participants, now, port, out);
    return;
  }
  if (parked.waiting.empty()) {
    ProceedCommit(txn, parked.ids, req, now, port, out);
    return;
  }
  Active& again = leader_->active()[txn];
  again.stage = Stage::kCommitting;
  again.participants = participants;
  again.parked.push_back(std::move(parked));
}

bool Coordinator::AnsweredBefore(TxnId txn, RequestId id, Actions* out) {
  if (decisions_.ForgottenCommit(txn)) {
    // Committed and acknowledged by every participant long ago; the SDK never sends a Commit
    // twice, so this is a stray duplicate: its first copy was answered.
    out->replies.push_back(ErrorReply(
        id, absl::FailedPreconditionError(absl::StrCat(
                "transaction ", txn, " committed long ago; its decision is no longer kept"))));
    return true;
  }
  if (decisions_.ForgottenAbort(txn)) {  // e.g. presumed abort on a participant's inquiry
    out->replies.push_back(ErrorReply(id, WasAborted(txn)));
    return true;
  }
  if (const Decision* d = decisions_.Find(txn); d != nullptr) {
    AnswerDecided(txn, *d, {id}, out);
    return true;
  }
  return false;
}

bool Coordinator::JoinsEarlier(TxnId txn, Active& a, RequestId id, Actions* out) {
  switch (a.stage) {
    case Stage::kCommitProposed:
    case Stage::kCommitWait:
    case Stage::kAbortProposed:
      a.reply_ids.push_back(id);
      return true;
    case Stage::kCommitting:
    case Stage::kAwaitingReports:
      for (Parked& p : a.parked) {
        if (p.kind == Parked::Kind::kCommit) p.ids.push_back(id);
      }
      return true;
    case Stage::kActive:
      return false;
    default:
      out->replies.push_back(
          ErrorReply(id, absl::FailedPreconditionError(absl::StrCat(
                             "transaction ", txn, " is a participant here, not coordinated"))));
      return true;
  }
}

void Coordinator::Abort(ReplicaPort& port, Interval now, const AbortRequest& req, Actions* out) {
  const TxnId txn = req.txn;
  auto it = leader_->active().find(txn);
  const bool known = it != leader_->active().end();
  if (known && InFlight(it->second.stage)) return;
  if (decisions_.Forgotten(txn)) return;  // decided long ago
  const bool decided = decisions_.Find(txn) != nullptr;
  if (req.coordinator && !req.participants.empty() && !decided) {
    const TxnRef ref = known ? it->second.ref : TxnRef{txn, 0};
    ProposeAbortDecision(txn, ref, {}, req.participants, now, port, out);
    return;
  }
  if (decided) return;
  leader_->AbortLocal(
      txn, absl::AbortedError(absl::StrCat("transaction ", txn, " aborted by its client")), now,
      port, out);
}

void Coordinator::ProceedCommit(TxnId txn, const std::vector<RequestId>& ids,
                                const CommitRequest& client_req, Interval now, ReplicaPort& port,
                                Actions* out) {
  // The participants' prepare timestamps as they reported them (kPrepared), not as the client
  // says: a client that understated one would have that participant commit below its prepare
  // timestamp, under reads its safe time already allowed. Until every participant reported, the
  // commit waits here with its locks (an inquiry from a participant meanwhile aborts it).
  CommitRequest req = client_req;
  if (!opt_.testing_trust_client_prepare_ts) {
    std::optional<std::vector<ParticipantRef>> reported = Reported(txn, client_req.participants);
    if (!reported.has_value()) {
      AwaitReports(txn, ids, client_req);
      return;
    }
    req.participants = *std::move(reported);
  }
  reports_.erase(txn);
  // Above TT.now().latest, every prepare timestamp and every version applied here.
  Timestamp at_least = std::max(now.latest, applied_->last_write_ts()) + 1;
  for (const ParticipantRef& p : req.participants) at_least = std::max(at_least, p.prepare_ts);
  if (req.max_commit_ts != 0 && at_least > req.max_commit_ts) {
    // The client's bound has passed: it must run the transaction again (nothing is assigned).
    ProposeAbortDecision(txn, req.txn, ids, Groups(req.participants), now, port, out);
    return;
  }
  absl::StatusOr<Timestamp> ts = port.AssignTimestamp(now, at_least);
  absl::Status st = ts.status();
  if (ts.ok() && req.max_commit_ts != 0 && *ts > req.max_commit_ts) {
    st = absl::AbortedError("the commit timestamp would pass the transaction's bound");
  }
  if (ts.ok() && st.ok()) {
    st = leader_->Propose(
        port, now,
        Record{*ts, CommitRecord{txn, req.txn.start_ts, req.writes, req.reads, req.participants}});
  }
  Active& a = leader_->active()[txn];
  a.participants = Groups(req.participants);
  if (!st.ok()) {
    // Nothing was logged: the transaction may still be aborted (and must be, durably, since
    // participants are prepared).
    ProposeAbortDecision(txn, req.txn, ids, {}, now, port, out);
    return;
  }
  a.stage = Stage::kCommitProposed;
  a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
  leader_->ReleaseReadsEarly(req.txn, req.reads, req.read_ranges, req.writes, now, port, out);
}

void Coordinator::AwaitReports(TxnId txn, const std::vector<RequestId>& ids,
                               const CommitRequest& req) {
  Active& a = leader_->active()[txn];
  a.stage = Stage::kAwaitingReports;
  a.participants = Groups(req.participants);
  Parked parked;
  parked.kind = Parked::Kind::kCommit;
  parked.ids = ids;
  parked.commit = req;
  a.parked.push_back(std::move(parked));
}

std::optional<std::vector<ParticipantRef>> Coordinator::Reported(
    TxnId txn, std::vector<ParticipantRef> participants) const {
  if (participants.empty()) return participants;
  const auto r = reports_.find(txn);
  if (r == reports_.end()) return std::nullopt;
  for (ParticipantRef& p : participants) {
    const auto got = r->second.find(p.group);
    if (got == r->second.end()) return std::nullopt;
    p.prepare_ts = got->second;
  }
  return participants;
}

void Coordinator::ProposeAbortDecision(TxnId txn, const TxnRef& ref, std::vector<RequestId> ids,
                                       std::vector<GroupId> participants, Interval now,
                                       ReplicaPort& port, Actions* out) {
  reports_.erase(txn);
  if (const Decision* d = decisions_.Find(txn); d != nullptr) {
    AnswerDecided(txn, *d, ids, out);
    return;
  }
  if (decisions_.ForgottenAbort(txn)) {
    AnswerForgottenAbort(txn, ids, participants, out);
    return;
  }
  Active& a = leader_->active()[txn];
  if (a.ref.id == 0) a.ref = ref;
  for (Parked& p : a.parked) ids.insert(ids.end(), p.ids.begin(), p.ids.end());
  a.parked.clear();
  AddNew(participants, &a.participants);
  if (a.stage == Stage::kAbortProposed) {
    a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
    return;
  }
  absl::StatusOr<Timestamp> ts = port.AssignTimestamp(now, 0);
  absl::Status st = ts.status();
  if (ts.ok()) st = leader_->Propose(port, now, Record{*ts, AbortRecord{txn, a.participants}});
  if (!st.ok()) {
    const absl::Status why =
        absl::UnavailableError(absl::StrCat("could not log the abort decision: ", st.message()));
    for (RequestId r : ids) out->replies.push_back(ErrorReply(r, why));
    for (RequestId r : a.reply_ids) out->replies.push_back(ErrorReply(r, why));
    a.reply_ids.clear();
    return;
  }
  a.stage = Stage::kAbortProposed;
  a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
}

void Coordinator::AnswerDecided(TxnId txn, const Decision& d, const std::vector<RequestId>& ids,
                                Actions* out) {
  if (!d.committed) {
    for (RequestId r : ids) out->replies.push_back(ErrorReply(r, WasAborted(txn)));
    return;
  }
  // A duplicate Commit of a committed transaction: answer once its commit wait is over.
  commit_waits_.push_back(CommitWaiter{d.commit_ts, txn, ids, {}, /*release=*/false});
  WakeAt(out, d.commit_ts);
}

void Coordinator::AnswerForgottenAbort(TxnId txn, const std::vector<RequestId>& ids,
                                       const std::vector<GroupId>& participants, Actions* out) {
  for (RequestId r : ids) out->replies.push_back(ErrorReply(r, WasAborted(txn)));
  for (GroupId g : participants) {
    out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, group_, g, txn, false, 0});
  }
}

// ---- group messages --------------------------------------------------------------------------

void Coordinator::OnPrepared(const GroupMessage& msg, Interval now, ReplicaPort& port,
                             Actions* out) {
  const TxnId txn = msg.txn;
  if (msg.commit_ts <= 0 || decisions_.Forgotten(txn)) return;
  if (decisions_.Find(txn) != nullptr ||
      (leader_->RecentlyAborted(txn) && leader_->active().count(txn) == 0)) {
    // Too late to count: decided, or aborted here before any decision (wounded, or by its
    // client) so that no Commit can succeed. The participant prepared after the outcome went out
    // (its Prepare waited for locks) or never heard it; answer now, as its inquiry would be
    // answered, instead of leaving it in doubt, holding its locks, until it asks.
    OnInquiry(msg, now, port, out);
    return;
  }
  if (reports_.try_emplace(txn).second) {
    KeepNewest(txn, opt_.max_prepare_reports, reports_order_, reports_);
  }
  const auto r = reports_.find(txn);
  if (r == reports_.end()) return;  // dropped at once (max_prepare_reports = 0)
  r->second[msg.from] = msg.commit_ts;
  auto it = leader_->active().find(txn);
  if (it == leader_->active().end() || it->second.stage != Stage::kAwaitingReports) return;
  // The waiting commit goes on once the last report is in.
  Active& a = it->second;
  const auto commit = std::find_if(a.parked.begin(), a.parked.end(),
                                   [](const Parked& p) { return p.kind == Parked::Kind::kCommit; });
  if (commit == a.parked.end() || !Reported(txn, commit->commit.participants).has_value()) return;
  Parked parked = std::move(*commit);
  a.parked.erase(commit);
  a.stage = Stage::kCommitting;
  ProceedCommit(txn, parked.ids, parked.commit, now, port, out);
}

void Coordinator::OnAck(const GroupMessage& msg) {
  const TxnId txn = msg.txn;
  const Decision* d = decisions_.Find(txn);
  if (d == nullptr || d->participants.empty() || !d->committed) return;
  std::set<GroupId>& heard = acks_[txn];
  heard.insert(msg.from);
  for (GroupId g : d->participants) {
    if (heard.count(g) == 0) return;
  }
  acks_.erase(txn);
  forgettable_.push_back(txn);
}

void Coordinator::OnInquiry(const GroupMessage& msg, Interval now, ReplicaPort& port,
                            Actions* out) {
  const TxnId txn = msg.txn;
  if (decisions_.ForgottenCommit(txn)) return;  // stale: the asker applied the outcome since
  if (const Decision* d = decisions_.Find(txn); d != nullptr) {
    if (d->committed && !now.After(d->commit_ts)) {
      // A participant may apply and release only after the commit wait (SPANNER.md §4.2.1):
      // otherwise a later transaction could read s's data and commit below s.
      commit_waits_.push_back(CommitWaiter{d->commit_ts, txn, {}, {msg.from}, /*release=*/false});
      WakeAt(out, d->commit_ts);
      return;
    }
    out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, group_, msg.from, txn,
                                         d->committed, d->commit_ts});
    return;
  }
  auto it = leader_->active().find(txn);
  const bool known = it != leader_->active().end();
  if (known &&
      (it->second.stage == Stage::kCommitProposed || it->second.stage == Stage::kAbortProposed)) {
    it->second.participants.push_back(msg.from);  // told when the record applies
    return;
  }
  const TxnRef ref = known ? it->second.ref : TxnRef{txn, 0};
  ProposeAbortDecision(txn, ref, {}, {msg.from}, now, port, out);
}

// ---- timers ----------------------------------------------------------------------------------

void Coordinator::FinishCommitWait(CommitWaiter w, Interval now, ReplicaPort& port, Actions* out) {
  for (RequestId r : w.ids) {
    Reply reply;
    reply.id = r;
    reply.ts = w.commit_ts;
    reply.commit_wait_us = w.applied_at == 0 ? 0 : std::max<int64_t>(0, now.latest - w.applied_at);
    out->replies.push_back(std::move(reply));
  }
  for (GroupId g : w.participants) {
    // release: the commit's own wait (first try); otherwise the answer to an inquiry.
    out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, group_, g, w.txn, true,
                                         w.commit_ts, /*leader_only=*/w.release});
  }
  if (!w.release) return;
  leader_->active().erase(w.txn);
  leader_->ReleaseAll(w.txn, now, port, out);
}

void Coordinator::FinishCommitWaits(Interval now, ReplicaPort& port, Actions* out) {
  // By index: finishing one may add another (a resumed duplicate Commit).
  for (size_t i = 0; i < commit_waits_.size();) {
    if (now.After(commit_waits_[i].commit_ts)) {
      CommitWaiter w = std::move(commit_waits_[i]);
      commit_waits_.erase(commit_waits_.begin() + static_cast<std::ptrdiff_t>(i));
      FinishCommitWait(std::move(w), now, port, out);
    } else {
      WakeAt(out, commit_waits_[i].commit_ts);
      ++i;
    }
  }
}

void Coordinator::ResendUnacked(Interval now, Actions* out) {
  if (now.latest - last_resend_us_ < opt_.forget_interval_us) return;
  // Commit decisions some participant has not acknowledged for a while (an ack was lost, or an
  // earlier leader heard it): tell those participants again; they ack what they applied.
  last_resend_us_ = now.latest;
  constexpr size_t kMaxResendsPerTick = 1'000;
  size_t sent = 0;
  for (TxnId txn : decisions_.unforgotten_commits()) {
    if (sent >= kMaxResendsPerTick) break;
    const Decision* d = decisions_.Find(txn);
    if (d == nullptr || now.earliest - d->commit_ts < opt_.ack_resend_after_us) continue;
    auto heard = acks_.find(txn);
    for (GroupId g : d->participants) {
      if (heard != acks_.end() && heard->second.count(g) != 0) continue;
      out->messages.push_back(
          GroupMessage{GroupMessage::Type::kOutcome, group_, g, txn, true, d->commit_ts});
      ++sent;
    }
  }
}

void Coordinator::LogSafeTime(Interval now, ReplicaPort& port) {
  constexpr size_t kMaxForgetPerRecord = 10'000;
  const bool forget =
      !forgettable_.empty() && (now.latest - last_forget_us_ >= opt_.forget_interval_us ||
                                forgettable_.size() >= kMaxForgetPerRecord);
  if (!forget && now.latest - leader_->last_proposal_us() < opt_.safe_time_interval_us) return;
  if (absl::StatusOr<Timestamp> ts = port.AssignTimestamp(now, 0); ts.ok()) {
    const size_t n = forget ? std::min(forgettable_.size(), kMaxForgetPerRecord) : 0;
    const auto end = forgettable_.begin() + static_cast<std::ptrdiff_t>(n);
    SafeTimeRecord record{std::vector<TxnId>(forgettable_.begin(), end)};
    // A record lost with a leadership change leaves those decisions remembered: a leak of a
    // few entries, never a wrong answer.
    if (leader_->Propose(port, now, Record{*ts, std::move(record)}).ok()) {
      forgettable_.erase(forgettable_.begin(), end);
    }
  }
  leader_->set_last_proposal_us(now.latest);
  if (forget) last_forget_us_ = now.latest;
}

void Coordinator::StepDown() {
  acks_.clear();
  forgettable_.clear();
  reports_.clear();
  reports_order_.clear();
}

}  // namespace meridian::txn
