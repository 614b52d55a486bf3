// Participant; see participant.h.
#include "txn/participant.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "txn/admission.h"
#include "txn/ownership.h"

namespace meridian::txn {

size_t Participant::CountTouching(std::string_view start, std::string_view end) const {
  size_t n = 0;
  for (const auto& [id, p] : prepared_) {
    const bool writes = std::any_of(p.writes.begin(), p.writes.end(),
                                    [&](const Mutation& m) { return InRange(m.key, start, end); });
    const bool reads = std::any_of(p.reads.begin(), p.reads.end(),
                                   [&](const std::string& k) { return InRange(k, start, end); });
    const bool scans =
        std::any_of(p.read_ranges.begin(), p.read_ranges.end(),
                    [&](const KeyRange& r) { return RangesOverlap(r.start, r.end, start, end); });
    if (writes || reads || scans) ++n;
  }
  return n;
}

Participant::Participant(GroupId group, const TransactionManagerOptions& opt, LeaderState* leader,
                         AppliedState* applied)
    : group_(group),
      opt_(opt),
      leader_(leader),
      applied_(applied),
      finished_(opt.max_finished_outcomes) {}

const Participant::Prepared* Participant::Find(TxnId txn) const {
  auto it = prepared_.find(txn);
  return it == prepared_.end() ? nullptr : &it->second;
}

Timestamp Participant::TmSafe() const {
  Timestamp t = truetime::kMaxTimestamp;
  for (const auto& [id, p] : prepared_) t = std::min(t, p.prepare_ts - 1);
  return t;
}

Participant::Image Participant::Save() const {
  Image image;
  image.prepared.reserve(prepared_.size());
  for (const auto& [txn, p] : prepared_) {
    Prepared& copy = image.prepared.emplace_back(p);
    copy.last_heard_us = 0;
    copy.last_report_us = 0;
  }
  image.finished = finished_.Ids();
  return image;
}

absl::Status Participant::CheckRestore(const Image& image) const {
  return finished_.CheckRestore(image.finished, "finished outcomes");
}

void Participant::Restore(Image image) {
  CHECK(prepared_.empty() && finished_.size() == 0);
  for (Prepared& p : image.prepared) {
    const TxnId txn = p.ref.id;
    p.last_heard_us = 0;
    p.last_report_us = 0;
    CHECK(prepared_.emplace(txn, std::move(p)).second);
  }
  finished_.Restore(image.finished);
}

void Participant::TakeLocks(const Prepared& p, Interval now) {
  LockTable* locks = leader_->locks();
  for (const std::string& k : p.reads) {
    (void)locks->Acquire(p.ref, LockSpan::Key(k), LockMode::kShared, now.earliest);
  }
  for (const KeyRange& r : p.read_ranges) {
    (void)locks->Acquire(p.ref, LockSpan::Range(r.start, r.end), LockMode::kShared, now.earliest);
  }
  for (const Mutation& m : p.writes) {
    (void)locks->Acquire(p.ref, LockSpan::Key(m.key), LockMode::kExclusive, now.earliest);
  }
}

void Participant::RetakeLocks(Interval now) {
  for (auto& [id, p] : prepared_) {
    Active& a = leader_->active()[id];
    a.ref = p.ref;
    a.stage = Stage::kPrepared;
    TakeLocks(p, now);
    p.last_heard_us = now.earliest;
  }
}

ApplyResult Participant::ApplyPrepare(PrepareRecord record, Timestamp ts, Interval now,
                                      Actions* out) {
  const TxnId txn = record.txn;
  if (prepared_.count(txn) != 0 || finished_.contains(txn)) {
    return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
  }
  Prepared& p = prepared_[txn];
  p.prepare_ts = ts;
  p.ref = TxnRef{txn, record.start_ts};
  p.coordinator = record.coordinator;
  p.writes = std::move(record.writes);
  p.reads = std::move(record.reads);
  p.read_ranges = std::move(record.read_ranges);
  p.last_heard_us = now.earliest;
  p.last_report_us = now.earliest;
  if (!leader_->leading()) return ApplyResult{ApplyResult::Kind::kPrepare, txn, ts};
  std::map<TxnId, Active>& active = leader_->active();
  // Proposed by an earlier leader: take its locks as RetakeLocks does.
  if (active.count(txn) == 0 && leader_->locks() != nullptr) TakeLocks(p, now);
  // The coordinator takes this group's prepare timestamp from here, not from the client. To
  // the leader believed in: a lost report is sent again (report_resend_us).
  out->messages.push_back(GroupMessage{GroupMessage::Type::kPrepared, group_, p.coordinator, txn,
                                       false, ts, /*leader_only=*/true});
  Active& a = active[txn];
  a.ref = p.ref;
  a.stage = Stage::kPrepared;
  for (RequestId r : a.reply_ids) {
    Reply reply;
    reply.id = r;
    reply.ts = ts;
    out->replies.push_back(std::move(reply));
  }
  a.reply_ids.clear();
  if (a.wounded) {
    out->messages.push_back(
        GroupMessage{GroupMessage::Type::kInquiry, group_, p.coordinator, txn, false, 0});
  }
  return ApplyResult{ApplyResult::Kind::kPrepare, txn, ts};
}

absl::StatusOr<ApplyResult> Participant::ApplyFinish(const FinishRecord& record, Timestamp ts,
                                                     Interval now, ReplicaPort& port,
                                                     Actions* out) {
  const TxnId txn = record.txn;
  auto it = prepared_.find(txn);
  if (it == prepared_.end()) return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
  if (leader_->leading()) {
    // The finish is chosen: the coordinator never needs to answer this group about txn again.
    out->messages.push_back(GroupMessage{GroupMessage::Type::kAck, group_, it->second.coordinator,
                                         txn, false, 0, /*leader_only=*/true});
  }
  if (record.committed) {
    if (absl::Status st = applied_->Write(record.commit_ts, it->second.writes); !st.ok()) {
      return st;
    }
  }
  finished_.Insert(txn);
  prepared_.erase(it);
  if (leader_->leading()) {
    leader_->active().erase(txn);
    leader_->ReleaseAll(txn, now, port, out);
  }
  return ApplyResult{ApplyResult::Kind::kFinish, txn, record.committed ? record.commit_ts : 0};
}

absl::Status Participant::Check(const PrepareRequest& req) const {
  if (absl::Status st = ValidateWrites(opt_, req.writes); !st.ok()) return st;
  if (absl::Status st = ValidateKeys(opt_, req.reads); !st.ok()) return st;
  for (const KeyRange& r : req.read_ranges) {
    if (absl::Status st = ValidateRange(opt_, r); !st.ok()) return st;
  }
  if (req.coordinator == 0 || req.coordinator == group_) {
    return absl::InvalidArgumentError("a prepare names another group as the coordinator");
  }
  return absl::OkStatus();
}

void Participant::Prepare(ReplicaPort& port, Interval now, RequestId id, const PrepareRequest& req,
                          Actions* out, std::vector<TxnId>* wounded) {
  const TxnId txn = req.txn.id;
  if (AnsweredBefore(txn, id, out)) return;
  Active& a = leader_->active()[txn];
  a.ref = req.txn;
  if (JoinsEarlier(txn, a, id, out)) return;
  if (absl::Status st = leader_->CheckReads(req.txn, req.reads, req.read_ranges); !st.ok()) {
    leader_->AbortLocal(txn, st, now, port, out);
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  // Past every check: from here on the request takes locks.
  Parked parked;
  parked.kind = Parked::Kind::kPrepare;
  parked.ids = {id};
  parked.prepare = req;
  if (absl::Status error;
      !leader_->AcquireWrites(req.txn, req.writes, now, &parked, wounded, &error, port, out)) {
    leader_->AbortLocal(txn, error, now, port, out);
    out->replies.push_back(ErrorReply(id, error));
    return;
  }
  if (parked.waiting.empty()) {
    ProceedPrepare(txn, parked.ids, req, now, port, out);
    return;
  }
  Active& again = leader_->active()[txn];
  again.stage = Stage::kPreparing;
  again.parked.push_back(std::move(parked));
}

bool Participant::AnsweredBefore(TxnId txn, RequestId id, Actions* out) const {
  if (const Prepared* p = Find(txn); p != nullptr) {  // a duplicate: the same answer
    Reply reply;
    reply.id = id;
    reply.ts = p->prepare_ts;
    out->replies.push_back(std::move(reply));
    return true;
  }
  if (finished_.contains(txn) || leader_->RecentlyAborted(txn)) {
    out->replies.push_back(ErrorReply(
        id, absl::AbortedError(absl::StrCat("transaction ", txn, " already ended here"))));
    return true;
  }
  return false;
}

bool Participant::JoinsEarlier(TxnId txn, Active& a, RequestId id, Actions* out) const {
  switch (a.stage) {
    case Stage::kActive:
      return false;
    case Stage::kPrepareProposed:
      a.reply_ids.push_back(id);
      return true;
    case Stage::kPreparing:
      for (Parked& p : a.parked) {
        if (p.kind == Parked::Kind::kPrepare) p.ids.push_back(id);
      }
      return true;
    default:
      out->replies.push_back(
          ErrorReply(id, absl::FailedPreconditionError(
                             absl::StrCat("transaction ", txn, " is coordinated by this group"))));
      return true;
  }
}

void Participant::ProceedPrepare(TxnId txn, const std::vector<RequestId>& ids,
                                 const PrepareRequest& req, Interval now, ReplicaPort& port,
                                 Actions* out) {
  const Timestamp above = applied_->last_write_ts() + 1;
  absl::StatusOr<Timestamp> ts = opt_.testing_prepare_ts_not_above
                                     ? absl::StatusOr<Timestamp>(above)
                                     : port.AssignTimestamp(now, above);
  absl::Status st = ts.status();
  if (ts.ok()) {
    st = leader_->Propose(port, now,
                          Record{*ts, PrepareRecord{txn, req.txn.start_ts, req.coordinator,
                                                    req.writes, req.reads, req.read_ranges}});
  }
  Active& a = leader_->active()[txn];
  if (!st.ok()) {
    const absl::Status why =
        absl::UnavailableError(absl::StrCat("could not prepare: ", st.message()));
    leader_->AbortLocal(txn, why, now, port, out);
    for (RequestId r : ids) out->replies.push_back(ErrorReply(r, why));
    return;
  }
  a.stage = Stage::kPrepareProposed;
  a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
  leader_->ReleaseReadsEarly(req.txn, req.reads, req.read_ranges, req.writes, now, port, out);
}

void Participant::ProposeFinish(TxnId txn, bool committed, Timestamp commit_ts, Interval now,
                                ReplicaPort& port) {
  Active& a = leader_->active()[txn];
  if (a.stage == Stage::kFinishProposed) return;
  absl::StatusOr<Timestamp> ts = port.AssignTimestamp(now, 0);
  if (!ts.ok()) return;  // asked again on the next inquiry
  if (leader_->Propose(port, now, Record{*ts, FinishRecord{txn, committed, commit_ts}}).ok()) {
    a.stage = Stage::kFinishProposed;
  }
}

void Participant::OnOutcome(const GroupMessage& msg, Interval now, ReplicaPort& port,
                            Actions* out) {
  const TxnId txn = msg.txn;
  if (auto p = prepared_.find(txn); p != prepared_.end()) {
    if (!PlausibleOutcome(msg, p->second, now)) {
      ++refused_outcomes_;
      return;
    }
    p->second.last_heard_us = now.earliest;
    ProposeFinish(txn, msg.committed, msg.commit_ts, now, port);
    return;
  }
  if (finished_.contains(txn)) {
    // Applied here already: the coordinator is asking again because it missed the ack.
    out->messages.push_back(
        GroupMessage{GroupMessage::Type::kAck, group_, msg.from, txn, false, 0});
    return;
  }
  if (msg.committed) return;  // not prepared here: nothing to apply
  auto it = leader_->active().find(txn);
  if (it != leader_->active().end() && !InFlight(it->second.stage)) {
    leader_->AbortLocal(txn, WasAborted(txn), now, port, out);
  }
}

// Only the coordinator decides, and its commit timestamp s is at or above every prepare
// timestamp; it sends the outcome after its commit wait, so s is in the past by then: s <=
// TT.now().latest here while clocks keep their bounds. An outcome that fails these comes from a
// sender that is not the coordinator (forged, or misrouted) or a clock that broke its bound; it
// is refused, and the next inquiry gets the true one (or the same one, once it is in the past).
bool Participant::PlausibleOutcome(const GroupMessage& msg, const Prepared& p, Interval now) {
  if (msg.from != p.coordinator) return false;
  if (!msg.committed) return true;
  return msg.commit_ts >= p.prepare_ts && msg.commit_ts <= now.latest;
}

void Participant::Tick(Interval now, Actions* out) {
  for (auto& [txn, p] : prepared_) {
    if (now.earliest - p.last_heard_us < opt_.in_doubt_inquiry_us) {
      if (opt_.report_resend_us > 0 && now.earliest - p.last_report_us >= opt_.report_resend_us) {
        // The coordinator may be waiting for this report (see report_resend_us).
        p.last_report_us = now.earliest;
        out->messages.push_back(GroupMessage{GroupMessage::Type::kPrepared, group_, p.coordinator,
                                             txn, false, p.prepare_ts});
      }
      continue;
    }
    p.last_heard_us = now.earliest;
    out->messages.push_back(
        GroupMessage{GroupMessage::Type::kInquiry, group_, p.coordinator, txn, false, 0});
  }
}

}  // namespace meridian::txn
