// MembershipWorkload: the seed's parameters; the run is the register run (paxos_workload.h)
// joined by Placement. See membership_workload.h.
//
// Seed: DrawSwarm(seed), then a Random of the workload's own for what it changes and for
// MembershipParams. Workload/faults/checkers: the register run's and placement's.
#include "tests/sim/membership_workload.h"

#include "tests/sim/cluster.h"
#include "tests/sim/paxos_workload.h"
#include "tests/sim/placement.h"
#include "tests/sim/swarm.h"

namespace meridian::sim {

std::vector<std::string> MembershipWorkload::Plants() const { return MembershipPlants(); }

SeedResult MembershipWorkload::RunSeed(uint64_t seed, const RunOptions& options) {
  SwarmParams params = DrawSwarm(seed);
  Random r(seed * 0xD1B54A32D192ED03ull + 0x3E3B);
  // Fewer groups, each with time for several changes; snapshots in most seeds, since a new
  // replica catching up from one is what this workload is about.
  params.groups = r.Bernoulli(0.7) ? 1 : 2;
  params.fault_phase_us = r.Range(6'000'000, 15'000'000);
  if (params.checkpoint_every == 0 && r.Bernoulli(0.5)) {
    DrawCompaction(r, params, /*every_max=*/50, /*retain_max=*/10);
  }
  const MembershipParams membership = DrawMembership(r);
  params.spares = membership.Spares();
  Placement placement(membership, params);
  return RunRegisterSeed(seed, params, options, &placement);
}

}  // namespace meridian::sim
