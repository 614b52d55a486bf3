// DrawTxnSwarm: the per-seed parameter draw of the transaction workloads; see txn_swarm.h.
//
// Seed: a Random seeded from the seed alone; new parameters are drawn last (the aimed faults and
// the compaction of swarm.h last of all). Faults: which are enabled (wipes, power losses, election
// clogs, snapshot lags too) and their rates.
#include "tests/sim/txn_swarm.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "truetime/truetime.h"

namespace meridian::sim {

std::string TxnSwarmParams::ToString() const {
  return absl::StrCat(
      paxos.ToString(), edge_skew ? " edge_skew" : "",
      " client_clock(base=", client_clock.base_error_us, "us drift=", client_clock.max_drift_ppm,
      "ppm) idle=", txn_idle_timeout_us, "us inquiry=", in_doubt_inquiry_us,
      "us safe_time=", safe_time_interval_us, "us snapshot_wait=", snapshot_wait_us,
      "us txn_clients=", clients, " ro=", read_only_p, " stale=", stale_read_p, "/", stale_max_us,
      "us vanish=", vanish_p, " calm=", calm_us, " call_timeout=", call_timeout_us,
      "us keys=", keys, " concurrent_commit=", concurrent_commit_p, " moves=", moves,
      " split=", split_p, " map_lag=", map_lag_max_us, "us follower_read=", follower_read_p,
      clock_check
          ? absl::StrCat(" clock_check(probe=", clock_probe_us, "us guard=", clock_guard_us, "us)")
          : "",
      clock_liar > 0 ? absl::StrCat(" clock_lie(r", clock_liar, " ", clock_lie_us, "us ",
                                    clock_lie_drift_ppm, "ppm)")
                     : "");
}

TxnSwarmParams DrawTxnSwarm(uint64_t seed) {
  Random r(seed * 0xD1B54A32D192ED03ull + 0x7A11);
  TxnSwarmParams t;
  SwarmParams& p = t.paxos;
  p.groups = static_cast<int>(r.Range(2, 4));
  p.replicas = r.Bernoulli(0.8) ? 3 : 5;
  p.lease_us = r.Range(300'000, 1'500'000);
  p.heartbeat_us = p.lease_us / r.Range(4, 10);
  p.election_timeout_us = r.Range(p.lease_us / 2, p.lease_us * 3 / 2);
  p.campaign_retry_us = r.Range(50'000, 500'000);
  p.tick_us = r.Range(2'000, 20'000);

  // Clocks: a third of the seeds run with a large epsilon and every replica skewed near the edge
  // of it, on a fast network and fast disks, so that a commit that does not wait is seen by a
  // later transaction.
  const uint64_t clock_kind = r.Uniform(3);
  t.edge_skew = clock_kind == 0;
  p.clock.base_error_us = clock_kind == 0   ? r.Range(5'000, 20'000)
                          : clock_kind == 1 ? r.Range(0, 300)
                                            : r.Range(300, 4'000);
  p.clock.max_drift_ppm = r.Range(0, 200);
  p.clock.sync_interval_us = r.Range(500'000, 30'000'000);
  t.client_clock.base_error_us = r.Bernoulli(0.7) ? r.Range(0, 200) : r.Range(200, 5'000);
  t.client_clock.max_drift_ppm = r.Range(0, 200);
  t.client_clock.sync_interval_us = r.Range(500'000, 30'000'000);

  const bool fast = t.edge_skew || r.Bernoulli(0.3);
  p.net.delay_min_us = fast ? r.Range(20, 200) : r.Range(50, 2'000);
  const uint64_t spread_kind = fast ? 0 : r.Uniform(3);
  p.net.delay_max_us = p.net.delay_min_us + (spread_kind == 0   ? r.Range(0, 500)
                                             : spread_kind == 1 ? r.Range(0, 10'000)
                                                                : r.Range(0, 50'000));
  if (r.Bernoulli(0.5)) p.net.drop_p = r.NextDouble() * 0.05;
  if (r.Bernoulli(0.4)) p.net.duplicate_p = r.NextDouble() * 0.05;
  if (r.Bernoulli(0.3)) {
    p.net.spike_p = 0.001 + r.NextDouble() * 0.02;
    p.net.spike_max_us = r.Range(50'000, 1'000'000);
  }
  p.disk_latency_min_us = fast ? r.Range(10, 100) : r.Range(20, 1'000);
  p.disk_latency_max_us = p.disk_latency_min_us +
                          (fast ? r.Range(0, 300) : r.Range(0, r.Bernoulli(0.5) ? 2'000 : 20'000));
  if (r.Bernoulli(0.3)) {
    p.disk_stall_p = 0.001 + r.NextDouble() * 0.03;
    p.disk_stall_max_us = r.Range(20'000, 500'000);
  }

  p.crashes = r.Bernoulli(0.5);
  p.crash_every_us = r.Range(300'000, 3'000'000);
  p.down_max_us = r.Range(10'000, 3'000'000);
  for (int& w : p.crash_shape_weights) w = static_cast<int>(r.Range(0, 3));
  p.crash_shape_weights[0] += 2;
  p.pauses = r.Bernoulli(0.3);
  p.pause_every_us = r.Range(300'000, 3'000'000);
  p.pause_max_us = p.pauses ? r.Range(10'000, 2 * p.lease_us) : 0;
  p.partitions = r.Bernoulli(0.4);
  p.partition_every_us = r.Range(300'000, 3'000'000);
  p.partition_max_us = r.Range(100'000, 2'000'000);
  p.clogging = r.Bernoulli(0.2);
  p.clog_every_us = r.Range(500'000, 3'000'000);
  p.clog_step_us = r.Range(10'000, 200'000);
  p.fault_phase_us = r.Range(2'000'000, 5'000'000);
  p.op_timeout_us = 2 * p.lease_us + 1'000'000;

  t.txn_idle_timeout_us = r.Range(300'000, 3'000'000);
  t.in_doubt_inquiry_us = r.Range(50'000, 1'000'000);
  t.safe_time_interval_us = r.Range(10'000, 200'000);
  t.snapshot_wait_us = r.Range(50'000, 500'000);

  t.clients = static_cast<int>(r.Range(2, 6));
  t.think_max_us = r.Bernoulli(0.5) ? r.Range(0, 2'000) : r.Range(0, 30'000);
  t.read_only_p = 0.15 + r.NextDouble() * 0.35;
  t.stale_read_p = r.NextDouble() * 0.4;
  t.stale_max_us = r.Range(1'000, 200'000);
  t.vanish_p = r.Bernoulli(0.5) ? r.NextDouble() * 0.05 : 0;
  t.call_timeout_us = r.Range(300'000, 1'500'000) + 4 * p.clock.base_error_us;
  t.keepalive_us = std::max<int64_t>(50'000, t.txn_idle_timeout_us / 4);
  t.keys = static_cast<int>(r.Range(6, 16));
  t.calm_us = r.Range(500'000, 2'000'000);
  // Drawn last, so that the draws above stay what earlier seeds had.
  t.concurrent_commit_p = r.Bernoulli(0.25) ? 0 : (r.Bernoulli(0.5) ? 1 : 0.5);
  // Drawn after it, for the same reason.
  p.wipes = r.Bernoulli(0.5);
  p.wipe_p = 0.5 + r.NextDouble() * 0.5;
  p.wipe_down_max_us = r.Range(1'000, std::max<int64_t>(2'000, p.down_max_us / 4));
  // Drawn after the wipes, for the same reason.
  DrawAimedFaults(r, p);
  // Drawn after the aimed faults, for the same reason. A group of these workloads logs about ten
  // entries a second.
  DrawCompaction(r, p, /*every_max=*/16, /*retain_max=*/4);
  // Drawn after the compaction, for the same reason.
  t.moves = r.Bernoulli(0.85) ? static_cast<int>(r.Range(1, 4)) : 0;
  t.split_p = r.NextDouble() * 0.4;
  t.map_lag_max_us = r.Bernoulli(0.5) ? r.Range(0, 5'000) : r.Range(5'000, 100'000);
  t.follower_read_p = r.Bernoulli(0.8) ? 0.2 + r.NextDouble() * 0.6 : 0;
  // Drawn after the moves, for the same reason. Lies only where the check is on: without it a
  // lying clock breaks external consistency, which is the point of the check.
  t.clock_check = r.Bernoulli(0.5);
  t.clock_probe_us = r.Range(20'000, 300'000);
  t.clock_guard_us = p.clock.MaxErrorUs() + r.Range(1'000, 20'000);
  if (t.clock_check && r.Bernoulli(0.9)) {
    t.clock_liar = static_cast<int>(r.Range(1, p.replicas));
    const uint64_t kind = r.Bernoulli(0.5) ? 0 : 1 + r.Uniform(2);
    // A step far past the widened guard (fenced), a step within it (widened), or a drift.
    const int64_t widened_guard = truetime::TrueTime::kWidenedGuardFactor * t.clock_guard_us;
    t.clock_lie_us = kind == 0   ? r.Range(2 * widened_guard, 2'000'000)
                     : kind == 1 ? r.Range(1, widened_guard)
                                 : r.Range(1, 1'000);
    t.clock_lie_drift_ppm = kind == 2 ? r.Range(1'000, 200'000) : 0;
  }
  return t;
}

}  // namespace meridian::sim
