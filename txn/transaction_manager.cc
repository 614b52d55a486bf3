// TransactionManager: the front over the parts; see transaction_manager.h for the protocol.
#include "txn/transaction_manager.h"

#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "txn/admission.h"
#include "txn/applied_state.h"
#include "txn/checkpoint.h"
#include "txn/coordinator.h"
#include "txn/leader_state.h"
#include "txn/participant.h"
#include "txn/read_path.h"
#include "txn/records.h"

namespace meridian::txn {

class TransactionManager::Impl final : public ParkedResumer {
 public:
  Impl(GroupId g, Store* store, const TransactionManagerOptions& o)
      : group(g),
        opt(o),
        applied(store),
        leader(opt, this),
        participant(g, opt, &leader, &applied),
        coordinator(g, opt, &leader, &applied),
        reads(opt, &leader, &participant, &coordinator, &applied, &ownership) {}

  // Keeps the leader's soft state in step with the replica. True when this replica leads, holds
  // its lease and has applied everything committed before its lease read point.
  bool Lead(ReplicaPort& port, Interval now, Actions* out) {
    const bool leader_role = port.IsLeader();
    if (leader.leading() && (!leader_role || port.ballot() != leader.ballot())) StepDown(out);
    if (!leader_role || !port.HasLease(now)) return false;
    if (leader.leading()) return true;
    absl::StatusOr<paxos::Index> read_point = port.LeaseRead(now);
    if (!read_point.ok() || *read_point > applied.index()) return false;
    leader.Establish(port.ballot(), now);
    // Prepared transactions keep their locks across leaders (their read locks too: they were
    // logged with the prepare).
    participant.RetakeLocks(now);
    return true;
  }

  // Why Lead() said no, for the reply.
  absl::Status NotServing(const ReplicaPort& port, Interval now) const {
    if (!port.IsLeader()) {
      return absl::UnavailableError(
          absl::StrCat("group ", group, ": not the leader (leader is ", port.leader(), ")"));
    }
    if (!port.HasLease(now)) {
      return absl::UnavailableError(
          absl::StrCat("group ", group, ": the leader does not hold its lease yet"));
    }
    return absl::UnavailableError(
        absl::StrCat("group ", group, ": the new leader is still applying its log (applied ",
                     applied.index(), ")"));
  }

  void StepDown(Actions* out) {
    leader.StepDown(out);
    reads.StepDown();
    coordinator.StepDown();
  }

  void Resume(TxnId txn, Parked p, Interval now, ReplicaPort& port, Actions* out) override {
    switch (p.kind) {
      case Parked::Kind::kRead:
        reads.FinishRead(p.ids, p.keys, p.scan, out);
        return;
      case Parked::Kind::kPrepare:
        participant.ProceedPrepare(txn, p.ids, p.prepare, now, port, out);
        return;
      case Parked::Kind::kCommit:
        coordinator.ProceedCommit(txn, p.ids, p.commit, now, port, out);
        return;
    }
  }

  // Wound-wait across the parts: a wounded transaction aborts here unless a record of it is in
  // flight (the log settles it); one committing here gets an abort decision; a prepared one
  // belongs to its coordinator, which is asked to abort it (an inquiry), which breaks wound-wait
  // cycles that cross groups.
  void HandleWounded(const std::vector<TxnId>& wounded, Interval now, ReplicaPort& port,
                     Actions* out) {
    for (TxnId w : wounded) {
      if (const Participant::Prepared* p = participant.Find(w); p != nullptr) {
        out->messages.push_back(
            GroupMessage{GroupMessage::Type::kInquiry, group, p->coordinator, w, false, 0});
        continue;
      }
      auto it = leader.active().find(w);
      if (it == leader.active().end()) {
        leader.AbortLocal(w, absl::AbortedError(absl::StrCat("transaction ", w, " was wounded")),
                          now, port, out);
        continue;
      }
      Active& a = it->second;
      a.wounded = true;
      if (InFlight(a.stage)) continue;  // resolved when its record applies
      if (a.stage == Stage::kCommitting || a.stage == Stage::kAwaitingReports) {
        coordinator.ProposeAbortDecision(w, a.ref, {}, a.participants, now, port, out);
        continue;
      }
      leader.AbortLocal(w,
                        absl::AbortedError(absl::StrCat("transaction ", w,
                                                        " was wounded by an older transaction")),
                        now, port, out);
    }
  }

