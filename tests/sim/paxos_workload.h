// PaxosWorkload: the "paxos" workload of meridian_sim. One seed = one run:
//   seed      -> SwarmParams (swarm.h): 1-3 groups of 3 or 5 replicas, timings, clocks, faults;
//   workload  -> register clients (clients.h): puts/gets through the log, lease reads;
//   faults    -> fault phase (faults.h: crashes, wipes, pauses, partitions, clogging, network,
//                power losses in the sync window, election clogs, snapshot lags when the seed
//                compacts its logs (replica_process.h); most seeds focus on one kind),
//                then heal: every group must commit again within SwarmParams::LivenessBoundUs,
//                then a bounded drain lets replicas catch up; a wiped node refuses to rejoin under
//                its old identity and is no replica any more (at most a minority per group);
//   checkers  -> slot agreement (with the states restarts and snapshots carry), lease
//                disjointness, linearizability, durability (checkers.h), liveness after heal;
//                meridian_sim adds determinism (two runs, same trace hash).
// Planted bugs: the paxos::Options testing_* knobs, testing_rejoin_after_wipe (a wiped node
// rejoins empty under its old identity) and testing_snapshot_without_tail (an installed snapshot
// is taken to reach further than it does), listed by PaxosPlants().
// The run itself (RunRegisterSeed) is shared: the membership workload joins it with placement
// (membership_workload.h) through a RegisterExtension.
// Thread safety: one seed at a time.
#ifndef MERIDIAN_TESTS_SIM_PAXOS_WORKLOAD_H_
#define MERIDIAN_TESTS_SIM_PAXOS_WORKLOAD_H_

#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/cluster.h"
#include "tests/sim/swarm.h"
#include "tests/sim/workload.h"

namespace meridian::sim {

// What a workload adds to the register run (the membership workload: placement). Each call
// happens once per seed, in this order.
class RegisterExtension {
 public:
  virtual ~RegisterExtension() = default;
  // The world exists and nothing has started; `rng` is the extension's own.
  virtual void Attach(Cluster& cluster, Random rng) = 0;
  // With the fault phase.
  virtual void Start() = 0;
  // At the heal, after the faults'.
  virtual void Heal() = 0;
  // When the clients stop starting ops, before the drain and the checkers.
  virtual void Finish() = 0;
  // Its counters, for the summary line.
  virtual std::string Summary() const = 0;
};

// One seed of the register workload (see above) over `params`, joined by `extension` (or none).
SeedResult RunRegisterSeed(uint64_t seed, const SwarmParams& params, const RunOptions& options,
                           RegisterExtension* extension);

class PaxosWorkload : public Workload {
 public:
  std::vector<std::string> Plants() const override;
  SeedResult RunSeed(uint64_t seed, const RunOptions& options) override;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_PAXOS_WORKLOAD_H_
