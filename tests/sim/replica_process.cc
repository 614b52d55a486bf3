// ReplicaProcess implementation; see replica_process.h.
//
// Seed: disk latency and tick jitter from the process's Random; the server incarnation from a
// generator of its own. Faults: crash (loses unsynced state), restart (replays from the synced
// disk, or refuses after a wipe), wipe, pause; the sync listener hears of every sync. Planted bug:
// testing_rejoin_after_wipe. Checkers: none.
#include "tests/sim/replica_process.h"

#include <algorithm>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "spanserver/paxos/replica_marker.h"

namespace meridian::sim {
namespace {

// Not from the process's Random: its draws (disk latencies, tick jitter) stay what they were.
uint64_t DrawServerIncarnation(uint64_t seed) {
  Random r(seed ^ 0x1ACA'4A71'0000'5EEDull);
  uint64_t incarnation = 0;
  while (incarnation == 0) incarnation = r.Next();
  return incarnation;
}

}  // namespace

ReplicaProcess::ReplicaProcess(Addr addr, const NodeConfig& config, EventLoop* loop,
                               truetime::SimulatedTime* time, uint64_t seed)
    : addr_(addr),
      config_(config),
      loop_(loop),
      time_(time),
      rng_(seed),
      server_incarnation_(DrawServerIncarnation(seed)) {}

ReplicaProcess::~ReplicaProcess() = default;

std::string ReplicaProcess::Name() const {
  return absl::StrCat("g", group(), "/r", id(), "#", incarnation_);
}

truetime::Interval ReplicaProcess::Now() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  CHECK_MSG(now.ok(), "simulated TrueTime failed: " + std::string(now.status().message()));
  return *now;
}

bool ReplicaProcess::CheckStart() {
  const paxos::ReplicaMarker expected{group(), id(), server_incarnation_};
  const absl::StatusOr<paxos::ReplicaStart> start =
      paxos::CheckReplicaStart(disk_.marker(), disk_.HasState(), expected, once_persisted_);
  if (!start.ok() && !config_.testing_rejoin_after_wipe) {
    refused_ = true;
    loop_->Trace(absl::StrCat("refuse ", Name(), ": ", start.status().message()));
    return false;
  }
  if (!start.ok()) {
    loop_->Trace(absl::StrCat("rejoin ", Name(), " despite: ", start.status().message()));
  }
  if (!start.ok() || *start == paxos::ReplicaStart::kFresh) {
    disk_.WriteMarker(expected);  // durable before the replica can promise or accept anything
    once_persisted_ = true;
  }
  return true;
}

void ReplicaProcess::Start() {
  CHECK(!alive());
  if (refused_ || !CheckStart()) return;
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
  replication::RoundDriver::Env* env = this;
  driver_ = std::make_unique<replication::RoundDriver>(replica_.get(), env);
  applied_ = 0;
  applying_.clear();
  OnStart();
  loop_->Trace(absl::StrCat("start ", Name(), " last_index=", disk_.LastIndex()));
  ScheduleTick();
  Pump();
  AfterEvent();
}

void ReplicaProcess::Crash() {
  if (!alive()) return;
  loop_->Trace(absl::StrCat("crash ", Name(), disk_.HasUnsynced() ? " losing unsynced" : ""));
  OnCrash();
  replica_.reset();
  truetime_.reset();
  disk_.Crash();
  // The driver stays until the next Start replaces it: a crash may happen inside one of its calls
  // (ApplyEntry), which then returns without touching it again.
  applying_.clear();
  applied_ = 0;
  paused_until_ = 0;
}

void ReplicaProcess::Wipe() {
  Crash();
  loop_->Trace(absl::StrCat("wipe ", Name()));
  disk_.Wipe();
}

void ReplicaProcess::Pause(int64_t us) {
  if (!alive()) return;
  paused_until_ = std::max(paused_until_, loop_->now() + us);
  loop_->Trace(absl::StrCat("pause ", Name(), " until ", paused_until_));
}

void ReplicaProcess::Run(std::function<void()> fn) {
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
  AfterEvent();
}

void ReplicaProcess::OnTick() { replica_->Tick(Now()); }

void ReplicaProcess::ScheduleTick() {
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
    Run([this] { OnTick(); });
    if (alive() && incarnation_ == inc) ScheduleTick();
  });
}

void ReplicaProcess::Pump() {
  if (alive()) driver_->Process(Now());
}

void ReplicaProcess::Send(std::vector<paxos::Message> messages) {
  for (const paxos::Message& m : messages) SendPaxos(m);
}

bool ReplicaProcess::StartWrite(paxos::Ready& ready, bool sync) {
  if (ready.hard_state) disk_.WriteHardState(*ready.hard_state);
  for (const paxos::Entry& e : ready.entries) disk_.WriteEntry(e);
  applying_ = std::move(ready.committed);
  if (!sync) return false;
  const uint64_t inc = incarnation_;
  int64_t latency = rng_.Range(config_.disk_latency_min_us, config_.disk_latency_max_us);
  if (config_.disk_stall_max_us > 0 && rng_.Bernoulli(config_.disk_stall_p)) {
    latency += rng_.Range(0, config_.disk_stall_max_us);
  }
  if (sync_listener_) sync_listener_(addr_, latency);
  loop_->After(latency, [this, inc] {
    if (!alive() || incarnation_ != inc) return;  // the crash lost the sync
    disk_.Sync();
    Run([this] {
      const truetime::Interval now = Now();
      driver_->Persisted(&now);
    });
  });
  return true;
}

bool ReplicaProcess::FinishApplying() {
  const std::vector<paxos::Entry> entries = std::move(applying_);
  applying_.clear();
  for (const paxos::Entry& e : entries) {
    applied_ = e.index;
    ApplyEntry(e);
    if (!alive()) return false;
  }
  return true;
}

}  // namespace meridian::sim
