// FaultInjector: the fault phase of a workload (paxos, bank, append), over any FaultTarget.
// Independent random processes, each enabled or not by the seed's SwarmParams:
//  * crashes of one node, a minority, a majority or a whole group at once (a rack losing power),
//    each node restarted after a random down time;
//  * wipes, with crashes (SwarmParams::wipes), aimed where a lost disk loses chosen values: when a
//    minority of a group lags behind a slot that some node W applied (its members down, cut off
//    or slow), a crash may instead (wipe_p) take down every node up that holds that slot, W with
//    its disk wiped. W and the laggards that are down come back within wipe_down_max_us; the
//    others stay down a lease and two election timeouts longer, so that W and the laggards alone
//    make a majority that never saw the slot's value. A wiped node refuses to rejoin under its
//    old identity and stays down for the rest of the seed (testing_rejoin_after_wipe lets it
//    rejoin, empty). At most (replicas - 1) / 2 distinct nodes of a group are wiped per seed, so a
//    majority remains and the group stays live;
//  * pauses of one node (the process stops; its clock does not);
//  * partitions of a group: one node isolated, majority/minority, ring, one-way;
//  * swizzle-clogging (FoundationDB): cut a random subset of a group's links one by one, then heal
//    them one by one in a different random order;
//  * network drop/duplicate/delay spikes, set in SwarmParams::net for the whole fault phase.
// Heal() ends the phase: every link heals, the network turns calm, every crashed node restarts
// (a wiped one refuses); pauses run out on their own (the liveness bound allows for them).
//
// Seed: all choices from the injected Random. Checkers: none (faults only). Bounded: every process
// stops at the end of the fault phase. Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_FAULTS_H_
#define MERIDIAN_TESTS_SIM_FAULTS_H_

#include <cstdint>
#include <map>
#include <set>
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
  // Crash(a) and a disk that loses everything (log, hard state, replica marker).
  virtual void Wipe(Addr a) = 0;
  virtual void Restart(Addr a) = 0;  // no-op when the node is up (or refuses to start)
  // What wipes aim by: whether the node is alive (neither crashed nor refused), the last index of
  // its Paxos log (what its disk holds when it is down) and the last slot it applied (0 when down).
  virtual bool Up(Addr a) = 0;
  virtual paxos::Index LastIndex(Addr a) = 0;
  virtual paxos::Index Applied(Addr a) = 0;
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
  // The node of group `g` (its `nodes`) to wipe instead of the drawn crash, or -1: only while a
  // minority lags behind a slot it applied, within the group's wipe limit, with chance wipe_p.
  Addr PickWipe(paxos::GroupId g, const std::vector<Addr>& nodes);
  // How many of `nodes` lack the last slot that `a` applied (their logs end before it).
  size_t Lagging(const std::vector<Addr>& nodes, Addr a);
  // Wipes `wiped` and crashes the other nodes up that hold its last applied slot; restarts the
  // laggards that are down soon.
  void CrashAndWipe(paxos::GroupId g, const std::vector<Addr>& nodes, Addr wiped);
  // How long the wiped node and the laggards may need to come back and elect a leader.
  int64_t ElectionWindowUs() const;
  // Restarts `a` after `down_us`, unless it crashes again (or is rescheduled) meanwhile.
  void RestartAfter(Addr a, int64_t down_us);
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
  std::map<paxos::GroupId, std::set<Addr>> wiped_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_FAULTS_H_