  // Transactions whose client went silent (txn_idle_timeout_us) abort, unless they are prepared
  // or a record of theirs is in flight.
  void ExpireIdle(Interval now, ReplicaPort& port, Actions* out) {
    for (TxnId txn : leader.locks()->ExpireIdle(now.earliest, opt.txn_idle_timeout_us)) {
      if (participant.Find(txn) != nullptr) continue;
      auto it = leader.active().find(txn);
      const bool known = it != leader.active().end();
      if (known && InFlight(it->second.stage)) continue;
      if (known &&
          (it->second.stage == Stage::kCommitting || it->second.stage == Stage::kAwaitingReports)) {
        coordinator.ProposeAbortDecision(txn, it->second.ref, {}, it->second.participants, now,
                                         port, out);
        continue;
      }
      leader.AbortLocal(txn,
                        absl::AbortedError(absl::StrCat("transaction ", txn,
                                                        " expired: no keepalive from its client")),
                        now, port, out);
    }
  }

  absl::StatusOr<ApplyResult> ApplyEntry(ReplicaPort& port, const paxos::Entry& e, Interval now,
                                         Actions* out) {
    applied.set_index(e.index);
    if (e.type != paxos::EntryType::kNormal) return ApplyResult{};  // a no-op or a configuration
    absl::StatusOr<Record> record = DecodeRecord(e.command);
    if (!record.ok()) {
      // The replica's contract: a log entry it cannot apply is INVALID_ARGUMENT.
      return absl::InvalidArgumentError(
          absl::StrCat("group ", group, ": entry ", e.index, ": ", record.status().message()));
    }
    const Timestamp ts = record->ts;
    if (ts <= applied.paxos_safe()) {
      // A record below one already applied: an earlier leader's record that a later leader
      // recovered after newer records were chosen (Multi-Paxos slots are independent). Applying
      // it would change snapshots that were already read, so it takes no effect, on every
      // replica alike (a pure function of the log). Its proposer was deposed long ago: its
      // client was told the outcome is unknown.
      reads.ServeSnapshots(port, now, out);
      return ApplyResult{ApplyResult::Kind::kIgnored, 0, ts};
    }
    absl::StatusOr<ApplyResult> result;
    if (const auto* w = std::get_if<WriteRecord>(&record->body)) {
      if (absl::Status st = applied.Write(ts, {w->write}); !st.ok()) return st;
      result = ApplyResult{ApplyResult::Kind::kWrite, 0, ts};
    } else {
      result = ApplyTransactional(port, *std::move(record), now, out);
    }
    // A Store failure under a transaction's record is reported once the record took effect.
    absl::Status write_error;
    if (!result.ok()) write_error = std::exchange(result, ApplyResult{}).status();
    applied.set_paxos_safe(ts);
    reads.ServeSnapshots(port, now, out);
    if (!write_error.ok()) return write_error;
    return result;
  }

  absl::StatusOr<ApplyResult> ApplyTransactional(ReplicaPort& port, Record record, Interval now,
                                                 Actions* out) {
    const Timestamp ts = record.ts;
    RecordBody& body = record.body;
    if (auto* r = std::get_if<CommitRecord>(&body)) {
      return coordinator.ApplyCommit(std::move(*r), ts, now, port, out);
    }
    if (auto* r = std::get_if<AbortRecord>(&body)) {
      return coordinator.ApplyAbort(*r, ts, now, port, out);
    }
    if (auto* r = std::get_if<PrepareRecord>(&body)) {
      return participant.ApplyPrepare(std::move(*r), ts, now, out);
    }
    if (auto* r = std::get_if<FinishRecord>(&body)) {
      return participant.ApplyFinish(*r, ts, now, port, out);
    }
    if (auto* r = std::get_if<OwnershipRecord>(&body)) return ApplyOwnership(*r, ts);
    coordinator.ApplyForget(std::get<SafeTimeRecord>(body));
    return ApplyResult{ApplyResult::Kind::kNone, 0, ts};
  }

