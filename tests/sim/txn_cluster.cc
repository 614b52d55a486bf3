// TxnCluster implementation; see txn_cluster.h.
//
// Seed: node seeds, clocks and routing from the seed. Faults: crash, wipe, restart, pause entry
// points.
// Checkers: apply records and applied decisions.
#include "tests/sim/txn_cluster.h"

#include <algorithm>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "tests/sim/cluster.h"

namespace meridian::sim {

const std::vector<std::string>& TxnPlants() {
  static const auto* plants = [] {
    auto* p = new std::vector<std::string>{
        "testing_skip_commit_wait",
        "testing_release_read_locks_early",
        "testing_prepare_ts_not_above",
        "testing_snapshot_ignore_safe_time",
        "testing_trust_client_prepare_ts",
        // Range moves (txn_mover.h).
        "testing_serve_before_adopt",
        "testing_release_without_drain",
        "testing_skip_delta",
        // Peer clock checks (truetime/peer_clock_check.h).
        "testing_ignore_clock_offset",
    };
    for (const std::string& plant : CompactionPlants()) p->push_back(plant);
    return p;
  }();
  return *plants;
}

namespace {

void SetPlant(const std::string& plant, TxnNodeConfig& c) {
  if (plant.empty()) return;
  txn::TransactionManagerOptions& o = c.txn;
  const std::vector<std::string>& compaction = CompactionPlants();
  if (std::find(compaction.begin(), compaction.end(), plant) != compaction.end()) {
    CHECK(SetPaxosPlant(plant, c));
  } else if (plant == "testing_skip_commit_wait") {
    o.testing_skip_commit_wait = true;
  } else if (plant == "testing_release_read_locks_early") {
    o.testing_release_read_locks_early = true;
  } else if (plant == "testing_prepare_ts_not_above") {
    o.testing_prepare_ts_not_above = true;
  } else if (plant == "testing_snapshot_ignore_safe_time") {
    o.testing_snapshot_ignore_safe_time = true;
  } else if (plant == "testing_trust_client_prepare_ts") {
    o.testing_trust_client_prepare_ts = true;
  } else if (plant == "testing_serve_before_adopt") {
    o.guard.testing_serve_before_adopt = true;
  } else if (plant == "testing_release_without_drain") {
    o.testing_release_without_drain = true;
  } else if (plant == "testing_ignore_clock_offset") {
    c.testing_ignore_clock_offset = true;
  } else if (plant == "testing_skip_delta") {
    // The mover's (TxnMover reads TxnCluster::plant()).
  } else {
    CHECK_MSG(false, "unknown plant " + plant);
  }
}

}  // namespace

TxnCluster::TxnCluster(const TxnSwarmParams& params, uint64_t seed, const std::string& plant,
                       bool verbose)
    : time_(kSimEpochUs),
      rng_(seed),
      loop_(&time_, verbose, /*max_events=*/5'000'000),
      net_(&loop_, &rng_, [this](Addr to, const paxos::Message& m) { node(to).DeliverPaxos(m); }),
      plant_(plant),
      probe_rng_(seed ^ 0xC10C'0000'0000'0000ull),
      map_lag_max_us_(params.map_lag_max_us) {
  const SwarmParams& p = params.paxos;
  net_.set_params(p.net);
  Random clock_rng = rng_.Fork();
  for (int g = 1; g <= p.groups; ++g) {
    const paxos::GroupId group = static_cast<paxos::GroupId>(g);
    groups_.push_back(group);
    std::vector<paxos::ReplicaId> members;
    for (int r = 1; r <= p.replicas; ++r) members.push_back(static_cast<paxos::ReplicaId>(r));
    for (paxos::ReplicaId id : members) {
      TxnNodeConfig c;
      c.options.group = group;
      c.options.id = id;
      c.options.members = members;
      c.options.lease_us = p.lease_us;
      c.options.heartbeat_interval_us = p.heartbeat_us;
      c.options.election_timeout_us = p.election_timeout_us;
      c.options.campaign_retry_us = p.campaign_retry_us;
      c.txn.txn_idle_timeout_us = params.txn_idle_timeout_us;
      c.txn.in_doubt_inquiry_us = params.in_doubt_inquiry_us;
      c.txn.safe_time_interval_us = params.safe_time_interval_us;
      c.txn.snapshot_wait_us = params.snapshot_wait_us;
      c.txn.max_abort_decisions = params.max_abort_decisions;
      SetPlant(plant, c);
      SetCompaction(p, c);
      c.clock_bounds = p.clock;
      c.clock_params = truetime::RandomSimulatedClockParams(p.clock, clock_rng);
      if (params.edge_skew) {
        // Near the edge of the bound, and kept there at every resync.
        const int64_t base = p.clock.base_error_us;
        const int64_t mag = base - static_cast<int64_t>(clock_rng.Uniform(base / 5 + 1));
        c.clock_params.offset_us = clock_rng.Bernoulli(0.5) ? mag : -mag;
        c.clock_params.resync_seed = std::nullopt;
      }
      c.clock_check = params.clock_check;
      c.clock_probe_us = params.clock_probe_us;
      c.clock_guard_us = params.clock_guard_us;
      c.disk_latency_min_us = p.disk_latency_min_us;
      c.disk_latency_max_us = p.disk_latency_max_us;
      c.disk_stall_p = p.disk_stall_p;
      c.disk_stall_max_us = p.disk_stall_max_us;
      c.tick_us = p.tick_us;
      const Addr a = static_cast<Addr>(nodes_.size());
      group_nodes_[group].push_back(a);
      nodes_.push_back(std::make_unique<TxnNode>(a, c, &loop_, &time_, this, rng_.Next()));
      nodes_.back()->StartClockDaemon();
    }
  }
}

Addr TxnCluster::AddrOf(paxos::GroupId g, paxos::ReplicaId id) const {
  auto it = group_nodes_.find(g);
  if (it == group_nodes_.end() || id == 0 || id > it->second.size()) return -1;
  return it->second[id - 1];
}

void TxnCluster::SetInitialMap(RangeMap map) {
  map_ = std::move(map);
  server_maps_.assign(nodes_.size(), map_);
  loop_.Trace(absl::StrCat("map ", map_.ToString()));
}

void TxnCluster::SwitchMap(RangeMap map) {
  map_ = std::move(map);
  loop_.Trace(absl::StrCat("map switch v", map_.version(), " ", map_.ToString()));
  for (size_t a = 0; a < server_maps_.size(); ++a) {
    loop_.After(static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(map_lag_max_us_) + 1)),
                [this, a, m = map_] {
                  if (server_maps_[a].version() < m.version()) server_maps_[a] = m;
                });
  }
}

