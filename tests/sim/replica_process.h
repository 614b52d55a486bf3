// ReplicaProcess: one simulated server process hosting one paxos::Replica — its SimDisk, its
// simulated TrueTime, its tick timer, crashes, restarts and pauses — and its rounds, carried out
// by the spanserver's own replication::RoundDriver (round_driver.h): send Ready.messages, write
// entries and hard state unsynced, wait a simulated disk latency for the sync, then send
// messages_after_persist, apply committed entries, Advance().
// The paxos workload's SimNode (a register) and the transaction workloads' TxnNode (a
// TransactionManager) derive from it and supply what the process applies, ticks and sends.
//
// Before every start the process runs the spanserver's check (paxos::CheckReplicaStart) on the
// marker of its disk, its server incarnation (fixed per process) and `once_persisted_`, a record
// kept outside the disk (the server's identity record, placement's knowledge) that survives a
// wipe. A fresh replica writes its marker durably first; a replica that once persisted state but
// whose disk lost it refuses: it stays down for the rest of the seed, as the real server does
// until an operator removes it (placement gives the wiped directory a new server id).
//
// Seed: disk latencies and tick jitter come from the process's own Random; the server incarnation
// from a generator of its own, so those draws are the same as before it existed. Faults: Crash()
// drops the replica and the disk's unsynced layer (an in-progress sync is lost); Start() after a
// crash builds a fresh Replica from the synced disk with applied = 0, so the state machine is
// rebuilt by replaying from slot 1; Wipe() crashes the process and loses its whole disk, so its
// next Start() refuses; Pause() stops the process: ticks, deliveries and sync completions wait
// until it resumes; a sync listener (set by the fault injector) hears of every sync the process
// starts and how long it will take, so a crash can be aimed inside that window. Planted bug:
// NodeConfig::testing_rejoin_after_wipe. Checkers: none here.
// Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_
#define MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/random.h"
#include "replication/round_driver.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/network.h"
#include "tests/sim/sim_disk.h"
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
  // Planted bug (not a paxos::Options field: the check runs in the server, not the replica): a
  // process whose start check fails rejoins anyway, empty, under its old identity.
  bool testing_rejoin_after_wipe = false;
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

  // Samples TrueTime for this process (monotonic per incarnation).
  truetime::Interval Now();

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
  // The last index on the disk (synced or not; after a crash, what survived it).
  paxos::Index last_index() { return disk_.LastIndex(); }
  // "g<group>/r<id>#<incarnation>".
  std::string Name() const;

 protected:
  // Runs `fn` now if the process is up, at the end of a pause if paused, never if it crashed (or
  // restarted) meanwhile; then carries out the replica's work and calls AfterEvent().
  void Run(std::function<void()> fn);
  // Carries out the replica's pending rounds (bounded: RoundDriver::kMaxRoundsPerProcess).
  void Pump();

  EventLoop* loop() const { return loop_; }
  Random& rng() { return rng_; }

  // What the derived process does. OnStart runs once the new replica exists (state rebuilt from
  // scratch), OnCrash once it is gone. OnTick runs on every tick (default: the replica's Tick).
  virtual void OnStart() {}
  virtual void OnCrash() {}
  virtual void OnTick();
  virtual void SendPaxos(const paxos::Message& m) = 0;
  // Applies one committed entry (applied() is already its index). The process may crash in it.
  virtual void ApplyEntry(const paxos::Entry& e) = 0;
  // After a round's Advance() (RoundDriver::Env).
  void AfterAdvance() override {}
  // After every event the process handled (Start, Run).
  virtual void AfterEvent() {}

 private:
  // Runs paxos::CheckReplicaStart on the disk and writes a fresh replica's marker; false when the
  // process refuses to start (it is then refused for good).
  bool CheckStart();
  void ScheduleTick();
  // replication::RoundDriver::Env: the rounds run as a spanserver's GroupHost runs them; the
  // write is the disk's unsynced layer, synced after a drawn latency.
  void Send(std::vector<paxos::Message> messages) override;
  bool StartWrite(paxos::Ready& ready, bool sync) override;
  bool FinishApplying() override;

  const Addr addr_;
  const NodeConfig config_;
  EventLoop* const loop_;
  truetime::SimulatedTime* const time_;
  Random rng_;
  const uint64_t server_incarnation_;  // of the server's data directory; never 0

  SimDisk disk_;
  // Outside the disk: survives a wipe. Set once a marker was written (the replica started).
  bool once_persisted_ = false;
  bool refused_ = false;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<paxos::Replica> replica_;
  uint64_t incarnation_ = 0;  // of the process: counts its starts
  TrueUs paused_until_ = 0;
  SyncListener sync_listener_;

  std::unique_ptr<replication::RoundDriver> driver_;  // over replica_; replaced at each Start
  std::vector<paxos::Entry> applying_;                // the round's committed entries
  paxos::Index applied_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_REPLICA_PROCESS_H_
