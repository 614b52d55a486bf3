// Cluster implementation; see cluster.h.
//
// Seed: node seeds and the network's Random derive from the seed. Faults: crash, wipe, restart
// (pause is on SimNode; a refused node stays down). Checkers: apply records and lease spans.
#include "tests/sim/cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::sim {

const std::vector<std::string>& PaxosPlants() {
  static const auto* plants = new std::vector<std::string>{
      "testing_skip_vote_wait",        "testing_ack_before_sync",   "testing_skip_recovery",
      "testing_lease_from_receive",    "testing_rejoin_after_wipe", "testing_compact_above_applied",
      "testing_snapshot_without_tail",
  };
  return *plants;
}

const std::vector<std::string>& MembershipPlants() {
  static const auto* plants = new std::vector<std::string>{
      "testing_two_config_changes",
      "testing_learner_votes",
      "testing_compact_above_applied",
      "testing_snapshot_without_tail",
  };
  return *plants;
}

const std::vector<std::string>& CompactionPlants() {
  static const auto* plants = new std::vector<std::string>{
      "testing_compact_above_applied",
      "testing_snapshot_without_tail",
  };
  return *plants;
}

bool SetPaxosPlant(const std::string& plant, NodeConfig& c) {
  paxos::Options& o = c.options;
  if (plant == "testing_rejoin_after_wipe") {
    c.testing_rejoin_after_wipe = true;  // the process's start check, not the replica
  } else if (plant == "testing_snapshot_without_tail") {
    c.testing_snapshot_without_tail = true;  // the process's install, not the replica
  } else if (plant == "testing_compact_above_applied") {
    o.testing_compact_above_applied = true;
  } else if (plant == "testing_skip_vote_wait") {
    o.testing_skip_vote_wait = true;
  } else if (plant == "testing_ack_before_sync") {
    o.testing_ack_before_sync = true;
  } else if (plant == "testing_skip_recovery") {
    o.testing_skip_recovery = true;
  } else if (plant == "testing_lease_from_receive") {
    o.testing_lease_from_receive = true;
  } else if (plant == "testing_two_config_changes") {
    o.testing_two_config_changes = true;
  } else if (plant == "testing_learner_votes") {
    o.testing_learner_votes = true;
  } else {
    return false;
  }
  return true;
}

void SetCompaction(const SwarmParams& params, NodeConfig& c) {
  c.checkpoint_every = params.checkpoint_every;
  c.retain_entries = params.retain_entries;
  // Several round trips at the slowest, so that only a real fault (a lost message, a crashed,
  // cut off or paused process) makes a fetch fail.
  c.snapshot_timeout_us = 4 * params.net.delay_max_us + 4 * params.disk_latency_max_us + 200'000;
  c.snapshot_install_max_us = params.snapshot_install_max_us;
}

namespace {

// A node's settings: replica `id` of `group`, starting with `members` as voters (none: a spare,
// unconfigured, learner of itself until placed).
NodeConfig MakeNodeConfig(const SwarmParams& params, paxos::GroupId group, paxos::ReplicaId id,
                          const std::vector<paxos::ReplicaId>& members, const std::string& plant,
                          Random& clock_rng) {
  NodeConfig c;
  c.options.group = group;
  c.options.id = id;
  c.options.members = members;
  if (members.empty()) c.options.learners = {id};
  c.options.lease_us = params.lease_us;
  c.options.heartbeat_interval_us = params.heartbeat_us;
  c.options.election_timeout_us = params.election_timeout_us;
  c.options.campaign_retry_us = params.campaign_retry_us;
  CHECK_MSG(plant.empty() || SetPaxosPlant(plant, c), "unknown plant " + plant);
  SetCompaction(params, c);
  c.clock_bounds = params.clock;
  c.clock_params = truetime::RandomSimulatedClockParams(params.clock, clock_rng);
  c.disk_latency_min_us = params.disk_latency_min_us;
  c.disk_latency_max_us = params.disk_latency_max_us;
  c.disk_stall_p = params.disk_stall_p;
  c.disk_stall_max_us = params.disk_stall_max_us;
  c.tick_us = params.tick_us;
  return c;
}

}  // namespace

Cluster::Cluster(const SwarmParams& params, uint64_t seed, const std::string& plant, bool verbose)
    : time_(kSimEpochUs),
      rng_(seed),
      loop_(&time_, verbose, /*max_events=*/1'000'000),
      net_(&loop_, &rng_, [this](Addr to, const paxos::Message& m) { node(to).Deliver(m); }) {
  net_.set_params(params.net);
  Random clock_rng = rng_.Fork();
  for (int g = 1; g <= params.groups; ++g) {
    const paxos::GroupId group = static_cast<paxos::GroupId>(g);
    groups_.push_back(group);
    std::vector<paxos::ReplicaId> founders;
    for (int r = 1; r <= params.replicas; ++r) founders.push_back(static_cast<paxos::ReplicaId>(r));
    // Founders first, then spares: a seed without spares draws what it drew before they existed.
    for (int r = 1; r <= params.replicas + params.spares; ++r) {
      const bool founder = r <= params.replicas;
      const NodeConfig c =
          MakeNodeConfig(params, group, static_cast<paxos::ReplicaId>(r),
                         founder ? founders : std::vector<paxos::ReplicaId>{}, plant, clock_rng);
      const Addr a = static_cast<Addr>(nodes_.size());
      all_nodes_[group].push_back(a);
      if (founder) group_nodes_[group].push_back(a);
      seats_.push_back(founder ? Seat::kPlaced : Seat::kSpare);
      nodes_.push_back(std::make_unique<SimNode>(a, c, &loop_, &time_, this, rng_.Next()));
    }
  }
  open_spans_.resize(nodes_.size());
}

