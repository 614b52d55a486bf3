// ReplicaProcess implementation; see replica_process.h.
//
// Seed: disk latency and tick jitter from the process's Random; the server incarnation from a
// generator of its own. Faults: crash (loses unsynced state), restart (restores the checkpoint and
// replays the synced log after it, or refuses after a wipe), wipe, pause; the sync listener hears
// of every sync. Planted bugs: testing_rejoin_after_wipe, testing_snapshot_without_tail.
// Checkers: none (states and checkpoints are recorded through the subclass).
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
      server_incarnation_(DrawServerIncarnation(seed)),
      clock_(std::make_unique<truetime::SimulatedClockSource>(time, config.clock_bounds,
                                                              config.clock_params)) {
  if (config_.clock_check) {
    clock_check_ = std::make_unique<truetime::PeerClockCheck>(
        [time] { return time->NowUs(); },
        truetime::PeerClockOptions{.testing_ignore = config_.testing_ignore_clock_offset});
    std::vector<uint64_t> peers;
    for (paxos::ReplicaId r : config_.options.members) {
      if (r != config_.options.id) peers.push_back(r);
    }
    clock_check_->SetPeers(peers);
  }
}

ReplicaProcess::~ReplicaProcess() = default;

std::string ReplicaProcess::Name() const {
  return absl::StrCat("g", group(), "/r", id(), "#", incarnation_);
}

void ReplicaProcess::Configure(std::vector<paxos::ReplicaId> members,
                               std::vector<paxos::ReplicaId> learners) {
  CHECK_MSG(incarnation_ == 0 && !once_persisted_, Name() + ": configured after its first start");
  config_.options.members = std::move(members);
  config_.options.learners = std::move(learners);
}

bool ReplicaProcess::RemovedOnDisk() {
  const paxos::HardState hard = disk_.LoadHardState();
  const paxos::Config committed{hard.members, hard.learners};
  return hard.config_index > 0 && !committed.Contains(id());
}

truetime::Interval ReplicaProcess::Now() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (!now.ok() && config_.clock_check && last_now_.has_value()) return *last_now_;
  CHECK_MSG(now.ok(), "simulated TrueTime failed: " + std::string(now.status().message()));
  last_now_ = *now;
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
  // A restarted process builds a new TrueTime over the same machine clock.
  truetime_ = MakeTrueTime();
  if (!ClockServes()) {
    // Like a server whose clock disagrees with its peers: it waits before it serves anything.
    truetime_.reset();
    loop_->After(config_.clock_probe_us, [this] {
      if (!alive()) Start();
    });
    return;
  }
  ++incarnation_;
  if (disk_.install_record()) {
    // As RestoreGroup does: the data the checkpoint described was being replaced.
    loop_->Trace(absl::StrCat("install cut short ", Name(), ": start with nothing applied"));
    disk_.DiscardInstall();
  }
  const std::optional<SimState> checkpoint = disk_.checkpoint();
  paxos::Options options = config_.options;
  options.applied = checkpoint ? checkpoint->index : 0;
  options.seed = rng_.Next();
  replica_ = std::make_unique<paxos::Replica>(options, &disk_, Now());
  replication::RoundDriver::Env* env = this;
  driver_ = std::make_unique<replication::RoundDriver>(replica_.get(), env);
  applied_ = options.applied;
  log_digest_ = checkpoint ? checkpoint->log_digest : 0;
  checkpoint_index_ = options.applied;
  applying_.clear();
  fetch_.reset();
  idle_work_.clear();
  commit_heard_ = 0;
  OnStart();
  if (checkpoint) {
    const absl::Status restored = Restore(checkpoint->image, checkpoint->data);
    CHECK_MSG(restored.ok(), absl::StrCat(Name(), ": the checkpoint through ", checkpoint->index,
                                          " cannot be restored: ", restored.ToString()));
    Record(ApplyKind::kState, *checkpoint);
  }
  loop_->Trace(
      absl::StrCat("start ", Name(), " last_index=", disk_.LastIndex(),
                   checkpoint ? absl::StrCat(" checkpoint=", checkpoint->index) : "",
                   disk_.Compacted() > 0 ? absl::StrCat(" compacted=", disk_.Compacted()) : ""));
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
  fetch_.reset();
  idle_work_.clear();
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

