// ReplicaProcess: one simulated server process hosting one paxos::Replica — its SimDisk, its
// simulated TrueTime, its tick timer, crashes, restarts and pauses — and its rounds, carried out
// by the spanserver's own replication::RoundDriver (round_driver.h): send Ready.messages, write
// entries and hard state unsynced, wait a simulated disk latency for the sync, then send
// messages_after_persist, apply committed entries, Advance().
// The paxos workload's SimNode (a register) and the transaction workloads' TxnNode (a
// TransactionManager) derive from it and supply what the process applies, ticks and sends, and
// their state machine's checkpoint image and data.
//
// Before every start the process runs the spanserver's check (paxos::CheckReplicaStart) on the
// marker of its disk, its server incarnation (fixed per process) and `once_persisted_`, a record
// kept outside the disk (the server's identity record, placement's knowledge) that survives a
// wipe. A fresh replica writes its marker durably first; a replica that once persisted state but
// whose disk lost it refuses: it stays down for the rest of the seed, as the real server does
// until an operator removes it (placement gives the wiped directory a new server id).
//
// Compaction and snapshots, as replication/group_host.cc does them (NodeConfig::checkpoint_every;
// 0 turns them off): once checkpoint_every entries were applied since the last checkpoint, a
// round's write also carries a checkpoint of the state machine at the entries applied so far (C)
// and the compaction of the log through C - retain_entries; after the round's Advance the replica
// learns it (Replica::Compact). A start restores the state machine from the disk's checkpoint and
// starts the replica with applied = C (without one, from nothing and replays the log from slot 1).
// A snapshot request (Ready::snapshot_request) is a fetch over the simulated network: a request to
// the source process, which answers between its rounds with its state (checkpoint image at its
// applied index A, its data, the configuration committed by then), or a refusal when it is
// installing or needs a snapshot itself or has not applied enough; the receiver installs it between
// rounds (SimDisk: BeginInstall, a data write of a disk latency and up to snapshot_install_max_us
// more, FinishInstall), restores its state machine from it and calls Replica::InstallSnapshot(A,
// configuration). A fetch that fails (refused, too short, or no answer within snapshot_timeout_us:
// a crashed, partitioned or paused source or receiver, a lost message) calls
// Replica::SnapshotFailed(). Every state the process takes on (restored, installed) and every
// checkpoint it takes or snapshot it serves is recorded for CheckSlots with its log digest.
//
// Seed: disk latencies and tick jitter come from the process's own Random; the server incarnation
// from a generator of its own, so those draws are the same as before it existed. Faults: Crash()
// drops the replica and the disk's unsynced layer (an in-progress sync is lost); Start() after a
// crash builds a fresh Replica from the synced disk and checkpoint; Wipe() crashes the process
// and loses its whole disk, so its next Start() refuses; Pause() stops the process: ticks,
// deliveries, snapshot requests and replies and sync completions wait until it resumes; a sync
// listener (set by the fault injector) hears of every sync the process starts (a snapshot
// install's data write too) and how long it will take, so a crash can be aimed inside that
// window. Planted bugs: NodeConfig::testing_rejoin_after_wipe, testing_snapshot_without_tail.
// Checkers: none here (states go to the subclass's host for CheckSlots).
// Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_
#define MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/random.h"
#include "replication/round_driver.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/history.h"
#include "tests/sim/network.h"
#include "tests/sim/sim_disk.h"
#include "truetime/peer_clock_check.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"

namespace meridian::sim {

struct NodeConfig {
  paxos::Options options;  // group, id, members, timings and planted bugs
  truetime::SimulatedClockBounds clock_bounds;
  truetime::SimulatedClockParams clock_params;
  int64_t disk_latency_min_us = 100;
  int64_t disk_latency_max_us = 1000;
  double disk_stall_p = 0;
  int64_t disk_stall_max_us = 0;
  int64_t tick_us = 10'000;
  // Compaction (see above): a checkpoint every this many applied entries; 0 = never.
  uint64_t checkpoint_every = 0;
  // Log entries kept below a checkpoint, so that a follower a little behind needs no snapshot.
  uint64_t retain_entries = 0;
  // A snapshot fetch not answered by then fails.
  int64_t snapshot_timeout_us = 1'000'000;
  // A snapshot install's data write takes a disk latency and up to this much more (a large
  // snapshot streaming in).
  int64_t snapshot_install_max_us = 0;
  // Peer clock checks (truetime/peer_clock_check.h; replica_clock.cc): the process's TrueTime
  // widens to agree with a majority of its group's replicas' clocks, and while it cannot, or the
  // widening passes `clock_guard_us`, the process serves nothing: deliveries, requests and ticks
  // are dropped, its own work (round completions, snapshot steps) and a start wait until the
  // clock agrees again. Off: TrueTime trusts the clock, with no guard.
  bool clock_check = false;
  int64_t clock_probe_us = 100'000;
  int64_t clock_guard_us = 0;
  // Planted bug: the check is there but ignored (PeerClockOptions::testing_ignore).
  bool testing_ignore_clock_offset = false;
  // Planted bugs (not paxos::Options fields: they live in the server, not the replica). A process
  // whose start check fails rejoins anyway, empty, under its old identity:
  bool testing_rejoin_after_wipe = false;
  // A process that installed a snapshot through A tells the replica it reaches the highest commit
  // point a leader announced to it (InstallSnapshot(commit) instead of A), so the entries between
  // are never applied:
  bool testing_snapshot_without_tail = false;
};

class ReplicaProcess : private replication::RoundDriver::Env {
 public:
  // Called when the process starts a sync that will be durable `latency_us` from now (unless it
  // crashes first); it may not touch the process before returning.
  using SyncListener = std::function<void(Addr addr, int64_t latency_us)>;

