// TransactionManager implementation; see transaction_manager.h for the protocol.
#include "txn/transaction_manager.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "proto/kv.pb.h"

namespace meridian::txn {
namespace {

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

bool InFlight(Stage s) {
  return s == Stage::kPrepareProposed || s == Stage::kPrepared || s == Stage::kFinishProposed ||
         s == Stage::kCommitProposed || s == Stage::kCommitWait || s == Stage::kAbortProposed;
}

void ToProto(const Mutation& m, proto::Mutation* out) {
  out->set_key(m.key);
  if (m.value.has_value()) {
    out->set_value(*m.value);
  } else {
    out->set_is_delete(true);
  }
}

std::vector<Mutation> FromProto(const google::protobuf::RepeatedPtrField<proto::Mutation>& in) {
  std::vector<Mutation> out;
  out.reserve(in.size());
  for (const proto::Mutation& m : in) {
    out.push_back(
        Mutation{m.key(), m.is_delete() ? std::nullopt : std::optional<std::string>(m.value())});
  }
  return out;
}

std::vector<std::string> FromProto(const google::protobuf::RepeatedPtrField<std::string>& in) {
  return std::vector<std::string>(in.begin(), in.end());
}

// Asks the driver to tick once TT.after(t): the earliest such request wins (later ones are
// asked again by the ticks that follow).
void WakeAt(Actions* out, Timestamp t) {
  out->tick_after = out->tick_after == 0 ? t : std::min(out->tick_after, t);
}

Reply ErrorReply(RequestId id, absl::Status status) {
  Reply r;
  r.id = id;
  r.status = std::move(status);
  return r;
}

absl::Status WasAborted(TxnId txn) {
  return absl::AbortedError(absl::StrCat("transaction ", txn, " was aborted"));
}

}  // namespace

std::string EncodeSafeTimeRecord(Timestamp ts) {
  proto::TabletCommand c;
  c.set_commit_ts(ts);
  c.mutable_safe_time();
  return c.SerializeAsString();
}

struct TransactionManager::Impl {
  // A replicated prepared transaction (participant side).
  struct Prepared {
    Timestamp prepare_ts = 0;
    TxnRef ref;
    GroupId coordinator = 0;
    std::vector<Mutation> writes;
    std::vector<std::string> reads;
    int64_t last_heard_us = 0;   // soft: when this replica last moved it along or asked
    int64_t last_report_us = 0;  // soft: when this replica applied it or last reported it
  };
  // A replicated coordinator decision.
  struct Decision {
    bool committed = false;
    Timestamp commit_ts = 0;
    std::vector<GroupId> participants;
  };
  // A request parked until locks are granted.
  struct Parked {
    enum class Kind : uint8_t { kRead, kPrepare, kCommit } kind = Kind::kRead;
    std::vector<RequestId> ids;
    std::set<LockSpan> waiting;
    std::vector<std::string> keys;  // reads
    PrepareRequest prepare;
    CommitRequest commit;
  };
  // Leader soft state of one transaction.
  struct Active {
    TxnRef ref;
    Stage stage = Stage::kActive;
    std::vector<Parked> parked;
    std::vector<RequestId> reply_ids;   // prepare/commit/abort waiting for their record
    std::vector<GroupId> participants;  // coordinator: whom to tell the outcome
    std::vector<std::string> reads;     // for the early-release plant
    std::vector<std::string> writes;
    bool wounded = false;
    Timestamp record_ts = 0;
  };
  struct CommitWaiter {
    Timestamp commit_ts = 0;
    TxnId txn = 0;
    std::vector<RequestId> ids;
    std::vector<GroupId> participants;
    bool release = true;  // the transaction's own commit wait: release its locks at the end
  };
  struct Snapshot {
    RequestId id = 0;
    std::vector<std::string> keys;
    Timestamp read_ts = 0;
    int64_t deadline_us = 0;
  };

  Impl(GroupId g, Store* s, const TransactionManagerOptions& o) : group(g), store(s), opt(o) {}

  const GroupId group;
  Store* const store;
  const TransactionManagerOptions opt;

  // Replicated.
  std::map<TxnId, Prepared> prepared;
  // Looked up on every commit and inquiry, never walked: hashed (up to max_local_decisions plus
  // max_abort_decisions entries, where a tree's lookups were a few percent of a server's CPU).
  // Node-based, so a reference survives other insertions.
  absl::node_hash_map<TxnId, Decision> decisions;
  std::deque<TxnId> local_decisions;  // decisions without participants, oldest first
  // Commit decisions dropped after every participant acknowledged them (forget records), newest
  // max_forgotten_ids: an inquiry, abort or Commit about one is stale (sent before its sender
  // finished), and must not make this group log an abort (or a second decision) for it.
  absl::flat_hash_set<TxnId> forgotten;
  std::deque<TxnId> forgotten_order;
  // Abort decisions with participants, oldest first (max_abort_decisions); the ids of those
  // dropped (max_forgotten_ids): a Commit about one is answered ABORTED, an inquiry "aborted".
  std::deque<TxnId> abort_decisions;
  absl::flat_hash_set<TxnId> forgotten_aborts;
  std::deque<TxnId> forgotten_aborts_order;
  // Commit decisions with participants not yet forgotten: what the leader's resend scan walks
  // (every decision would be up to 200k entries a second, mostly single-group ones).
  std::set<TxnId> unforgotten_commits;
  absl::node_hash_map<TxnId, Decision> finished;  // looked up, never walked
  std::deque<TxnId> finished_order;               // oldest first
  Timestamp last_write_ts = 0;
  Timestamp paxos_safe = 0;
  paxos::Index applied = 0;

  // Leader soft state.
  bool leading = false;
  paxos::Ballot ballot;
  std::unique_ptr<LockTable> locks;
  std::map<TxnId, Active> active;
  std::multiset<Timestamp> inflight;
  Timestamp safe_time_requested = 0;  // the newest safe-time record logged for a waiting read
  int64_t last_proposal_us = 0;
  std::set<TxnId> aborted;
  std::deque<TxnId> aborted_order;
  // Coordinator leader: acks heard per decided transaction, and decisions every participant
  // acknowledged, to be forgotten with the next forget record.
  std::map<TxnId, std::set<GroupId>> acks;
  std::vector<TxnId> forgettable;
  // Coordinator leader: the prepare timestamps participants reported (kPrepared) for transactions
  // not yet decided, and their arrival order (bounded by max_prepare_reports).
  std::map<TxnId, std::map<GroupId, Timestamp>> reports;
  std::deque<TxnId> reports_order;
  int64_t last_forget_us = 0;
  int64_t last_resend_us = 0;

  // Any replica.
  std::vector<CommitWaiter> commit_waits;
  std::vector<Snapshot> snapshots;

  // ---- helpers -------------------------------------------------------------------------------

