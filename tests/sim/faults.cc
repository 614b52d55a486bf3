// FaultInjector implementation; see faults.h.
//
// Seed: the injected Random (wipes draw from it only when SwarmParams::wipes, so seeds without
// them run as before). Faults: crashes (correlated too), wipes, pauses, partitions of four
// shapes, swizzle-clogging; network faults come from SwarmParams::net.
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
      RestartAfter(a, ElectionWindowUs() + rng_.Range(1'000, params_.down_max_us));
    }
  }
}

int64_t FaultInjector::ElectionWindowUs() const {
  // Restarted replicas wait a lease before they vote, then campaign.
  return params_.wipe_down_max_us + params_.lease_us + 2 * params_.election_timeout_us;
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
  for (Addr a = 0; a < cluster_->num_nodes(); ++a) {
    ++crash_epoch_[a];
    cluster_->Restart(a);
  }
}

}  // namespace meridian::sim