  ReplicaProcess(Addr addr, const NodeConfig& config, EventLoop* loop,
                 truetime::SimulatedTime* time, uint64_t seed);
  virtual ~ReplicaProcess();
  ReplicaProcess(const ReplicaProcess&) = delete;
  ReplicaProcess& operator=(const ReplicaProcess&) = delete;

  // Creates the replica from the synced disk (first start or restart) and starts ticking, unless
  // the start check refuses (then, and once refused, the process stays down).
  void Start();
  void Crash();
  // Crash() and a disk that loses everything: the next Start() refuses.
  void Wipe();
  // The process stops until now + us (extends a running pause).
  void Pause(int64_t us);
  void set_sync_listener(SyncListener l) { sync_listener_ = std::move(l); }

  // Before the first Start only: the configuration the replica starts with while its disk holds
  // none (what placement knows of the group, for a replica joining it as a learner).
  void Configure(std::vector<paxos::ReplicaId> members, std::vector<paxos::ReplicaId> learners);
  // The configuration committed in the disk's synced hard state no longer lists this replica: it
  // was removed, and paxos::Replica refuses to start as a non-member.
  bool RemovedOnDisk();

  // Samples TrueTime for this process (monotonic per incarnation). Inside Run this never fails
  // (Run drops or defers events while TrueTime is unavailable); outside it, while unavailable,
  // it answers the last interval it had, which only delays decisions (commit wait's timers).
  truetime::Interval Now();

  // Clocks (replica_clock.cc). The machine's clock and the time daemon that probes the other
  // replicas' clocks outlive the process (they belong to the server, not the replica): a crash
  // does not reset them. StartClockDaemon begins the probes (with NodeConfig::clock_check).
  void StartClockDaemon();
  // From now on this machine's clock lies by `excess_us` past its own bound (0: honest again).
  void SetClockLie(int64_t excess_us);
  // Whether TrueTime serves (always, without the clock check); logs each change in the trace.
  bool ClockServes();

  Addr addr() const { return addr_; }
  paxos::GroupId group() const { return config_.options.group; }
  paxos::ReplicaId id() const { return config_.options.id; }
  bool alive() const { return replica_ != nullptr; }
  // Alive and the leader of its group, as its replica believes.
  bool leads() const { return alive() && replica_->role() == paxos::Role::kLeader; }
  // The start check refused: the process is no replica any more (never alive again).
  bool refused() const { return refused_; }
  bool paused() const { return loop_->now() < paused_until_; }
  bool serving() const { return alive() && !paused(); }
  uint64_t incarnation() const { return incarnation_; }
  TrueUs paused_until() const { return paused_until_; }
  paxos::Replica& replica() { return *replica_; }
  paxos::Index applied() const { return applied_; }
  // The last index the disk's log covers, compacted or held (synced or not; after a crash, what
  // survived it).
  paxos::Index last_index() { return std::max(disk_.LastIndex(), disk_.Compacted()); }
  // The disk's compaction point (synced or not).
  paxos::Index compacted() { return disk_.Compacted(); }
  // "g<group>/r<id>#<incarnation>".
  std::string Name() const;

 protected:
  // Runs `fn` now if the process is up, at the end of a pause if paused, never if it crashed (or
  // restarted) meanwhile; then carries out the replica's work and calls AfterEvent(). While its
  // TrueTime is unavailable (ClockServes), a kDrop event is lost, a kDefer one waits for it.
  enum class ClockFailure : uint8_t { kDefer, kDrop };
  void Run(std::function<void()> fn, ClockFailure on_clock_failure = ClockFailure::kDefer);
  // Steps the replica with a delivered message (inside Run).
  void Step(const paxos::Message& m);
  // Carries out the replica's pending rounds (bounded: RoundDriver::kMaxRoundsPerProcess).
  void Pump();

  EventLoop* loop() const { return loop_; }
  Random& rng() { return rng_; }

