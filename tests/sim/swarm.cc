// DrawSwarm: the per-seed parameter draw; see swarm.h.
//
// Seed: a Random seeded from the seed alone; new parameters are drawn last (the aimed faults,
// then compaction, last of all). Faults: which are enabled and their rates.
#include "tests/sim/swarm.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/random.h"

namespace meridian::sim {

NetworkParams SwarmParams::CalmNetwork() const {
  NetworkParams calm = net;
  calm.delay_max_us = std::min(net.delay_max_us, net.delay_min_us + 2'000);
  calm.drop_p = 0;
  calm.duplicate_p = 0;
  calm.spike_p = 0;
  calm.spike_max_us = 0;
  return calm;
}

int64_t SwarmParams::LivenessBoundUs() const {
  // A crashed-and-restarted majority waits one lease before voting; an election can need a few
  // rounds of timeouts and retries; a paused node may still be paused at the heal.
  return 3 * lease_us + 4 * election_timeout_us + 4 * campaign_retry_us + pause_max_us +
         clock.MaxErrorUs() * 4 + 2'000'000;
}

std::string SwarmParams::ToString() const {
  std::string s = absl::StrCat(
      "groups=", groups, "x", replicas, " lease=", lease_us, "us hb=", heartbeat_us,
      "us election=", election_timeout_us, "us retry=", campaign_retry_us, "us tick=", tick_us,
      "us clock(base=", clock.base_error_us, "us drift=", clock.max_drift_ppm,
      "ppm sync=", clock.sync_interval_us, "us) disk=[", disk_latency_min_us, ",",
      disk_latency_max_us, "]us stall=", disk_stall_p, "/", disk_stall_max_us, "us net(",
      net.ToString(), ") fault_phase=", fault_phase_us, "us");
  if (spares > 0) absl::StrAppend(&s, " spares=", spares);
  if (crashes) {
    absl::StrAppend(&s, " crash(every=", crash_every_us, " down<=", down_max_us,
                    " shapes=", crash_shape_weights[0], ":", crash_shape_weights[1], ":",
                    crash_shape_weights[2], ":", crash_shape_weights[3], ")");
  }
  if (pauses) absl::StrAppend(&s, " pause(every=", pause_every_us, " <=", pause_max_us, ")");
  if (partitions) {
    absl::StrAppend(&s, " partition(every=", partition_every_us, " <=", partition_max_us, ")");
  }
  if (clogging) absl::StrAppend(&s, " clog(every=", clog_every_us, " step=", clog_step_us, ")");
  if ((crashes || power_losses) && wipes) {
    absl::StrAppend(&s, " wipe(p=", wipe_p, " down<=", wipe_down_max_us, ")");
  }
  if (power_losses) {
    absl::StrAppend(&s, " power_loss(every=", power_loss_every_us,
                    " stagger<=", power_loss_stagger_max_us, " short<=", power_loss_short_us, ")");
  }
  if (election_clogs) {
    absl::StrAppend(&s, " election_clog(every=", election_clog_every_us,
                    " follower_p=", election_clog_follower_p, " <=", election_clog_max_us, ")");
  }
  if (checkpoint_every > 0) {
    absl::StrAppend(&s, " compaction(every=", checkpoint_every, " retain=", retain_entries,
                    " install<=", snapshot_install_max_us, "us)");
  }
  if (checkpoint_every > 0 && snapshot_lags) {
    absl::StrAppend(&s, " snapshot_lag(every=", snapshot_lag_every_us, " <=", snapshot_lag_max_us,
                    ")");
  }
  absl::StrAppend(&s, " clients=", clients_per_group, " keys=", keys, " think<=", think_max_us);
  return s;
}

SwarmParams DrawSwarm(uint64_t seed) {
  Random r(seed * 0x9E3779B97F4A7C15ull + 0x5157);
  SwarmParams p;
  p.groups = static_cast<int>(r.Range(1, 3));
  p.replicas = r.Bernoulli(0.6) ? 3 : 5;
  p.lease_us = r.Range(300'000, 2'000'000);
  p.heartbeat_us = p.lease_us / r.Range(4, 10);
  p.election_timeout_us = r.Range(p.lease_us / 2, p.lease_us * 3 / 2);
  p.campaign_retry_us = r.Range(50'000, 500'000);
  p.tick_us = r.Range(2'000, 20'000);

  const uint64_t clock_kind = r.Uniform(4);
  p.clock.base_error_us = clock_kind == 0   ? r.Range(0, 100)
                          : clock_kind == 3 ? r.Range(2'000, 8'000)
                                            : r.Range(100, 2'000);
  p.clock.max_drift_ppm = r.Range(0, 200);
  p.clock.sync_interval_us = r.Range(500'000, 30'000'000);

  p.net.delay_min_us = r.Range(50, 2'000);
  const uint64_t spread_kind = r.Uniform(3);
  p.net.delay_max_us = p.net.delay_min_us + (spread_kind == 0   ? r.Range(0, 1'000)
                                             : spread_kind == 1 ? r.Range(0, 20'000)
                                                                : r.Range(0, 100'000));
  if (r.Bernoulli(0.5)) p.net.drop_p = r.NextDouble() * 0.1;
  if (r.Bernoulli(0.3)) p.net.duplicate_p = r.NextDouble() * 0.05;
  if (r.Bernoulli(0.3)) {
    p.net.spike_p = 0.001 + r.NextDouble() * 0.02;
    p.net.spike_max_us = r.Range(50'000, 1'500'000);
  }

  p.disk_latency_min_us = r.Range(20, 1'000);
  const uint64_t disk_kind = r.Uniform(3);
  p.disk_latency_max_us = p.disk_latency_min_us + (disk_kind == 0   ? r.Range(0, 1'000)
                                                   : disk_kind == 1 ? r.Range(0, 20'000)
                                                                    : r.Range(0, 60'000));

  if (r.Bernoulli(0.4)) {
    p.disk_stall_p = 0.001 + r.NextDouble() * 0.05;
    p.disk_stall_max_us = r.Range(20'000, 1'000'000);
  }

  p.crashes = r.Bernoulli(0.6);
  p.crash_every_us = r.Range(200'000, 3'000'000);
  p.down_max_us = r.Range(10'000, 6'000'000);
  for (int& w : p.crash_shape_weights) w = static_cast<int>(r.Range(0, 3));
  p.crash_shape_weights[0] += 1;
  p.pauses = r.Bernoulli(0.35);
  p.pause_every_us = r.Range(300'000, 3'000'000);
  p.pause_max_us =
      p.pauses ? r.Range(10'000,
                         std::max<int64_t>(2'000'000, 2 * p.lease_us + 2 * p.election_timeout_us))
               : 0;
  p.partitions = r.Bernoulli(0.5);
  p.partition_every_us = r.Range(300'000, 3'000'000);
  p.partition_max_us = r.Range(100'000, 3'000'000);
  p.clogging = r.Bernoulli(0.3);
  p.clog_every_us = r.Range(500'000, 4'000'000);
  p.clog_step_us = r.Range(10'000, 300'000);
  p.fault_phase_us = r.Range(3'000'000, 10'000'000);

  p.clients_per_group = static_cast<int>(r.Range(1, 3));
  p.keys = static_cast<int>(r.Range(1, 3));
  p.think_max_us = r.Range(0, 50'000);
  p.op_timeout_us = 2 * p.lease_us + 1'000'000;

  // Drawn last, so that the draws above stay what earlier seeds had.
  p.wipes = r.Bernoulli(0.8);
  p.wipe_p = 0.5 + r.NextDouble() * 0.5;
  p.wipe_down_max_us = r.Range(1'000, std::max<int64_t>(2'000, p.down_max_us / 4));
  // Drawn after the wipes, for the same reason.
  DrawAimedFaults(r, p);
  // Drawn after the aimed faults, for the same reason. A group of this workload logs some tens
  // of entries a second.
  DrawCompaction(r, p, /*every_max=*/50, /*retain_max=*/10);
  return p;
}

void DrawCompaction(Random& r, SwarmParams& p, int64_t every_max, int64_t retain_max) {
  if (!r.Bernoulli(0.6)) return;
  // Often enough that a few seconds of traffic compact the log many times over.
  p.checkpoint_every =
      static_cast<uint64_t>(r.Range(std::max<int64_t>(2, every_max / 10), every_max));
  p.retain_entries = static_cast<uint64_t>(r.Range(0, retain_max));
  p.snapshot_install_max_us = r.Range(1'000, 500'000);
  p.snapshot_lags = r.Bernoulli(0.6);
  p.snapshot_lag_every_us = r.Range(200'000, 1'500'000);
  // Long enough for the group to elect a new leader (the lagging node may have led) and then
  // compact past the lagging node.
  p.snapshot_lag_max_us = p.lease_us + 2 * p.election_timeout_us + r.Range(500'000, 3'000'000);
}

void DrawAimedFaults(Random& r, SwarmParams& p) {
  // The focus (swarm.h); a focused seed is heavy on its kind of fault and has no other.
  enum class Focus { kNone, kPowerLosses, kElectionClogs, kLostDisks };
  const uint64_t roll = r.Uniform(8);
  const Focus focus = roll == 0   ? Focus::kPowerLosses
                      : roll <= 2 ? Focus::kElectionClogs
                      : roll <= 4 ? Focus::kLostDisks
                                  : Focus::kNone;
  const bool power_focus = focus == Focus::kPowerLosses || focus == Focus::kLostDisks;
  p.power_losses = r.Bernoulli(0.25) || power_focus;
  p.power_loss_every_us = power_focus ? r.Range(200'000, 800'000) : r.Range(800'000, 4'000'000);
  // Long enough, often, for the leader to apply what the others acknowledged.
  p.power_loss_stagger_max_us =
      r.Range(1'000, 4 * (p.disk_latency_max_us + p.net.delay_max_us) + 2'000);
  p.power_loss_short_us = r.Range(1'000, 300'000);
  p.election_clogs = r.Bernoulli(0.25) || focus == Focus::kElectionClogs;
  p.election_clog_every_us =
      focus == Focus::kElectionClogs ? r.Range(300'000, 1'500'000) : r.Range(1'500'000, 5'000'000);
  p.election_clog_follower_p = r.NextDouble() * 0.6;
  // Long enough for the others to elect (votes run out after a lease; campaigns may retry).
  p.election_clog_max_us =
      p.lease_us + 2 * p.election_timeout_us + 4 * p.campaign_retry_us + r.Range(0, p.lease_us);
  if (focus == Focus::kNone) return;
  // A focused seed keeps its network faults and turns every other fault process off.
  p.pauses = p.partitions = p.clogging = false;
  p.crashes = p.wipes = focus == Focus::kLostDisks;
  if (focus == Focus::kLostDisks) p.wipe_p = 1;
  if (focus == Focus::kElectionClogs) p.power_losses = false;
  if (focus != Focus::kElectionClogs) p.election_clogs = false;
}

}  // namespace meridian::sim
