// FaultInjector: the fault phase of a workload (paxos, bank, append), over any FaultTarget.
// Independent random processes, each enabled or not by the seed's SwarmParams:
//  * crashes of one node, a minority, a majority or a whole group at once (a rack losing power),
//    each node restarted after a random down time;
//  * wipes (SwarmParams::wipes; with power losses too, below), aimed where a lost disk loses
//    chosen values: when a minority of a group lags behind a slot that some node W applied (its
//    members down, cut off or slow), a crash may instead (wipe_p) take down every node up that
//    holds that slot, W with its disk wiped. W and the laggards that are down come back within
//    wipe_down_max_us; the others stay down a lease and two election timeouts longer, so that W
//    and the laggards alone make a majority that never saw the slot's value. A wiped node refuses
//    to rejoin under its old identity and stays down for the rest of the seed
//    (testing_rejoin_after_wipe lets it rejoin, empty). At most (replicas - 1) / 2 distinct nodes
//    of a group are wiped per seed, so a majority remains and the group stays live;
//  * pauses of one node (the process stops; its clock does not);
//  * partitions of a group: one node isolated, majority/minority, ring, one-way;
//  * swizzle-clogging (FoundationDB): cut a random subset of a group's links one by one, then heal
//    them one by one in a different random order;
//  * power losses (SwarmParams::power_losses), aimed at the window between a follower's reply
//    and its sync: once armed for a group, the next sync a non-leader of that group starts is
//    cut short by a power loss at a random point before it completes: every node of the group
//    but the leader crashes (losing what it had not synced), the leader up to
//    power_loss_stagger_max_us later (long enough, often, to act on what the others
//    acknowledged). Then the nodes whose synced logs lack slot s = (the majority-th shortest
//    synced log) + 1 — a majority — come back within power_loss_short_us; the others, which
//    hold s, stay down an election window longer, so that a majority that never synced s
//    elects a leader. A slot that was chosen is synced on a majority, so s never is. With wipes
//    (within the same limit, with chance wipe_p), s is instead (the minority-th shortest synced
//    log) + 1 and a node that applied s and synced it is wiped: it and the minority without s
//    make the majority that comes back first;
//  * election clogs (SwarmParams::election_clogs), one per group at a time, around elections: a
//    group's leader is clogged (links held, not cut): either every link to it and, up to two
//    heartbeats later, every link from it (deaf first, so that the replies to its last messages
//    are held too), or (election_clog_follower_p) only its links with one follower, which then
//    campaigns among the others while the leader's lease runs. Once another node leads (or after
//    election_clog_max_us) and has had a heartbeat or two to take its lease, every held link is
//    released at once: the old leader hears its stale replies with the new leader's messages;
//  * snapshot lags (SwarmParams::snapshot_lags, with compaction only), one per group at a time,
//    aimed at snapshot installs: a follower of a group with a leader is cut off from the others
//    (every link both ways) or crashed, until another node of the group has compacted its log past
//    the follower's last slot (or snapshot_lag_max_us passed); up to two heartbeats later its
//    links heal, or it restarts (unless another fault took it down meanwhile), and it must
//    install a snapshot to catch up;
//  * network drop/duplicate/delay spikes, set in SwarmParams::net for the whole fault phase.
// Heal() ends the phase: every link heals and held links are released, the network turns calm,
// every crashed node restarts (a wiped one refuses); pauses run out on their own (the liveness
// bound allows for them).
//
// Seed: all choices from the injected Random; a fault that the seed does not enable draws
// nothing, so seeds without the later ones run as before. Checkers: none (faults only). Bounded:
// every process stops at the end of the fault phase. Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_FAULTS_H_
#define MERIDIAN_TESTS_SIM_FAULTS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
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
  // The compaction point of its Paxos log (what its disk holds when it is down).
  virtual paxos::Index Compacted(Addr a) = 0;
  virtual void Pause(Addr a, int64_t us) = 0;
  // Alive and the leader of its group, as its replica believes.
  virtual bool Leads(Addr a) = 0;
  // `listener` hears of every sync a node starts: the node and how long until it is durable.
  virtual void SetSyncListener(std::function<void(Addr, int64_t latency_us)> listener) = 0;
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
  // How long nodes back within `short_us` may need to elect a leader.
  int64_t ElectionWindowUs(int64_t short_us) const;
  // Restarts `a` after `down_us`, unless it crashes again (or is rescheduled) meanwhile.
  void RestartAfter(Addr a, int64_t down_us);
  // Power losses: Arm picks the group whose next non-leader sync the power loss cuts short.
  void ArmPowerLoss();
  void OnSync(Addr a, int64_t latency_us);
  void PowerLoss(paxos::GroupId g);
  // Restarts the crashed group `g`, whose nodes had applied `applied` when they crashed: those
  // without the deciding slot soon, the rest later; may wipe one first.
  void RestartAfterPowerLoss(paxos::GroupId g, const std::map<Addr, paxos::Index>& applied);
  void ElectionClog();
  // Releases the held `links` once a node of `g` other than `x` leads (or at `give_up`).
  void WatchElection(paxos::GroupId g, Addr x, const std::vector<std::pair<Addr, Addr>>& links,
                     TrueUs give_up);
  void SnapshotLag();
  // Ends the lag of follower `f` of `g` (its `cuts` heal, or, when `epoch` is set, it restarts
  // unless crashed again since) once another node compacted past `behind` (or at `give_up`).
  void WatchSnapshotLag(paxos::GroupId g, Addr f, paxos::Index behind,
                        const std::vector<std::pair<Addr, Addr>>& cuts,
                        std::optional<uint64_t> epoch, TrueUs give_up);
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
  std::optional<paxos::GroupId> power_loss_armed_;
  std::set<paxos::GroupId> election_clogged_;
  std::set<paxos::GroupId> snapshot_lagging_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_FAULTS_H_
