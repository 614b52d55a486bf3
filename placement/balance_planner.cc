// Rules 1 (policy), 4 (replicas) and 5 (leaders) of balance_planner.h, and PlanNext. Rules 2 and
// 3 (sizes) are in data_planner.cc.
#include "placement/balance_planner.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "placement/policy.h"
#include "placement/topology_view.h"

namespace meridian::placement {
namespace {

bool Contains(const google::protobuf::RepeatedField<uint64_t>& ids, uint64_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// "server 4 (zone b)"
std::string Named(const TopologyView& view, uint64_t id) {
  return absl::StrCat("server ", id, " (zone ", view.Zone(id), ")");
}

// True when a replica listed before position `i` of the group is in the same zone.
bool ZoneTakenBefore(const TopologyView& view, const proto::GroupInfo& group, int i) {
  for (int j = 0; j < i; ++j) {
    if (view.Zone(group.replicas(j)) == view.Zone(group.replicas(i))) return true;
  }
  return false;
}

// The zones of the group's replicas other than `except` (0: none excepted).
std::set<std::string> ZonesOf(const TopologyView& view, const proto::GroupInfo& group,
                              uint64_t except) {
  std::set<std::string> zones;
  for (const uint64_t id : group.replicas()) {
    if (id != except) zones.insert(view.Zone(id));
  }
  return zones;
}

// The least loaded usable server outside the group in an allowed zone; zones the group has
// (apart from `leaving`) rank after the others and count only with `zone_may_repeat`. 0: none.
uint64_t ChooseNewReplica(const TopologyView& view, const proto::GroupInfo& group, uint64_t leaving,
                          bool zone_may_repeat) {
  const std::set<std::string> taken = ZonesOf(view, group, leaving);
  std::optional<std::tuple<bool, int, uint64_t>> best;  // (zone taken, load, id)
  for (const proto::ServerInfo& s : view.topology().servers()) {
    if (!view.Usable(s.id()) || Contains(group.replicas(), s.id())) continue;
    if (!ZoneAllowed(group.policy(), s.zone())) continue;
    const bool zone_taken = taken.contains(s.zone());
    if (zone_taken && !zone_may_repeat) continue;
    const std::tuple<bool, int, uint64_t> key{zone_taken, view.Load(s.id()), s.id()};
    if (!best || key < *best) best = key;
  }
  return best ? std::get<2>(*best) : 0;
}

Decision SetReplicas(const proto::GroupInfo& group, const std::vector<uint64_t>& replicas,
                     std::string reason) {
  Decision d;
  d.kind = Decision::Kind::kSetReplicas;
  proto::PlacementCommand::SetReplicas* op = d.command.mutable_set_replicas();
  op->set_group(group.id());
  for (const uint64_t id : replicas) op->add_replicas(id);
  *op->mutable_expected() = group.replicas();
  d.reason = std::move(reason);
  return d;
}

Decision Replace(uint64_t group, uint64_t old_server, uint64_t new_server, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::kReplaceReplica;
  proto::PlacementCommand::ReplaceReplica* op = d.command.mutable_replace_replica();
  op->set_group(group);
  op->set_old_server(old_server);
  op->set_new_server(new_server);
  d.reason = std::move(reason);
  return d;
}

std::string PolicyPrefix(const proto::GroupInfo& group) {
  return absl::StrCat("group ", group.id(), " (policy: ", DescribePolicy(group.policy()), ")");
}

// Rule 1a.
std::optional<Decision> AddReplica(const TopologyView& view, const proto::GroupInfo& group) {
  const uint64_t added = ChooseNewReplica(view, group, 0, /*zone_may_repeat=*/true);
  if (added == 0) return std::nullopt;
  std::vector<uint64_t> replicas(group.replicas().begin(), group.replicas().end());
  replicas.push_back(added);
  return SetReplicas(
      group, replicas,
      absl::StrCat(PolicyPrefix(group), " has ", group.replicas_size(), " replicas of ",
                   WantedReplicas(group), ": adding ", Named(view, added)));
}

// Rule 1b.
Decision RemoveReplica(const TopologyView& view, const proto::GroupInfo& group) {
  // (zone not allowed, zone repeated, not usable, not first, not leader, load, id): the largest
  // goes.
  std::tuple<bool, bool, bool, bool, bool, int, uint64_t> worst{};
  for (int i = 0; i < group.replicas_size(); ++i) {
    const uint64_t id = group.replicas(i);
    const std::tuple<bool, bool, bool, bool, bool, int, uint64_t> key{
        !ZoneAllowed(group.policy(), view.Zone(id)),
        ZoneTakenBefore(view, group, i),
        !view.Usable(id),
        i != 0,
        id != group.leader(),
        view.Load(id),
        id};
    if (i == 0 || key > worst) worst = key;
  }
  const uint64_t removed = std::get<6>(worst);
  std::vector<uint64_t> replicas;
  for (const uint64_t id : group.replicas()) {
    if (id != removed) replicas.push_back(id);
  }
  return SetReplicas(
      group, replicas,
      absl::StrCat(PolicyPrefix(group), " has ", group.replicas_size(), " replicas of ",
                   WantedReplicas(group), ": removing ", Named(view, removed)));
}

// Rule 1c.
std::optional<Decision> MoveMisplaced(const TopologyView& view, const proto::GroupInfo& group) {
  for (int i = 0; i < group.replicas_size(); ++i) {
    const uint64_t id = group.replicas(i);
    const bool allowed = ZoneAllowed(group.policy(), view.Zone(id));
    if (allowed && !ZoneTakenBefore(view, group, i)) continue;
    const uint64_t target = ChooseNewReplica(view, group, id, /*zone_may_repeat=*/!allowed);
    if (target == 0) continue;
    return Replace(group.id(), id, target,
                   absl::StrCat(PolicyPrefix(group), ": its replica on ", Named(view, id),
                                allowed ? " shares its zone with another replica"
                                        : " is in a zone the policy does not allow",
                                "; moving it to ", Named(view, target)));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Decision> PlanPolicy(const proto::Topology& topology) {
  const TopologyView view(topology);
  for (const proto::GroupInfo* group : view.groups()) {
    if (!view.Settled(*group)) continue;
    const int wanted = WantedReplicas(*group);
    std::optional<Decision> d;
    if (group->replicas_size() < wanted) d = AddReplica(view, *group);
    if (group->replicas_size() > wanted) d = RemoveReplica(view, *group);
    if (!d.has_value()) d = MoveMisplaced(view, *group);
    if (d.has_value()) return d;
  }
  return std::nullopt;
}

std::optional<Decision> PlanReplicaBalance(const proto::Topology& topology) {
  const TopologyView view(topology);
  for (const proto::GroupInfo* group : view.groups()) {
    if (group->leader() == 0 || !view.Settled(*group)) return std::nullopt;
  }
  // zone -> (load, id) of its usable servers; std::map and std::set keep both ordered.
  std::map<std::string, std::set<std::pair<int, uint64_t>>> zones;
  for (const proto::ServerInfo& s : topology.servers()) {
    if (view.Usable(s.id())) zones[s.zone()].insert({view.Load(s.id()), s.id()});
  }
  for (const auto& [zone, servers] : zones) {
    const auto [lo_load, lo] = *servers.begin();
    // The most loaded, lowest id among them.
    const int hi_load = servers.rbegin()->first;
    const uint64_t hi = servers.lower_bound({hi_load, 0})->second;
    if (hi_load < lo_load + 2) continue;
    // (preferred leader there, leader there, group id): the smallest moves.
    std::optional<std::tuple<bool, bool, uint64_t>> best;
    for (const proto::GroupInfo* g : view.groups()) {
      if (!Contains(g->replicas(), hi) || Contains(g->replicas(), lo)) continue;
      const std::tuple<bool, bool, uint64_t> key{g->replicas(0) == hi, g->leader() == hi, g->id()};
      if (!best || key < *best) best = key;
    }
    if (!best) continue;  // cannot happen: lo holds fewer groups than hi
    return Replace(std::get<2>(*best), hi, lo,
                   absl::StrCat("zone ", zone, ": server ", hi, " holds ", hi_load,
                                " replicas, server ", lo, " ", lo_load, "; moving group ",
                                std::get<2>(*best), "'s replica from ", hi, " to ", lo));
  }
  return std::nullopt;
}

namespace {

// Rule 5's leader of a group, for counting: replicas[0] while alive, else the current leader.
uint64_t CountedLeader(const TopologyView& view, const proto::GroupInfo& group) {
  if (!group.replicas().empty() && view.Alive(group.replicas(0))) return group.replicas(0);
  return group.leader();
}

Decision LeaderTo(const proto::GroupInfo& group, uint64_t to, std::string reason) {
  Decision d;
  d.kind = Decision::Kind::kTransferLeader;
  d.group = group.id();
  d.from = group.leader();
  d.to = to;
  if (group.replicas(0) != to) {
    std::vector<uint64_t> replicas = {to};
    for (const uint64_t id : group.replicas()) {
      if (id != to) replicas.push_back(id);
    }
    d.command = SetReplicas(group, replicas, "").command;
  }
  d.reason = std::move(reason);
  return d;
}

// Rule 5a.
std::optional<Decision> LeaderIntoZone(const TopologyView& view,
                                       const std::map<uint64_t, int>& leads) {
  for (const proto::GroupInfo* g : view.groups()) {
    const std::string& zone = g->policy().leader_zone();
    if (zone.empty() || g->replicas().empty()) continue;
    if (view.Alive(g->replicas(0)) && view.Zone(g->replicas(0)) == zone) continue;
    std::optional<std::pair<int, uint64_t>> best;  // (leads, id)
    for (const uint64_t id : g->replicas()) {
      if (!view.Usable(id) || view.Zone(id) != zone) continue;
      const auto it = leads.find(id);
      const std::pair<int, uint64_t> key{it == leads.end() ? 0 : it->second, id};
      if (!best || key < *best) best = key;
    }
    if (!best) continue;
    return LeaderTo(*g, best->second,
                    absl::StrCat(PolicyPrefix(*g), ": its leader belongs in zone ", zone,
                                 "; handing the leadership to ", Named(view, best->second)));
  }
  return std::nullopt;
}

// Rule 5b.
std::optional<Decision> SpreadLeaders(const TopologyView& view,
                                      const std::map<uint64_t, int>& leads) {
  std::vector<std::pair<int, uint64_t>> by_leads;  // (-leads, id): the most first
  for (const auto& [id, n] : leads) by_leads.push_back({-n, id});
  std::sort(by_leads.begin(), by_leads.end());
  auto leads_of = [&leads](uint64_t id) {
    const auto it = leads.find(id);
    return it == leads.end() ? 0 : it->second;
  };
  for (const auto& [minus_n, from] : by_leads) {
    // (leads of the new leader, group, new leader): the smallest wins.
    std::optional<std::tuple<int, uint64_t, uint64_t>> best;
    for (const proto::GroupInfo* g : view.groups()) {
      if (CountedLeader(view, *g) != from) continue;
      const std::string& zone = g->policy().leader_zone();
      for (const uint64_t to : g->replicas()) {
        if (to == from || !view.Usable(to) || leads_of(to) + 2 > -minus_n) continue;
        if (!zone.empty() && view.Zone(to) != zone) continue;
        const std::tuple<int, uint64_t, uint64_t> key{leads_of(to), g->id(), to};
        if (!best || key < *best) best = key;
      }
    }
    if (!best) continue;
    const auto [to_leads, group, to] = *best;
    return LeaderTo(
        *view.Group(group), to,
        absl::StrCat("server ", from, " leads ", -minus_n, " groups, server ", to, " ", to_leads,
                     "; handing group ", group, "'s leadership to ", Named(view, to)));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Decision> PlanLeaderBalance(const proto::Topology& topology) {
  const TopologyView view(topology);
  std::map<uint64_t, int> leads;
  bool every_group_led = true;
  for (const proto::GroupInfo* g : view.groups()) {
    if (g->leader() == 0) every_group_led = false;
    if (const uint64_t leader = CountedLeader(view, *g); leader != 0) ++leads[leader];
  }
  if (std::optional<Decision> d = LeaderIntoZone(view, leads); d.has_value()) return d;
  if (!every_group_led) return std::nullopt;
  return SpreadLeaders(view, leads);
}

std::optional<Decision> PlanNext(const proto::Topology& topology, const BalanceOptions& options) {
  if (!topology.bootstrapped()) return std::nullopt;
  if (std::optional<Decision> d = PlanPolicy(topology); d.has_value()) return d;
  if (options.split_range_bytes > 0 && options.data_moves) {
    if (std::optional<Decision> d = PlanSplitBySize(topology, options.split_range_bytes)) return d;
    if (std::optional<Decision> d =
            PlanDataBalance(topology, options.split_range_bytes, options.zones_required)) {
      return d;
    }
  }
  if (std::optional<Decision> d = PlanReplicaBalance(topology); d.has_value()) return d;
  if (options.leader_moves) return PlanLeaderBalance(topology);
  return std::nullopt;
}

}  // namespace meridian::placement
