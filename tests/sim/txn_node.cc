// TxnNode implementation; see txn_node.h.
//
// Seed: disk latency and tick jitter from the node's Random. Faults: crash (loses unsynced
// state, the store and the manager), restart (replays from slot 1), pause. Checkers: applies go
// to the TxnNodeHost.
#include "tests/sim/txn_node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::sim {

const char* TxnRequestName(const TxnRequest& request) {
  static constexpr const char* kNames[] = {"read",      "prepare",   "commit",       "abort",
                                           "keepalive", "read_only", "snapshot_read"};
  return kNames[request.index()];
}

absl::StatusOr<std::optional<std::string>> SimStore::Get(std::string_view key, txn::Timestamp ts) {
  auto it = data_.find(key);
  if (it == data_.end()) return std::optional<std::string>();
  auto v = it->second.upper_bound(ts);
  if (v == it->second.begin()) return std::optional<std::string>();
  return std::prev(v)->second;
}

absl::Status SimStore::Write(txn::Timestamp ts, const std::vector<txn::Mutation>& writes) {
  for (const txn::Mutation& m : writes) data_[m.key][ts] = m.value;
  return absl::OkStatus();
}

TxnNode::TxnNode(Addr addr, const TxnNodeConfig& config, EventLoop* loop,
                 truetime::SimulatedTime* time, TxnNodeHost* host, uint64_t seed)
    : addr_(addr), config_(config), loop_(loop), time_(time), host_(host), rng_(seed) {}

std::string TxnNode::Name() const {
  return absl::StrCat("g", group(), "/r", id(), "#", incarnation_);
}

truetime::Interval TxnNode::Now() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  CHECK_MSG(now.ok(), "simulated TrueTime failed: " + std::string(now.status().message()));
  return *now;
}

