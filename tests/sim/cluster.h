// Cluster: the simulated world of the paxos and membership workloads — virtual true time, the
// event loop, the network, and every SimNode of every group — plus the recorders the checkers
// read: each applied entry (every replica, every incarnation) and each lease span (HasLease
// sampled for every live replica of a group after every event one of its nodes handles, ticks
// included).
//
// A group's nodes are its founders (replicas 1..SwarmParams::replicas, placed and started by
// StartAll) and SwarmParams::spares more (the following ids), which placement (placement.h) may
// place — start as new replicas of the running group — and later retire: stop for good. Only
// placed nodes are the group's (GroupNodes: what faults and clients see); a retired node is never
// restarted, nor is one whose disk says it was removed (the replica would refuse to start).
//
// Seed: the network's Random and each node's seed derive from the seed. Workload: forwards applies
// and crashes to a listener (the clients). Faults: Crash/Wipe/Restart/Pause entry points used by
// faults.h (a wiped node refuses to restart and stays down, unless testing_rejoin_after_wipe; a
// wipe filter may turn a wipe into a crash); clocks skew and drift inside SwarmParams::clock.
// Checkers: records for CheckSlots and CheckLeases; Finals() lists the live replicas only.
// Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_CLUSTER_H_
#define MERIDIAN_TESTS_SIM_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/faults.h"
#include "tests/sim/history.h"
#include "tests/sim/network.h"
#include "tests/sim/node.h"
#include "tests/sim/swarm.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

// The virtual epoch: 2024-01-01 in microseconds, so timestamps look like real ones.
inline constexpr TrueUs kSimEpochUs = 1'704'067'200'000'000;

class Cluster : public NodeHost, public FaultTarget {
 public:
  using ApplyListener = std::function<void(SimNode&, const paxos::Entry&, uint64_t read_value)>;
  using CrashListener = std::function<void(SimNode&)>;

  // `plant` is a name from PaxosPlants() or MembershipPlants() (or empty); it is set on every
  // replica.
  Cluster(const SwarmParams& params, uint64_t seed, const std::string& plant, bool verbose);

  // Starts every founder.
  void StartAll();
  // Starts spare `a` as a new replica of its group, with the configuration `members`/`learners`
  // while it learns none (both empty: unconfigured, learner of itself).
  void Place(Addr a, std::vector<paxos::ReplicaId> members, std::vector<paxos::ReplicaId> learners);
  // Stops placed node `a` for good.
  void Retire(Addr a);
  bool spare(Addr a) const { return seats_[a] == Seat::kSpare; }
  bool retired(Addr a) const { return seats_[a] == Seat::kRetired; }
  // Every node of group `g`, spares and retired ones too, by replica id - 1.
  const std::vector<Addr>& AllNodes(paxos::GroupId g) const { return all_nodes_.at(g); }
  // Consulted before each wipe: when it says no, the node crashes instead (its disk survives).
  void set_wipe_filter(std::function<bool(Addr)> f) { wipe_filter_ = std::move(f); }

  // FaultTarget.
  void Crash(Addr a) override;
  void Wipe(Addr a) override;
  void Restart(Addr a) override;
  void Pause(Addr a, int64_t us) override { node(a).Pause(us); }
  bool Up(Addr a) override { return node(a).alive(); }
  paxos::Index LastIndex(Addr a) override { return node(a).last_index(); }
  paxos::Index Applied(Addr a) override { return node(a).applied(); }
  paxos::Index Compacted(Addr a) override { return node(a).compacted(); }
  bool Leads(Addr a) override { return node(a).leads(); }
  void SetSyncListener(std::function<void(Addr, int64_t)> listener) override;
  EventLoop& loop() override { return loop_; }
  Network& net() override { return net_; }
  int num_nodes() const override { return static_cast<int>(nodes_.size()); }
  const std::vector<paxos::GroupId>& groups() const override { return groups_; }
  const std::vector<Addr>& GroupNodes(paxos::GroupId g) const override {
    return group_nodes_.at(g);
  }

  SimNode& node(Addr a) { return *nodes_[a]; }
  // The address of replica `id` of group `g`, or -1.
  Addr AddrOf(paxos::GroupId g, paxos::ReplicaId id) const;

  void set_apply_listener(ApplyListener l) { apply_listener_ = std::move(l); }
  void set_crash_listener(CrashListener l) { crash_listener_ = std::move(l); }

  const std::vector<ApplyRecord>& applies() const { return applies_; }
  // Every lease span recorded so far, including spans still open.
  std::vector<LeaseSpan> LeaseSpans() const;
  // The replicas alive now (neither crashed nor refused).
  std::vector<ReplicaFinal> Finals() const;

  // NodeHost.
  void SendMessage(Addr from, const paxos::Message& m) override;
  void SendToReplica(SimNode& from, paxos::ReplicaId to,
                     std::function<void(ReplicaProcess&)> arrive) override;
  void OnState(ApplyRecord record) override;
  void OnApplied(SimNode& node, const paxos::Entry& e, uint64_t read_value) override;
  void AfterEvent(SimNode& node) override;

 private:
  struct OpenSpan {
    bool open = false;
    LeaseSpan span;
  };
  enum class Seat : uint8_t { kSpare, kPlaced, kRetired };
  void SampleLease(SimNode& n);
  void CloseSpan(Addr a);

  truetime::SimulatedTime time_;
  Random rng_;
  EventLoop loop_;
  Network net_;
  std::vector<paxos::GroupId> groups_;
  std::map<paxos::GroupId, std::vector<Addr>> group_nodes_;  // placed, by address
  std::map<paxos::GroupId, std::vector<Addr>> all_nodes_;    // by replica id - 1
  std::vector<std::unique_ptr<SimNode>> nodes_;
  std::vector<Seat> seats_;  // per address
  std::function<bool(Addr)> wipe_filter_;
  ApplyListener apply_listener_;
  CrashListener crash_listener_;

  std::vector<ApplyRecord> applies_;
  std::vector<OpenSpan> open_spans_;  // per address
  std::vector<LeaseSpan> closed_spans_;
};

// The planted bugs, in a fixed order: paxos::Options testing_* field names, then
// NodeConfig::testing_rejoin_after_wipe, then the compaction and snapshot plants
// (paxos::Options::testing_compact_above_applied, NodeConfig::testing_snapshot_without_tail).
const std::vector<std::string>& PaxosPlants();
// The compaction and snapshot plants alone (the transaction workloads run them too).
const std::vector<std::string>& CompactionPlants();
// The membership workload's: paxos::Options::testing_two_config_changes and
// testing_learner_votes, then the compaction and snapshot plants.
const std::vector<std::string>& MembershipPlants();
// Sets `plant` on `config` when it is one of PaxosPlants() or MembershipPlants(); false
// otherwise.
bool SetPaxosPlant(const std::string& plant, NodeConfig& config);
// The compaction and snapshot settings of `params` (swarm.h) for a process.
void SetCompaction(const SwarmParams& params, NodeConfig& config);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_CLUSTER_H_