Addr Cluster::AddrOf(paxos::GroupId g, paxos::ReplicaId id) const {
  auto it = all_nodes_.find(g);
  if (it == all_nodes_.end() || id == 0 || id > it->second.size()) return -1;
  return it->second[id - 1];
}

void Cluster::StartAll() {
  for (auto& n : nodes_) {
    if (seats_[n->addr()] == Seat::kPlaced) n->Start();
  }
}

void Cluster::Place(Addr a, std::vector<paxos::ReplicaId> members,
                    std::vector<paxos::ReplicaId> learners) {
  CHECK(seats_[a] == Seat::kSpare);
  SimNode& n = node(a);
  loop_.Trace(absl::StrCat(
      "place ", n.Name(),
      members.empty() ? " unconfigured" : " " + paxos::Config{members, learners}.ToString()));
  if (!members.empty()) n.Configure(std::move(members), std::move(learners));
  seats_[a] = Seat::kPlaced;
  std::vector<Addr>& placed = group_nodes_[n.group()];
  placed.insert(std::upper_bound(placed.begin(), placed.end(), a), a);
  n.Start();
}

void Cluster::Retire(Addr a) {
  if (seats_[a] != Seat::kPlaced) return;
  loop_.Trace(absl::StrCat("retire ", node(a).Name()));
  Crash(a);
  seats_[a] = Seat::kRetired;
  std::vector<Addr>& placed = group_nodes_[node(a).group()];
  placed.erase(std::find(placed.begin(), placed.end(), a));
}

void Cluster::Crash(Addr a) {
  SimNode& n = node(a);
  if (!n.alive()) return;
  n.Crash();
  CloseSpan(a);
  if (crash_listener_) crash_listener_(n);
}

void Cluster::Wipe(Addr a) {
  if (seats_[a] != Seat::kPlaced) return;
  if (wipe_filter_ && !wipe_filter_(a)) {
    loop_.Trace(absl::StrCat("wipe of ", node(a).Name(), " spared: crash only"));
    Crash(a);
    return;
  }
  Crash(a);
  node(a).Wipe();
}

void Cluster::SetSyncListener(std::function<void(Addr, int64_t)> listener) {
  for (auto& n : nodes_) n->set_sync_listener(listener);
}

void Cluster::Restart(Addr a) {
  if (seats_[a] != Seat::kPlaced || node(a).alive()) return;
  if (node(a).RemovedOnDisk()) {
    // Placement no longer lists a replica whose removal was committed: its server would not
    // start it again.
    Retire(a);
    return;
  }
  node(a).Start();
}

void Cluster::SendMessage(Addr from, const paxos::Message& m) {
  const Addr to = AddrOf(m.group, m.to);
  if (to < 0) return;
  net_.Send(from, to, m);
}

void Cluster::SendToReplica(SimNode& from, paxos::ReplicaId to,
                            std::function<void(ReplicaProcess&)> arrive) {
  const Addr dest = AddrOf(from.group(), to);
  if (dest < 0) return;
  net_.SendThunk(from.addr(), dest, [this, dest, arrive] { arrive(node(dest)); });
}

void Cluster::OnState(ApplyRecord record) { applies_.push_back(std::move(record)); }

void Cluster::OnApplied(SimNode& n, const paxos::Entry& e, uint64_t read_value) {
  applies_.push_back(
      ApplyRecord{n.group(), n.id(), n.incarnation(), e.index, e.type, e.command, loop_.now()});
  if (apply_listener_) apply_listener_(n, e, read_value);
}

void Cluster::AfterEvent(SimNode& n) {
  for (Addr a : group_nodes_.at(n.group())) SampleLease(node(a));
}

void Cluster::SampleLease(SimNode& n) {
  OpenSpan& o = open_spans_[n.addr()];
  if (!n.alive()) {
    CloseSpan(n.addr());
    return;
  }
  const bool has = n.replica().HasLease(n.Now());
  const paxos::Ballot ballot = n.replica().ballot();
  if (o.open && (!has || !(o.span.ballot == ballot))) CloseSpan(n.addr());
  if (!has) return;
  if (!o.open) {
    o.open = true;
    o.span = LeaseSpan{n.group(), n.id(), ballot, loop_.now(), loop_.now()};
    loop_.Trace(absl::StrCat("lease ", n.Name(), " b=", ballot.ToString(), " holds"));
  }
  o.span.end_us = loop_.now();
}

void Cluster::CloseSpan(Addr a) {
  OpenSpan& o = open_spans_[a];
  if (!o.open) return;
  o.open = false;
  closed_spans_.push_back(o.span);
}

std::vector<LeaseSpan> Cluster::LeaseSpans() const {
  std::vector<LeaseSpan> spans = closed_spans_;
  for (const OpenSpan& o : open_spans_) {
    if (o.open) spans.push_back(o.span);
  }
  return spans;
}

std::vector<ReplicaFinal> Cluster::Finals() const {
  std::vector<ReplicaFinal> finals;
  for (const auto& n : nodes_) {
    // Dead nodes are skipped, refused ones too (a refused node is never alive again).
    if (n->alive()) finals.push_back({n->group(), n->id(), n->incarnation(), n->applied()});
  }
  return finals;
}

}  // namespace meridian::sim