void TxnNode::Start() {
  CHECK(!alive());
  ++incarnation_;
  truetime_ = std::make_unique<truetime::TrueTime>(
      std::make_unique<truetime::SimulatedClockSource>(time_, config_.clock_bounds,
                                                       config_.clock_params),
      truetime::TrueTime::Options{.max_epsilon_us = 1'000'000'000});
  paxos::Options options = config_.options;
  options.applied = 0;
  options.seed = rng_.Next();
  replica_ = std::make_unique<paxos::Replica>(options, &disk_, Now());
  store_ = std::make_unique<SimStore>();
  manager_ = std::make_unique<txn::TransactionManager>(group(), store_.get(), config_.txn);
  applied_ = 0;
  syncing_ = false;
  ready_ = paxos::Ready{};
  waiting_.clear();
  tick_after_.clear();
  loop_->Trace(absl::StrCat("start ", Name(), " last_index=", disk_.LastIndex()));
  ScheduleTick();
  Pump();
}

void TxnNode::Crash() {
  if (!alive()) return;
  loop_->Trace(absl::StrCat("crash ", Name(), disk_.HasUnsynced() ? " losing unsynced" : ""));
  manager_.reset();
  store_.reset();
  replica_.reset();
  truetime_.reset();
  disk_.Crash();
  syncing_ = false;
  ready_ = paxos::Ready{};
  waiting_.clear();
  tick_after_.clear();
  applied_ = 0;
  paused_until_ = 0;
}

void TxnNode::Pause(int64_t us) {
  if (!alive()) return;
  paused_until_ = std::max(paused_until_, loop_->now() + us);
  loop_->Trace(absl::StrCat("pause ", Name(), " until ", paused_until_));
}

void TxnNode::Run(std::function<void()> fn) {
  if (!alive()) return;
  if (paused()) {
    const uint64_t inc = incarnation_;
    loop_->At(paused_until_, [this, inc, fn = std::move(fn)]() mutable {
      if (alive() && incarnation_ == inc) Run(std::move(fn));
    });
    return;
  }
  fn();
  if (alive()) Pump();
}

void TxnNode::ScheduleTick() {
  const uint64_t inc = incarnation_;
  const int64_t jitter = rng_.Range(0, config_.tick_us / 4);
  loop_->After(config_.tick_us + jitter, [this, inc] {
    if (!alive() || incarnation_ != inc) return;
    if (paused()) {
      loop_->At(paused_until_, [this, inc] {
        if (alive() && incarnation_ == inc) ScheduleTick();
      });
      return;
    }
    Run([this] { DoTick(); });
    if (alive() && incarnation_ == inc) ScheduleTick();
  });
}

void TxnNode::DoTick() {
  replica_->Tick(Now());
  txn::Actions actions;
  manager_->Tick(*replica_, Now(), &actions);
  Carry(actions);
}

void TxnNode::ScheduleTickAfter(txn::Timestamp t) {
  if (t == 0 || !tick_after_.insert(t).second) return;
  const uint64_t inc = incarnation_;
  // The node's earliest advances at about the rate of true time; re-check until it passed t.
  const int64_t delay = std::max<int64_t>(1, t - Now().earliest + 1);
  loop_->After(delay, [this, inc, t] {
    if (!alive() || incarnation_ != inc) return;
    tick_after_.erase(t);
    if (!paused() && !Now().After(t)) {
      ScheduleTickAfter(t);
      return;
    }
    Run([this] { DoTick(); });
  });
}

void TxnNode::Carry(txn::Actions& actions) {
  for (const txn::Reply& r : actions.replies) {
    auto it = waiting_.find(r.id);
    if (it == waiting_.end()) continue;
    ReplyFn reply = std::move(it->second);
    waiting_.erase(it);
    loop_->Trace(absl::StrCat("reply ", Name(), " req=", r.id, " ",
                              r.status.ok() ? "OK" : absl::StatusCodeToString(r.status.code()),
                              " ts=", r.ts));
    reply(r, replica_->leader());
  }
  for (const txn::GroupMessage& m : actions.messages) host_->SendGroupMessage(*this, m);
  ScheduleTickAfter(actions.tick_after);
  actions = txn::Actions{};
}

void TxnNode::DeliverPaxos(const paxos::Message& m) {
  Run([this, m] {
    loop_->Trace(absl::StrCat("deliver g", m.group, " ", m.from, "->", m.to, " ",
                              paxos::MessageTypeName(m.type), " b=", m.ballot.ToString(),
                              " i=", m.index, " c=", m.commit, " n=", m.entries.size(),
                              m.reject ? " reject" : "", m.lease_granted ? " vote" : ""));
    replica_->Step(m, Now());
  });
}

void TxnNode::HandleRequest(const TxnRequest& request, ReplyFn reply) {
  Run([this, request, reply = std::move(reply)] {
    const txn::RequestId id = next_request_++;
    loop_->Trace(absl::StrCat("request ", Name(), " req=", id, " ", TxnRequestName(request)));
    txn::Actions actions;
    const truetime::Interval now = Now();
    if (const auto* keepalive = std::get_if<KeepaliveRequest>(&request)) {
      txn::Reply r;
      r.id = id;
      r.status = manager_->Keepalive(keepalive->txn, now);
      reply(r, replica_->leader());
      return;
    }
    if (const auto* abort = std::get_if<txn::AbortRequest>(&request)) {
      manager_->Abort(*replica_, now, *abort, &actions);
      Carry(actions);
      return;
    }
    waiting_[id] = reply;
    std::visit(
        [&](const auto& req) {
          using T = std::decay_t<decltype(req)>;
          if constexpr (std::is_same_v<T, txn::ReadRequest>) {
            manager_->Read(*replica_, now, id, req, &actions);
          } else if constexpr (std::is_same_v<T, txn::PrepareRequest>) {
            manager_->Prepare(*replica_, now, id, req, &actions);
          } else if constexpr (std::is_same_v<T, txn::CommitRequest>) {
            manager_->Commit(*replica_, now, id, req, &actions);
          } else if constexpr (std::is_same_v<T, txn::ReadOnlyRequest>) {
            manager_->ReadOnly(*replica_, now, id, req, &actions);
          } else if constexpr (std::is_same_v<T, txn::SnapshotReadRequest>) {
            manager_->SnapshotRead(*replica_, now, id, req, &actions);
          }
        },
        request);
    Carry(actions);
  });
}

void TxnNode::HandleGroupMessage(const txn::GroupMessage& m) {
  Run([this, m] {
    const bool leader = replica_->role() == paxos::Role::kLeader;
    loop_->Trace(absl::StrCat("group_message ", Name(), " ",
                              m.type == txn::GroupMessage::Type::kOutcome ? "outcome" : "inquiry",
                              " g", m.from, "->g", m.to, " txn=", m.txn,
                              m.committed ? absl::StrCat(" committed@", m.commit_ts) : "",
                              leader ? "" : " dropped (not leader)"));
    if (!leader) return;
    txn::Actions actions;
    manager_->Receive(*replica_, Now(), m, &actions);
    Carry(actions);
  });
}

void TxnNode::Pump() {
  for (int pass = 0; pass < 64 && alive() && !syncing_ && replica_->HasReady(); ++pass) {
    ready_ = replica_->TakeReady();
    for (const paxos::Message& m : ready_.messages) host_->SendPaxos(addr_, m);
    if (ready_.hard_state) disk_.WriteHardState(*ready_.hard_state);
    for (const paxos::Entry& e : ready_.entries) disk_.WriteEntry(e);
    if (ready_.MustSync()) {
      syncing_ = true;
      const uint64_t inc = incarnation_;
      int64_t latency = rng_.Range(config_.disk_latency_min_us, config_.disk_latency_max_us);
      if (config_.disk_stall_max_us > 0 && rng_.Bernoulli(config_.disk_stall_p)) {
        latency += rng_.Range(0, config_.disk_stall_max_us);
      }
      loop_->After(latency, [this, inc] {
        if (!alive() || incarnation_ != inc) return;
        disk_.Sync();
        Run([this] { FinishReady(); });
      });
      return;
    }
    FinishReady();
  }
}

void TxnNode::FinishReady() {
  syncing_ = false;
  paxos::Ready ready = std::move(ready_);
  ready_ = paxos::Ready{};
  for (const paxos::Message& m : ready.messages_after_persist) host_->SendPaxos(addr_, m);
  txn::Actions actions;
  for (const paxos::Entry& e : ready.committed) {
    applied_ = e.index;
    const absl::StatusOr<txn::ApplyResult> result = manager_->Apply(*replica_, e, Now(), &actions);
    loop_->Trace(absl::StrCat("apply ", Name(), " ", e.index, "@", e.ballot.ToString(),
                              e.type == paxos::EntryType::kNoop ? " noop" : "",
                              result.ok() ? absl::StrCat(" kind=", static_cast<int>(result->kind),
                                                         " txn=", result->txn, " ts=", result->ts)
                                          : " error " + result.status().ToString()));
    host_->OnApplied(*this, e, result);
    if (!alive()) return;
  }
  replica_->Advance(Now());
  Carry(actions);
}

}  // namespace meridian::sim
