// SimNode: the paxos workload's simulated server — a ReplicaProcess (replica_process.h: the
// replica, its disk, clock, ticks, crashes, pauses, Ready cycle, checkpoints and snapshots) whose
// state machine is a register: puts and gets through the log, and lease reads. Its checkpoint
// image is the registers ("key value slot" lines, by key); it has no other data.
//
// Seed/faults: those of ReplicaProcess. Checkers: every apply, state and checkpoint is reported
// to the NodeHost, which records it. Thread safety: none; the EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_NODE_H_
#define MERIDIAN_TESTS_SIM_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/history.h"
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
  // Runs `arrive` on the node of replica `to` of `from`'s group when a message sent now arrives.
  virtual void SendToReplica(SimNode& from, paxos::ReplicaId to,
                             std::function<void(ReplicaProcess&)> arrive) = 0;
  // Records a node's state or checkpoint (ApplyRecord::kind).
  virtual void OnState(ApplyRecord record) = 0;
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
  // Placement's entry points (membership workload), at the leader; UNAVAILABLE when the node is
  // down or paused.
  absl::StatusOr<paxos::Index> ProposeConfig(const paxos::Config& next);
  absl::Status TransferLeadership(paxos::ReplicaId to);

  Register Lookup(const std::string& key) const;

 private:
  void OnStart() override { kv_.clear(); }
  void OnCrash() override { kv_.clear(); }
  void SendPaxos(const paxos::Message& m) override { host_->SendMessage(addr(), m); }
  void SendToReplica(paxos::ReplicaId to, std::function<void(ReplicaProcess&)> arrive) override {
    host_->SendToReplica(*this, to, std::move(arrive));
  }
  void ApplyEntry(const paxos::Entry& e) override;
  std::string CheckpointImage() override;
  std::string Data() override { return ""; }
  absl::Status Restore(const std::string& image, const std::string& data) override;
  void RecordState(ApplyRecord record) override { host_->OnState(std::move(record)); }
  void AfterEvent() override { host_->AfterEvent(*this); }

  NodeHost* const host_;
  std::map<std::string, Register> kv_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_NODE_H_
