// FaultInjector: the fault phase of a workload (paxos, bank, append), over any FaultTarget.
// Independent random processes, each enabled or not by the seed's SwarmParams:
//  * crashes of one node, a minority, a majority or a whole group at once (a rack losing power),
//    each node restarted after a random down time;
//  * pauses of one node (the process stops; its clock does not);
//  * partitions of a group: one node isolated, majority/minority, ring, one-way;
//  * swizzle-clogging (FoundationDB): cut a random subset of a group's links one by one, then heal
//    them one by one in a different random order;
//  * network drop/duplicate/delay spikes, set in SwarmParams::net for the whole fault phase.
// Heal() ends the phase: every link heals, the network turns calm, every crashed node restarts;
// pauses run out on their own (the liveness bound allows for them).
//
// Seed: all choices from the injected Random. Checkers: none (faults only). Bounded: every process
// stops at the end of the fault phase. Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_FAULTS_H_
#define MERIDIAN_TESTS_SIM_FAULTS_H_

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "common/random.h"
#include "spanserver/paxos/types.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/network.h"
#include "tests/sim/swarm.h"

namespace meridian::sim {

// The simulated world a FaultInjector acts on: replicas grouped by Paxos group, addressed 0..n-1.
class FaultTarget {
 public:
  virtual ~FaultTarget() = default;
  virtual EventLoop& loop() = 0;
  virtual Network& net() = 0;
  virtual int num_nodes() const = 0;
  virtual const std::vector<paxos::GroupId>& groups() const = 0;
  virtual const std::vector<Addr>& GroupNodes(paxos::GroupId g) const = 0;
  virtual void Crash(Addr a) = 0;
  virtual void Restart(Addr a) = 0;  // no-op when the node is up
  virtual void Pause(Addr a, int64_t us) = 0;
};

class FaultInjector {
 public:
  FaultInjector(FaultTarget* cluster, const SwarmParams& params, Random rng);

  // Starts the enabled fault processes; they stop by themselves at `end`.
  void Start(TrueUs end);
  void Heal();

 private:
  bool Active() const;
  // Schedules `step` after a random wait of mean `every_us`, again and again while active.
  void Every(int64_t every_us, void (FaultInjector::*step)());
  void CrashSome();
  void PauseOne();
  void Partition();
  void Clog();
  paxos::GroupId PickGroup();

  FaultTarget* const cluster_;
  const SwarmParams params_;
  Random rng_;
  TrueUs end_ = 0;
  bool healed_ = false;
  std::map<Addr, uint64_t> crash_epoch_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_FAULTS_H_
