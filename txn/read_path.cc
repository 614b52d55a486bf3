// ReadPath; see read_path.h.
#include "txn/read_path.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "txn/admission.h"
#include "txn/range_guard.h"

namespace meridian::txn {

ReadPath::ReadPath(const TransactionManagerOptions& opt, LeaderState* leader,
                   const Participant* participant, const Coordinator* coordinator,
                   AppliedState* applied, const Ownership* ownership)
    : opt_(opt),
      leader_(leader),
      participant_(participant),
      coordinator_(coordinator),
      applied_(applied),
      ownership_(ownership) {}

Timestamp ReadPath::Safe() const {
  return std::min(applied_->paxos_safe(), participant_->TmSafe());
}

Timestamp ReadPath::SafeFor(ReplicaPort& port, Interval now, Timestamp want) {
  if (leader_->leading() && want > applied_->paxos_safe() && want > safe_time_requested_ &&
      port.HasLease(now)) {
    if (absl::StatusOr<Timestamp> ts = port.AssignTimestamp(now, want); ts.ok()) {
      if (leader_->Propose(port, now, Record{*ts, SafeTimeRecord{}}).ok()) {
        safe_time_requested_ = *ts;
      }
    }
  }
  return Safe();
}

void ReadPath::Read(ReplicaPort& port, Interval now, RequestId id, const ReadRequest& req,
                    Actions* out, std::vector<TxnId>* wounded) {
  const TxnId txn = req.txn.id;
  if (leader_->RecentlyAborted(txn) || coordinator_->decisions().ForgottenAbort(txn)) {
    out->replies.push_back(ErrorReply(id, WasAborted(txn)));
    return;
  }
  std::map<TxnId, Active>& active = leader_->active();
  auto existing = active.find(txn);
  if (participant_->Find(txn) != nullptr || coordinator_->decisions().Find(txn) != nullptr ||
      (existing != active.end() && existing->second.stage != Stage::kActive)) {
    out->replies.push_back(
        ErrorReply(id, absl::FailedPreconditionError(absl::StrCat(
                           "transaction ", txn, " is already committing; no more reads"))));
    return;
  }
  active[txn].ref = req.txn;
  Parked parked;
  parked.kind = Parked::Kind::kRead;
  parked.ids = {id};
  parked.keys = req.keys;
  parked.scan = req.scan;
  std::vector<LockSpan> spans;
  if (req.scan.has_value()) {
    spans.push_back(LockSpan::Range(req.scan->range.start, req.scan->range.end));
  } else {
    for (const std::string& k : req.keys) spans.push_back(LockSpan::Key(k));
  }
  const LockMode mode =
      req.for_update && !req.scan.has_value() ? LockMode::kExclusive : LockMode::kShared;
  for (const LockSpan& span : spans) {
    absl::Status error;
    if (leader_->AcquireFor(req.txn, span, mode, now.earliest, &parked, wounded, &error)) {
      continue;
    }
    if (error.code() == absl::StatusCode::kAborted) {
      leader_->AbortLocal(txn, error, now, port, out);
    } else {
      // Locks already granted for this request stay with the transaction (released at its
      // end); the spans it waits for are given up, and the request fails.
      for (const LockSpan& s : parked.waiting) leader_->Release(txn, s, now, port, out);
    }
    out->replies.push_back(ErrorReply(id, error));
    return;
  }
  if (parked.waiting.empty()) {
    FinishRead(parked.ids, parked.keys, parked.scan, out);
  } else {
    active[txn].parked.push_back(std::move(parked));
  }
}

void ReadPath::FinishRead(const std::vector<RequestId>& ids, const std::vector<std::string>& keys,
                          const std::optional<ScanSpan>& scan, Actions* out) const {
  Reply answer;
  if (scan.has_value()) {
    absl::StatusOr<std::vector<Row>> rows =
        applied_->Scan(scan->range, truetime::kMaxTimestamp, scan->limit);
    if (rows.ok()) {
      answer.more = rows->size() >= scan->limit;
      answer.rows = std::move(*rows);
    } else {
      answer.status = rows.status();
    }
  } else {
    absl::StatusOr<std::vector<std::optional<std::string>>> values =
        applied_->Read(keys, truetime::kMaxTimestamp);
    if (values.ok()) {
      answer.values = std::move(*values);
    } else {
      answer.status = values.status();
    }
  }
  for (RequestId r : ids) {
    Reply reply = answer;
    reply.id = r;
    out->replies.push_back(std::move(reply));
  }
}

void ReadPath::ReadOnly(ReplicaPort& port, Interval now, RequestId id, const ReadOnlyRequest& req,
                        Actions* out) {
  // LastTS() when nothing is prepared here; else TT.now().latest (SPANNER.md §4.1.3).
  const Timestamp read_ts =
      participant_->empty() ? std::max<Timestamp>(applied_->last_write_ts(), 1) : now.latest;
  Enqueue(port, now,
          Snapshot{id, req.keys, read_ts, now.earliest + opt_.snapshot_wait_us, req.scan}, out);
}

void ReadPath::SnapshotRead(ReplicaPort& port, Interval now, RequestId id,
                            const SnapshotReadRequest& req, Actions* out) {
  Enqueue(port, now,
          Snapshot{id, req.keys, req.read_ts, now.earliest + opt_.snapshot_wait_us, req.scan}, out);
}

void ReadPath::Enqueue(ReplicaPort& port, Interval now, Snapshot snapshot, Actions* out) {
  snapshots_.push_back(std::move(snapshot));
  ServeSnapshots(port, now, out);
}

void ReadPath::ServeSnapshots(ReplicaPort& port, Interval now, Actions* out) {
  for (size_t i = 0; i < snapshots_.size();) {
    const Snapshot& s = snapshots_[i];
    const bool safe =
        opt_.testing_snapshot_ignore_safe_time || s.read_ts <= SafeFor(port, now, s.read_ts);
    if (!safe && now.earliest < s.deadline_us) {
      ++i;
      continue;
    }
    // Answered only once TT.after(read_ts): see read_path.h.
    if (safe && !now.After(s.read_ts) && !opt_.testing_snapshot_ignore_safe_time) {
      WakeAt(out, s.read_ts);
      ++i;
      continue;
    }
    out->replies.push_back(Answer(s, safe));
    snapshots_.erase(snapshots_.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

Reply ReadPath::Answer(const Snapshot& s, bool safe) const {
  Reply reply;
  reply.id = s.id;
  if (!safe) {
    reply.status = absl::UnavailableError(absl::StrCat("safe time ", Safe(),
                                                       " did not reach the read timestamp ",
                                                       s.read_ts, " in time; try another replica"));
    return reply;
  }
  // The keys passed the range checks when the read arrived; a release (and a drop) may have
  // applied since, while it waited: the versions the range's new group wrote are not here.
  if (s.scan.has_value()) {
    const std::optional<Ownership::Claim> claim =
        ownership_->Covering(s.scan->range.start, s.scan->range.end);
    if (!claim.has_value() || !claim->owned) {
      reply.status =
          StaleMapError(absl::StrCat("the range from ", absl::CHexEscape(s.scan->range.start),
                                     " was released while the read waited"));
      return reply;
    }
    absl::StatusOr<std::vector<Row>> rows = applied_->Scan(s.scan->range, s.read_ts, s.scan->limit);
    if (!rows.ok()) {
      reply.status = rows.status();
      return reply;
    }
    reply.more = rows->size() >= s.scan->limit;
    reply.rows = std::move(*rows);
    reply.ts = s.read_ts;
    return reply;
  }
  for (const std::string& key : s.keys) {
    if (!ownership_->Find(key).owned) {
      reply.status = StaleMapError(absl::StrCat("the range of ", absl::CHexEscape(key),
                                                " was released while the read waited"));
      return reply;
    }
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> v = applied_->Read(s.keys, s.read_ts);
  if (v.ok()) {
    reply.values = std::move(*v);
    reply.ts = s.read_ts;
  } else {
    reply.status = v.status();
  }
  return reply;
}

}  // namespace meridian::txn
