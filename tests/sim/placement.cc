// Placement implementation, part one: plans and their steps; see placement.h.
//
// Seed: the Random given to Attach. Workload: configuration changes through the leader.
// Faults: placement_faults.cc. Checkers: none.
#include "tests/sim/placement.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::sim {
namespace {

using paxos::ReplicaId;

bool Has(const std::vector<ReplicaId>& ids, ReplicaId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<ReplicaId> Without(std::vector<ReplicaId> ids, ReplicaId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  return ids;
}

std::set<ReplicaId> AsSet(const std::vector<ReplicaId>& ids) { return {ids.begin(), ids.end()}; }

// Some majority of voters `a` and some majority of voters `b` have no voter in common.
bool MajoritiesMayMiss(const std::vector<ReplicaId>& a, const std::vector<ReplicaId>& b) {
  std::set<ReplicaId> both = AsSet(a);
  both.insert(b.begin(), b.end());
  return a.size() / 2 + 1 + b.size() / 2 + 1 <= both.size();
}

}  // namespace

std::string MembershipParams::ToString() const {
  return absl::StrCat("plans=", plans, " gap<=", plan_gap_max_us, "us step=", step_us,
                      "us lag=", catch_up_lag, " hold<=", hold_max_us,
                      "us learner_only_p=", learner_only_p, " two_at_once_p=", two_at_once_p,
                      " quick_p=", quick_p, " split(p=", split_p, " max=", max_splits,
                      " extra<=", split_extra_max_us, "us) linger<=", linger_max_us,
                      "us start_delay<=", start_delay_max_us, "us unconfigured_p=", unconfigured_p);
}

MembershipParams DrawMembership(Random& r) {
  MembershipParams m;
  m.plans = r.Bernoulli(0.1) ? 0 : static_cast<int>(r.Range(1, 5));
  m.plan_gap_max_us = r.Range(0, 1'500'000);
  m.step_us = r.Range(10'000, 100'000);
  m.catch_up_lag = static_cast<paxos::Index>(r.Range(0, 5));
  m.hold_max_us = r.Bernoulli(0.3) ? 0 : r.Range(0, 2'000'000);
  m.learner_only_p = r.NextDouble() * 0.3;
  m.two_at_once_p = r.NextDouble() * 0.4;
  m.quick_p = r.Bernoulli(0.2) ? 0 : 0.3 + 0.7 * r.NextDouble();
  m.split_p = r.Bernoulli(0.3) ? 0 : 0.2 + 0.6 * r.NextDouble();
  m.max_splits = static_cast<int>(r.Range(1, 3));
  m.split_extra_max_us = r.Range(100'000, 2'000'000);
  m.linger_max_us = r.Range(0, 3'000'000);
  m.start_delay_max_us = r.Range(0, 500'000);
  m.unconfigured_p = r.NextDouble();
  return m;
}

void Placement::Attach(Cluster& cluster, Random rng) {
  cluster_ = &cluster;
  rng_ = std::move(rng);
  for (paxos::GroupId g : cluster.groups()) {
    Group& st = groups_[g];
    st.plans_left = params_.plans;
    for (Addr a : cluster.GroupNodes(g)) st.committed.voters.push_back(cluster.node(a).id());
    for (Addr a : cluster.AllNodes(g)) {
      if (cluster.spare(a)) st.spares.push_back(cluster.node(a).id());
    }
  }
  cluster.set_wipe_filter([this](Addr a) { return MayWipe(a); });
  cluster.loop().Detail("placement " + params_.ToString());
}

void Placement::Start() {
  EventLoop& loop = cluster_->loop();
  for (auto& [g, st] : groups_) {
    st.next_plan_at = loop.now() + rng_.Range(0, params_.plan_gap_max_us);
    loop.After(rng_.Range(0, params_.step_us), [this, g = g] { Tick(g); });
  }
}

void Placement::Finish() {
  finished_ = true;
  // What the drain and the durability checker see: the members of the committed configuration
  // that the newest one in any log (a removal placement proposed, perhaps not committed yet)
  // keeps; the others would wait for entries no leader sends them any more.
  for (paxos::GroupId g : cluster_->groups()) {
    const paxos::Config committed = Committed(g);
    std::optional<paxos::Config> newest;
    paxos::Index newest_index = 0;
    for (Addr a : cluster_->GroupNodes(g)) {
      SimNode& n = cluster_->node(a);
      if (!n.alive() || n.replica().config().voters.empty() ||
          (newest && n.replica().config_index() <= newest_index)) {
        continue;
      }
      newest = n.replica().config();
      newest_index = n.replica().config_index();
    }
    const std::vector<Addr> placed = cluster_->GroupNodes(g);
    for (Addr a : placed) {
      const paxos::ReplicaId id = cluster_->node(a).id();
      if (committed.Contains(id) && (!newest || newest->Contains(id))) continue;
      cluster_->Retire(a);
      ++retired_;
    }
  }
}

const char* Placement::PlanKindName(PlanKind kind) {
  switch (kind) {
    case PlanKind::kReplaceLost:
      return "replace lost";
    case PlanKind::kLearnerOnly:
      return "learner only";
    case PlanKind::kTwoAtOnce:
      return "two at once";
    case PlanKind::kGrow:
      return "grow";
    case PlanKind::kShrink:
      return "shrink";
    case PlanKind::kReplace:
      return "replace";
  }
  return "?";
}

std::string Placement::Summary() const {
  return absl::StrCat("placement(plans_done=", plans_done_, " proposed=", proposed_,
                      " refused=", refused_, " transfers=", transfers_, " splits=", splits_,
                      " retired=", retired_, ")");
}

SimNode* Placement::Leader(paxos::GroupId g) {
  for (Addr a : cluster_->GroupNodes(g)) {
    SimNode& n = cluster_->node(a);
    if (n.serving() && n.leads() && n.replica().HasLease(n.Now())) return &n;
  }
  return nullptr;
}

const paxos::Config& Placement::Committed(paxos::GroupId g) {
  Group& st = groups_[g];
  for (Addr a : cluster_->GroupNodes(g)) {
    SimNode& n = cluster_->node(a);
    if (!n.alive()) continue;
    const paxos::HardState& h = n.replica().hard_state();
    if (h.config_index <= st.committed_index) continue;
    st.committed = paxos::Config{h.members, h.learners};
    st.committed_index = h.config_index;
  }
  return st.committed;
}

bool Placement::Lost(paxos::GroupId g, ReplicaId id) {
  const Addr a = cluster_->AddrOf(g, id);
  return cluster_->retired(a) || cluster_->node(a).refused();
}

void Placement::Tick(paxos::GroupId g) {
  if (finished_) return;
  RetireLetGo(g);
  if (SimNode* leader = Leader(g)) {
    Group& st = groups_[g];
    const paxos::Replica& r = leader->replica();
    if (!st.plan && active_ && !r.config_change_pending() &&
        cluster_->loop().now() >= st.next_plan_at) {
      st.plan = NewPlan(g, r.config(), r.id());
    }
    if (st.plan) Step(g, *leader);
  }
  cluster_->loop().After(params_.step_us, [this, g] { Tick(g); });
}

std::optional<ReplicaId> Placement::TakeSpare(paxos::GroupId g) {
  std::vector<ReplicaId>& spares = groups_[g].spares;
  if (spares.empty()) return std::nullopt;
  const ReplicaId id = spares.front();
  spares.erase(spares.begin());
  PlaceLater(g, id);
  return id;
}

void Placement::PlaceLater(paxos::GroupId g, ReplicaId id) {
  const int64_t delay_us = rng_.Range(0, params_.start_delay_max_us);
  const bool unconfigured = rng_.Bernoulli(params_.unconfigured_p);
  cluster_->loop().After(delay_us, [this, g, id, unconfigured] {
    if (finished_) return;
    std::vector<ReplicaId> members, learners;
    if (!unconfigured) {
      // As a learner of what placement last saw committed (it may be in it already).
      const paxos::Config& committed = Committed(g);
      members = committed.voters;
      learners = committed.learners;
      if (!committed.Contains(id)) learners.push_back(id);
    }
    cluster_->Place(cluster_->AddrOf(g, id), std::move(members), std::move(learners));
  });
}

std::optional<Placement::Plan> Placement::NewPlan(paxos::GroupId g, const paxos::Config& current,
                                                  ReplicaId self) {
  Group& st = groups_[g];
  const std::vector<ReplicaId>& voters = current.voters;
  Plan p;
  p.hold_us = rng_.Range(0, params_.hold_max_us);
  // A voter that can never work again is replaced first, whatever the seed planned.
  std::vector<ReplicaId> lost;
  for (ReplicaId id : voters) {
    if (Lost(g, id)) lost.push_back(id);
  }
  std::vector<ReplicaId> others = Without(voters, self);
  const double roll = rng_.NextDouble();
  const double kind = rng_.NextDouble();
  if (!lost.empty()) {
    p.kind = PlanKind::kReplaceLost;
    p.removes = {lost.front()};
  } else if (st.plans_left <= 0) {
    return std::nullopt;
  } else if (roll < params_.learner_only_p) {
    p.kind = PlanKind::kLearnerOnly;
  } else if (roll < params_.learner_only_p + params_.two_at_once_p && others.size() >= 2 &&
             st.spares.size() >= 2) {
    p.kind = PlanKind::kTwoAtOnce;
    for (size_t i = others.size(); i > 1; --i) std::swap(others[i - 1], others[rng_.Uniform(i)]);
    p.removes = {others[0], others[1]};
  } else if (kind < 0.2 && voters.size() < 6) {
    p.kind = PlanKind::kGrow;
  } else if (kind < 0.4 && voters.size() > 3) {
    p.kind = PlanKind::kShrink;
    p.removes = {voters[rng_.Uniform(voters.size())]};
  } else {
    p.kind = PlanKind::kReplace;  // the leader too: it then hands over first
    p.removes = {voters[rng_.Uniform(voters.size())]};
  }
  if (lost.empty()) --st.plans_left;
  const size_t adds = p.kind == PlanKind::kShrink ? 0 : p.kind == PlanKind::kTwoAtOnce ? 2 : 1;
  for (size_t i = 0; i < adds; ++i) {
    if (std::optional<ReplicaId> id = TakeSpare(g)) p.adds.push_back(*id);
  }
  if (p.adds.size() < adds && voters.size() - p.removes.size() + p.adds.size() < 3) {
    return std::nullopt;  // out of spares: keep three voters at least
  }
  p.wanted = voters;
  for (ReplicaId id : p.removes) p.wanted = Without(p.wanted, id);
  for (ReplicaId id : p.adds) p.wanted.push_back(id);
  if (p.kind == PlanKind::kLearnerOnly && !p.adds.empty()) p.held = p.adds.front();
  cluster_->loop().Trace(absl::StrCat("placement g", g, " plan ", PlanKindName(p.kind), " from ",
                                      current.ToString(), ": wanted [",
                                      absl::StrJoin(p.wanted, ","), "]"));
  return p;
}

void Placement::TrackCatchUp(paxos::GroupId g, SimNode& leader) {
  Group& st = groups_[g];
  const paxos::Replica& r = leader.replica();
  const std::vector<ReplicaId> learners = r.config().learners;
  for (ReplicaId id : learners) {
    const paxos::Index match = r.match_of(id);
    if (match == 0 || match + params_.catch_up_lag < r.commit()) {
      st.caught_up.erase(id);
      continue;
    }
    if (st.caught_up.emplace(id, cluster_->loop().now()).second &&
        st.split_considered.insert(id).second) {
      MaybeSplit(g, leader, params_.split_p, absl::StrCat("learner ", id, " caught up"));
    }
  }
}

bool Placement::Promotable(paxos::GroupId g, ReplicaId id) const {
  const Group& st = groups_.at(g);
  if (!st.plan || id == st.plan->held) return false;
  auto ready = [&](ReplicaId r) {
    auto it = st.caught_up.find(r);
    return it != st.caught_up.end() && cluster_->loop().now() - it->second >= st.plan->hold_us;
  };
  if (st.plan->kind != PlanKind::kTwoAtOnce) return ready(id);
  // Two at once: neither votes before both caught up (then the jump may be tried).
  return std::all_of(st.plan->adds.begin(), st.plan->adds.end(),
                     [&](ReplicaId r) { return r == paxos::kNoReplica || ready(r); });
}

bool Placement::Done(const Plan& plan, const paxos::Config& config) const {
  return plan.held == paxos::kNoReplica && AsSet(config.voters) == AsSet(plan.wanted) &&
         config.learners.empty();
}

void Placement::Step(paxos::GroupId g, SimNode& leader) {
  Group& st = groups_[g];
  Plan& plan = *st.plan;
  // A new replica that lost its disk is replaced by another.
  for (ReplicaId& id : plan.adds) {
    if (id == paxos::kNoReplica || !Lost(g, id)) continue;
    const std::optional<ReplicaId> spare = TakeSpare(g);
    const ReplicaId gone = id;
    plan.wanted = Without(plan.wanted, gone);
    if (spare) plan.wanted.push_back(*spare);
    if (plan.held == gone) plan.held = spare.value_or(paxos::kNoReplica);
    id = spare.value_or(paxos::kNoReplica);
  }
  TrackCatchUp(g, leader);
  const TrueUs now = cluster_->loop().now();
  if (plan.held != paxos::kNoReplica && st.caught_up.contains(plan.held) &&
      now - st.caught_up[plan.held] >= plan.hold_us) {
    plan.wanted = Without(plan.wanted, plan.held);  // it learned enough: let it go again
    plan.held = paxos::kNoReplica;
  }
  paxos::Replica& r = leader.replica();
  if (r.config_change_pending()) return;
  if (Done(plan, r.config())) {
    cluster_->loop().Trace(absl::StrCat("placement g", g, " plan ", PlanKindName(plan.kind),
                                        " done: ", r.config().ToString()));
    st.plan.reset();
    ++plans_done_;
    st.next_plan_at = now + rng_.Range(0, params_.plan_gap_max_us);
    return;
  }
  if (MaybeJump(g, leader)) return;
  Apply(g, leader,
        replication::NextConfigStep(r.config(), false, plan.wanted, r.id(),
                                    [this, g](ReplicaId id) { return Promotable(g, id); }));
}

bool Placement::MaybeJump(paxos::GroupId g, SimNode& leader) {
  Plan& plan = *groups_[g].plan;
  const paxos::Config& current = leader.replica().config();
  if (plan.kind != PlanKind::kTwoAtOnce || plan.jump_tried || !active_) return false;
  for (ReplicaId id : plan.adds) {
    if (id == paxos::kNoReplica || !current.IsLearner(id) || !Promotable(g, id)) return false;
  }
  plan.jump_tried = true;
  if (!rng_.Bernoulli(params_.quick_p)) return false;
  paxos::Config jump = current;
  for (ReplicaId id : plan.removes) jump.voters = Without(jump.voters, id);
  for (ReplicaId id : plan.adds) {
    jump.learners = Without(jump.learners, id);
    jump.voters.push_back(id);
  }
  cluster_->loop().Trace(absl::StrCat("placement g", g, ": both new replicas caught up, jump"));
  const bool may_miss = MajoritiesMayMiss(current.voters, jump.voters);
  if (!leader.ProposeConfig(jump).ok()) {
    ++refused_;
    return false;
  }
  ++proposed_;
  MaybeSplit(g, leader, may_miss ? 1 : params_.split_p, "two voters changed at once");
  return true;
}

void Placement::Apply(paxos::GroupId g, SimNode& leader, const replication::ConfigStep& step) {
  using Kind = replication::ConfigStep::Kind;
  if (step.kind == Kind::kNone) return;
  cluster_->loop().Trace(absl::StrCat("placement g", g, ": ", step.why));
  if (step.kind == Kind::kTransferLeadership) {
    ++transfers_;
    (void)leader.TransferLeadership(step.transfer_to);
    return;
  }
  const std::vector<ReplicaId> voters_before = leader.replica().config().voters;
  if (!leader.ProposeConfig(step.config).ok()) {
    ++refused_;
    return;
  }
  ++proposed_;
  if (active_ && rng_.Bernoulli(params_.quick_p)) {
    // The next step at once, as if this one were committed: refused while it is not.
    const Plan& plan = *groups_[g].plan;
    const replication::ConfigStep next =
        replication::NextConfigStep(step.config, false, plan.wanted, leader.id(),
                                    [this, g](ReplicaId id) { return Promotable(g, id); });
    if (next.kind == Kind::kPropose) {
      cluster_->loop().Trace(absl::StrCat("placement g", g, ": at once, ", next.why));
      if (leader.ProposeConfig(next.config).ok()) {
        ++proposed_;
        // Two changes in flight whose majorities may miss each other: the moment a split does
        // most harm, if any.
        if (MajoritiesMayMiss(voters_before, next.config.voters)) {
          MaybeSplit(g, leader, 1, "two voter changes in flight");
          return;
        }
      } else {
        ++refused_;
      }
    }
  }
  // A change of voters is where majorities move; a learner's matters less.
  MaybeSplit(
      g, leader,
      AsSet(voters_before) != AsSet(step.config.voters) ? params_.split_p : params_.split_p / 4,
      "change proposed");
}

void Placement::RetireLetGo(paxos::GroupId g) {
  Group& st = groups_[g];
  const paxos::Config committed = Committed(g);
  const std::vector<ReplicaId> wanted = st.plan ? st.plan->wanted : std::vector<ReplicaId>{};
  const TrueUs now = cluster_->loop().now();
  const std::vector<Addr> placed = cluster_->GroupNodes(g);  // Retire changes the group's
  for (Addr a : placed) {
    const ReplicaId id = cluster_->node(a).id();
    if (committed.Contains(id) || Has(wanted, id)) {
      st.retire_at.erase(id);
      continue;
    }
    // In no committed configuration and not wanted: it lingers a while, then stops.
    auto [it, fresh] = st.retire_at.emplace(id, now + rng_.Range(0, params_.linger_max_us));
    if (fresh) {
      cluster_->loop().Trace(absl::StrCat("placement g", g, " lets r", id, " go at ", it->second));
    }
    // Not while the group is split: the side it is on may be deciding without the others.
    if (now < it->second || st.splitting) continue;
    st.retire_at.erase(it);
    cluster_->Retire(a);
    ++retired_;
  }
}

}  // namespace meridian::sim