  absl::Status ValidateKeys(const std::vector<std::string>& keys) const {
    if (keys.size() > opt.max_keys_per_request) {
      return absl::InvalidArgumentError(absl::StrCat(
          keys.size(), " keys in one request; the limit is ", opt.max_keys_per_request));
    }
    for (const std::string& k : keys) {
      if (k.empty()) return absl::InvalidArgumentError("empty key");
      if (k.size() > opt.max_key_bytes) {
        return absl::InvalidArgumentError(
            absl::StrCat("key of ", k.size(), " bytes; the limit is ", opt.max_key_bytes));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ValidateWrites(const std::vector<Mutation>& writes) const {
    std::vector<std::string> keys;
    for (const Mutation& m : writes) {
      keys.push_back(m.key);
      if (m.value.has_value() && m.value->size() > opt.max_value_bytes) {
        return absl::InvalidArgumentError(absl::StrCat(
            "value of ", m.value->size(), " bytes; the limit is ", opt.max_value_bytes));
      }
    }
    return ValidateKeys(keys);
  }

  // Records `txn` as the newest entry of `order`, and erases the oldest ones from `container`
  // (and `order`) past `cap`. On replicated state it runs in log order, so every replica keeps
  // the same entries.
  template <typename Container>
  static void KeepNewest(TxnId txn, size_t cap, std::deque<TxnId>& order, Container& container) {
    order.push_back(txn);
    while (order.size() > cap) {
      container.erase(order.front());
      order.pop_front();
    }
  }

  // Called once `txn`'s decision is in `decisions`: bounds those without participants, and
  // abort decisions (commit decisions with participants go once acknowledged: forget records).
  void RememberDecision(TxnId txn, const Decision& d) {
    if (d.participants.empty()) {
      KeepNewest(txn, opt.max_local_decisions, local_decisions, decisions);
      return;
    }
    if (d.committed) {
      unforgotten_commits.insert(txn);
      return;
    }
    abort_decisions.push_back(txn);
    while (abort_decisions.size() > opt.max_abort_decisions) {
      const TxnId old = abort_decisions.front();
      abort_decisions.pop_front();
      decisions.erase(old);
      if (forgotten_aborts.insert(old).second) {
        KeepNewest(old, opt.max_forgotten_ids, forgotten_aborts_order, forgotten_aborts);
      }
    }
  }

  // Whether `txn`'s decision was dropped (only its id is left).
  bool Forgotten(TxnId txn) const {
    return forgotten.count(txn) != 0 || forgotten_aborts.count(txn) != 0;
  }

  void RememberAborted(TxnId txn) {
    if (aborted.insert(txn).second) KeepNewest(txn, 100'000, aborted_order, aborted);
  }

  // Keeps leadership soft state in step with the replica. True when this replica leads, holds
  // its lease and has applied everything committed before its lease read point.
  bool Lead(paxos::Replica& replica, Interval now, Actions* out) {
    const bool leader_role = replica.role() == paxos::Role::kLeader;
    if (leading && (!leader_role || replica.ballot() != ballot)) StepDown(out);
    if (!leader_role || !replica.HasLease(now)) return false;
    if (leading) return true;
    absl::StatusOr<paxos::Index> read_point = replica.LeaseRead(now);
    if (!read_point.ok() || *read_point > applied) return false;
    Establish(replica, now);
    return true;
  }

  // Why Lead() said no, for the reply.
  absl::Status NotServing(paxos::Replica& replica, Interval now) const {
    if (replica.role() != paxos::Role::kLeader) {
      return absl::UnavailableError(
          absl::StrCat("group ", group, ": not the leader (leader is ", replica.leader(), ")"));
    }
    if (!replica.HasLease(now)) {
      return absl::UnavailableError(
          absl::StrCat("group ", group, ": the leader does not hold its lease yet"));
    }
    return absl::UnavailableError(absl::StrCat(
        "group ", group, ": the new leader is still applying its log (applied ", applied, ")"));
  }

  void Establish(paxos::Replica& replica, Interval now) {
    leading = true;
    ballot = replica.ballot();
    locks = std::make_unique<LockTable>(opt.locks);
    last_proposal_us = now.latest;
    // Prepared transactions keep their locks across leaders (their read locks too: they were
    // logged with the prepare).
    for (auto& [id, p] : prepared) {
      Active& a = active[id];
      a.ref = p.ref;
      a.stage = Stage::kPrepared;
      for (const std::string& k : p.reads) {
        (void)locks->Acquire(p.ref, LockSpan::Key(k), LockMode::kShared, now.earliest);
      }
      for (const Mutation& m : p.writes) {
        (void)locks->Acquire(p.ref, LockSpan::Key(m.key), LockMode::kExclusive, now.earliest);
      }
      p.last_heard_us = now.earliest;
    }
  }

  void StepDown(Actions* out) {
    leading = false;
    safe_time_requested = 0;
    for (auto& [id, a] : active) {
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
    active.clear();
    locks.reset();
    inflight.clear();
    aborted.clear();
    aborted_order.clear();
    acks.clear();
    forgettable.clear();
    reports.clear();
    reports_order.clear();
  }

  absl::StatusOr<Timestamp> Assign(paxos::Replica& replica, Interval now, Timestamp at_least) {
    return replica.AssignTimestamp(now, at_least);
  }

  absl::Status ProposeRecord(paxos::Replica& replica, Interval now, Timestamp ts,
                             const proto::TabletCommand& command) {
    absl::StatusOr<paxos::Index> slot = replica.Propose(command.SerializeAsString(), now);
    if (!slot.ok()) return slot.status();
    inflight.insert(ts);
    last_proposal_us = now.latest;
    return absl::OkStatus();
  }

  Timestamp TmSafe() const {
    Timestamp t = truetime::kMaxTimestamp;
    for (const auto& [id, p] : prepared) t = std::min(t, p.prepare_ts - 1);
    return t;
  }

  // The highest timestamp at which this replica's data is final: every record with a timestamp
  // at or below t_paxos_safe is applied (records take effect in increasing timestamp order, see
  // ApplyEntry), and no prepared transaction can commit at or below t_tm_safe. A leader uses the
  // same rule: its own knowledge (s_max) is not enough, because an earlier leader's record that
  // no quorum it heard from holds may still be chosen later (the simulator found this: append
  // seed 2000398). It logs a safe-time record instead when a read needs a newer snapshot.
  Timestamp Safe(const paxos::Replica& replica) const {
    (void)replica;
    return std::min(paxos_safe, TmSafe());
  }

  // Like Safe, but an established leader asked for a newer snapshot than it has logs a
  // safe-time record at or above `want` (once per such timestamp) so that t_paxos_safe reaches
  // it one Paxos round later.
  Timestamp SafeFor(paxos::Replica& replica, Interval now, Timestamp want) {
    if (leading && want > paxos_safe && want > safe_time_requested && replica.HasLease(now)) {
      absl::StatusOr<Timestamp> ts = replica.AssignTimestamp(now, want);
      if (ts.ok()) {
        proto::TabletCommand c;
        c.set_commit_ts(*ts);
        c.mutable_safe_time();
        if (ProposeRecord(replica, now, *ts, c).ok()) safe_time_requested = *ts;
      }
    }
    return Safe(replica);
  }

  absl::StatusOr<std::vector<std::optional<std::string>>> ReadKeys(
      const std::vector<std::string>& keys, Timestamp ts) {
    std::vector<std::optional<std::string>> values;
    values.reserve(keys.size());
    for (const std::string& k : keys) {
      absl::StatusOr<std::optional<std::string>> v = store->Get(k, ts);
      if (!v.ok()) return v.status();
      values.push_back(std::move(*v));
    }
    return values;
  }

  // ---- aborts and lock grants ----------------------------------------------------------------

  // Aborts a transaction that has nothing in flight here: fails its parked requests, releases
  // its locks.
  void AbortLocal(TxnId txn, const absl::Status& why, Interval now, paxos::Replica& replica,
                  Actions* out) {
    auto it = active.find(txn);
    if (it != active.end()) {
      for (Parked& p : it->second.parked) {
        for (RequestId r : p.ids) out->replies.push_back(ErrorReply(r, why));
      }
      for (RequestId r : it->second.reply_ids) out->replies.push_back(ErrorReply(r, why));
      active.erase(it);
    }
    RememberAborted(txn);
    if (locks) Grants(locks->ReleaseAll(txn), now, replica, out);
  }

  // Logs an abort decision (coordinator) and answers `ids` ABORTED once it applied.
  void ProposeAbortDecision(TxnId txn, const TxnRef& ref, std::vector<RequestId> ids,
                            std::vector<GroupId> participants, Interval now,
                            paxos::Replica& replica, Actions* out) {
    reports.erase(txn);
    auto d = decisions.find(txn);
    if (d != decisions.end()) {
      AnswerDecided(txn, d->second, ids, out);
      return;
    }
    if (forgotten_aborts.count(txn) != 0) {  // aborted long ago: answer as the decision did
      for (RequestId r : ids) {
        out->replies.push_back(ErrorReply(r, WasAborted(txn)));
      }
      for (GroupId g : participants) {
        out->messages.push_back(
            GroupMessage{GroupMessage::Type::kOutcome, group, g, txn, false, 0});
      }
      return;
    }
    Active& a = active[txn];
    if (a.ref.id == 0) a.ref = ref;
    auto add_participants = [&a](const std::vector<GroupId>& gs) {
      for (GroupId g : gs) {
        if (std::find(a.participants.begin(), a.participants.end(), g) == a.participants.end()) {
          a.participants.push_back(g);
        }
      }
    };
    for (Parked& p : a.parked) {
      ids.insert(ids.end(), p.ids.begin(), p.ids.end());
    }
    a.parked.clear();
    add_participants(participants);
    if (a.stage == Stage::kAbortProposed) {
      a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
      return;
    }
    absl::StatusOr<Timestamp> ts = Assign(replica, now, 0);
    absl::Status st = ts.status();
    if (ts.ok()) {
      proto::TabletCommand c;
      c.set_commit_ts(*ts);
      c.mutable_txn_abort()->set_txn(txn);
      for (GroupId g : a.participants) c.mutable_txn_abort()->add_participants(g);
      st = ProposeRecord(replica, now, *ts, c);
    }
    if (!st.ok()) {
      const absl::Status why =
          absl::UnavailableError(absl::StrCat("could not log the abort decision: ", st.message()));
      for (RequestId r : ids) out->replies.push_back(ErrorReply(r, why));
      for (RequestId r : a.reply_ids) out->replies.push_back(ErrorReply(r, why));
      a.reply_ids.clear();
      return;
    }
    a.stage = Stage::kAbortProposed;
    a.record_ts = *ts;
    a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
  }

  void AnswerDecided(TxnId txn, const Decision& d, const std::vector<RequestId>& ids,
                     Actions* out) {
    if (!d.committed) {
      for (RequestId r : ids) {
        out->replies.push_back(ErrorReply(r, WasAborted(txn)));
      }
      return;
    }
    // A duplicate Commit of a committed transaction: answer once its commit wait is over.
    commit_waits.push_back(CommitWaiter{d.commit_ts, txn, ids, {}});
    commit_waits.back().release = false;
    WakeAt(out, d.commit_ts);
  }

  void HandleWounded(const std::vector<TxnId>& wounded, Interval now, paxos::Replica& replica,
                     Actions* out) {
    for (TxnId w : wounded) {
      auto p = prepared.find(w);
      if (p != prepared.end()) {
        // A prepared transaction belongs to its coordinator: ask it to abort.
        out->messages.push_back(
            GroupMessage{GroupMessage::Type::kInquiry, group, p->second.coordinator, w, false, 0});
        continue;
      }
      auto it = active.find(w);
      if (it == active.end()) {
        AbortLocal(w, absl::AbortedError(absl::StrCat("transaction ", w, " was wounded")), now,
                   replica, out);
        continue;
      }
      Active& a = it->second;
      a.wounded = true;
      if (InFlight(a.stage)) continue;  // resolved when its record applies
      if (a.stage == Stage::kCommitting || a.stage == Stage::kAwaitingReports) {
        ProposeAbortDecision(w, a.ref, {}, a.participants, now, replica, out);
        continue;
      }
      AbortLocal(w,
                 absl::AbortedError(
                     absl::StrCat("transaction ", w, " was wounded by an older transaction")),
                 now, replica, out);
    }
  }

  // Acquires `span` for the transaction; returns false (and handles the abort) when it failed.
  // Parks the span in `parked->waiting` when the lock must wait.
  // Wounded transactions are collected in `wounded`: the caller handles them once its request
  // is parked, so that locks they free are granted to it.
  bool AcquireFor(const TxnRef& ref, const LockSpan& span, LockMode mode, int64_t now_us,
                  Parked* parked, std::vector<TxnId>* wounded, absl::Status* error) {
    absl::StatusOr<AcquireResult> r = locks->Acquire(ref, span, mode, now_us);
    if (!r.ok()) {
      *error = r.status();
      return false;
    }
    if (r->outcome == AcquireOutcome::kWaiting) parked->waiting.insert(span);
    wounded->insert(wounded->end(), r->wounded.begin(), r->wounded.end());
    return true;
  }

  // X-locks every write of a Prepare or Commit for `parked`. False (with `error`) when a lock
  // could not be taken; the spans this request was queued for are then dropped again.
  bool AcquireWrites(const TxnRef& ref, const std::vector<Mutation>& writes, Interval now,
                     Parked* parked, std::vector<TxnId>* wounded, absl::Status* error,
                     paxos::Replica& replica, Actions* out) {
    for (const Mutation& w : writes) {
      if (!AcquireFor(ref, LockSpan::Key(w.key), LockMode::kExclusive, now.earliest, parked,
                      wounded, error)) {
        for (const LockSpan& s : parked->waiting) {
          Grants(locks->Release(ref.id, s), now, replica, out);
        }
        parked->waiting.clear();
        return false;
      }
    }
    return true;
  }

  void Grants(const std::vector<Grant>& grants, Interval now, paxos::Replica& replica,
              Actions* out) {
    for (const Grant& g : grants) {
      auto it = active.find(g.txn);
      if (it == active.end()) continue;
      std::vector<Parked>& parked = it->second.parked;
      for (size_t i = 0; i < parked.size(); ++i) {
        if (parked[i].waiting.erase(g.span) == 0 || !parked[i].waiting.empty()) continue;
        Parked ready = std::move(parked[i]);
        parked.erase(parked.begin() + static_cast<std::ptrdiff_t>(i));
        Resume(g.txn, std::move(ready), now, replica, out);
        break;
      }
    }
  }

  void Resume(TxnId txn, Parked p, Interval now, paxos::Replica& replica, Actions* out) {
    switch (p.kind) {
      case Parked::Kind::kRead:
        FinishRead(p.ids, p.keys, out);
        return;
      case Parked::Kind::kPrepare:
        ProceedPrepare(txn, p.ids, p.prepare, now, replica, out);
        return;
      case Parked::Kind::kCommit:
        ProceedCommit(txn, p.ids, p.commit, now, replica, out);
        return;
    }
  }

  void FinishRead(const std::vector<RequestId>& ids, const std::vector<std::string>& keys,
                  Actions* out) {
    absl::StatusOr<std::vector<std::optional<std::string>>> values =
        ReadKeys(keys, truetime::kMaxTimestamp);
    for (RequestId r : ids) {
      Reply reply;
      reply.id = r;
      if (values.ok()) {
        reply.values = *values;
      } else {
        reply.status = values.status();
      }
      out->replies.push_back(std::move(reply));
    }
  }

  // Checks that the transaction still holds S (or X) locks on every key it says it read here.
  absl::Status CheckReads(const TxnRef& ref, const std::vector<std::string>& reads) {
    for (const std::string& k : reads) {
      if (!locks->Holds(ref.id, LockSpan::Key(k), LockMode::kShared)) {
        return absl::AbortedError(
            absl::StrCat("transaction ", ref.id, " no longer holds its read lock on '",
                         absl::CEscape(k), "' (the leader changed or the lock expired)"));
      }
    }
    return absl::OkStatus();
  }

  void ReleaseReadsEarly(const TxnRef& ref, const std::vector<std::string>& reads,
                         const std::vector<Mutation>& writes, Interval now, paxos::Replica& replica,
                         Actions* out) {
    if (!opt.testing_release_read_locks_early) return;
    std::set<std::string> written;
    for (const Mutation& m : writes) written.insert(m.key);
    for (const std::string& k : reads) {
      if (written.count(k) == 0)
        Grants(locks->Release(ref.id, LockSpan::Key(k)), now, replica, out);
    }
  }

  void ProceedPrepare(TxnId txn, const std::vector<RequestId>& ids, const PrepareRequest& req,
                      Interval now, paxos::Replica& replica, Actions* out) {
    absl::StatusOr<Timestamp> ts = opt.testing_prepare_ts_not_above
                                       ? absl::StatusOr<Timestamp>(last_write_ts + 1)
                                       : Assign(replica, now, last_write_ts + 1);
    absl::Status st = ts.status();
    if (ts.ok()) {
      proto::TabletCommand c;
      c.set_commit_ts(*ts);
      proto::TxnPrepare* p = c.mutable_txn_prepare();
      p->set_txn(txn);
      p->set_start_ts(req.txn.start_ts);
      p->set_coordinator(req.coordinator);
      for (const Mutation& m : req.writes) ToProto(m, p->add_writes());
      for (const std::string& k : req.reads) p->add_reads(k);
      st = ProposeRecord(replica, now, *ts, c);
    }
    Active& a = active[txn];
    if (!st.ok()) {
      AbortLocal(txn, absl::UnavailableError(absl::StrCat("could not prepare: ", st.message())),
                 now, replica, out);
      for (RequestId r : ids) {
        out->replies.push_back(ErrorReply(
            r, absl::UnavailableError(absl::StrCat("could not prepare: ", st.message()))));
      }
      return;
    }
    a.stage = Stage::kPrepareProposed;
    a.record_ts = *ts;
    a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
    ReleaseReadsEarly(req.txn, req.reads, req.writes, now, replica, out);
  }

  // `participants` with the prepare timestamps their leaders reported (kPrepared), or nullopt
  // while one of them has not reported.
  std::optional<std::vector<ParticipantRef>> Reported(
      TxnId txn, std::vector<ParticipantRef> participants) const {
    if (participants.empty()) return participants;
    const auto r = reports.find(txn);
    if (r == reports.end()) return std::nullopt;
    for (ParticipantRef& p : participants) {
      const auto got = r->second.find(p.group);
      if (got == r->second.end()) return std::nullopt;
      p.prepare_ts = got->second;
    }
    return participants;
  }

  void ProceedCommit(TxnId txn, const std::vector<RequestId>& ids, const CommitRequest& client_req,
                     Interval now, paxos::Replica& replica, Actions* out) {
    // The participants' prepare timestamps as they reported them (kPrepared), not as the client
    // says: a client that understated one would have that participant commit below its prepare
    // timestamp, under reads its safe time already allowed. Until every participant reported, the
    // commit waits here with its locks (an inquiry from a participant meanwhile aborts it).
    CommitRequest req = client_req;
    if (!opt.testing_trust_client_prepare_ts) {
      std::optional<std::vector<ParticipantRef>> reported = Reported(txn, client_req.participants);
      if (!reported.has_value()) {
        Active& a = active[txn];
        a.stage = Stage::kAwaitingReports;
        a.participants.clear();
        for (const ParticipantRef& q : client_req.participants) a.participants.push_back(q.group);
        Parked parked;
        parked.kind = Parked::Kind::kCommit;
        parked.ids = ids;
        parked.commit = client_req;
        a.parked.push_back(std::move(parked));
        return;
      }
      req.participants = *std::move(reported);
    }
    reports.erase(txn);
    // Above TT.now().latest, every prepare timestamp and every version applied here.
    Timestamp at_least = std::max(now.latest, last_write_ts) + 1;
    for (const ParticipantRef& p : req.participants) at_least = std::max(at_least, p.prepare_ts);
    absl::StatusOr<Timestamp> ts = Assign(replica, now, at_least);
    absl::Status st = ts.status();
    if (ts.ok()) {
      proto::TabletCommand c;
      c.set_commit_ts(*ts);
      proto::TxnCommit* t = c.mutable_txn_commit();
      t->set_txn(txn);
      t->set_start_ts(req.txn.start_ts);
      for (const Mutation& m : req.writes) ToProto(m, t->add_writes());
      for (const std::string& k : req.reads) t->add_reads(k);
      for (const ParticipantRef& p : req.participants) {
        proto::TxnParticipant* tp = t->add_participants();
        tp->set_group(p.group);
        tp->set_prepare_ts(p.prepare_ts);
      }
      st = ProposeRecord(replica, now, *ts, c);
    }
    Active& a = active[txn];
    a.participants.clear();
    for (const ParticipantRef& p : req.participants) a.participants.push_back(p.group);
    if (!st.ok()) {
      // Nothing was logged: the transaction may still be aborted (and must be, durably, since
      // participants are prepared).
      ProposeAbortDecision(txn, req.txn, ids, {}, now, replica, out);
      return;
    }
    a.stage = Stage::kCommitProposed;
    a.record_ts = *ts;
    a.reply_ids.insert(a.reply_ids.end(), ids.begin(), ids.end());
    ReleaseReadsEarly(req.txn, req.reads, req.writes, now, replica, out);
  }

  void FinishCommitWait(CommitWaiter w, Interval now, paxos::Replica& replica, Actions* out) {
    for (RequestId r : w.ids) {
      Reply reply;
      reply.id = r;
      reply.ts = w.commit_ts;
      out->replies.push_back(std::move(reply));
    }
    for (GroupId g : w.participants) {
      // release: the commit's own wait (first try); otherwise the answer to an inquiry.
      out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, group, g, w.txn, true,
                                           w.commit_ts, /*leader_only=*/w.release});
    }
    if (!w.release) return;
    active.erase(w.txn);
    if (locks) Grants(locks->ReleaseAll(w.txn), now, replica, out);
  }

  void ServeSnapshots(paxos::Replica& replica, Interval now, Actions* out) {
    for (size_t i = 0; i < snapshots.size();) {
      Snapshot& s = snapshots[i];
      const bool safe =
          opt.testing_snapshot_ignore_safe_time || s.read_ts <= SafeFor(replica, now, s.read_ts);
      if (!safe && now.earliest < s.deadline_us) {
        ++i;
        continue;
      }
      // A snapshot is answered only once its timestamp has passed: a reader that saw data at
      // read_ts (e.g. of a commit still in its commit wait) must not finish before a transaction
      // that follows it in real time could still pick a timestamp below read_ts.
      if (safe && !now.After(s.read_ts) && !opt.testing_snapshot_ignore_safe_time) {
        WakeAt(out, s.read_ts);
        ++i;
        continue;
      }
      Reply reply;
      reply.id = s.id;
      if (!safe) {
        reply.status = absl::UnavailableError(
            absl::StrCat("safe time ", Safe(replica), " did not reach the read timestamp ",
                         s.read_ts, " in time; try another replica"));
      } else {
        absl::StatusOr<std::vector<std::optional<std::string>>> v = ReadKeys(s.keys, s.read_ts);
        if (v.ok()) {
          reply.values = std::move(*v);
          reply.ts = s.read_ts;
        } else {
          reply.status = v.status();
        }
      }
      out->replies.push_back(std::move(reply));
      snapshots.erase(snapshots.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  // ---- apply ---------------------------------------------------------------------------------

  absl::StatusOr<ApplyResult> ApplyEntry(paxos::Replica& replica, const paxos::Entry& e,
                                         Interval now, Actions* out) {
    applied = e.index;
    if (e.type == paxos::EntryType::kNoop) return ApplyResult{};
    proto::TabletCommand c;
    if (!c.ParseFromString(e.command)) {
      return absl::InvalidArgumentError(
          absl::StrCat("group ", group, ": entry ", e.index, " is not a tablet record"));
    }
    const Timestamp ts = c.commit_ts();
    if (ts <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("group ", group, ": entry ", e.index, " has timestamp ", ts));
    }
    if (auto it = inflight.find(ts); it != inflight.end()) inflight.erase(it);
    if (ts <= paxos_safe) {
      // A record below one already applied: an earlier leader's record that a later leader
      // recovered after newer records were chosen (Multi-Paxos slots are independent). Applying
      // it would change snapshots that were already read, so it takes no effect, on every replica
      // alike (a pure function of the log). Its proposer was deposed long ago: its client was
      // told the outcome is unknown.
      ServeSnapshots(replica, now, out);
      return ApplyResult{ApplyResult::Kind::kIgnored, 0, ts};
    }
    ApplyResult result;
    result.ts = ts;
    switch (c.op_case()) {
      case proto::TabletCommand::kPut:
      case proto::TabletCommand::kDelete: {
        const bool put = c.op_case() == proto::TabletCommand::kPut;
        const std::string& key = put ? c.put().key() : c.delete_().key();
        if (key.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("group ", group, ": entry ", e.index, " writes an empty key"));
        }
        Mutation m{key, put ? std::optional<std::string>(c.put().value()) : std::nullopt};
        if (absl::Status st = store->Write(ts, {m}); !st.ok()) return st;
        last_write_ts = std::max(last_write_ts, ts);
        result.kind = ApplyResult::Kind::kWrite;
        break;
      }
      case proto::TabletCommand::kTxnCommit:
        result = ApplyCommit(replica, c.txn_commit(), ts, now, out);
        break;
      case proto::TabletCommand::kTxnAbort:
        result = ApplyAbort(replica, c.txn_abort(), ts, now, out);
        break;
      case proto::TabletCommand::kTxnPrepare:
        result = ApplyPrepare(replica, c.txn_prepare(), ts, now, out);
        break;
      case proto::TabletCommand::kTxnFinish:
        result = ApplyFinish(replica, c.txn_finish(), ts, now, out);
        break;
      case proto::TabletCommand::kSafeTime:
        for (TxnId txn : c.safe_time().forget()) {
          auto d = decisions.find(txn);
          // Aborts are kept: a client's Commit may still arrive after a presumed abort (the
          // simulator found a late Commit committing a forgotten abort, bank seed 8000419).
          if (d == decisions.end() || d->second.participants.empty() || !d->second.committed) {
            continue;
          }
          decisions.erase(d);
          unforgotten_commits.erase(txn);
          if (forgotten.insert(txn).second) {
            KeepNewest(txn, opt.max_forgotten_ids, forgotten_order, forgotten);
          }
        }
        break;
      case proto::TabletCommand::OP_NOT_SET:
        return absl::InvalidArgumentError(
            absl::StrCat("group ", group, ": entry ", e.index, " has no operation"));
    }
    paxos_safe = ts;  // only once the record took effect: a malformed one leaves no trace
    ServeSnapshots(replica, now, out);
    return result;
  }

  ApplyResult ApplyCommit(paxos::Replica& replica, const proto::TxnCommit& c, Timestamp ts,
                          Interval now, Actions* out) {
    const TxnId txn = c.txn();
    if (decisions.count(txn) != 0 || Forgotten(txn)) {
      return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
    }
    Decision& d = decisions[txn];
    d.committed = true;
    d.commit_ts = ts;
    for (const proto::TxnParticipant& p : c.participants()) d.participants.push_back(p.group());
    // A failing write here is fatal for the replica (the log and the store would disagree), so
    // it is surfaced through Apply's error by the caller's CHECK; keep going for the decision.
    absl::Status st = store->Write(ts, FromProto(c.writes()));
    if (!st.ok()) {
      decisions.erase(txn);
      write_error = st;
      return ApplyResult{};
    }
    last_write_ts = std::max(last_write_ts, ts);
    const std::vector<GroupId> participants = d.participants;
    RememberDecision(txn, d);  // may forget d itself when the bound is 0
    if (leading) {
      auto it = active.find(txn);
      std::vector<RequestId> ids;
      if (it != active.end()) {
        ids = std::move(it->second.reply_ids);
        it->second.reply_ids.clear();
        it->second.stage = Stage::kCommitWait;
      }
      CommitWaiter w{ts, txn, std::move(ids), participants};
      // Commit wait ends at TT.after(s). It often has by now (the Paxos round outlasted 2 eps):
      // then reply at once instead of from a tick, which costs a timer's wakeup.
      if (opt.testing_skip_commit_wait || now.After(ts)) {
        FinishCommitWait(std::move(w), now, replica, out);
      } else {
        commit_waits.push_back(std::move(w));
        WakeAt(out, ts);
      }
    }
    return ApplyResult{ApplyResult::Kind::kCommit, txn, ts};
  }

  ApplyResult ApplyAbort(paxos::Replica& replica, const proto::TxnAbort& c, Timestamp ts,
                         Interval now, Actions* out) {
    const TxnId txn = c.txn();
    if (decisions.count(txn) != 0 || Forgotten(txn)) {
      return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
    }
    Decision& d = decisions[txn];
    d.committed = false;
    for (uint64_t g : c.participants()) d.participants.push_back(g);
    const std::vector<GroupId> participants = d.participants;
    RememberDecision(txn, d);
    if (leading) {
      for (GroupId g : participants) {
        out->messages.push_back(
            GroupMessage{GroupMessage::Type::kOutcome, group, g, txn, false, 0});
      }
      AbortLocal(txn, WasAborted(txn), now, replica, out);
    }
    return ApplyResult{ApplyResult::Kind::kAbort, txn, ts};
  }

  ApplyResult ApplyPrepare(paxos::Replica& replica, const proto::TxnPrepare& c, Timestamp ts,
                           Interval now, Actions* out) {
    const TxnId txn = c.txn();
    if (prepared.count(txn) != 0 || finished.count(txn) != 0) {
      return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
    }
    Prepared& p = prepared[txn];
    p.prepare_ts = ts;
    p.ref = TxnRef{txn, c.start_ts()};
    p.coordinator = c.coordinator();
    p.writes = FromProto(c.writes());
    p.reads = FromProto(c.reads());
    p.last_heard_us = now.earliest;
    p.last_report_us = now.earliest;
    if (leading) {
      if (active.count(txn) == 0 && locks) {
        // Proposed by an earlier leader: take its locks like Establish does.
        for (const std::string& k : p.reads) {
          (void)locks->Acquire(p.ref, LockSpan::Key(k), LockMode::kShared, now.earliest);
        }
        for (const Mutation& m : p.writes) {
          (void)locks->Acquire(p.ref, LockSpan::Key(m.key), LockMode::kExclusive, now.earliest);
        }
      }
      // The coordinator takes this group's prepare timestamp from here, not from the client. To
      // the leader believed in: a lost report costs the transaction (it aborts on an inquiry).
      out->messages.push_back(GroupMessage{GroupMessage::Type::kPrepared, group, p.coordinator, txn,
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
            GroupMessage{GroupMessage::Type::kInquiry, group, p.coordinator, txn, false, 0});
      }
    }
    (void)replica;
    return ApplyResult{ApplyResult::Kind::kPrepare, txn, ts};
  }

  ApplyResult ApplyFinish(paxos::Replica& replica, const proto::TxnFinish& c, Timestamp ts,
                          Interval now, Actions* out) {
    const TxnId txn = c.txn();
    auto it = prepared.find(txn);
    if (it == prepared.end()) return ApplyResult{ApplyResult::Kind::kIgnored, txn, ts};
    if (leading) {
      // The finish is chosen: the coordinator never needs to answer this group about txn again.
      out->messages.push_back(GroupMessage{GroupMessage::Type::kAck, group, it->second.coordinator,
                                           txn, false, 0,
                                           /*leader_only=*/true});
    }
    if (c.committed()) {
      absl::Status st = store->Write(c.txn_commit_ts(), it->second.writes);
      if (!st.ok()) {
        write_error = st;
        return ApplyResult{};
      }
      last_write_ts = std::max(last_write_ts, c.txn_commit_ts());
    }
    if (finished.emplace(txn, Decision{c.committed(), c.txn_commit_ts(), {}}).second) {
      KeepNewest(txn, opt.max_finished_outcomes, finished_order, finished);
    }
    prepared.erase(it);
    if (leading) {
      active.erase(txn);
      if (locks) Grants(locks->ReleaseAll(txn), now, replica, out);
    }
    return ApplyResult{ApplyResult::Kind::kFinish, txn, c.committed() ? c.txn_commit_ts() : 0};
  }

  void ProposeFinish(TxnId txn, bool committed, Timestamp commit_ts, Interval now,
                     paxos::Replica& replica) {
    Active& a = active[txn];
    if (a.stage == Stage::kFinishProposed) return;
    absl::StatusOr<Timestamp> ts = Assign(replica, now, 0);
    if (!ts.ok()) return;  // asked again on the next inquiry
    proto::TabletCommand c;
    c.set_commit_ts(*ts);
    c.mutable_txn_finish()->set_txn(txn);
    c.mutable_txn_finish()->set_committed(committed);
    c.mutable_txn_finish()->set_txn_commit_ts(commit_ts);
    if (ProposeRecord(replica, now, *ts, c).ok()) {
      a.stage = Stage::kFinishProposed;
      a.record_ts = *ts;
    }
  }

  absl::Status write_error;  // a store failure during Apply, reported by Apply
};

TransactionManager::TransactionManager(GroupId group, Store* store,
                                       const TransactionManagerOptions& options)
    : impl_(std::make_unique<Impl>(group, store, options)) {}

TransactionManager::~TransactionManager() = default;

Timestamp TransactionManager::LastTs() const { return impl_->last_write_ts; }
TransactionManager::Memory TransactionManager::memory() const {
  Memory m;
  m.decisions = impl_->decisions.size();
  m.finished = impl_->finished.size();
  m.active = impl_->active.size();
  m.aborted = impl_->aborted.size();
  m.forgotten_ids = impl_->forgotten.size() + impl_->forgotten_aborts.size();
  return m;
}

size_t TransactionManager::prepared_count() const { return impl_->prepared.size(); }
bool TransactionManager::leading() const { return impl_->leading; }
GroupId TransactionManager::group() const { return impl_->group; }

Timestamp TransactionManager::SafeTime(const paxos::Replica& replica) const {
  return impl_->Safe(replica);
}

absl::StatusOr<ApplyResult> TransactionManager::Apply(paxos::Replica& replica,
                                                      const paxos::Entry& entry, Interval now,
                                                      Actions* out) {
  // Apply first (so a new leader's caught-up check sees this entry), then settle leadership.
  absl::StatusOr<ApplyResult> r = impl_->ApplyEntry(replica, entry, now, out);
  if (!impl_->write_error.ok()) {
    absl::Status st = std::move(impl_->write_error);
    impl_->write_error = absl::OkStatus();
    return st;
  }
  return r;
}

void TransactionManager::Read(paxos::Replica& replica, Interval now, RequestId id,
                              const ReadRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.ValidateKeys(req.keys); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(replica, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(replica, now)));
    return;
  }
  const TxnId txn = req.txn.id;
  if (m.aborted.count(txn) != 0 || m.forgotten_aborts.count(txn) != 0) {
    out->replies.push_back(ErrorReply(id, WasAborted(txn)));
    return;
  }
  auto existing = m.active.find(txn);
  if (m.prepared.count(txn) != 0 || m.decisions.count(txn) != 0 ||
      (existing != m.active.end() && existing->second.stage != Stage::kActive)) {
    out->replies.push_back(
        ErrorReply(id, absl::FailedPreconditionError(absl::StrCat(
                           "transaction ", txn, " is already committing; no more reads"))));
    return;
  }
  Impl::Active& a = m.active[txn];
  a.ref = req.txn;
  Impl::Parked parked;
  parked.kind = Impl::Parked::Kind::kRead;
  parked.ids = {id};
  parked.keys = req.keys;
  std::vector<TxnId> wounded;
  for (const std::string& k : req.keys) {
    absl::Status error;
    if (!m.AcquireFor(req.txn, LockSpan::Key(k), LockMode::kShared, now.earliest, &parked, &wounded,
                      &error)) {
      if (error.code() == absl::StatusCode::kAborted) {
        m.AbortLocal(txn, error, now, replica, out);
        out->replies.push_back(ErrorReply(id, error));
      } else {
        // Locks already granted for this request stay with the transaction (released at its
        // end); the request fails.
        for (const LockSpan& s : parked.waiting)
          m.Grants(m.locks->Release(txn, s), now, replica, out);
        out->replies.push_back(ErrorReply(id, error));
      }
      m.HandleWounded(wounded, now, replica, out);
      return;
    }
  }
  if (parked.waiting.empty()) {
    m.FinishRead(parked.ids, parked.keys, out);
  } else {
    m.active[txn].parked.push_back(std::move(parked));
  }
  m.HandleWounded(wounded, now, replica, out);
}

void TransactionManager::Prepare(paxos::Replica& replica, Interval now, RequestId id,
                                 const PrepareRequest& req, Actions* out) {
  Impl& m = *impl_;
  std::vector<std::string> keys = req.reads;
  if (absl::Status st = m.ValidateWrites(req.writes); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (absl::Status st = m.ValidateKeys(keys); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (req.coordinator == 0 || req.coordinator == m.group) {
    out->replies.push_back(ErrorReply(
        id, absl::InvalidArgumentError("a prepare names another group as the coordinator")));
    return;
  }
  if (!m.Lead(replica, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(replica, now)));
    return;
  }
  const TxnId txn = req.txn.id;
  if (auto p = m.prepared.find(txn); p != m.prepared.end()) {
    Reply reply;
    reply.id = id;
    reply.ts = p->second.prepare_ts;
    out->replies.push_back(std::move(reply));
    return;
  }
  if (m.finished.count(txn) != 0 || m.aborted.count(txn) != 0) {
    out->replies.push_back(ErrorReply(
        id, absl::AbortedError(absl::StrCat("transaction ", txn, " already ended here"))));
    return;
  }
  Impl::Active& a = m.active[txn];
  a.ref = req.txn;
  if (a.stage == Stage::kPrepareProposed) {
    a.reply_ids.push_back(id);
    return;
  }
  if (a.stage == Stage::kPreparing) {
    for (Impl::Parked& p : a.parked) {
      if (p.kind == Impl::Parked::Kind::kPrepare) p.ids.push_back(id);
    }
    return;
  }
  if (a.stage != Stage::kActive) {
    out->replies.push_back(
        ErrorReply(id, absl::FailedPreconditionError(
                           absl::StrCat("transaction ", txn, " is coordinated by this group"))));
    return;
  }
  if (absl::Status st = m.CheckReads(req.txn, req.reads); !st.ok()) {
    m.AbortLocal(txn, st, now, replica, out);
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  Impl::Parked parked;
  parked.kind = Impl::Parked::Kind::kPrepare;
  parked.ids = {id};
  parked.prepare = req;
  std::vector<TxnId> wounded;
  if (absl::Status error;
      !m.AcquireWrites(req.txn, req.writes, now, &parked, &wounded, &error, replica, out)) {
    m.AbortLocal(txn, error, now, replica, out);
    out->replies.push_back(ErrorReply(id, error));
    m.HandleWounded(wounded, now, replica, out);
    return;
  }
  if (parked.waiting.empty()) {
    m.ProceedPrepare(txn, parked.ids, req, now, replica, out);
  } else {
    Impl::Active& again = m.active[txn];
    again.stage = Stage::kPreparing;
    again.parked.push_back(std::move(parked));
  }
  m.HandleWounded(wounded, now, replica, out);
}

void TransactionManager::Commit(paxos::Replica& replica, Interval now, RequestId id,
                                const CommitRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.ValidateWrites(req.writes); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (absl::Status st = m.ValidateKeys(req.reads); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  for (const ParticipantRef& p : req.participants) {
    // prepare_ts 0: not known to the client, which sent this Commit together with the prepares
    // (the reports carry the timestamps the commit uses).
    if (p.group == 0 || p.group == m.group || p.prepare_ts < 0) {
      out->replies.push_back(
          ErrorReply(id, absl::InvalidArgumentError(absl::StrCat("bad participant: group ", p.group,
                                                                 " prepared at ", p.prepare_ts))));
      return;
    }
  }
  if (!m.Lead(replica, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(replica, now)));
    return;
  }
  const TxnId txn = req.txn.id;
  if (m.forgotten.count(txn) != 0) {
    // Committed and acknowledged by every participant long ago; the SDK never sends a Commit
    // twice, so this is a stray duplicate: its first copy was answered.
    out->replies.push_back(ErrorReply(
        id, absl::FailedPreconditionError(absl::StrCat(
                "transaction ", txn, " committed long ago; its decision is no longer kept"))));
    return;
  }
  if (m.forgotten_aborts.count(txn) != 0) {
    // Aborted long ago (e.g. presumed abort on a participant's inquiry): never commit it now.
    out->replies.push_back(ErrorReply(id, WasAborted(txn)));
    return;
  }
  if (auto d = m.decisions.find(txn); d != m.decisions.end()) {
    m.AnswerDecided(txn, d->second, {id}, out);
    return;
  }
  std::vector<GroupId> participants;
  for (const ParticipantRef& p : req.participants) participants.push_back(p.group);
  Impl::Active& a = m.active[txn];
  a.ref = req.txn;
  switch (a.stage) {
    case Stage::kCommitProposed:
    case Stage::kCommitWait:
    case Stage::kAbortProposed:
      a.reply_ids.push_back(id);
      return;
    case Stage::kCommitting:
    case Stage::kAwaitingReports:
      for (Impl::Parked& p : a.parked) {
        if (p.kind == Impl::Parked::Kind::kCommit) p.ids.push_back(id);
      }
      return;
    case Stage::kActive:
      break;
    default:
      out->replies.push_back(
          ErrorReply(id, absl::FailedPreconditionError(absl::StrCat(
                             "transaction ", txn, " is a participant here, not coordinated"))));
      return;
  }
  if (m.aborted.count(txn) != 0 || a.wounded) {
    m.ProposeAbortDecision(txn, req.txn, {id}, participants, now, replica, out);
    return;
  }
  if (absl::Status st = m.CheckReads(req.txn, req.reads); !st.ok()) {
    m.ProposeAbortDecision(txn, req.txn, {id}, participants, now, replica, out);
    return;
  }
  Impl::Parked parked;
  parked.kind = Impl::Parked::Kind::kCommit;
  parked.ids = {id};
  parked.commit = req;
  std::vector<TxnId> wounded;
  if (absl::Status error;
      !m.AcquireWrites(req.txn, req.writes, now, &parked, &wounded, &error, replica, out)) {
    m.ProposeAbortDecision(txn, req.txn, {id}, participants, now, replica, out);
    m.HandleWounded(wounded, now, replica, out);
    return;
  }
  if (parked.waiting.empty()) {
    m.ProceedCommit(txn, parked.ids, req, now, replica, out);
  } else {
    Impl::Active& again = m.active[txn];
    again.stage = Stage::kCommitting;
    again.participants = participants;
    again.parked.push_back(std::move(parked));
  }
  m.HandleWounded(wounded, now, replica, out);
}

void TransactionManager::Abort(paxos::Replica& replica, Interval now, const AbortRequest& req,
                               Actions* out) {
  Impl& m = *impl_;
  if (!m.Lead(replica, now, out)) return;
  const TxnId txn = req.txn;
  if (m.prepared.count(txn) != 0) return;  // the coordinator decides
  auto it = m.active.find(txn);
  const Stage stage = it == m.active.end() ? Stage::kActive : it->second.stage;
  if (InFlight(stage)) return;
  if (m.Forgotten(txn)) return;  // decided long ago
  if (req.coordinator && !req.participants.empty() && m.decisions.count(txn) == 0) {
    const TxnRef ref = it == m.active.end() ? TxnRef{txn, 0} : it->second.ref;
    m.ProposeAbortDecision(txn, ref, {}, req.participants, now, replica, out);
    return;
  }
  if (m.decisions.count(txn) != 0) return;
  m.AbortLocal(txn, absl::AbortedError(absl::StrCat("transaction ", txn, " aborted by its client")),
               now, replica, out);
}

absl::Status TransactionManager::Keepalive(TxnId txn, Interval now) {
  Impl& m = *impl_;
  if (!m.leading || !m.locks) return absl::UnavailableError("not the leader");
  if (m.aborted.count(txn) != 0) {
    return WasAborted(txn);
  }
  return m.locks->Touch(txn, now.earliest);
}

void TransactionManager::ReadOnly(paxos::Replica& replica, Interval now, RequestId id,
                                  const ReadOnlyRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.ValidateKeys(req.keys); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (!m.Lead(replica, now, out)) {
    out->replies.push_back(ErrorReply(id, m.NotServing(replica, now)));
    return;
  }
  // LastTS() when nothing is prepared here; else TT.now().latest (SPANNER.md §4.1.3).
  const Timestamp read_ts =
      m.prepared.empty() ? std::max<Timestamp>(m.last_write_ts, 1) : now.latest;
  m.snapshots.push_back(
      Impl::Snapshot{id, req.keys, read_ts, now.earliest + m.opt.snapshot_wait_us});
  m.ServeSnapshots(replica, now, out);
}

void TransactionManager::SnapshotRead(paxos::Replica& replica, Interval now, RequestId id,
                                      const SnapshotReadRequest& req, Actions* out) {
  Impl& m = *impl_;
  if (absl::Status st = m.ValidateKeys(req.keys); !st.ok()) {
    out->replies.push_back(ErrorReply(id, st));
    return;
  }
  if (req.read_ts <= 0) {
    out->replies.push_back(
        ErrorReply(id, absl::InvalidArgumentError("read timestamp must be > 0")));
    return;
  }
  m.Lead(replica, now, out);  // a leader can serve more recent snapshots
  m.snapshots.push_back(
      Impl::Snapshot{id, req.keys, req.read_ts, now.earliest + m.opt.snapshot_wait_us});
  m.ServeSnapshots(replica, now, out);
}

void TransactionManager::Receive(paxos::Replica& replica, Interval now, const GroupMessage& msg,
                                 Actions* out) {
  Impl& m = *impl_;
  if (!m.Lead(replica, now, out)) return;
  const TxnId txn = msg.txn;
  if (msg.type == GroupMessage::Type::kOutcome) {
    auto p = m.prepared.find(txn);
    if (p != m.prepared.end()) {
      p->second.last_heard_us = now.earliest;
      m.ProposeFinish(txn, msg.committed, msg.commit_ts, now, replica);
      return;
    }
    if (m.finished.count(txn) != 0) {
      // Applied here already: the coordinator is asking again because it missed the ack.
      out->messages.push_back(
          GroupMessage{GroupMessage::Type::kAck, m.group, msg.from, txn, false, 0});
      return;
    }
    if (msg.committed) return;  // not prepared here: nothing to apply
    auto it = m.active.find(txn);
    if (it != m.active.end() && !InFlight(it->second.stage)) {
      m.AbortLocal(txn, WasAborted(txn), now, replica, out);
    }
    return;
  }
  if (msg.type == GroupMessage::Type::kPrepared) {
    if (msg.commit_ts <= 0 || m.decisions.count(txn) != 0 || m.Forgotten(txn)) return;
    if (m.reports.try_emplace(txn).second) {
      m.KeepNewest(txn, m.opt.max_prepare_reports, m.reports_order, m.reports);
    }
    const auto r = m.reports.find(txn);
    if (r == m.reports.end()) return;  // dropped at once (max_prepare_reports = 0)
    r->second[msg.from] = msg.commit_ts;
    auto it = m.active.find(txn);
    if (it == m.active.end() || it->second.stage != Stage::kAwaitingReports) return;
    // The waiting commit goes on once the last report is in.
    Impl::Active& a = it->second;
    const auto commit = std::find_if(a.parked.begin(), a.parked.end(), [](const Impl::Parked& p) {
      return p.kind == Impl::Parked::Kind::kCommit;
    });
    if (commit == a.parked.end() || !m.Reported(txn, commit->commit.participants).has_value()) {
      return;
    }
    Impl::Parked parked = std::move(*commit);
    a.parked.erase(commit);
    a.stage = Stage::kCommitting;
    m.ProceedCommit(txn, parked.ids, parked.commit, now, replica, out);
    return;
  }
  if (msg.type == GroupMessage::Type::kAck) {
    auto d = m.decisions.find(txn);
    if (d == m.decisions.end() || d->second.participants.empty() || !d->second.committed) return;
    std::set<GroupId>& heard = m.acks[txn];
    heard.insert(msg.from);
    for (GroupId g : d->second.participants) {
      if (heard.count(g) == 0) return;
    }
    m.acks.erase(txn);
    m.forgettable.push_back(txn);
    return;
  }
  // kInquiry: this group coordinates txn.
  if (m.forgotten.count(txn) != 0) return;  // stale: the asker has applied the outcome since
  if (auto d = m.decisions.find(txn); d != m.decisions.end()) {
    if (d->second.committed && !now.After(d->second.commit_ts)) {
      // A participant may apply and release only after the commit wait (SPANNER.md §4.2.1):
      // otherwise a later transaction could read s's data and commit below s.
      m.commit_waits.push_back(
          Impl::CommitWaiter{d->second.commit_ts, txn, {}, {msg.from}, /*release=*/false});
      WakeAt(out, d->second.commit_ts);
      return;
    }
    out->messages.push_back(GroupMessage{GroupMessage::Type::kOutcome, m.group, msg.from, txn,
                                         d->second.committed, d->second.commit_ts});
    return;
  }
  auto it = m.active.find(txn);
  if (it != m.active.end() &&
      (it->second.stage == Stage::kCommitProposed || it->second.stage == Stage::kAbortProposed)) {
    it->second.participants.push_back(msg.from);  // told when the record applies
    return;
  }
  const TxnRef ref = it == m.active.end() ? TxnRef{txn, 0} : it->second.ref;
  m.ProposeAbortDecision(txn, ref, {}, {msg.from}, now, replica, out);
}

void TransactionManager::Tick(paxos::Replica& replica, Interval now, Actions* out) {
  Impl& m = *impl_;
  const bool lead = m.Lead(replica, now, out);
  // Commit waits (kept across leadership changes: the decision is durable).
  for (size_t i = 0; i < m.commit_waits.size();) {
    if (now.After(m.commit_waits[i].commit_ts)) {
      Impl::CommitWaiter w = std::move(m.commit_waits[i]);
      m.commit_waits.erase(m.commit_waits.begin() + static_cast<std::ptrdiff_t>(i));
      m.FinishCommitWait(std::move(w), now, replica, out);
    } else {
      WakeAt(out, m.commit_waits[i].commit_ts);
      ++i;
    }
  }
  if (lead) {
    for (TxnId txn : m.locks->ExpireIdle(now.earliest, m.opt.txn_idle_timeout_us)) {
      if (m.prepared.count(txn) != 0) continue;
      auto it = m.active.find(txn);
      if (it != m.active.end() && InFlight(it->second.stage)) continue;
      if (it != m.active.end() &&
          (it->second.stage == Stage::kCommitting || it->second.stage == Stage::kAwaitingReports)) {
        m.ProposeAbortDecision(txn, it->second.ref, {}, it->second.participants, now, replica, out);
        continue;
      }
      m.AbortLocal(txn,
                   absl::AbortedError(
                       absl::StrCat("transaction ", txn, " expired: no keepalive from its client")),
                   now, replica, out);
    }
    for (auto& [txn, p] : m.prepared) {
      if (now.earliest - p.last_heard_us < m.opt.in_doubt_inquiry_us) {
        if (m.opt.report_resend_us > 0 &&
            now.earliest - p.last_report_us >= m.opt.report_resend_us) {
          // The coordinator may be waiting for this report (see report_resend_us).
          p.last_report_us = now.earliest;
          out->messages.push_back(GroupMessage{GroupMessage::Type::kPrepared, m.group,
                                               p.coordinator, txn, false, p.prepare_ts});
        }
        continue;
      }
      p.last_heard_us = now.earliest;
      out->messages.push_back(
          GroupMessage{GroupMessage::Type::kInquiry, m.group, p.coordinator, txn, false, 0});
    }
    if (now.latest - m.last_resend_us >= m.opt.forget_interval_us) {
      // Commit decisions some participant has not acknowledged for a while (an ack was lost, or
      // an earlier leader heard it): tell those participants again; they ack what they applied.
      m.last_resend_us = now.latest;
      constexpr size_t kMaxResendsPerTick = 1'000;
      size_t sent = 0;
      for (TxnId txn : m.unforgotten_commits) {
        if (sent >= kMaxResendsPerTick) break;
        auto it = m.decisions.find(txn);
        if (it == m.decisions.end()) continue;
        const Impl::Decision& d = it->second;
        if (now.earliest - d.commit_ts < m.opt.ack_resend_after_us) continue;
        auto heard = m.acks.find(txn);
        for (GroupId g : d.participants) {
          if (heard != m.acks.end() && heard->second.count(g) != 0) continue;
          out->messages.push_back(
              GroupMessage{GroupMessage::Type::kOutcome, m.group, g, txn, true, d.commit_ts});
          ++sent;
        }
      }
    }
    constexpr size_t kMaxForgetPerRecord = 10'000;
    const bool forget =
        !m.forgettable.empty() && (now.latest - m.last_forget_us >= m.opt.forget_interval_us ||
                                   m.forgettable.size() >= kMaxForgetPerRecord);
    if (forget || now.latest - m.last_proposal_us >= m.opt.safe_time_interval_us) {
      absl::StatusOr<Timestamp> ts = replica.AssignTimestamp(now, 0);
      if (ts.ok()) {
        proto::TabletCommand c;
        c.set_commit_ts(*ts);
        const size_t n = forget ? std::min(m.forgettable.size(), kMaxForgetPerRecord) : 0;
        for (size_t i = 0; i < n; ++i) c.mutable_safe_time()->add_forget(m.forgettable[i]);
        c.mutable_safe_time();
        // A record lost with a leadership change leaves those decisions remembered: a leak of
        // a few entries, never a wrong answer.
        if (m.ProposeRecord(replica, now, *ts, c).ok()) {
          m.forgettable.erase(m.forgettable.begin(),
                              m.forgettable.begin() + static_cast<std::ptrdiff_t>(n));
        }
      }
      m.last_proposal_us = now.latest;
      if (forget) m.last_forget_us = now.latest;
    }
  }
  m.ServeSnapshots(replica, now, out);
}

}  // namespace meridian::txn