void ReplicaProcess::Run(std::function<void()> fn, ClockFailure on_clock_failure) {
  if (!alive()) return;
  if (paused()) {
    const uint64_t inc = incarnation_;
    loop_->At(paused_until_, [this, inc, on_clock_failure, fn = std::move(fn)]() mutable {
      if (alive() && incarnation_ == inc) Run(std::move(fn), on_clock_failure);
    });
    return;
  }
  if (!ClockServes()) {
    if (on_clock_failure == ClockFailure::kDrop) return;
    const uint64_t inc = incarnation_;
    loop_->After(config_.clock_probe_us, [this, inc, fn = std::move(fn)]() mutable {
      if (alive() && incarnation_ == inc) Run(std::move(fn), ClockFailure::kDefer);
    });
    return;
  }
  fn();
  Pump();
  AfterEvent();
}

void ReplicaProcess::OnTick() { replica_->Tick(Now()); }

void ReplicaProcess::Step(const paxos::Message& m) {
  if (m.type == paxos::MessageType::kAccept) commit_heard_ = std::max(commit_heard_, m.commit);
  replica_->Step(m, Now());
}

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
    Run([this] { OnTick(); }, ClockFailure::kDrop);
    if (alive() && incarnation_ == inc) ScheduleTick();
  });
}

void ReplicaProcess::Pump() {
  if (alive()) driver_->Process(Now());
}

void ReplicaProcess::Send(std::vector<paxos::Message> messages) {
  for (const paxos::Message& m : messages) SendPaxos(m);
}

int64_t ReplicaProcess::DrawDiskLatency() {
  int64_t latency = rng_.Range(config_.disk_latency_min_us, config_.disk_latency_max_us);
  if (config_.disk_stall_max_us > 0 && rng_.Bernoulli(config_.disk_stall_p)) {
    latency += rng_.Range(0, config_.disk_stall_max_us);
  }
  return latency;
}

bool ReplicaProcess::StartWrite(paxos::Ready& ready, bool sync) {
  if (ready.hard_state) disk_.WriteHardState(*ready.hard_state);
  for (const paxos::Entry& e : ready.entries) disk_.WriteEntry(e);
  MaybeCheckpoint();
  applying_ = std::move(ready.committed);
  if (!sync) return false;
  const uint64_t inc = incarnation_;
  const int64_t latency = DrawDiskLatency();
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
    log_digest_ = LogDigest(log_digest_, e.index, e.type, e.command);
    ApplyEntry(e);
    if (!alive()) return false;
  }
  return true;
}

void ReplicaProcess::AfterAdvance() { OnAdvanced(); }

void ReplicaProcess::OnIdle() {
  while (!idle_work_.empty() && alive()) {
    std::vector<std::function<void()>> work = std::move(idle_work_);
    idle_work_.clear();
    for (auto& fn : work) {
      if (alive()) fn();
    }
  }
}

void ReplicaProcess::WhenIdle(std::function<void()> fn) { idle_work_.push_back(std::move(fn)); }

// ---------------------------------------------------------------------------------------------
// Compaction.

SimState ReplicaProcess::TakeState() {
  return SimState{applied_, log_digest_, CheckpointImage(), Data(), {}, 0};
}

void ReplicaProcess::Record(ApplyKind kind, const SimState& state) {
  ApplyRecord r;
  r.group = group();
  r.replica = id();
  r.incarnation = incarnation_;
  r.index = state.index;
  r.true_us = loop_->now();
  r.kind = kind;
  r.log_digest = state.log_digest;
  r.state_hash = HashBytes(HashBytes(0, state.image), state.data);
  RecordState(std::move(r));
}

void ReplicaProcess::MaybeCheckpoint() {
  // As GroupHost's MaybeCheckpoint: never while a snapshot is awaited or being installed.
  if (config_.checkpoint_every == 0 || fetch_ || replica_->snapshot_needed() ||
      applied_ < checkpoint_index_ + config_.checkpoint_every) {
    return;
  }
  SimState state = TakeState();
  Record(ApplyKind::kCheckpoint, state);
  disk_.WriteCheckpoint(std::move(state));
  checkpoint_index_ = applied_;
  const paxos::Index upto =
      applied_ > config_.retain_entries ? applied_ - config_.retain_entries : 0;
  loop_->Trace(
      absl::StrCat("checkpoint ", Name(), " at ", applied_,
                   upto > disk_.Compacted() ? absl::StrCat(" compacting through ", upto) : ""));
  if (upto <= disk_.Compacted()) return;
  disk_.WriteCompaction(upto);
  // At once, as GroupHost does: reads of the disk see the erasure from now on, so the replica
  // must not report those slots as holes (it would let a candidate fill chosen slots with no-ops).
  replica_->Compact(upto);
}

// ---------------------------------------------------------------------------------------------
// Snapshots.

