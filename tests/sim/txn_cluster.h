// TxnCluster: the simulated world of the transaction workloads — virtual true time, the event
// loop, the network, every TxnNode of every data group, and the recorders the checkers read:
// each applied entry (every replica, every incarnation), and each transaction decision the
// managers applied (commit at s, or abort), which is the ground truth for outcomes the clients
// never learned.
//
// Routing: Paxos messages go to their replica. A group message goes to every replica of the
// target group (as the spanserver's TxnService sends it), or when leader_only to the leader that
// the target's replica on the sender's server believes in; only the leader acts on it.
//
// The range map (range_map.h): the authoritative copy (map(), changed only by the mover's
// SwitchMap) and each server's copy, which takes on every change a seeded delay later
// (TxnSwarmParams::map_lag_max_us) and answers its node's MapGeneration.
//
// Seed: node seeds, clock parameters, routing choices and map delays derive from the seed. Faults:
// the FaultTarget entry points (crash, wipe, restart, pause; a wiped node refuses to restart and
// stays down); the network's faults apply to every message. Checkers: records for CheckSlots and
// the transaction checkers (txn_checkers.h). Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_TXN_CLUSTER_H_
#define MERIDIAN_TESTS_SIM_TXN_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/faults.h"
#include "tests/sim/history.h"
#include "tests/sim/network.h"
#include "tests/sim/range_map.h"
#include "tests/sim/txn_node.h"
#include "tests/sim/txn_swarm.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

// A decision some replica applied for a transaction (kCommit or kAbort).
struct Decision {
  bool committed = false;
  txn::Timestamp ts = 0;  // committed only
  TrueUs first_applied_us = 0;
};

// The planted bugs the transaction workloads understand: the TransactionManagerOptions testing_*
// knobs, the range-move plants (testing_serve_before_adopt: RangeGuardOptions;
// testing_release_without_drain: the manager's and the node's Release; testing_skip_delta: the
// mover's), then the compaction and snapshot plants (cluster.h CompactionPlants()).
const std::vector<std::string>& TxnPlants();

class TxnCluster : public TxnNodeHost, public FaultTarget {
 public:
  // `plant` is a name from TxnPlants() (or empty); set on every node.
  TxnCluster(const TxnSwarmParams& params, uint64_t seed, const std::string& plant, bool verbose);

  // Before StartAll: the bootstrap map, on every server.
  void SetInitialMap(RangeMap map);
  void StartAll();
  // The authoritative range map, and its switch once a move or split is done: every server takes
  // the new map after its own delay.
  const RangeMap& map() const { return map_; }
  void SwitchMap(RangeMap map);
  // The plant the cluster runs with (or empty).
  const std::string& plant() const { return plant_; }
  // A network address for a client (after every node's).
  Addr AddClient() { return num_nodes() + clients_++; }
  TxnNode& node(Addr a) { return *nodes_[a]; }
  Addr AddrOf(paxos::GroupId g, paxos::ReplicaId id) const;
  truetime::SimulatedTime* time() { return &time_; }

  // FaultTarget.
  EventLoop& loop() override { return loop_; }
  Network& net() override { return net_; }
  int num_nodes() const override { return static_cast<int>(nodes_.size()); }
  const std::vector<paxos::GroupId>& groups() const override { return groups_; }
  const std::vector<Addr>& GroupNodes(paxos::GroupId g) const override {
    return group_nodes_.at(g);
  }
  void Crash(Addr a) override { node(a).Crash(); }
  void Wipe(Addr a) override { node(a).Wipe(); }
  void Restart(Addr a) override;
  void Pause(Addr a, int64_t us) override { node(a).Pause(us); }
  bool Up(Addr a) override { return node(a).alive(); }
  paxos::Index LastIndex(Addr a) override { return node(a).last_index(); }
  paxos::Index Applied(Addr a) override { return node(a).applied(); }
  paxos::Index Compacted(Addr a) override { return node(a).compacted(); }
  bool Leads(Addr a) override { return node(a).leads(); }
  void SetSyncListener(std::function<void(Addr, int64_t)> listener) override;

  // TxnNodeHost.
  void SendPaxos(Addr from, const paxos::Message& m) override;
  void SendGroupMessage(TxnNode& from, const txn::GroupMessage& m) override;
  void SendClockProbe(TxnNode& from, paxos::ReplicaId to,
                      std::function<void(ReplicaProcess&)> arrive) override;
  // Makes params.clock_liar's clock lie (TxnSwarmParams) from `from` until `until`.
  void ScheduleClockLie(const TxnSwarmParams& params, TrueUs from, TrueUs until);
  void SendToReplica(TxnNode& from, paxos::ReplicaId to,
                     std::function<void(ReplicaProcess&)> arrive) override;
  uint64_t MapGeneration(const TxnNode& node, std::string_view key) override;
  void OnState(ApplyRecord record) override;
  void OnApplied(TxnNode& node, const paxos::Entry& e,
                 const absl::StatusOr<txn::ApplyResult>& result) override;

  const std::vector<ApplyRecord>& applies() const { return applies_; }
  const std::map<txn::TxnId, Decision>& decisions() const { return decisions_; }
  // The first inconsistency seen while applying: a manager error, or two replicas that applied
  // different decisions for one transaction.
  const std::optional<Violation>& apply_violation() const { return apply_violation_; }
  // Counters for the summary.
  uint64_t group_messages() const { return group_messages_; }

 private:
  truetime::SimulatedTime time_;
  Random rng_;
  EventLoop loop_;
  Network net_;
  std::vector<paxos::GroupId> groups_;
  std::map<paxos::GroupId, std::vector<Addr>> group_nodes_;
  std::vector<std::unique_ptr<TxnNode>> nodes_;
  int clients_ = 0;
  const std::string plant_;
  Random probe_rng_;  // clock probes' delays: a stream of their own (SendClockProbe)
  const int64_t map_lag_max_us_;
  RangeMap map_;
  std::vector<RangeMap> server_maps_;  // by node address

  std::vector<ApplyRecord> applies_;
  std::map<txn::TxnId, Decision> decisions_;
  std::optional<Violation> apply_violation_;
  uint64_t group_messages_ = 0;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_CLUSTER_H_
