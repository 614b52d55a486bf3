// SimNode: the paxos workload's simulated server — a ReplicaProcess (replica_process.h: the
// replica, its disk, clock, ticks, crashes, pauses and Ready cycle) whose state machine is a
// register: puts and gets through the log, and lease reads.
//
// Seed/faults: those of ReplicaProcess. Checkers: every apply is reported to the NodeHost, which
// records it. Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_NODE_H_
#define MERIDIAN_TESTS_SIM_NODE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/network.h"
#include "tests/sim/replica_process.h"
#include "truetime/simulated_clock.h"

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

class SimNode : public ReplicaProcess {
 public:
  struct Register {
    uint64_t value = 0;  // the put id whose value the key holds; 0 = never written
    paxos::Index slot = 0;
  };

  SimNode(Addr addr, const NodeConfig& config, EventLoop* loop, truetime::SimulatedTime* time,
          NodeHost* host, uint64_t seed);

  void Deliver(const paxos::Message& m);
  // Client entry points; UNAVAILABLE when the node is down or paused (the client's call times out).
  absl::StatusOr<paxos::Index> Propose(std::string command);
  absl::StatusOr<paxos::Index> LeaseRead();

  Register Lookup(const std::string& key) const;

 private:
  void OnStart() override { kv_.clear(); }
  void OnCrash() override { kv_.clear(); }
  void SendPaxos(const paxos::Message& m) override { host_->SendMessage(addr(), m); }
  void ApplyEntry(const paxos::Entry& e) override;
  void AfterEvent() override { host_->AfterEvent(*this); }

  NodeHost* const host_;
  std::map<std::string, Register> kv_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_NODE_H_
