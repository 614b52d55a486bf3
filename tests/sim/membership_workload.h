// MembershipWorkload: the "membership" workload of meridian_sim, the paxos workload
// (paxos_workload.h) with membership changes through the log. One seed = one run:
//   seed      -> SwarmParams as the paxos workload draws them, then (from a Random of its own) 1
//                or 2 groups of 3 or 5 voters, a longer fault phase, compaction in most seeds,
//                and MembershipParams (placement.h): how many plans, how fast, which kinds;
//   workload  -> register clients (clients.h) while placement (placement.h) walks each group's
//                configuration one step at a time with the server's walker: new replicas
//                (spares, started unconfigured or as learners) catch up from the log or a
//                snapshot and are promoted, old voters are removed (a removed one lingers, then
//                stops), voters that lost their disks are replaced; sometimes two changes are
//                tried at once (refused by the one-change rule);
//   faults    -> the paxos workload's fault phase (faults.h), plus splits aimed at the moment of
//                a change (placement.h), and wipes filtered so that every configuration in use
//                or planned keeps a majority that can restart; then heal (the plan in progress
//                goes on), liveness, a bounded drain over the members of the committed
//                configuration (placement retires the others);
//   checkers  -> those of the paxos workload: slot agreement, including every state taken on
//                from a snapshot by a replica added later (no chosen value lost across a
//                snapshot or a membership change), lease disjointness, linearizability,
//                durability, liveness; meridian_sim adds determinism. Two configuration changes
//                in flight are no checker of their own: they are caught by these.
// Planted bugs: MembershipPlants() — paxos::Options::testing_two_config_changes and
// testing_learner_votes, and the compaction plants.
// Thread safety: one seed at a time.
#ifndef MERIDIAN_TESTS_SIM_MEMBERSHIP_WORKLOAD_H_
#define MERIDIAN_TESTS_SIM_MEMBERSHIP_WORKLOAD_H_

#include <string>
#include <vector>

#include "tests/sim/workload.h"

namespace meridian::sim {

class MembershipWorkload : public Workload {
 public:
  std::vector<std::string> Plants() const override;
  SeedResult RunSeed(uint64_t seed, const RunOptions& options) override;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_MEMBERSHIP_WORKLOAD_H_
