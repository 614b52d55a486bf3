#include "tools/failover_scenario.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

namespace meridian::tools {
namespace {

constexpr absl::Duration kRpcTimeout = absl::Seconds(1);

struct Named {
  Scenario scenario;
  const char* name;
};
constexpr Named kScenarios[] = {{Scenario::kLeader, "leader"},
                                {Scenario::kZone, "zone"},
                                {Scenario::kPlacement, "placement"},
                                {Scenario::kTransfer, "transfer"},
                                {Scenario::kRestart, "restart"}};

std::string LeaderLabel(const Leadership::Server& server, size_t groups) {
  return absl::StrCat(server.name, " (leader of ", server.leads.size(), " of ", groups, " groups)");
}

absl::StatusOr<FaultPlan> PlanPlacement(const std::vector<ClusterProcess>& processes,
                                        const std::string& placement_leader) {
  int replicas = 0;
  const ClusterProcess* leader = nullptr;
  for (const ClusterProcess& p : processes) {
    if (p.role != "placement") continue;
    ++replicas;
    if (p.address == placement_leader && p.pid != 0) leader = &p;
  }
  if (replicas < 3) {
    return absl::FailedPreconditionError(
        "the placement scenario needs 3 placement replicas (with one, killing it stops "
        "placement for good)");
  }
  if (leader == nullptr) {
    return absl::FailedPreconditionError(
        "no running placement replica is at the leader's "
        "address " +
        placement_leader);
  }
  FaultPlan plan;
  plan.scenario = Scenario::kPlacement;
  plan.victims = {leader->name};
  plan.label = absl::StrCat("kill -9 ", leader->name, " (the placement leader)");
  return plan;
}

// Every group `from` leads goes to another of its replicas, the one that leads the fewest groups
// so far (the others share the load).
absl::StatusOr<std::vector<LeaderTransfer>> PlanTransfers(const Leadership& survey,
                                                          const Leadership::Server& from) {
  std::map<uint64_t, size_t> load;
  for (const Leadership::Server& s : survey.servers) {
    if (s.id != 0 && s.id != from.id) load[s.id] = s.leads.size();
  }
  std::vector<LeaderTransfer> transfers;
  for (const uint64_t group : from.leads) {
    uint64_t best = 0;
    const auto members = survey.members.find(group);
    if (members != survey.members.end()) {
      for (const uint64_t id : members->second) {
        if (load.contains(id) && (best == 0 || load[id] < load[best])) best = id;
      }
    }
    if (best == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("group ", group, " has no other live replica to hand its leadership to"));
    }
    ++load[best];
    transfers.push_back(
        {.group = group, .from_address = from.address, .to = best, .to_name = survey.NameOf(best)});
  }
  return transfers;
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(const std::string& name) {
  std::vector<std::string> names;
  for (const Named& n : kScenarios) {
    if (name == n.name) return n.scenario;
    names.push_back(n.name);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown scenario '", name, "' (expected one of: ", absl::StrJoin(names, ", "), ")"));
}

const char* ScenarioName(Scenario scenario) {
  for (const Named& n : kScenarios) {
    if (n.scenario == scenario) return n.name;
  }
  return "?";
}

const Leadership::Server* Leadership::LeadersServer() const {
  const Server* best = nullptr;
  for (const Server& s : servers) {
    if (!s.leads.empty() && (best == nullptr || s.leads.size() > best->leads.size())) best = &s;
  }
  return best;
}

std::string Leadership::NameOf(uint64_t id) const {
  for (const Server& s : servers) {
    if (s.id == id) return s.name;
  }
  return "";
}

Leadership SurveyLeadership(const std::vector<ClusterProcess>& processes) {
  Leadership survey;
  for (const ClusterProcess& p : processes) {
    if (p.role != "spanserver" || p.pid == 0) continue;
    Leadership::Server server;
    server.name = p.name;
    server.zone = p.zone;
    server.address = p.address;
    absl::StatusOr<proto::ServerStatusResponse> status = QueryServerStatus(p.address, kRpcTimeout);
    if (status.ok()) {
      server.id = status->server_id();
      for (const proto::GroupStatus& g : status->groups()) {
        std::vector<uint64_t>& members = survey.members[g.group()];
        if (members.empty()) members.assign(g.replicas().begin(), g.replicas().end());
        if (g.role() == "leader" && g.has_lease()) {
          server.leads.push_back(g.group());
          survey.leader_commit[g.group()] = g.commit();
        }
      }
    }
    survey.servers.push_back(std::move(server));
  }
  return survey;
}

absl::StatusOr<FaultPlan> PlanFault(Scenario scenario, const std::vector<ClusterProcess>& processes,
                                    const std::string& placement_leader) {
  if (scenario == Scenario::kPlacement) return PlanPlacement(processes, placement_leader);
  const Leadership survey = SurveyLeadership(processes);
  const Leadership::Server* leaders = survey.LeadersServer();
  if (leaders == nullptr) {
    return absl::FailedPreconditionError("no spanserver reports leading a group with a lease");
  }
  const size_t groups = survey.members.size();
  FaultPlan plan;
  plan.scenario = scenario;
  plan.victim_id = leaders->id;
  // (A transfer's groups are not watched: when the server is their preferred leader, as placement
  // arranges, the target hands them back once caught up, too soon for a poll to see it lead.)
  if (scenario == Scenario::kLeader || scenario == Scenario::kRestart) {
    plan.groups_hit = leaders->leads;
    plan.leaders_hit = {leaders->id};
  }
  switch (scenario) {
    case Scenario::kLeader:
    case Scenario::kRestart:
      plan.victims = {leaders->name};
      plan.label = absl::StrCat("kill -9 ", LeaderLabel(*leaders, groups));
      break;
    case Scenario::kZone: {
      size_t led = 0;
      for (const Leadership::Server& s : survey.servers) {
        if (s.zone != leaders->zone) continue;
        plan.victims.push_back(s.name);
        led += s.leads.size();
        plan.groups_hit.insert(plan.groups_hit.end(), s.leads.begin(), s.leads.end());
        if (s.id != 0) plan.leaders_hit.push_back(s.id);
      }
      plan.label = absl::StrCat("kill -9 every server of ", leaders->zone, " (",
                                absl::StrJoin(plan.victims, ", "), "; leaders of ", led, " of ",
                                groups, " groups)");
      break;
    }
    case Scenario::kTransfer: {
      absl::StatusOr<std::vector<LeaderTransfer>> transfers = PlanTransfers(survey, *leaders);
      if (!transfers.ok()) return transfers.status();
      plan.transfers = *std::move(transfers);
      std::set<std::string> to;
      for (const LeaderTransfer& t : plan.transfers) to.insert(t.to_name);
      plan.label =
          absl::StrCat("transfer ", leaders->leads.size(), " of ", groups,
                       " groups' leadership from ", leaders->name, " to ", absl::StrJoin(to, ", "));
      break;
    }
    case Scenario::kPlacement:
      break;
  }
  return plan;
}

absl::Status ApplyFault(const FaultPlan& plan, ProcessControl* control) {
  absl::Status result;
  if (!plan.victims.empty() && control == nullptr) {
    return absl::FailedPreconditionError("killing processes needs the cluster's manifest");
  }
  for (const std::string& victim : plan.victims) result.Update(control->Kill(victim));
  for (const LeaderTransfer& t : plan.transfers) {
    result.Update(RequestLeaderTransfer(t.from_address, t.group, t.to, kRpcTimeout));
  }
  return result;
}

std::optional<absl::Time> AwaitLeaders(const FaultPlan& plan,
                                       const std::vector<ClusterProcess>& processes,
                                       absl::Duration poll, absl::Time give_up,
                                       const std::function<bool()>& cancelled) {
  const std::set<std::string> victims(plan.victims.begin(), plan.victims.end());
  const std::set<uint64_t> old(plan.leaders_hit.begin(), plan.leaders_hit.end());
  while (absl::Now() < give_up && !(cancelled && cancelled())) {
    std::set<uint64_t> led;
    for (const ClusterProcess& p : processes) {
      if (p.role != "spanserver" || p.pid == 0 || victims.contains(p.name)) continue;
      absl::StatusOr<proto::ServerStatusResponse> status = QueryServerStatus(p.address, poll);
      if (!status.ok() || old.contains(status->server_id())) continue;
      for (const proto::GroupStatus& g : status->groups()) {
        if (g.role() == "leader" && g.has_lease()) led.insert(g.group());
      }
    }
    const bool all = std::all_of(plan.groups_hit.begin(), plan.groups_hit.end(),
                                 [&](uint64_t g) { return led.contains(g); });
    if (all) return absl::Now();
    absl::SleepFor(poll);
  }
  return std::nullopt;
}

RestartWatch::RestartWatch(const Leadership& before, uint64_t id, std::string name,
                           std::string address)
    : name_(std::move(name)), address_(std::move(address)) {
  for (const auto& [group, members] : before.members) {
    const auto commit = before.leader_commit.find(group);
    if (commit != before.leader_commit.end() &&
        std::find(members.begin(), members.end(), id) != members.end()) {
      target_[group] = commit->second;
    }
  }
  progress_ = absl::StrCat(name_, " starting");
}

bool RestartWatch::Poll() {
  if (caught_up_) return true;
  absl::StatusOr<proto::ServerStatusResponse> status = QueryServerStatus(address_, kRpcTimeout);
  if (!status.ok()) {
    progress_ = absl::StrCat(name_, " not answering yet");
    return false;
  }
  size_t done = 0;
  std::vector<std::string> behind;
  for (const proto::GroupStatus& g : status->groups()) {
    const auto target = target_.find(g.group());
    if (target == target_.end()) continue;
    if (g.applied() >= target->second) {
      ++done;
    } else {
      behind.push_back(absl::StrCat("g", g.group(), " ", g.applied(), "/", target->second));
    }
  }
  caught_up_ = done == target_.size();
  progress_ = absl::StrCat(name_, ": ", done, " of ", target_.size(), " groups caught up",
                           behind.empty() ? "" : " (behind: ", absl::StrJoin(behind, ", "),
                           behind.empty() ? "" : ")");
  return caught_up_;
}

}  // namespace meridian::tools
