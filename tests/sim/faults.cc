// FaultInjector implementation; see faults.h.
//
// Seed: the injected Random (wipes, power losses, election clogs and snapshot lags draw from it
// only when the seed enables them, so seeds without them run as before). Faults: crashes
// (correlated too), wipes, power losses in the sync window, election clogs, snapshot lags,
// pauses, partitions of four shapes, swizzle-clogging; network faults come from
// SwarmParams::net.
#include "tests/sim/faults.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace meridian::sim {

FaultInjector::FaultInjector(FaultTarget* cluster, const SwarmParams& params, Random rng)
    : cluster_(cluster), params_(params), rng_(std::move(rng)) {}

bool FaultInjector::Active() const { return !healed_ && cluster_->loop().now() < end_; }

void FaultInjector::Start(TrueUs end) {
  end_ = end;
  if (params_.crashes) Every(params_.crash_every_us, &FaultInjector::CrashSome);
  if (params_.pauses) Every(params_.pause_every_us, &FaultInjector::PauseOne);
  if (params_.partitions) Every(params_.partition_every_us, &FaultInjector::Partition);
  if (params_.clogging) Every(params_.clog_every_us, &FaultInjector::Clog);
  if (params_.power_losses) {
    cluster_->SetSyncListener([this](Addr a, int64_t latency_us) { OnSync(a, latency_us); });
    Every(params_.power_loss_every_us, &FaultInjector::ArmPowerLoss);
  }
  if (params_.election_clogs) Every(params_.election_clog_every_us, &FaultInjector::ElectionClog);
  if (params_.checkpoint_every > 0 && params_.snapshot_lags) {
    Every(params_.snapshot_lag_every_us, &FaultInjector::SnapshotLag);
  }
}

void FaultInjector::Every(int64_t every_us, void (FaultInjector::*step)()) {
  cluster_->loop().After(rng_.Range(every_us / 4, every_us * 7 / 4), [this, every_us, step] {
    if (!Active()) return;
    (this->*step)();
    Every(every_us, step);
  });
}

paxos::GroupId FaultInjector::PickGroup() {
  const auto& groups = cluster_->groups();
  return groups[rng_.Uniform(groups.size())];
}

