// SwarmParams: everything one seed of the paxos workload draws about itself (swarm testing): the
// cluster shape, replica timings, clock bounds, network and disk behaviour, which faults are
// enabled and how often, the fault-phase length and the client mix. Two seeds differ in the whole
// fault mix, not only in the order of events, so rare combinations get explored.
//
// Seed: DrawSwarm is a pure function of the seed; parameters added later are drawn after all
// older ones, so every older seed keeps its parameters (and, with the new faults off, its run).
// Workload: paxos register. Faults: chosen here (crashes, wipes, pauses, partitions, clogging,
// network), injected by faults.h. Checkers: none. Thread safety: plain values.
#ifndef MERIDIAN_TESTS_SIM_SWARM_H_
#define MERIDIAN_TESTS_SIM_SWARM_H_

#include <cstdint>
#include <string>

#include "tests/sim/network.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

struct SwarmParams {
  // Cluster and replica options.
  int groups = 1;
  int replicas = 3;
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
  // Wipes (only with crashes; aimed as faults.h says): a crash sometimes wipes one of the nodes it
  // takes down (its disk loses everything, so it refuses to restart). At most (replicas - 1) / 2
  // nodes of a group are wiped per seed, so a majority of every group remains.
  bool wipes = false;
  double wipe_p = 0;  // chance that a crash wipes a node, when one is worth wiping
  // The wiped node and the lagging nodes come back within this (the wiped one only when it may
  // rejoin: testing_rejoin_after_wipe), before the others of the crash.
  int64_t wipe_down_max_us = 0;

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

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_SWARM_H_
