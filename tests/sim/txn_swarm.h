// TxnSwarmParams: everything one seed of the transaction workloads (bank, append) draws about
// itself: the Paxos world (SwarmParams: groups, replicas, timings, network, disks, faults), the
// replicas' clocks (sometimes a large epsilon with every clock skewed near the edge of its bound,
// so that a missing commit wait becomes visible), the transaction managers' timers, and the
// clients' mix (read-write vs read-only, snapshot reads at older timestamps, clients that vanish
// mid-transaction).
//
// Seed: DrawTxnSwarm is a pure function of the seed; parameters added later are drawn last (the
// aimed faults and the focus of swarm.h's DrawAimedFaults, then its DrawCompaction, then the range
// moves, last of all).
// Workload: bank and append. Faults: chosen here, injected by faults.h. Checkers: none. Thread
// safety: plain values.
#ifndef MERIDIAN_TESTS_SIM_TXN_SWARM_H_
#define MERIDIAN_TESTS_SIM_TXN_SWARM_H_

#include <cstdint>
#include <string>

#include "tests/sim/swarm.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

struct TxnSwarmParams {
  SwarmParams paxos;  // groups, replicas, timings, replica clock bounds, network, disks, faults
  // Replica clocks: when set, every replica's offset sits within 20% of +-base_error_us and never
  // changes at a resync (the worst skew TrueTime allows, on every node at once).
  bool edge_skew = false;
  truetime::SimulatedClockBounds client_clock;

  // Transaction manager timers.
  int64_t txn_idle_timeout_us = 2'000'000;
  int64_t in_doubt_inquiry_us = 500'000;
  int64_t safe_time_interval_us = 100'000;
  int64_t snapshot_wait_us = 300'000;
  // Tiny, so that abort decisions are dropped to their ids almost at once and the late Commits,
  // inquiries and records about them meet the forgotten-abort path.
  size_t max_abort_decisions = 2;

  // Clients.
  int clients = 4;
  int64_t think_max_us = 10'000;
  double read_only_p = 0.3;   // a read-only transaction instead of a read-write one
  double stale_read_p = 0.2;  // of read-only ones: a snapshot read at an older timestamp
  int64_t stale_max_us = 50'000;
  double vanish_p = 0.02;     // a client stops mid-transaction (no abort) and a new one takes over
  int max_txn_attempts = 6;   // a read-write transaction is retried after ABORTED this many times
  int max_call_attempts = 5;  // a read/prepare/snapshot read is retried elsewhere this many times
  int64_t call_timeout_us = 1'000'000;
  int64_t keepalive_us = 500'000;
  // Of multi-group commits: the Commit goes to the coordinator together with the prepares, as
  // the SDK sends it (with no prepare timestamps), instead of after their answers.
  double concurrent_commit_p = 0.5;

  // After the heal, clients keep running on the calm network at least this long.
  int64_t calm_us = 1'000'000;

  // Workload size: bank accounts, or append keys.
  int keys = 8;

  // Range moves and splits (txn_mover.h), drawn last of all: how many operations the mover
  // carries out mid-run, the share of them that are splits, how late a server's copy of the map
  // may take on a switch, and the chance of a probe read at each replica of a range's new group
  // at its map switch (TxnClients::Probe).
  int moves = 0;
  double split_p = 0;
  int64_t map_lag_max_us = 0;
  double follower_read_p = 0;

  // Peer clock checks and lying clocks (truetime/peer_clock_check.h), drawn after the moves:
  // whether the replicas probe each other's clocks (TrueTime then widens, or refuses past
  // TrueTime::kWidenedGuardFactor x clock_guard_us), and whether one server's clock — replica
  // `clock_liar` of every group — lies during the fault phase: clock_lie_us past its bound from the
  // start (a step), or growing at clock_lie_drift_ppm (a clock running fast or slow), until the
  // heal.
  bool clock_check = false;
  int64_t clock_probe_us = 100'000;
  int64_t clock_guard_us = 0;
  int64_t clock_lie_us = 0;
  int64_t clock_lie_drift_ppm = 0;
  int clock_liar = 0;  // 0: no lie

  std::string ToString() const;
};

TxnSwarmParams DrawTxnSwarm(uint64_t seed);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_SWARM_H_