  // Range moves and splits (ownership.h). Each operation is idempotent: a repeated record (a
  // mover's retry) changes nothing more, and reports kIgnored.
  absl::StatusOr<ApplyResult> ApplyOwnership(const OwnershipRecord& r, Timestamp ts) {
    const RangeClaim& range = r.claims.front();
    const std::optional<Ownership::Claim> now = ownership.Covering(range.start, range.end);
    switch (r.op) {
      case OwnershipRecord::Op::kIngest: {
        std::vector<Version> inside;
        for (const Version& v : r.versions) {
          if (InRange(v.key, range.start, range.end)) inside.push_back(v);
        }
        RETURN_IF_ERROR(applied.store()->WriteVersions(inside));
        return ApplyResult{ApplyResult::Kind::kOwnership, 0, ts};
      }
      case OwnershipRecord::Op::kRelease:
        if (now.has_value() && !now->owned && now->generation >= range.generation) {
          return ApplyResult{ApplyResult::Kind::kIgnored, 0, now->ts};
        }
        // A prepared transaction's writes must land here; the leader proposes a release only
        // once none touches the range, and a record that finds one anyway changes nothing.
        if (!opt.testing_release_without_drain &&
            participant.CountTouching(range.start, range.end) > 0) {
          return ApplyResult{ApplyResult::Kind::kRefused, 0, ts};
        }
        ownership.Set(range.start, Ownership::Claim{range.end, range.generation, false, ts});
        return ApplyResult{ApplyResult::Kind::kOwnership, 0, ts};
      case OwnershipRecord::Op::kAdopt:
        for (const RangeClaim& c : r.claims) {
          // Stale or repeated: a part of the range is already at this generation or later.
          if (ownership.MaxGeneration(c.start, c.end) >= c.generation) continue;
          ownership.Set(c.start, Ownership::Claim{c.end, c.generation, true, ts});
        }
        if (r.horizon > 0) RETURN_IF_ERROR(applied.store()->RaiseHorizon(r.horizon));
        // The adopted versions are all below ts (the mover adopts after TT.after(release)).
        applied.RaiseLastWrite(ts);
        return ApplyResult{ApplyResult::Kind::kOwnership, 0, ts};
      case OwnershipRecord::Op::kDrop: {
        if (!now.has_value() || now->owned) return ApplyResult{ApplyResult::Kind::kRefused, 0, ts};
        ASSIGN_OR_RETURN(const uint64_t erased,
                         applied.store()->EraseVersions(range.start, range.end, r.limit));
        return ApplyResult{ApplyResult::Kind::kOwnership, erased, ts};
      }
    }
    return ApplyResult{ApplyResult::Kind::kRefused, 0, ts};
  }

  const GroupId group;
  const TransactionManagerOptions opt;
  AppliedState applied;
  LeaderState leader;
  Participant participant;
  Coordinator coordinator;
  ReadPath reads;
  Ownership ownership;
};

TransactionManager::TransactionManager(GroupId group, Store* store,
                                       const TransactionManagerOptions& options)
    : impl_(std::make_unique<Impl>(group, store, options)) {}

TransactionManager::~TransactionManager() = default;

absl::StatusOr<ApplyResult> TransactionManager::Apply(ReplicaPort& port, const paxos::Entry& entry,
                                                      Interval now, Actions* out) {
  // Apply first (so a new leader's caught-up check sees this entry); leadership is settled by the
  // next request or tick.
  return impl_->ApplyEntry(port, entry, now, out);
}

void TransactionManager::Read(ReplicaPort& port, Interval now, RequestId id, const ReadRequest& req,
                              Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = ValidateRead(m.opt, req.keys, req.scan); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(port, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(port, now)));
    return;
  }
  std::vector<TxnId> wounded;
  m.reads.Read(port, now, id, req, out, &wounded);
  m.HandleWounded(wounded, now, port, out);
}

void TransactionManager::Prepare(ReplicaPort& port, Interval now, RequestId id,
                                 const PrepareRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.participant.Check(req); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(port, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(port, now)));
    return;
  }
  std::vector<TxnId> wounded;
  m.participant.Prepare(port, now, id, req, out, &wounded);
  m.HandleWounded(wounded, now, port, out);
}

void TransactionManager::Commit(ReplicaPort& port, Interval now, RequestId id,
                                const CommitRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.coordinator.Check(req); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(port, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(port, now)));
    return;
  }
  std::vector<TxnId> wounded;
  m.coordinator.Commit(port, now, id, req, out, &wounded);
  m.HandleWounded(wounded, now, port, out);
}

void TransactionManager::Abort(ReplicaPort& port, Interval now, const AbortRequest& req,
                               Actions* out) {
  Impl& m = *impl_;
  if (!m.Lead(port, now, out)) return;
  if (m.participant.Find(req.txn) != nullptr) return;  // the coordinator decides
  m.coordinator.Abort(port, now, req, out);
}