uint64_t TxnCluster::MapGeneration(const TxnNode& node, std::string_view key) {
  return server_maps_.at(static_cast<size_t>(node.addr())).GroupGeneration(node.group(), key);
}

void TxnCluster::StartAll() {
  for (auto& n : nodes_) n->Start();
}

void TxnCluster::SetSyncListener(std::function<void(Addr, int64_t)> listener) {
  for (auto& n : nodes_) n->set_sync_listener(listener);
}

void TxnCluster::Restart(Addr a) {
  if (!node(a).alive()) node(a).Start();
}

void TxnCluster::SendPaxos(Addr from, const paxos::Message& m) {
  const Addr to = AddrOf(m.group, m.to);
  if (to >= 0) net_.Send(from, to, m);
}

void TxnCluster::SendGroupMessage(TxnNode& from, const txn::GroupMessage& m) {
  // Like the spanserver's TxnService: to every replica of the target group; only its leader acts
  // on it. A leader_only message goes to the leader that the target group's replica on the
  // sender's server (same replica id) believes in, when that replica is up and knows one: that
  // belief may be stale. (Aiming every message, retries too, at the believed leader alone let
  // stale beliefs starve an in-doubt participant of its coordinator's answer for many seconds:
  // seed 2001492 of bank. Retries are not leader_only.)
  const Addr src = from.addr();
  ++group_messages_;
  std::vector<Addr> targets = group_nodes_.at(m.to);
  if (m.leader_only) {
    const Addr local = AddrOf(m.to, from.id());
    if (local >= 0 && node(local).alive()) {
      const Addr leader = AddrOf(m.to, node(local).replica().leader());
      if (leader >= 0) targets.assign(1, leader);
    }
  }
  for (const Addr to : targets) {
    net_.SendThunk(src, to, [this, to, m] { node(to).HandleGroupMessage(m); });
  }
}