void FaultInjector::CrashSome() {
  const paxos::GroupId g = PickGroup();
  std::vector<Addr> nodes = cluster_->GroupNodes(g);
  for (size_t i = nodes.size(); i > 1; --i) std::swap(nodes[i - 1], nodes[rng_.Uniform(i)]);
  const size_t n = nodes.size();
  const int* w = params_.crash_shape_weights;
  const uint64_t roll = rng_.Uniform(static_cast<uint64_t>(w[0] + w[1] + w[2] + w[3]));
  const size_t shape = roll < static_cast<uint64_t>(w[0])                 ? 0
                       : roll < static_cast<uint64_t>(w[0] + w[1])        ? 1
                       : roll < static_cast<uint64_t>(w[0] + w[1] + w[2]) ? 2
                                                                          : 3;
  if (const Addr wiped = PickWipe(g, nodes); wiped >= 0) {
    CrashAndWipe(g, nodes, wiped);  // instead of the drawn shape
    return;
  }
  // One node, a minority, a majority, or the whole group (a rack losing power).
  const size_t count = shape == 0 ? 1 : shape == 1 ? (n - 1) / 2 : shape == 2 ? n / 2 + 1 : n;
  cluster_->loop().Trace(absl::StrCat("fault crash ", count, " of ", n));
  for (size_t i = 0; i < std::max<size_t>(count, 1); ++i) {
    cluster_->Crash(nodes[i]);
    RestartAfter(nodes[i], rng_.Range(1'000, params_.down_max_us));
  }
}

void FaultInjector::RestartAfter(Addr a, int64_t down_us) {
  const uint64_t epoch = ++crash_epoch_[a];
  cluster_->loop().After(down_us, [this, a, epoch] {
    if (crash_epoch_[a] == epoch) cluster_->Restart(a);
  });
}

Addr FaultInjector::PickWipe(paxos::GroupId g, const std::vector<Addr>& nodes) {
  if (!params_.wipes) return -1;
  std::set<Addr>& wiped = wiped_[g];
  const size_t minority = (nodes.size() - 1) / 2;
  if (wiped.size() >= minority) return -1;
  for (Addr a : nodes) {
    // `a` applied a value that a minority (down, cut off or just slow) does not hold: with `a`,
    // that minority makes a majority that never saw the value.
    if (cluster_->Up(a) && !wiped.contains(a) && Lagging(nodes, a) == minority) {
      if (!rng_.Bernoulli(params_.wipe_p)) return -1;
      wiped.insert(a);
      return a;
    }
  }
  return -1;
}

size_t FaultInjector::Lagging(const std::vector<Addr>& nodes, Addr a) {
  size_t lagging = 0;
  for (Addr b : nodes) lagging += cluster_->LastIndex(b) < cluster_->Applied(a);
  return lagging;
}

void FaultInjector::CrashAndWipe(paxos::GroupId g, const std::vector<Addr>& nodes, Addr wiped) {
  const paxos::Index chosen = cluster_->Applied(wiped);
  cluster_->loop().Trace(absl::StrCat("fault crash g", g, " ahead of ", Lagging(nodes, wiped),
                                      " lagging behind slot ", chosen, ", wipe one"));
  // The dangerous order: the wiped node and the laggards (up, or down and restarted soon) make a
  // majority; the others, which hold the values chosen without the laggards, crash and stay down
  // until that majority could have elected a leader.
  const int64_t short_us = params_.wipe_down_max_us;
  for (Addr a : nodes) {
    if (cluster_->LastIndex(a) < chosen) {
      if (!cluster_->Up(a)) RestartAfter(a, rng_.Range(1'000, short_us));
    } else if (a == wiped) {
      cluster_->Wipe(a);
      RestartAfter(a, rng_.Range(1'000, short_us));
    } else if (cluster_->Up(a)) {
      cluster_->Crash(a);
      RestartAfter(a, ElectionWindowUs(short_us) + rng_.Range(1'000, params_.down_max_us));
    }
  }
}

int64_t FaultInjector::ElectionWindowUs(int64_t short_us) const {
  // Restarted replicas wait a lease before they vote, then campaign.
  return short_us + params_.lease_us + 2 * params_.election_timeout_us;
}

void FaultInjector::ArmPowerLoss() { power_loss_armed_ = PickGroup(); }

void FaultInjector::OnSync(Addr a, int64_t latency_us) {
  if (!power_loss_armed_ || !Active() || cluster_->Leads(a)) return;
  const paxos::GroupId g = *power_loss_armed_;
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  if (std::find(nodes.begin(), nodes.end(), a) == nodes.end()) return;
  power_loss_armed_.reset();
  // Strictly before the sync completes (it was drawn to complete at now + latency_us).
  cluster_->loop().After(rng_.Range(0, std::max<int64_t>(0, latency_us - 1)), [this, g] {
    if (Active()) PowerLoss(g);
  });
}

void FaultInjector::PowerLoss(paxos::GroupId g) {
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  // The leader (or, with none, the node furthest ahead) keeps power a moment longer.
  Addr last = -1;
  for (Addr a : nodes) {
    if (last < 0 && cluster_->Leads(a)) last = a;
  }
  if (last < 0) {
    last = *std::max_element(nodes.begin(), nodes.end(), [this](Addr a, Addr b) {
      return cluster_->Applied(a) < cluster_->Applied(b);
    });
  }
  cluster_->loop().Trace(absl::StrCat("fault power loss g", g, ", ", last, " last"));
  std::map<Addr, paxos::Index> applied;
  for (Addr a : nodes) {
    ++crash_epoch_[a];  // cancels any restart pending from an earlier crash
    if (a == last) continue;
    applied[a] = cluster_->Applied(a);
    cluster_->Crash(a);
  }
  cluster_->loop().After(rng_.Range(0, params_.power_loss_stagger_max_us),
                         [this, g, last, applied]() mutable {
                           if (healed_) return;
                           applied[last] = cluster_->Applied(last);
                           cluster_->Crash(last);
                           RestartAfterPowerLoss(g, applied);
                         });
}

void FaultInjector::RestartAfterPowerLoss(paxos::GroupId g,
                                          const std::map<Addr, paxos::Index>& applied) {
  // The nodes the power loss took down, in address order (placement may have changed the
  // group's since).
  std::vector<Addr> nodes;
  for (const auto& [a, index] : applied) nodes.push_back(a);
  const size_t minority = (nodes.size() - 1) / 2;
  std::vector<paxos::Index> synced;
  for (Addr a : nodes) synced.push_back(cluster_->LastIndex(a));
  std::sort(synced.begin(), synced.end());
  // The majority-th shortest log, plus one: a majority lacks slot s.
  paxos::Index s = synced[minority] + 1;
  std::set<Addr>& wiped = wiped_[g];
  if (params_.wipes && wiped.size() < minority && rng_.Bernoulli(params_.wipe_p)) {
    // Or, with a wipe: a minority lacks slot s, and a node that applied s loses its disk.
    const paxos::Index t = synced[minority - 1] + 1;
    for (Addr a : nodes) {
      if (wiped.contains(a) || applied.at(a) < t || cluster_->LastIndex(a) < t) continue;
      wiped.insert(a);
      cluster_->Wipe(a);
      s = t;
      break;
    }
  }
  cluster_->loop().Trace(absl::StrCat("fault power back g", g, ", first those without slot ", s));
  const int64_t short_us = params_.power_loss_short_us;
  for (Addr a : nodes) {
    const int64_t down_us = rng_.Range(1'000, short_us);
    RestartAfter(a, cluster_->LastIndex(a) < s ? down_us
                                               : ElectionWindowUs(short_us) + down_us +
                                                     rng_.Range(0, params_.down_max_us));
  }
}

void FaultInjector::ElectionClog() {
  const paxos::GroupId g = PickGroup();
  // One at a time: a group clogged all round elects no one.
  if (election_clogged_.contains(g)) return;
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  Addr x = -1;
  for (Addr a : nodes) {
    if (x < 0 && cluster_->Leads(a)) x = a;
  }
  if (x < 0 || nodes.size() < 2) return;  // around elections: wait for a leader
  election_clogged_.insert(g);
  if (rng_.Bernoulli(params_.election_clog_follower_p)) {
    // The leader and one follower lose each other: the follower campaigns among the others
    // while the leader's lease still runs, and the leader hears nothing of it.
    const size_t xi = std::find(nodes.begin(), nodes.end(), x) - nodes.begin();
    const Addr f = nodes[(xi + 1 + rng_.Uniform(nodes.size() - 1)) % nodes.size()];
    cluster_->loop().Trace(absl::StrCat("fault election clog g", g, " ", x, "<->", f));
    cluster_->net().Hold(x, f);
    cluster_->net().Hold(f, x);
    WatchElection(g, x, {{x, f}, {f, x}}, cluster_->loop().now() + params_.election_clog_max_us);
    return;
  }
  // Deaf first, so that the replies to its last messages are held too; then mute.
  const int64_t mute_after_us = rng_.Range(0, 2 * params_.heartbeat_us);
  const TrueUs give_up = cluster_->loop().now() + mute_after_us + params_.election_clog_max_us;
  cluster_->loop().Trace(absl::StrCat("fault election clog g", g, " around ", x));
  std::vector<std::pair<Addr, Addr>> links;
  for (Addr b : nodes) {
    if (b == x) continue;
    cluster_->net().Hold(b, x);
    links.push_back({b, x});
    links.push_back({x, b});
  }
  cluster_->loop().After(mute_after_us, [this, g, x, links, give_up] {
    if (healed_) return;
    for (const auto& [from, to] : links) {
      if (to != x) cluster_->net().Hold(from, to);
    }
    WatchElection(g, x, links, give_up);
  });
}

void FaultInjector::WatchElection(paxos::GroupId g, Addr x,
                                  const std::vector<std::pair<Addr, Addr>>& links, TrueUs give_up) {
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  const bool elected =
      std::any_of(nodes.begin(), nodes.end(), [&](Addr b) { return b != x && cluster_->Leads(b); });
  if (!elected && cluster_->loop().now() < give_up) {
    cluster_->loop().After(params_.heartbeat_us / 2, [this, g, x, links, give_up] {
      if (!healed_) WatchElection(g, x, links, give_up);
    });
    return;
  }
  // Once the new leader has had a heartbeat or two to take its lease.
  const int64_t settle_us =
      elected ? rng_.Range(params_.heartbeat_us / 2, 2 * params_.heartbeat_us) : 0;
  cluster_->loop().After(settle_us, [this, g, links] {
    if (healed_) return;  // Heal released every link
    election_clogged_.erase(g);
    cluster_->loop().Trace(absl::StrCat("fault election clog g", g, " released"));
    for (const auto& [from, to] : links) cluster_->net().Release(from, to);
  });
}

void FaultInjector::SnapshotLag() {
  const paxos::GroupId g = PickGroup();
  if (snapshot_lagging_.contains(g)) return;
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  std::vector<Addr> followers;
  bool led = false;
  for (Addr a : nodes) {
    if (cluster_->Leads(a)) {
      led = true;
    } else if (cluster_->Up(a)) {
      followers.push_back(a);
    }
  }
  if (!led || followers.empty()) return;  // a group without a leader compacts nothing
  const Addr f = followers[rng_.Uniform(followers.size())];
  snapshot_lagging_.insert(g);
  std::vector<std::pair<Addr, Addr>> cuts;
  std::optional<uint64_t> epoch;
  if (rng_.Bernoulli(0.5)) {
    epoch = ++crash_epoch_[f];
    cluster_->Crash(f);
  } else {
    for (Addr b : nodes) {
      if (b == f) continue;
      cuts.push_back({f, b});
      cuts.push_back({b, f});
    }
    for (const auto& [from, to] : cuts) cluster_->net().Cut(from, to);
  }
  const paxos::Index behind = cluster_->LastIndex(f);
  cluster_->loop().Trace(absl::StrCat("fault snapshot lag g", g, " ", f,
                                      epoch ? " down" : " cut off", " at slot ", behind));
  WatchSnapshotLag(g, f, behind, cuts, epoch, cluster_->loop().now() + params_.snapshot_lag_max_us);
}

void FaultInjector::WatchSnapshotLag(paxos::GroupId g, Addr f, paxos::Index behind,
                                     const std::vector<std::pair<Addr, Addr>>& cuts,
                                     std::optional<uint64_t> epoch, TrueUs give_up) {
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  const bool passed = std::any_of(nodes.begin(), nodes.end(), [&](Addr b) {
    return b != f && cluster_->Up(b) && cluster_->Compacted(b) > behind;
  });
  if (!passed && cluster_->loop().now() < give_up) {
    cluster_->loop().After(params_.heartbeat_us / 2, [this, g, f, behind, cuts, epoch, give_up] {
      if (!healed_) WatchSnapshotLag(g, f, behind, cuts, epoch, give_up);
    });
    return;
  }
  const int64_t settle_us = rng_.Range(0, 2 * params_.heartbeat_us);
  cluster_->loop().After(settle_us, [this, g, f, cuts, epoch] {
    if (healed_) return;  // Heal healed every link and restarted every node
    snapshot_lagging_.erase(g);
    cluster_->loop().Trace(absl::StrCat("fault snapshot lag g", g, " ", f, " back"));
    for (const auto& [from, to] : cuts) cluster_->net().Heal(from, to);
    if (epoch && crash_epoch_[f] == *epoch) cluster_->Restart(f);
  });
}

void FaultInjector::PauseOne() {
  const Addr a = static_cast<Addr>(rng_.Uniform(static_cast<uint64_t>(cluster_->num_nodes())));
  cluster_->Pause(a, rng_.Range(1'000, params_.pause_max_us));
}

void FaultInjector::Partition() {
  const paxos::GroupId g = PickGroup();
  const auto shape = static_cast<PartitionShape>(rng_.Uniform(4));
  const std::vector<std::pair<Addr, Addr>> cuts =
      PartitionCuts(shape, cluster_->GroupNodes(g), rng_);
  cluster_->loop().Trace(
      absl::StrCat("fault partition g", g, " ", PartitionShapeName(shape), " links=", cuts.size()));
  for (const auto& [from, to] : cuts) cluster_->net().Cut(from, to);
  cluster_->loop().After(rng_.Range(10'000, params_.partition_max_us), [this, cuts] {
    if (healed_) return;
    for (const auto& [from, to] : cuts) cluster_->net().Heal(from, to);
  });
}

void FaultInjector::Clog() {
  const paxos::GroupId g = PickGroup();
  const std::vector<Addr>& nodes = cluster_->GroupNodes(g);
  std::vector<std::pair<Addr, Addr>> links;
  for (Addr a : nodes) {
    for (Addr b : nodes) {
      if (a != b) links.push_back({a, b});
    }
  }
  for (size_t i = links.size(); i > 1; --i) std::swap(links[i - 1], links[rng_.Uniform(i)]);
  links.resize(1 + rng_.Uniform(links.size()));
  std::vector<std::pair<Addr, Addr>> heal_order = links;
  for (size_t i = heal_order.size(); i > 1; --i) {
    std::swap(heal_order[i - 1], heal_order[rng_.Uniform(i)]);
  }
  cluster_->loop().Trace(absl::StrCat("fault clog g", g, " links=", links.size()));
  const int64_t step = params_.clog_step_us;
  int64_t t = 0;
  for (const auto& [from, to] : links) {
    cluster_->loop().After(t += step, [this, from, to] {
      if (!healed_) cluster_->net().Cut(from, to);
    });
  }
  t += rng_.Range(0, params_.clog_every_us);
  for (const auto& [from, to] : heal_order) {
    cluster_->loop().After(t += step, [this, from, to] {
      if (!healed_) cluster_->net().Heal(from, to);
    });
  }
}

void FaultInjector::Heal() {
  healed_ = true;
  cluster_->loop().Trace("heal");
  cluster_->net().HealAll();
  cluster_->net().set_params(params_.CalmNetwork());
  cluster_->net().ReleaseAll();
  for (Addr a = 0; a < cluster_->num_nodes(); ++a) {
    ++crash_epoch_[a];
    cluster_->Restart(a);
  }
}

}  // namespace meridian::sim