absl::Status TransactionManager::Keepalive(TxnId txn, Interval now) {
  Impl& m = *impl_;
  if (!m.leader.leading() || m.leader.locks() == nullptr) {
    return absl::UnavailableError("not the leader");
  }
  if (m.leader.RecentlyAborted(txn)) return WasAborted(txn);
  return m.leader.locks()->Touch(txn, now.earliest);
}

void TransactionManager::ReadOnly(ReplicaPort& port, Interval now, RequestId id,
                                  const ReadOnlyRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = ValidateRead(m.opt, req.keys, req.scan); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(port, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(port, now)));
    return;
  }
  m.reads.ReadOnly(port, now, id, req, out);
}

void TransactionManager::SnapshotRead(ReplicaPort& port, Interval now, RequestId id,
                                      const SnapshotReadRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = ValidateRead(m.opt, req.keys, req.scan); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (req.read_ts < 0) {
    out->replies.push_back(
        ErrorReply(id, absl::InvalidArgumentError("read timestamp must be >= 0")));
    return;
  }
  m.Lead(port, now, out);  // a leader can serve more recent snapshots
  if (req.read_ts == 0) {
    // The first read of a strong read-only transaction: TT.now().latest is past every commit
    // acknowledged before it began (commit wait), on any group.
    SnapshotReadRequest strong = req;
    strong.read_ts = now.latest;
    m.reads.SnapshotRead(port, now, id, strong, out);
    return;
  }
  m.reads.SnapshotRead(port, now, id, req, out);
}

void TransactionManager::Receive(ReplicaPort& port, Interval now, const GroupMessage& msg,
                                 Actions* out) {
  Impl& m = *impl_;
  if (!m.Lead(port, now, out)) return;
  switch (msg.type) {
    case GroupMessage::Type::kOutcome:
      m.participant.OnOutcome(msg, now, port, out);
      return;
    case GroupMessage::Type::kPrepared:
      m.coordinator.OnPrepared(msg, now, port, out);
      return;
    case GroupMessage::Type::kAck:
      m.coordinator.OnAck(msg);
      return;
    case GroupMessage::Type::kInquiry:  // this group coordinates msg.txn
      m.coordinator.OnInquiry(msg, now, port, out);
      return;
  }
}

void TransactionManager::Tick(ReplicaPort& port, Interval now, Actions* out) {
  Impl& m = *impl_;
  const bool lead = m.Lead(port, now, out);
  m.coordinator.FinishCommitWaits(now, port, out);
  if (lead) {
    m.ExpireIdle(now, port, out);
    m.participant.Tick(now, out);
    m.coordinator.ResendUnacked(now, out);
    m.coordinator.LogSafeTime(now, port);
  }
  m.reads.ServeSnapshots(port, now, out);
}

// ---- checkpoints -----------------------------------------------------------------------------

std::string TransactionManager::Checkpoint() const {
  const Impl& m = *impl_;
  return EncodeCheckpoint(CheckpointImage{m.group, m.applied.Save(), m.participant.Save(),
                                          m.coordinator.Save(), m.ownership.Save()});
}

absl::Status TransactionManager::Restore(std::string_view bytes) {
  Impl& m = *impl_;
  if (m.applied.index() != 0 || m.leader.leading()) {
    return absl::FailedPreconditionError(
        absl::StrCat("group ", m.group, ": a checkpoint is restored only into a fresh manager (",
                     "this one applied up to entry ", m.applied.index(),
                     m.leader.leading() ? " and serves as leader)" : ")"));
  }
  ASSIGN_OR_RETURN(CheckpointImage image, DecodeCheckpoint(bytes));
  if (image.group != m.group) {
    return absl::FailedPreconditionError(absl::StrCat(
        "group ", m.group, ": the checkpoint is of group ", image.group, ", not this one"));
  }
  RETURN_IF_ERROR(m.participant.CheckRestore(image.participant));
  RETURN_IF_ERROR(m.coordinator.CheckRestore(image.decisions));
  // Past every check: from here on the image replaces the (empty) replicated state.
  m.applied.Restore(image.applied);
  m.participant.Restore(std::move(image.participant));
  m.coordinator.Restore(std::move(image.decisions));
  m.ownership.Restore(std::move(image.ownership));
  return absl::OkStatus();
}

// ---- the same calls on a paxos::Replica ------------------------------------------------------

absl::StatusOr<ApplyResult> TransactionManager::Apply(paxos::Replica& replica,
                                                      const paxos::Entry& entry, Interval now,
                                                      Actions* out) {
  PaxosReplicaPort port(replica);
  return Apply(port, entry, now, out);
}

