// SimNode: one simulated server hosting one paxos::Replica, its SimDisk, its simulated TrueTime and
// its register state machine, and driving the replica through the Ready cycle the way a real
// server must: send Ready.messages, write entries/hard state unsynced, wait a simulated disk
// latency for the sync, then send messages_after_persist, apply committed entries, Advance().
//
// Seed: disk latencies come from the node's own Random. Faults: Crash() drops the replica, the
// state machine and the disk's unsynced layer (an in-progress sync is lost); Restart() builds a
// fresh Replica from the synced disk with applied = 0 and replays the state machine from slot 1;
// Pause() stops the process: ticks, deliveries and sync completions wait until it resumes. The
// clock is a SimulatedClockSource inside the epsilon bounds. Checkers: every apply is reported to
// the NodeHost, which records it. Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_NODE_H_
#define MERIDIAN_TESTS_SIM_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/random.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/network.h"
#include "tests/sim/sim_disk.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"

namespace meridian::sim {

class SimNode;

// What a node needs from the simulator around it.
class NodeHost {
 public:
  virtual ~NodeHost() = default;
  virtual void SendMessage(Addr from, const paxos::Message& m) = 0;
  // Called after `node` applied `e`; `read_value` is the result when `e` is a get.
  virtual void OnApplied(SimNode& node, const paxos::Entry& e, uint64_t read_value) = 0;
  // Called after every event the node handled (lease sampling).
  virtual void AfterEvent(SimNode& node) = 0;
};

struct NodeConfig {
  paxos::Options options;  // group, id, members, timings and planted bugs
  truetime::SimulatedClockBounds clock_bounds;
  truetime::SimulatedClockParams clock_params;
  int64_t disk_latency_min_us = 100;
  int64_t disk_latency_max_us = 1000;
  double disk_stall_p = 0;
  int64_t disk_stall_max_us = 0;
  int64_t tick_us = 10'000;
};

class SimNode {
 public:
  struct Register {
    uint64_t value = 0;  // the put id whose value the key holds; 0 = never written
    paxos::Index slot = 0;
  };

  SimNode(Addr addr, const NodeConfig& config, EventLoop* loop, truetime::SimulatedTime* time,
          NodeHost* host, uint64_t seed);
  SimNode(const SimNode&) = delete;
  SimNode& operator=(const SimNode&) = delete;

  // Creates the replica from the synced disk (first start or restart) and starts ticking.
  void Start();
  void Crash();
  // The process stops until now + us (extends a running pause).
  void Pause(int64_t us);

  void Deliver(const paxos::Message& m);
  // Client entry points; UNAVAILABLE when the node is down or paused (the client's call times out).
  absl::StatusOr<paxos::Index> Propose(std::string command);
  absl::StatusOr<paxos::Index> LeaseRead();

  // Samples TrueTime for this node (monotonic per incarnation).
  truetime::Interval Now();

  Addr addr() const { return addr_; }
  paxos::GroupId group() const { return config_.options.group; }
  paxos::ReplicaId id() const { return config_.options.id; }
  bool alive() const { return replica_ != nullptr; }
  bool paused() const { return loop_->now() < paused_until_; }
  bool serving() const { return alive() && !paused(); }
  uint64_t incarnation() const { return incarnation_; }
  TrueUs paused_until() const { return paused_until_; }
  paxos::Replica& replica() { return *replica_; }
  paxos::Index applied() const { return applied_; }
  Register Lookup(const std::string& key) const;
  std::string Name() const;

 private:
  // Runs `fn` now if the node is up, at the end of a pause if paused, never if it crashed (or
  // restarted) meanwhile.
  void Run(std::function<void()> fn);
  void ScheduleTick();
  void Pump();
  void FinishReady();
  void Apply(const paxos::Entry& e);

  const Addr addr_;
  const NodeConfig config_;
  EventLoop* const loop_;
  truetime::SimulatedTime* const time_;
  NodeHost* const host_;
  Random rng_;

  SimDisk disk_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<paxos::Replica> replica_;
  uint64_t incarnation_ = 0;
  TrueUs paused_until_ = 0;

  bool syncing_ = false;  // a Ready is outstanding until its sync completes
  paxos::Ready ready_;
  paxos::Index applied_ = 0;
  std::map<std::string, Register> kv_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_NODE_H_
