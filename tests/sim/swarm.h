// SwarmParams: everything one seed of the paxos workload draws about itself (swarm testing): the
// cluster shape, replica timings, clock bounds, network and disk behaviour, which faults are
// enabled and how often, the fault-phase length and the client mix. Two seeds differ in the whole
// fault mix, not only in the order of events, so rare combinations get explored; and most seeds
// focus on one kind of aimed fault with the others off, so that each gets seeds of its own.
//
// Seed: DrawSwarm is a pure function of the seed; parameters added later are drawn after all
// older ones, so every older seed keeps its draws (and, when the later draws give it no aimed
// fault, no focus and no compaction, its run). Workload: paxos register. Faults: chosen here
// (crashes, wipes, pauses, partitions, clogging, network, and the aimed ones of DrawAimedFaults:
// power losses in the sync window, election clogs, and the focus; of DrawCompaction: snapshot
// lags), injected by faults.h. Checkers: none.
// Thread safety: plain values.
#ifndef MERIDIAN_TESTS_SIM_SWARM_H_
#define MERIDIAN_TESTS_SIM_SWARM_H_

#include <cstdint>
#include <string>

#include "common/random.h"
#include "tests/sim/network.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

struct SwarmParams {
  // Cluster and replica options.
  int groups = 1;
  int replicas = 3;
  int spares = 0;  // per group: nodes that placement may add to it (the membership workload)
  int64_t lease_us = 2'000'000;
  int64_t heartbeat_us = 250'000;
  int64_t election_timeout_us = 1'000'000;
  int64_t campaign_retry_us = 500'000;
  int64_t tick_us = 10'000;
  truetime::SimulatedClockBounds clock;
  int64_t disk_latency_min_us = 100;
  int64_t disk_latency_max_us = 1'000;
  double disk_stall_p = 0;  // chance a sync stalls (an fsync spike) for up to disk_stall_max_us
  int64_t disk_stall_max_us = 0;

  // Faults (during the fault phase only).
  NetworkParams net;
  bool crashes = false;
  int64_t crash_every_us = 0;
  int64_t down_max_us = 0;
  // Relative weights of crashing one node, a minority, a majority, the whole group at once.
  int crash_shape_weights[4] = {1, 1, 1, 1};
  bool pauses = false;
  int64_t pause_every_us = 0;
  int64_t pause_max_us = 0;
  bool partitions = false;
  int64_t partition_every_us = 0;
  int64_t partition_max_us = 0;
  bool clogging = false;
  int64_t clog_every_us = 0;
  int64_t clog_step_us = 0;
  int64_t fault_phase_us = 5'000'000;
  // Wipes (only with crashes or power losses; aimed as faults.h says): a crash or a power loss
  // sometimes wipes one of the nodes it takes down (its disk loses everything, so it refuses to
  // restart). At most (replicas - 1) / 2 nodes of a group are wiped per seed, so a majority of
  // every group remains.
  bool wipes = false;
  double wipe_p = 0;  // chance that a crash wipes a node, when one is worth wiping
  // The wiped node and the lagging nodes come back within this (the wiped one only when it may
  // rejoin: testing_rejoin_after_wipe), before the others of the crash.
  int64_t wipe_down_max_us = 0;
  // Power losses (aimed at the sync window, faults.h): a group loses power while a follower's
  // write is in flight, its leader up to power_loss_stagger_max_us later; the nodes whose disks
  // lack the slot that decides the next election come back within power_loss_short_us, the
  // others after an election window.
  bool power_losses = false;
  int64_t power_loss_every_us = 0;
  int64_t power_loss_stagger_max_us = 0;
  int64_t power_loss_short_us = 0;
  // Election clogs (FoundationDB's clogging, aimed at elections, faults.h): the links of a group's
  // leader are held (every link to and from it, or with election_clog_follower_p only its links
  // with one follower) until another node leads or election_clog_max_us passes, then released at
  // once.
  bool election_clogs = false;
  int64_t election_clog_every_us = 0;
  double election_clog_follower_p = 0;
  int64_t election_clog_max_us = 0;

  // Compaction and snapshots (replica_process.h): a checkpoint every checkpoint_every applied
  // entries (0: never), the log compacted to retain_entries below it.
  uint64_t checkpoint_every = 0;
  uint64_t retain_entries = 0;
  // A snapshot install's data write takes up to this much longer than a sync.
  int64_t snapshot_install_max_us = 0;
  // Snapshot lags (aimed at snapshots, faults.h; only with compaction): a follower is cut off from
  // its group, or crashed, until another node of the group compacted its log past the follower's
  // (or snapshot_lag_max_us passed), so that it comes back needing a snapshot.
  bool snapshot_lags = false;
  int64_t snapshot_lag_every_us = 0;
  int64_t snapshot_lag_max_us = 0;

  // Clients.
  int clients_per_group = 1;
  int keys = 2;
  int64_t think_max_us = 10'000;
  double put_p = 0.45;  // then log get with get_p, else a lease read
  double get_p = 0.15;
  int max_attempts = 6;
  int64_t op_timeout_us = 5'000'000;

  // The network after the heal.
  NetworkParams CalmNetwork() const;
  // How long after the heal every group must have committed again.
  int64_t LivenessBoundUs() const;
  std::string ToString() const;
};

SwarmParams DrawSwarm(uint64_t seed);
// Draws the aimed faults (power losses, election clogs) of `p` from `r`, after everything else,
// and the seed's focus: 5 seeds in 8 focus on power losses, election clogs, or lost disks
// (crashes and power losses, every one that can wiping a disk), with their rate raised and every
// other fault process but the network's turned off; the others keep their mix and have each
// aimed fault with chance 1/4. Shared by DrawTxnSwarm.
void DrawAimedFaults(Random& r, SwarmParams& p);
// Draws compaction (3 seeds in 5: a checkpoint every max(2, every_max / 10)..every_max entries,
// 0..retain_max entries kept below it, installs up to 0.5 s long) and, with it, snapshot lags (3
// in 5 of those), after everything else, DrawAimedFaults included. Shared by DrawTxnSwarm, whose
// logs grow slower.
void DrawCompaction(Random& r, SwarmParams& p, int64_t every_max, int64_t retain_max);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_SWARM_H_