void TransactionManager::Read(paxos::Replica& replica, Interval now, RequestId id,
                              const ReadRequest& request, Actions* out) {
  PaxosReplicaPort port(replica);
  Read(port, now, id, request, out);
}

void TransactionManager::Prepare(paxos::Replica& replica, Interval now, RequestId id,
                                 const PrepareRequest& request, Actions* out) {
  PaxosReplicaPort port(replica);
  Prepare(port, now, id, request, out);
}

void TransactionManager::Commit(paxos::Replica& replica, Interval now, RequestId id,
                                const CommitRequest& request, Actions* out) {
  PaxosReplicaPort port(replica);
  Commit(port, now, id, request, out);
}

void TransactionManager::Abort(paxos::Replica& replica, Interval now, const AbortRequest& request,
                               Actions* out) {
  PaxosReplicaPort port(replica);
  Abort(port, now, request, out);
}

void TransactionManager::ReadOnly(paxos::Replica& replica, Interval now, RequestId id,
                                  const ReadOnlyRequest& request, Actions* out) {
  PaxosReplicaPort port(replica);
  ReadOnly(port, now, id, request, out);
}

void TransactionManager::SnapshotRead(paxos::Replica& replica, Interval now, RequestId id,
                                      const SnapshotReadRequest& request, Actions* out) {
  PaxosReplicaPort port(replica);
  SnapshotRead(port, now, id, request, out);
}

void TransactionManager::Receive(paxos::Replica& replica, Interval now, const GroupMessage& message,
                                 Actions* out) {
  PaxosReplicaPort port(replica);
  Receive(port, now, message, out);
}

void TransactionManager::Tick(paxos::Replica& replica, Interval now, Actions* out) {
  PaxosReplicaPort port(replica);
  Tick(port, now, out);
}

// ---- read-side state -------------------------------------------------------------------------

Timestamp TransactionManager::SafeTime() const { return impl_->reads.Safe(); }
Timestamp TransactionManager::SafeTime(const paxos::Replica&) const { return SafeTime(); }
Timestamp TransactionManager::LastTs() const { return impl_->applied.last_write_ts(); }
paxos::Index TransactionManager::applied_index() const { return impl_->applied.index(); }
uint64_t TransactionManager::lock_waits() const {
  const LockTable* locks = impl_->leader.locks();
  return locks == nullptr ? 0 : locks->waits_started();
}
size_t TransactionManager::prepared_count() const { return impl_->participant.prepared_count(); }
uint64_t TransactionManager::refused_outcomes() const {
  return impl_->participant.refused_outcomes();
}
bool TransactionManager::leading() const { return impl_->leader.leading(); }
GroupId TransactionManager::group() const { return impl_->group; }
const Ownership& TransactionManager::ownership() const { return impl_->ownership; }

void TransactionManager::WoundIn(ReplicaPort& port, Interval now, std::string_view start,
                                 std::string_view end, Actions* out) {
  Impl& m = *impl_;
  if (!m.Lead(port, now, out) || m.leader.locks() == nullptr) return;
  const std::vector<TxnId> holders =
      m.leader.locks()->TxnsOverlapping(LockSpan::Range(std::string(start), std::string(end)));
  std::vector<TxnId> wounded;
  for (TxnId txn : holders) {
    if (m.participant.Find(txn) == nullptr) wounded.push_back(txn);  // prepared: left to finish
  }
  m.HandleWounded(wounded, now, port, out);
}

size_t TransactionManager::BusyIn(std::string_view start, std::string_view end) const {
  const Impl& m = *impl_;
  size_t n = m.participant.CountTouching(start, end);
  if (const LockTable* locks = m.leader.locks(); locks != nullptr) {
    n += locks->CountOverlapping(LockSpan::Range(std::string(start), std::string(end)));
  }
  return n;
}

TransactionManager::Memory TransactionManager::memory() const {
  Memory m;
  m.decisions = impl_->coordinator.decisions().size();
  m.finished = impl_->participant.finished_count();
  m.active = impl_->leader.active().size();
  m.aborted = impl_->leader.aborted_count();
  m.forgotten_ids = impl_->coordinator.decisions().forgotten_ids();
  return m;
}

std::string EncodeSafeTimeRecord(Timestamp ts) {
  return EncodeRecord(Record{ts, SafeTimeRecord{}});
}

}  // namespace meridian::txn
