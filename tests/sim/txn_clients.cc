// TxnClients implementation; see txn_clients.h.
//
// Seed: the injected Random (plans, clocks, targets, backoffs, vanishing). Faults: none injected
// here. Checkers: TxnRecords and attempt writes.
#include "tests/sim/txn_clients.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "tests/sim/cluster.h"
#include "txn/range_guard.h"

namespace meridian::sim {
namespace {

// Probe reads (Probe): at most this far below the copy's timestamp, by at most this many clients of
// their own.
constexpr int64_t kProbeSpreadUs = 200'000;
constexpr size_t kMaxProbeClients = 8;

}  // namespace

std::string TxnCounts::ToString() const {
  return absl::StrCat("rw(committed=", committed, " failed=", failed, " unknown=", unknown,
                      " aborts=", aborts, ") ro(ok=", read_only_ok, " failed=", read_only_failed,
                      ") vanished=", vanished);
}

TxnClients::TxnClients(TxnCluster* cluster, const TxnSwarmParams& params, Random rng,
                       Planner planner)
    : cluster_(cluster), params_(params), rng_(std::move(rng)), planner_(std::move(planner)) {
  // Transaction ids: unique, from the seed.
  next_txn_ = (rng_.Next() & 0xffff) << 32;
  for (int i = 0; i < params_.clients; ++i) AddClient();
}

truetime::Interval TxnClients::Now(Client& c) {
  absl::StatusOr<truetime::Interval> now = c.tt->Now();
  CHECK_MSG(now.ok(), "client TrueTime failed: " + std::string(now.status().message()));
  return *now;
}

Addr TxnClients::RandomNode(paxos::GroupId g, Addr other) {
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  std::vector<Addr> choices;
  for (Addr a : nodes) {
    if (a != other) choices.push_back(a);
  }
  if (choices.empty()) return nodes[0];
  return choices[rng_.Uniform(choices.size())];
}

bool TxnClients::Idle() const {
  for (const Client& c : clients_) {
    if (c.phase != Phase::kIdle) return false;
  }
  return true;
}

void TxnClients::AddClient() {
  Client& c = clients_.emplace_back();
  c.addr = cluster_->AddClient();
  c.tt = std::make_unique<truetime::TrueTime>(
      std::make_unique<truetime::SimulatedClockSource>(
          cluster_->time(), params_.client_clock,
          truetime::RandomSimulatedClockParams(params_.client_clock, rng_)),
      truetime::TrueTime::Options{.max_epsilon_us = 1'000'000'000});
  for (paxos::GroupId g : cluster_->groups()) c.hint[g] = RandomNode(g, -1);
  c.map = cluster_->map();
}

void TxnClients::Probe(const SimRange& range, const std::vector<txn::Timestamp>& ingest_ts) {
  if (stopped_ || !probe_planner_ || params_.follower_read_p <= 0 || ingest_ts.empty()) return;
  for (Addr at : cluster_->GroupNodes(range.group)) {
    // Every replica that lags (down, or behind on the adoption), and others at random.
    TxnNode& node = cluster_->node(at);
    const bool lags =
        !node.alive() || node.manager().ownership().Check(range.start, range.generation) !=
                             txn::Ownership::Verdict::kServed;
    if (!lags && !rng_.Bernoulli(params_.follower_read_p)) continue;
    std::optional<TxnPlan> plan = probe_planner_(range);
    if (!plan) return;
    size_t c = clients_.size();
    for (size_t i = static_cast<size_t>(params_.clients); i < clients_.size(); ++i) {
      if (clients_[i].phase == Phase::kIdle) c = i;
    }
    if (c == clients_.size()) {
      if (c >= static_cast<size_t>(params_.clients) + kMaxProbeClients) return;
      AddClient();
    }
    Client& cl = clients_[c];
    cl.probe_at = at;
    cl.map = cluster_->map();  // as if placement had told it of the switch
    // Just below one of the copies' records: a replica that applied the group's log up to there
    // but not the copy (nor the adoption) lacks the range's versions at that timestamp.
    cl.probe_ts = ingest_ts[rng_.Uniform(ingest_ts.size())] - rng_.Range(1, kProbeSpreadUs);
    cluster_->loop().Trace(absl::StrCat("client ", c, " probes ", node.Name(),
                                        lags ? " (lags)" : "", " [", range.start, ",", range.end,
                                        ") at ", cl.probe_ts));
    Begin(c, *std::move(plan));
  }
}

bool TxnClients::CommittedSince(paxos::GroupId g, TrueUs t) const {
  auto it = last_commit_invoke_.find(g);
  return it != last_commit_invoke_.end() && it->second >= t;
}

void TxnClients::Start(std::optional<TxnPlan> setup) {
  if (!setup) {
    setup_done_ = true;
    for (size_t c = 0; c < clients_.size(); ++c) Next(c, 0);
    return;
  }
  clients_[0].setup = true;
  Begin(0, std::move(*setup));
}

void TxnClients::Next(size_t c, int64_t delay_us) {
  clients_[c].phase = Phase::kIdle;
  if (stopped_ || clients_[c].probe_at >= 0) return;
  const uint64_t gen = clients_[c].gen;
  cluster_->loop().After(delay_us + rng_.Range(0, params_.think_max_us), [this, c, gen] {
    Client& cl = clients_[c];
    if (stopped_ || cl.gen != gen || cl.phase != Phase::kIdle) return;
    Begin(c, planner_(rng_));
  });
}

void TxnClients::Begin(size_t c, TxnPlan plan) {
  Client& cl = clients_[c];
  TxnRecord rec;
  rec.client = c;
  rec.label = plan.label;
  rec.tag = plan.tag;
  rec.invoke_us = cluster_->loop().now();
  cl.plan = std::move(plan);
  cl.record = records_.size();
  cl.attempt = 0;
  if (cl.plan.read_only) {
    std::set<paxos::GroupId> groups;
    for (const std::string& k : cl.plan.keys) groups.insert(GroupOf(c, k));
    if (cl.probe_at >= 0) {
      rec.kind = TxnKind::kSnapshotStale;
    } else if (groups.size() == 1 && rng_.Bernoulli(0.6)) {
      rec.kind = TxnKind::kReadOnlyLeader;
    } else if (rng_.Bernoulli(params_.stale_read_p)) {
      rec.kind = TxnKind::kSnapshotStale;
    } else {
      rec.kind = TxnKind::kSnapshotNow;
    }
    records_.push_back(std::move(rec));
    ReadOnly(c);
    return;
  }
  rec.kind = TxnKind::kReadWrite;
  records_.push_back(std::move(rec));
  cl.ref.start_ts = Now(cl).latest;
  Attempt(c);
}

bool TxnClients::Live(size_t c, uint64_t gen, txn::TxnId txn, Phase phase) const {
  const Client& cl = clients_[c];
  return cl.gen == gen && cl.ref.id == txn && cl.phase == phase;
}

void TxnClients::Attempt(size_t c) {
  Client& cl = clients_[c];
  ++cl.attempt;
  cl.ref.id = ++next_txn_;
  cl.reads.clear();
  cl.writes.clear();
  cl.touched.clear();
  cl.coordinator = 0;
  cl.values.clear();
  cl.buffered.clear();
  cl.prepared.clear();
  cl.concurrent_commit = false;
  TxnRecord& rec = records_[cl.record];
  rec.txn = cl.ref.id;
  rec.attempts = cl.attempt;
  cluster_->loop().Trace(absl::StrCat("client ", c, " txn ", cl.ref.id, " start=", cl.ref.start_ts,
                                      " attempt ", cl.attempt, " ", cl.plan.label));
  for (const std::string& k : cl.plan.keys) cl.reads[GroupOf(c, k)].push_back(k);
  cl.phase = Phase::kReading;
  cl.outstanding = cl.reads.size();
  const uint64_t gen = cl.gen;
  const txn::TxnId id = cl.ref.id;
  cluster_->loop().After(params_.keepalive_us, [this, c, gen, id] { Keepalives(c, gen, id); });
  if (cl.reads.empty()) {
    Decide(c);
    return;
  }
  for (const auto& [g, keys] : cl.reads) {
    cl.touched.insert(g);
    Call call;
    call.client = c;
    call.group = g;
    call.request = txn::ReadRequest{cl.ref, keys};
    call.attempts_left = params_.max_call_attempts;
    call.done = [this, c, gen, id, g, keys](const CallResult& r) {
      if (Live(c, gen, id, Phase::kReading)) OnRead(c, g, keys, r);
    };
    StartCall(std::move(call));
  }
}

void TxnClients::Keepalives(size_t c, uint64_t gen, txn::TxnId txn) {
  Client& cl = clients_[c];
  if (cl.gen != gen || cl.ref.id != txn ||
      (cl.phase != Phase::kReading && cl.phase != Phase::kPreparing &&
       cl.phase != Phase::kCommitting)) {
    return;
  }
  for (paxos::GroupId g : cl.touched) {
    Call call;
    call.client = c;
    call.group = g;
    call.request = KeepaliveRequest{txn};
    call.attempts_left = 1;
    call.done = [this, c, gen, txn](const CallResult& r) {
      Client& cl = clients_[c];
      if (cl.gen != gen || cl.ref.id != txn) return;
      if (r.end != CallEnd::kReply || r.reply.status.code() != absl::StatusCode::kAborted) return;
      // Once the Commit is out, only its answer counts: a wound reported now may be one its
      // coordinator overrides (a commit record already in flight wins), as the SDK does.
      if (cl.phase == Phase::kReading || (cl.phase == Phase::kPreparing && !cl.concurrent_commit)) {
        AbortAndRetry(c, absl::StrCat("keepalive: ", r.reply.status.message()));
      }
    };
    StartCall(std::move(call));
  }
  cluster_->loop().After(params_.keepalive_us, [this, c, gen, txn] { Keepalives(c, gen, txn); });
}

void TxnClients::OnRead(size_t c, paxos::GroupId g, const std::vector<std::string>& keys,
                        const CallResult& r) {
  Client& cl = clients_[c];
  if (r.end != CallEnd::kReply || !r.reply.status.ok()) {
    AbortAndRetry(c, absl::StrCat("read g", g, ": ",
                                  r.end == CallEnd::kReply ? r.reply.status.ToString() : r.why));
    return;
  }
  if (r.reply.values.size() != keys.size()) {
    AbortAndRetry(c, absl::StrCat("read g", g, ": ", r.reply.values.size(), " values for ",
                                  keys.size(), " keys"));
    return;
  }
  for (size_t i = 0; i < keys.size(); ++i) cl.values[keys[i]] = r.reply.values[i];
  if (--cl.outstanding == 0) Decide(c);
}

bool TxnClients::MaybeVanish(size_t c, const char* where) {
  Client& cl = clients_[c];
  if (cl.setup || !rng_.Bernoulli(params_.vanish_p)) return false;
  cluster_->loop().Trace(absl::StrCat("client ", c, " vanishes ", where, " txn ", cl.ref.id));
  ++counts_.vanished;
  // It never sent a Commit: the transaction cannot commit.
  Finish(c, TxnOutcome::kFail, 0, absl::StrCat("vanished ", where));
  ++cl.gen;
  for (paxos::GroupId g : cluster_->groups()) cl.hint[g] = RandomNode(g, -1);
  Next(c, rng_.Range(10'000, 500'000));
  return true;
}

void TxnClients::Decide(size_t c) {
  Client& cl = clients_[c];
  if (MaybeVanish(c, "after reads")) return;
  std::optional<KeyValues> writes = cl.plan.decide(cl.values);
  if (!writes) {
    SendAborts(c);
    Finish(c, TxnOutcome::kFail, 0, "refused");
    Next(c, 0);
    return;
  }
  cl.buffered = std::move(*writes);
  for (const auto& [k, v] : cl.buffered) {
    const paxos::GroupId g = GroupOf(c, k);
    cl.writes[g].push_back(txn::Mutation{k, v});
    cl.touched.insert(g);
  }
  TxnRecord& rec = records_[cl.record];
  rec.reads = cl.values;
  rec.writes = cl.buffered;
  attempt_writes_[cl.ref.id] = AttemptWrites{cl.record, cl.buffered};
  if (cl.touched.empty()) {  // nothing read, nothing written
    Finish(c, TxnOutcome::kOk, 0, "empty");
    Next(c, 0);
    return;
  }
  std::vector<paxos::GroupId> touched(cl.touched.begin(), cl.touched.end());
  cl.coordinator = touched[rng_.Uniform(touched.size())];
  if (touched.size() == 1) {
    SendCommit(c);
    return;
  }
  cl.phase = Phase::kPreparing;
  cl.outstanding = touched.size() - 1;
  cl.concurrent_commit = rng_.Bernoulli(params_.concurrent_commit_p);
  if (cl.concurrent_commit) {
    for (paxos::GroupId g : touched) {
      if (g != cl.coordinator) cl.prepared.push_back(txn::ParticipantRef{g, 0});
    }
    SendCommit(c);  // the phase stays kPreparing until the prepares answered
  }
  const uint64_t gen = cl.gen;
  const txn::TxnId id = cl.ref.id;
  for (paxos::GroupId g : touched) {
    if (g == cl.coordinator) continue;
    Call call;
    call.client = c;
    call.group = g;
    call.request = txn::PrepareRequest{cl.ref, cl.coordinator, cl.writes[g], cl.reads[g]};
    call.attempts_left = params_.max_call_attempts;
    call.done = [this, c, gen, id, g](const CallResult& r) {
      if (!Live(c, gen, id, Phase::kPreparing)) return;
      Client& cl = clients_[c];
      if (cl.concurrent_commit) {
        if (r.end != CallEnd::kReply || !r.reply.status.ok()) {
          // Abort at the coordinator so that its waiting Commit is answered (ABORTED, unless it
          // had every report already and committed); that answer decides.
          cluster_->loop().Trace(absl::StrCat("client ", c, " txn ", id, " prepare g", g,
                                              " failed; aborting, awaiting the commit's answer"));
          SendAborts(c);
          cl.phase = Phase::kCommitting;
        } else if (--cl.outstanding == 0) {
          cl.phase = Phase::kCommitting;
        }
        return;
      }
      if (r.end != CallEnd::kReply || !r.reply.status.ok()) {
        AbortAndRetry(c,
                      absl::StrCat("prepare g", g, ": ",
                                   r.end == CallEnd::kReply ? r.reply.status.ToString() : r.why));
        return;
      }
      // Every simulated client reports its prepare timestamps understated, as a buggy one
      // might: the coordinator must take them from the participants (kPrepared), and the plant
      // testing_trust_client_prepare_ts, which believes the client, must be caught.
      cl.prepared.push_back(txn::ParticipantRef{g, std::max<int64_t>(1, r.reply.ts - 5'000)});
      if (--cl.outstanding == 0) {
        if (MaybeVanish(c, "after prepares")) return;
        SendCommit(c);
      }
    };
    StartCall(std::move(call));
  }
}

void TxnClients::SendCommit(size_t c) {
  Client& cl = clients_[c];
  if (!cl.concurrent_commit) cl.phase = Phase::kCommitting;
  std::sort(
      cl.prepared.begin(), cl.prepared.end(),
      [](const txn::ParticipantRef& a, const txn::ParticipantRef& b) { return a.group < b.group; });
  const uint64_t gen = cl.gen;
  const txn::TxnId id = cl.ref.id;
  Call call;
  call.client = c;
  call.group = cl.coordinator;
  call.request =
      txn::CommitRequest{cl.ref, cl.writes[cl.coordinator], cl.reads[cl.coordinator], cl.prepared};
  call.commit = true;
  call.attempts_left = 1;
  call.done = [this, c, gen, id](const CallResult& r) {
    // A concurrent Commit may answer before its prepares did (their answers are then moot).
    if (Live(c, gen, id, Phase::kCommitting) ||
        (clients_[c].concurrent_commit && Live(c, gen, id, Phase::kPreparing))) {
      OnCommit(c, r);
    }
  };
  StartCall(std::move(call));
}

void TxnClients::OnCommit(size_t c, const CallResult& r) {
  Client& cl = clients_[c];
  if (r.end == CallEnd::kUnknown || r.end == CallEnd::kGaveUp) {
    // Best effort, and harmless to a commit already decided or in flight: a coordinator whose
    // commit still waits for locks aborts it, so prepared participants are released at once
    // instead of after their in-doubt inquiry (append seed 3001348 livelocked on this).
    SendAborts(c);
    Finish(c, TxnOutcome::kUnknown, 0, r.why);
    if (cl.setup) {  // run it again: it writes the same values
      const uint64_t gen = cl.gen;
      cl.phase = Phase::kBackoff;
      cluster_->loop().After(rng_.Range(10'000, 100'000), [this, c, gen] {
        Client& cl = clients_[c];
        if (cl.gen == gen && cl.phase == Phase::kBackoff) Begin(c, cl.plan);
      });
      return;
    }
    Next(c, 0);
    return;
  }
  if (r.reply.status.ok()) {
    for (const auto& [g, w] : cl.writes) {
      if (!w.empty())
        last_commit_invoke_[g] = std::max(last_commit_invoke_[g], records_[cl.record].invoke_us);
    }
    if (cl.setup) {
      cl.setup = false;
      setup_done_ = true;
      Finish(c, TxnOutcome::kOk, r.reply.ts, "");
      for (size_t o = 0; o < clients_.size(); ++o) Next(o, 0);
      return;
    }
    Finish(c, TxnOutcome::kOk, r.reply.ts, "");
    Next(c, 0);
    return;
  }
  AbortAndRetry(c, absl::StrCat("commit: ", r.reply.status.ToString()));
}

void TxnClients::SendAborts(size_t c) {
  Client& cl = clients_[c];
  for (paxos::GroupId g : cl.touched) {
    txn::AbortRequest abort;
    abort.txn = cl.ref.id;
    abort.coordinator = g == cl.coordinator;
    if (abort.coordinator) {
      for (paxos::GroupId o : cl.touched) {
        if (o != g) abort.participants.push_back(o);
      }
    }
    const Addr to = cl.hint[g];
    const TxnRequest request = abort;
    cluster_->net().SendThunk(cl.addr, to, [this, to, request] {
      cluster_->node(to).HandleRequest(request, [](const txn::Reply&, paxos::ReplicaId) {});
    });
  }
}

void TxnClients::AbortAndRetry(size_t c, const std::string& why) {
  Client& cl = clients_[c];
  ++counts_.aborts;
  cluster_->loop().Trace(absl::StrCat("client ", c, " txn ", cl.ref.id, " aborts: ", why));
  SendAborts(c);
  if (cl.attempt >= params_.max_txn_attempts && !cl.setup) {
    Finish(c, TxnOutcome::kFail, 0, why);
    Next(c, 0);
    return;
  }
  // Callbacks of the aborted attempt check the phase, so none matches during the backoff.
  cl.phase = Phase::kBackoff;
  const uint64_t gen = cl.gen;
  const txn::TxnId aborted = cl.ref.id;
  cluster_->loop().After(rng_.Range(1'000, 20'000 * std::min(cl.attempt, 10)),
                         [this, c, gen, aborted] {
                           if (Live(c, gen, aborted, Phase::kBackoff)) Attempt(c);
                         });
}

void TxnClients::ReadOnly(size_t c) {
  Client& cl = clients_[c];
  TxnRecord& rec = records_[cl.record];
  cl.phase = Phase::kReadOnly;
  cl.values.clear();
  cl.reads.clear();
  cl.ref.id = ++next_txn_;  // a token for the guard only
  ++cl.attempt;
  rec.attempts = cl.attempt;
  for (const std::string& k : cl.plan.keys) cl.reads[GroupOf(c, k)].push_back(k);
  // A range moved since the kind was chosen: the keys may now span groups.
  if (rec.kind == TxnKind::kReadOnlyLeader && cl.reads.size() != 1)
    rec.kind = TxnKind::kSnapshotNow;
  const uint64_t gen = cl.gen;
  const txn::TxnId token = cl.ref.id;
  auto finish_read = [this, c](const std::vector<std::string>& keys, const CallResult& r,
                               paxos::GroupId g) -> bool {
    Client& cl = clients_[c];
    if (r.end != CallEnd::kReply || !r.reply.status.ok() || r.reply.values.size() != keys.size()) {
      ReadOnlyFailed(c, g, r);
      return false;
    }
    for (size_t i = 0; i < keys.size(); ++i) cl.values[keys[i]] = r.reply.values[i];
    return true;
  };
  if (rec.kind == TxnKind::kReadOnlyLeader) {
    CHECK(cl.reads.size() == 1);
    const auto& [g, keys] = *cl.reads.begin();
    Call call;
    call.client = c;
    call.group = g;
    call.request = txn::ReadOnlyRequest{keys};
    call.attempts_left = params_.max_call_attempts;
    call.done = [this, c, gen, token, g, keys, finish_read](const CallResult& r) {
      if (!Live(c, gen, token, Phase::kReadOnly)) return;
      if (!finish_read(keys, r, g)) return;
      Client& cl = clients_[c];
      records_[cl.record].reads = cl.values;
      ++counts_.read_only_ok;
      Finish(c, TxnOutcome::kOk, r.reply.ts, "");
      Next(c, 0);
    };
    StartCall(std::move(call));
    return;
  }
  cl.read_ts = Now(cl).latest;
  if (cl.probe_at >= 0) {
    cl.read_ts = std::min(cl.read_ts, cl.probe_ts);
  } else if (rec.kind == TxnKind::kSnapshotStale) {
    cl.read_ts -= rng_.Range(0, params_.stale_max_us);
  }
  cl.outstanding = cl.reads.size();
  for (const auto& [g, keys] : cl.reads) {
    Call call;
    call.client = c;
    call.group = g;
    call.request = txn::SnapshotReadRequest{keys, cl.read_ts};
    call.leader = false;
    call.at = cl.probe_at;
    // A probe waits out its replica's restart or partition.
    call.attempts_left = params_.max_call_attempts * (cl.probe_at >= 0 ? 3 : 1);
    call.done = [this, c, gen, token, g, keys, finish_read](const CallResult& r) {
      if (!Live(c, gen, token, Phase::kReadOnly)) return;
      if (!finish_read(keys, r, g)) return;
      Client& cl = clients_[c];
      if (--cl.outstanding > 0) return;
      records_[cl.record].reads = cl.values;
      ++counts_.read_only_ok;
      Finish(c, TxnOutcome::kOk, cl.read_ts, "");
      Next(c, 0);
    };
    StartCall(std::move(call));
  }
}

void TxnClients::ReadOnlyFailed(size_t c, paxos::GroupId g, const CallResult& r) {
  Client& cl = clients_[c];
  if (r.end == CallEnd::kReply && txn::IsStaleMap(r.reply.status) &&
      cl.attempt < params_.max_txn_attempts) {
    cl.phase = Phase::kBackoff;  // the other groups' answers no longer match
    const uint64_t gen = cl.gen;
    const txn::TxnId token = cl.ref.id;
    cluster_->loop().After(rng_.Range(1'000, 20'000), [this, c, gen, token] {
      if (Live(c, gen, token, Phase::kBackoff)) ReadOnly(c);
    });
    return;
  }
  ++counts_.read_only_failed;
  Finish(c, TxnOutcome::kFail, 0,
         absl::StrCat("g", g, ": ", r.end == CallEnd::kReply ? r.reply.status.ToString() : r.why));
  Next(c, 0);
}

void TxnClients::Finish(size_t c, TxnOutcome outcome, txn::Timestamp ts, const std::string& note) {
  Client& cl = clients_[c];
  TxnRecord& rec = records_[cl.record];
  rec.outcome = outcome;
  rec.ts = ts;
  rec.note = note;
  if (outcome != TxnOutcome::kUnknown) rec.complete_us = cluster_->loop().now();
  if (rec.kind == TxnKind::kReadWrite) {
    if (outcome == TxnOutcome::kOk) ++counts_.committed;
    if (outcome == TxnOutcome::kFail) ++counts_.failed;
    if (outcome == TxnOutcome::kUnknown) ++counts_.unknown;
  }
  cluster_->loop().Trace(absl::StrCat("client ", c, " done ", rec.ToString()));
  cl.phase = Phase::kIdle;
}

// --- Calls.

void TxnClients::StartCall(Call call) {
  Client& cl = clients_[call.client];
  call.addr = call.at >= 0  ? call.at
              : call.leader ? cl.hint[call.group]
                            : RandomNode(call.group, -1);
  const uint64_t id = next_call_++;
  calls_.emplace(id, std::move(call));
  Send(id);
}

void TxnClients::Send(uint64_t id) {
  Call& call = calls_.at(id);
  call.seq = next_seq_++;
  ++call.attempt;
  --call.attempts_left;
  const uint64_t seq = call.seq;
  const Addr to = call.addr;
  const Addr from = clients_[call.client].addr;
  const TxnRequest request = call.request;
  cluster_->net().SendThunk(from, to, [this, id, seq, from, to, request] {
    cluster_->node(to).HandleRequest(
        request, [this, id, seq, from, to](const txn::Reply& r, paxos::ReplicaId hint) {
          cluster_->net().SendThunk(
              to, from, [this, id, seq, to, r, hint] { OnReply(id, seq, to, r, hint); });
        });
  });
  cluster_->loop().After(params_.call_timeout_us, [this, id, seq] { OnTimeout(id, seq); });
}

void TxnClients::OnReply(uint64_t id, uint64_t seq, Addr from, const txn::Reply& r,
                         paxos::ReplicaId hint) {
  auto it = calls_.find(id);
  if (it == calls_.end() || it->second.seq != seq) return;
  Call& call = it->second;
  Client& cl = clients_[call.client];
  const absl::StatusCode code = r.status.code();
  const Addr hinted = hint == paxos::kNoReplica ? -1 : cluster_->AddrOf(call.group, hint);
  const bool stale_map = txn::IsStaleMap(r.status);
  if (stale_map) {
    cl.map = cluster_->map();
    cluster_->loop().Trace(absl::StrCat("client ", call.client, " refreshes its map (v",
                                        cl.map.version(), "): ", r.status.message()));
  }
  if (code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) {
    if (call.leader && hinted >= 0) cl.hint[call.group] = hinted;
    if (stale_map && !call.commit) {  // another try in this group is no use
      EndCall(id, CallResult{CallEnd::kReply, r, ""});
      return;
    }
    if (call.commit) {
      EndCall(id, CallResult{CallEnd::kUnknown, r, absl::StrCat("commit: ", r.status.ToString())});
      return;
    }
    Addr next = RandomNode(call.group, from);
    if (call.leader && hinted >= 0) next = hinted;
    RetryCall(id, r.status.ToString(), next);
    return;
  }
  if (call.leader && !std::holds_alternative<KeepaliveRequest>(call.request)) {
    cl.hint[call.group] = from;
  }
  EndCall(id, CallResult{CallEnd::kReply, r, ""});
}

void TxnClients::OnTimeout(uint64_t id, uint64_t seq) {
  auto it = calls_.find(id);
  if (it == calls_.end() || it->second.seq != seq) return;
  Call& call = it->second;
  if (call.commit) {
    EndCall(id, CallResult{CallEnd::kUnknown, {}, "commit timed out"});
    return;
  }
  Client& cl = clients_[call.client];
  const Addr next = RandomNode(call.group, call.addr);
  if (call.leader) cl.hint[call.group] = next;
  RetryCall(id, "timed out", next);
}

void TxnClients::RetryCall(uint64_t id, const std::string& why, Addr next) {
  Call& call = calls_.at(id);
  if (call.attempts_left <= 0) {
    EndCall(id, CallResult{CallEnd::kGaveUp,
                           {},
                           absl::StrCat("gave up after ", call.attempt, " tries: ", why)});
    return;
  }
  call.addr = call.at >= 0 ? call.at : next;  // a probe stays with its replica
  call.seq = 0;                               // replies to the previous send no longer match
  const int64_t backoff = rng_.Range(1'000, 30'000 * std::min(call.attempt, 8));
  cluster_->loop().After(backoff, [this, id] {
    if (calls_.contains(id)) Send(id);
  });
}

void TxnClients::EndCall(uint64_t id, CallResult result) {
  auto it = calls_.find(id);
  CHECK(it != calls_.end());
  std::function<void(const CallResult&)> done = std::move(it->second.done);
  calls_.erase(it);
  done(result);
}

}  // namespace meridian::sim