void ReplicaProcess::OnSnapshotRequest(const paxos::SnapshotRequest& request) {
  if (fetch_) return;
  // Never one at or below what is applied: it would replace the state for nothing.
  const paxos::Index at_least = std::max(request.at_least, replica_->applied() + 1);
  const uint64_t fetch = next_fetch_++;
  fetch_ = Fetch{fetch, request.from, at_least, false};
  loop_->Trace(absl::StrCat("snapshot fetch ", Name(), " #", fetch, " from r", request.from,
                            " through >= ", at_least));
  const paxos::ReplicaId self = id();
  SendToReplica(request.from, [self, fetch, at_least](ReplicaProcess& source) {
    source.ServeSnapshot(self, fetch, at_least);
  });
  const uint64_t inc = incarnation_;
  loop_->After(config_.snapshot_timeout_us, [this, inc, fetch] {
    if (!alive() || incarnation_ != inc) return;
    Run([this, fetch] {
      if (fetch_ && fetch_->id == fetch && !fetch_->installing) FailFetch("no answer in time");
    });
  });
}

void ReplicaProcess::ServeSnapshot(paxos::ReplicaId to, uint64_t fetch, paxos::Index at_least) {
  Run([this, to, fetch, at_least] {
    WhenIdle([this, to, fetch, at_least] {
      std::optional<SimState> snapshot;
      // As GroupHost's ServeSnapshot: its current state, between rounds.
      if (!fetch_ && !replica_->snapshot_needed() && applied_ >= at_least) {
        snapshot = TakeState();
        Record(ApplyKind::kCheckpoint, *snapshot);
        // As GroupHost's: between rounds, the hard state's configuration is applied.
        const paxos::HardState& hard = replica_->hard_state();
        snapshot->config = paxos::Config{hard.members, hard.learners};
        snapshot->config_index = hard.config_index;
      }
      loop_->Trace(absl::StrCat(
          "snapshot serve ", Name(), " #", fetch, " to r", to,
          snapshot ? absl::StrCat(" through ", applied_)
                   : absl::StrCat(" refused: applied ", applied_, fetch_ ? " installing" : "")));
      SendToReplica(to, [fetch, snapshot](ReplicaProcess& receiver) {
        receiver.OnSnapshotReply(fetch, snapshot);
      });
    });
  });
}

void ReplicaProcess::OnSnapshotReply(uint64_t fetch, const std::optional<SimState>& snapshot) {
  Run([this, fetch, snapshot] {
    if (!fetch_ || fetch_->id != fetch || fetch_->installing) return;  // stale or duplicated
    if (!snapshot) return FailFetch("refused");
    if (snapshot->index < fetch_->at_least) {
      return FailFetch(absl::StrCat("it reaches ", snapshot->index, " only"));
    }
    fetch_->installing = true;
    WhenIdle([this, snapshot = *snapshot] { BeginInstall(snapshot); });
  });
}

void ReplicaProcess::BeginInstall(const SimState& state) {
  disk_.BeginInstall();
  const uint64_t inc = incarnation_;
  const int64_t latency = DrawDiskLatency() + rng_.Range(0, config_.snapshot_install_max_us);
  loop_->Trace(absl::StrCat("snapshot install ", Name(), " through ", state.index, " begins"));
  if (sync_listener_) sync_listener_(addr_, latency);
  loop_->After(latency, [this, inc, state] {
    if (!alive() || incarnation_ != inc) return;  // the crash cut the install short
    Run([this, state] { WhenIdle([this, state] { FinishInstall(state); }); });
  });
}

void ReplicaProcess::FinishInstall(const SimState& state) {
  const absl::Status restored = Restore(state.image, state.data);
  CHECK_MSG(restored.ok(), absl::StrCat(Name(), ": the snapshot through ", state.index,
                                        " cannot be restored: ", restored.ToString()));
  disk_.FinishInstall(state);
  applied_ = state.index;
  log_digest_ = state.log_digest;
  checkpoint_index_ = state.index;
  fetch_.reset();
  Record(ApplyKind::kState, state);
  paxos::Index reaches = state.index;
  if (config_.testing_snapshot_without_tail) reaches = std::max(reaches, commit_heard_);
  loop_->Trace(absl::StrCat("snapshot installed ", Name(), " through ", state.index,
                            reaches != state.index ? absl::StrCat(" told ", reaches) : ""));
  replica_->InstallSnapshot(reaches, state.config, state.config_index, Now());
}

void ReplicaProcess::FailFetch(const std::string& why) {
  loop_->Trace(absl::StrCat("snapshot fetch ", Name(), " #", fetch_->id, " failed: ", why));
  fetch_.reset();
  replica_->SnapshotFailed();
}

}  // namespace meridian::sim