void TxnCluster::SendToReplica(TxnNode& from, paxos::ReplicaId to,
                               std::function<void(ReplicaProcess&)> arrive) {
  const Addr dest = AddrOf(from.group(), to);
  if (dest < 0) return;
  net_.SendThunk(from.addr(), dest, [this, dest, arrive] { arrive(node(dest)); });
}

void TxnCluster::SendClockProbe(TxnNode& from, paxos::ReplicaId to,
                                std::function<void(ReplicaProcess&)> arrive) {
  const Addr dest = AddrOf(from.group(), to);
  if (dest < 0 || !net_.LinkUp(from.addr(), dest)) return;
  const Addr src = from.addr();
  const int64_t delay = probe_rng_.Range(net_.params().delay_min_us, net_.params().delay_max_us);
  loop_.After(delay, [this, src, dest, arrive] {
    if (net_.LinkUp(src, dest)) arrive(node(dest));
  });
}

void TxnCluster::ScheduleClockLie(const TxnSwarmParams& params, TrueUs from, TrueUs until) {
  if (params.clock_liar <= 0) return;
  const paxos::ReplicaId liar = static_cast<paxos::ReplicaId>(params.clock_liar);
  auto set_lie = [this, liar](int64_t excess_us) {
    for (paxos::GroupId g : groups_) {
      const Addr a = AddrOf(g, liar);
      if (a >= 0) node(a).SetClockLie(excess_us);
    }
  };
  loop_.At(from, [set_lie, us = params.clock_lie_us] { set_lie(us); });
  if (params.clock_lie_drift_ppm > 0) {
    // The lie grows at the drift rate, updated every 10 ms.
    for (TrueUs t = from + 10'000; t < until; t += 10'000) {
      loop_.At(t, [set_lie, us = params.clock_lie_us + params.clock_lie_drift_ppm * (t - from) /
                                                           1'000'000] { set_lie(us); });
    }
  }
  loop_.At(until, [set_lie] { set_lie(0); });
}

void TxnCluster::OnState(ApplyRecord record) { applies_.push_back(std::move(record)); }

void TxnCluster::OnApplied(TxnNode& n, const paxos::Entry& e,
                           const absl::StatusOr<txn::ApplyResult>& result) {
  applies_.push_back(
      ApplyRecord{n.group(), n.id(), n.incarnation(), e.index, e.type, e.command, loop_.now()});
  if (!result.ok()) {
    if (!apply_violation_) {
      apply_violation_ =
          Violation{"apply", absl::StrCat(n.Name(), " failed to apply slot ", e.index, ": ",
                                          result.status().ToString())};
    }
    return;
  }
  if (result->kind != txn::ApplyResult::Kind::kCommit &&
      result->kind != txn::ApplyResult::Kind::kAbort) {
    return;
  }
  const bool committed = result->kind == txn::ApplyResult::Kind::kCommit;
  auto [it, inserted] = decisions_.try_emplace(
      result->txn, Decision{committed, committed ? result->ts : 0, loop_.now()});
  if (!inserted &&
      (it->second.committed != committed || (committed && it->second.ts != result->ts)) &&
      !apply_violation_) {
    apply_violation_ = Violation{
        "decision",
        absl::StrCat("txn ", result->txn, ": ", n.Name(), " applied ",
                     committed ? absl::StrCat("commit@", result->ts) : "abort",
                     " but another replica applied ",
                     it->second.committed ? absl::StrCat("commit@", it->second.ts) : "abort")};
  }
}

}  // namespace meridian::sim
