// SimNode implementation; see node.h.
//
// Seed: disk latency and tick jitter from the node's Random. Faults: crash (loses unsynced
// state), restart (replays from the synced disk), pause. Checkers: applies go to the NodeHost.
#include "tests/sim/node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "tests/sim/history.h"

namespace meridian::sim {

SimNode::SimNode(Addr addr, const NodeConfig& config, EventLoop* loop,
                 truetime::SimulatedTime* time, NodeHost* host, uint64_t seed)
    : addr_(addr), config_(config), loop_(loop), time_(time), host_(host), rng_(seed) {}

std::string SimNode::Name() const {
  return absl::StrCat("g", group(), "/r", id(), "#", incarnation_);
}

truetime::Interval SimNode::Now() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  CHECK_MSG(now.ok(), "simulated TrueTime failed: " + std::string(now.status().message()));
  return *now;
}

SimNode::Register SimNode::Lookup(const std::string& key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? Register{} : it->second;
}

void SimNode::Start() {
  CHECK(!alive());
  ++incarnation_;
  // A restarted process builds a new TrueTime over the same machine clock.
  truetime_ = std::make_unique<truetime::TrueTime>(
      std::make_unique<truetime::SimulatedClockSource>(time_, config_.clock_bounds,
                                                       config_.clock_params),
      truetime::TrueTime::Options{.max_epsilon_us = 1'000'000'000});
  paxos::Options options = config_.options;
  options.applied = 0;
  options.seed = rng_.Next();
  replica_ = std::make_unique<paxos::Replica>(options, &disk_, Now());
  applied_ = 0;
  kv_.clear();
  syncing_ = false;
  ready_ = paxos::Ready{};
  loop_->Trace(absl::StrCat("start ", Name(), " last_index=", disk_.LastIndex()));
  ScheduleTick();
  Pump();
  host_->AfterEvent(*this);
}

void SimNode::Crash() {
  if (!alive()) return;
  loop_->Trace(absl::StrCat("crash ", Name(), disk_.HasUnsynced() ? " losing unsynced" : ""));
  replica_.reset();
  truetime_.reset();
  disk_.Crash();
  syncing_ = false;
  ready_ = paxos::Ready{};
  kv_.clear();
  applied_ = 0;
  paused_until_ = 0;
}

void SimNode::Pause(int64_t us) {
  if (!alive()) return;
  paused_until_ = std::max(paused_until_, loop_->now() + us);
  loop_->Trace(absl::StrCat("pause ", Name(), " until ", paused_until_));
}

void SimNode::Run(std::function<void()> fn) {
  if (!alive()) return;
  if (paused()) {
    const uint64_t inc = incarnation_;
    loop_->At(paused_until_, [this, inc, fn = std::move(fn)]() mutable {
      if (alive() && incarnation_ == inc) Run(std::move(fn));
    });
    return;
  }
  fn();
  Pump();
  host_->AfterEvent(*this);
}

void SimNode::ScheduleTick() {
  const uint64_t inc = incarnation_;
  const int64_t jitter = rng_.Range(0, config_.tick_us / 4);
  loop_->After(config_.tick_us + jitter, [this, inc] {
    if (!alive() || incarnation_ != inc) return;
    if (paused()) {  // a stopped process's timer fires once, when it resumes
      loop_->At(paused_until_, [this, inc] {
        if (alive() && incarnation_ == inc) ScheduleTick();
      });
      return;
    }
    Run([this] { replica_->Tick(Now()); });
    if (alive() && incarnation_ == inc) ScheduleTick();
  });
}

void SimNode::Deliver(const paxos::Message& m) {
  Run([this, m] {
    loop_->Trace(absl::StrCat("deliver g", m.group, " ", m.from, "->", m.to, " ",
                              paxos::MessageTypeName(m.type), " b=", m.ballot.ToString(),
                              " i=", m.index, " c=", m.commit, " n=", m.entries.size(),
                              m.reject ? " reject" : "", m.lease_granted ? " vote" : ""));
    if (loop_->tracing() && !m.entries.empty()) loop_->Detail(m.ToString());
    replica_->Step(m, Now());
  });
}

absl::StatusOr<paxos::Index> SimNode::Propose(std::string command) {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::StatusOr<paxos::Index> slot = replica_->Propose(command, Now());
  loop_->Trace(absl::StrCat("propose ", Name(), " '", command, "' -> ",
                            slot.ok() ? absl::StrCat(*slot) : slot.status().ToString()));
  Pump();
  host_->AfterEvent(*this);
  return slot;
}

absl::StatusOr<paxos::Index> SimNode::LeaseRead() {
  if (!serving()) return absl::UnavailableError("node down or paused");
  absl::StatusOr<paxos::Index> index = replica_->LeaseRead(Now());
  loop_->Trace(absl::StrCat("lease_read ", Name(), " -> ",
                            index.ok() ? absl::StrCat(*index) : "unavailable"));
  return index;
}

void SimNode::Pump() {
  // Bounded: each pass either starts a sync (and returns) or completes one Ready.
  for (int pass = 0; pass < 64 && alive() && !syncing_ && replica_->HasReady(); ++pass) {
    ready_ = replica_->TakeReady();
    for (const paxos::Message& m : ready_.messages) host_->SendMessage(addr_, m);
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
        if (!alive() || incarnation_ != inc) return;  // the crash lost the sync
        disk_.Sync();
        Run([this] { FinishReady(); });
      });
      return;
    }
    FinishReady();
  }
}

void SimNode::FinishReady() {
  syncing_ = false;
  paxos::Ready ready = std::move(ready_);
  ready_ = paxos::Ready{};
  for (const paxos::Message& m : ready.messages_after_persist) host_->SendMessage(addr_, m);
  for (const paxos::Entry& e : ready.committed) Apply(e);
  if (!alive()) return;
  replica_->Advance(Now());
}

void SimNode::Apply(const paxos::Entry& e) {
  applied_ = e.index;
  uint64_t read_value = 0;
  if (e.type == paxos::EntryType::kNormal) {
    if (std::optional<Command> c = DecodeCommand(e.command)) {
      if (c->kind == OpKind::kPut) {
        kv_[c->key] = Register{c->id, e.index};
      } else {
        read_value = Lookup(c->key).value;
      }
    }
  }
  loop_->Trace(absl::StrCat("apply ", Name(), " ", e.index, "@", e.ballot.ToString(),
                            e.type == paxos::EntryType::kNoop ? " noop" : " ", e.command));
  host_->OnApplied(*this, e, read_value);
}

}  // namespace meridian::sim