  // What the derived process does. OnStart runs once the new replica exists (an empty state
  // machine, before any checkpoint is restored), OnCrash once it is gone. OnTick runs on every
  // tick (default: the replica's Tick).
  virtual void OnStart() {}
  virtual void OnCrash() {}
  virtual void OnTick();
  virtual void SendPaxos(const paxos::Message& m) = 0;
  // Sends `arrive` to the process of replica `to` of this group over the simulated network (it
  // runs there on arrival, possibly twice; never when lost).
  virtual void SendToReplica(paxos::ReplicaId to, std::function<void(ReplicaProcess&)> arrive) = 0;
  // The same for a clock probe, over the same links but drawing its delays elsewhere (so that
  // the probes leave every other draw of the seed as it was). Default: probes are lost.
  virtual void SendClockProbe(paxos::ReplicaId /*to*/,
                              std::function<void(ReplicaProcess&)> /*arrive*/) {}
  // Applies one committed entry (applied() is already its index). The process may crash in it.
  virtual void ApplyEntry(const paxos::Entry& e) = 0;
  // The state machine's checkpoint image and data after the entries applied so far.
  virtual std::string CheckpointImage() = 0;
  virtual std::string Data() = 0;
  // Replaces the state machine with one restored from `image` and `data` (waiting requests are
  // dropped). An error is a broken checkpoint: the process CHECK-fails.
  virtual absl::Status Restore(const std::string& image, const std::string& data) = 0;
  // Records `record` (a state or checkpoint) for the checkers.
  virtual void RecordState(ApplyRecord record) = 0;
  // After a round's Advance() and its compaction.
  virtual void OnAdvanced() {}
  // After every event the process handled (Start, Run).
  virtual void AfterEvent() {}

 private:
  // A snapshot fetch: requested from `from`, through at least `at_least`; `installing` once the
  // answer arrived and the install began.
  struct Fetch {
    uint64_t id = 0;
    paxos::ReplicaId from = paxos::kNoReplica;
    paxos::Index at_least = 0;
    bool installing = false;
  };

  // Runs paxos::CheckReplicaStart on the disk and writes a fresh replica's marker; false when the
  // process refuses to start (it is then refused for good).
  bool CheckStart();
  void ScheduleTick();
  // replication::RoundDriver::Env: the rounds run as a spanserver's GroupHost runs them; the
  // write is the disk's unsynced layer, synced after a drawn latency.
  void Send(std::vector<paxos::Message> messages) override;
  bool StartWrite(paxos::Ready& ready, bool sync) override;
  bool FinishApplying() override;
  void AfterAdvance() override;
  void OnIdle() override;
  void OnSnapshotRequest(const paxos::SnapshotRequest& request) override;

  // Compaction: adds a checkpoint and the compaction to the round's write when one is due.
  void MaybeCheckpoint();
  SimState TakeState();
  void Record(ApplyKind kind, const SimState& state);
  // Snapshots, source side: a request arrives; it is answered between rounds.
  void ServeSnapshot(paxos::ReplicaId to, uint64_t fetch, paxos::Index at_least);
  // Receiver side: the answer arrives (nullopt: refused); the install's two steps run between
  // rounds.
  void OnSnapshotReply(uint64_t fetch, const std::optional<SimState>& snapshot);
  void BeginInstall(const SimState& state);
  void FinishInstall(const SimState& state);
  void FailFetch(const std::string& why);
  // Runs `fn` between rounds (now if the driver is idle, else after the round in flight).
  void WhenIdle(std::function<void()> fn);
  int64_t DrawDiskLatency();
  // Clock daemon (replica_clock.cc).
  std::unique_ptr<truetime::TrueTime> MakeTrueTime();
  void ProbeClocks();
  void AnswerClockProbe(paxos::ReplicaId from, int64_t sent_us);

  const Addr addr_;
  NodeConfig config_;  // fixed from the first Start on
  EventLoop* const loop_;
  truetime::SimulatedTime* const time_;
  Random rng_;
  const uint64_t server_incarnation_;  // of the server's data directory; never 0

  SimDisk disk_;
  // Outside the disk: survives a wipe. Set once a marker was written (the replica started).
  bool once_persisted_ = false;
  bool refused_ = false;
  // The machine's clock and its peer check (replica_clock.cc); TrueTime borrows them per start.
  std::unique_ptr<truetime::SimulatedClockSource> clock_;
  std::unique_ptr<truetime::PeerClockCheck> clock_check_;
  bool clock_fenced_ = false;
  std::optional<truetime::Interval> last_now_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<paxos::Replica> replica_;
  uint64_t incarnation_ = 0;  // of the process: counts its starts
  TrueUs paused_until_ = 0;
  SyncListener sync_listener_;

  std::unique_ptr<replication::RoundDriver> driver_;  // over replica_; replaced at each Start
  std::vector<paxos::Entry> applying_;                // the round's committed entries
  paxos::Index applied_ = 0;
  uint64_t log_digest_ = 0;  // LogDigest of the entries the state machine holds (through applied_)

  // Compaction and snapshots; reset at every start.
  paxos::Index checkpoint_index_ = 0;  // the newest checkpoint written
  std::optional<Fetch> fetch_;         // the snapshot being fetched or installed
  uint64_t next_fetch_ = 1;            // never reset: stale answers never match
  paxos::Index commit_heard_ = 0;      // the highest commit point an Accept announced to this one
  std::vector<std::function<void()>> idle_work_;  // runs between rounds (OnIdle)
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_
