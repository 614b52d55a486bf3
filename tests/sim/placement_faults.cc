// Placement implementation, part two: the splits aimed at membership changes and the wipe
// filter; see placement.h.
//
// Seed: the Random given to Attach. Faults: splits (cuts both ways between the two sides, healed
// together, or by the heal). Checkers: none.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/sim/placement.h"

namespace meridian::sim {
namespace {

using paxos::ReplicaId;

bool Has(const std::vector<ReplicaId>& ids, ReplicaId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// More than a minority of `voters` is in `lost`: they could not make a majority without it.
bool TooManyLost(const std::vector<ReplicaId>& voters, const std::set<ReplicaId>& lost) {
  const size_t n = static_cast<size_t>(
      std::count_if(voters.begin(), voters.end(), [&](ReplicaId id) { return lost.contains(id); }));
  return !voters.empty() && n > (voters.size() - 1) / 2;
}

}  // namespace

void Placement::MaybeSplit(paxos::GroupId g, SimNode& leader, double p, const std::string& why) {
  Group& st = groups_[g];
  // A certain split (p = 1) is not held back by the limit on drawn ones.
  if (!active_ || st.splitting || (p < 1 && st.splits >= params_.max_splits) ||
      !rng_.Bernoulli(p) || !leader.serving()) {
    return;
  }
  const paxos::Replica& r = leader.replica();
  const std::vector<ReplicaId>& committed = r.hard_state().members;
  if (!Has(committed, leader.id())) return;
  // Side A: the leader and as many other committed voters as keep it one short of a majority of
  // them (those that stay voters first), and every replica of the configuration in effect that
  // is no committed voter.
  std::vector<ReplicaId> others;
  for (ReplicaId id : committed) {
    if (id != leader.id()) others.push_back(id);
  }
  for (size_t i = others.size(); i > 1; --i) std::swap(others[i - 1], others[rng_.Uniform(i)]);
  std::stable_partition(others.begin(), others.end(),
                        [&](ReplicaId id) { return r.config().IsVoter(id); });
  const size_t minority = committed.size() - (committed.size() / 2 + 1);
  std::set<ReplicaId> side_a{leader.id()};
  for (size_t i = 0; i + 1 < minority && i < others.size(); ++i) side_a.insert(others[i]);
  for (const std::vector<ReplicaId>* ids : {&r.config().voters, &r.config().learners}) {
    for (ReplicaId id : *ids) {
      if (!Has(committed, id)) side_a.insert(id);
    }
  }
  std::vector<Addr> a_nodes, b_nodes;
  for (Addr a : cluster_->AllNodes(g)) {
    if (cluster_->retired(a)) continue;
    (side_a.contains(cluster_->node(a).id()) ? a_nodes : b_nodes).push_back(a);
  }
  std::vector<std::pair<Addr, Addr>> cuts;
  for (Addr a : a_nodes) {
    for (Addr b : b_nodes) {
      cuts.push_back({a, b});
      cuts.push_back({b, a});
    }
  }
  // Long enough for side B to elect and commit: the votes it gave run out, it campaigns (maybe
  // twice), takes its lease.
  const int64_t split_us = swarm_.lease_us * 3 / 2 + 2 * swarm_.election_timeout_us +
                           2 * swarm_.campaign_retry_us +
                           rng_.Range(100'000, params_.split_extra_max_us);
  ++st.splits;
  ++splits_;
  st.splitting = true;
  cluster_->loop().Trace(absl::StrCat("fault split g", g, " (", why, "): [",
                                      absl::StrJoin(side_a, ","), "] from the others for ",
                                      split_us, "us"));
  for (const auto& [from, to] : cuts) cluster_->net().Cut(from, to);
  cluster_->loop().After(split_us, [this, g, cuts] {
    groups_[g].splitting = false;
    if (!active_) return;  // the heal healed every link
    cluster_->loop().Trace(absl::StrCat("fault split g", g, " healed"));
    for (const auto& [from, to] : cuts) cluster_->net().Heal(from, to);
  });
}

bool Placement::MayWipe(Addr a) {
  const paxos::GroupId g = cluster_->node(a).group();
  std::set<ReplicaId> lost{cluster_->node(a).id()};
  for (Addr b : cluster_->AllNodes(g)) {
    if (cluster_->retired(b) || cluster_->node(b).refused()) lost.insert(cluster_->node(b).id());
  }
  // Every configuration in use or planned, and the largest the walk to the plan passes through.
  std::vector<std::vector<ReplicaId>> configs;
  const std::vector<ReplicaId> committed = Committed(g).voters;
  configs.push_back(committed);
  for (Addr b : cluster_->GroupNodes(g)) {
    if (cluster_->node(b).alive()) configs.push_back(cluster_->node(b).replica().config().voters);
  }
  if (const std::optional<Plan>& plan = groups_[g].plan) {
    std::vector<ReplicaId> wanted;
    for (ReplicaId id : plan->wanted) {
      if (id != plan->held) wanted.push_back(id);
    }
    // The walk adds every new voter before it removes any, in no particular order.
    std::vector<ReplicaId> both = wanted, lost_last = wanted;
    for (ReplicaId id : committed) {
      if (!Has(both, id)) both.push_back(id);
      if (!Has(lost_last, id) && lost.contains(id)) lost_last.push_back(id);
    }
    configs.push_back(wanted);
    configs.push_back(both);
    configs.push_back(lost_last);
  }
  return std::none_of(configs.begin(), configs.end(), [&](const std::vector<ReplicaId>& voters) {
    return TooManyLost(voters, lost);
  });
}

}  // namespace meridian::sim
