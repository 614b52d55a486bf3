// PaxosWorkload: phases of one seed and the checkers run on its history; see paxos_workload.h.
//
// Seed: SwarmParams and every Random derive from it. Workload: register clients. Faults: the
// FaultInjector during the fault phase (wiped nodes refuse to rejoin and stay down; the drain and
// the durability checker count live replicas only). Checkers: slot, lease, linearizability,
// durability, liveness (determinism is checked by the caller from trace_hash).
#include "tests/sim/paxos_workload.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "tests/sim/checkers.h"
#include "tests/sim/clients.h"
#include "tests/sim/cluster.h"
#include "tests/sim/faults.h"
#include "tests/sim/swarm.h"

namespace meridian::sim {

std::vector<std::string> PaxosWorkload::Plants() const { return PaxosPlants(); }

SeedResult PaxosWorkload::RunSeed(uint64_t seed, const RunOptions& options) {
  const SwarmParams params = DrawSwarm(seed);
  if (options.verbose)
    std::printf("seed=%llu %s\n", static_cast<unsigned long long>(seed), params.ToString().c_str());
  Random rng(seed);
  Cluster cluster(params, rng.Next(), options.plant, options.verbose);
  Clients clients(&cluster, params, rng.Fork());
  FaultInjector faults(&cluster, params, rng.Fork());
  EventLoop& loop = cluster.loop();

  SeedResult result;
  std::optional<Violation> liveness;
  cluster.StartAll();
  clients.Start();
  faults.Start(loop.now() + params.fault_phase_us);
  bool in_budget = loop.RunUntil(loop.now() + params.fault_phase_us);

  // Heal: every group must commit a put invoked after this point, within the bound.
  faults.Heal();
  const TrueUs heal_us = loop.now();
  auto all_committed = [&] {
    for (paxos::GroupId g : cluster.groups()) {
      if (!clients.CommittedSince(g, heal_us)) return false;
    }
    return true;
  };
  if (in_budget) in_budget = loop.RunUntil(heal_us + params.LivenessBoundUs(), all_committed);
  if (in_budget && !all_committed()) {
    std::string which;
    for (paxos::GroupId g : cluster.groups()) {
      if (!clients.CommittedSince(g, heal_us)) absl::StrAppend(&which, which.empty() ? "" : ",", g);
    }
    liveness =
        Violation{"liveness", absl::StrCat("no commit within ", params.LivenessBoundUs() / 1e6,
                                           " s after heal in group(s) ", which)};
  }

  // Drain: no new ops; let ops finish and every replica catch up to the last acknowledged put
  // (a refused node is no replica any more).
  clients.StopNewOps();
  auto caught_up = [&] {
    if (!clients.Idle()) return false;
    for (paxos::GroupId g : cluster.groups()) {
      for (Addr a : cluster.GroupNodes(g)) {
        if (cluster.node(a).refused()) continue;
        if (cluster.node(a).applied() < clients.MaxAckedSlot(g)) return false;
      }
    }
    return true;
  };
  if (in_budget && !liveness) {
    // A node may still be paused past the heal; once it resumes it may need a lease to pass
    // (a vote it gave, or a ballot it promised) and an election round before it catches up.
    TrueUs resume_us = loop.now();
    for (Addr a = 0; a < cluster.num_nodes(); ++a) {
      resume_us = std::max(resume_us, cluster.node(a).paused_until());
    }
    const int64_t drain_us = params.op_timeout_us + 2 * params.lease_us +
                             2 * params.election_timeout_us + 5 * params.heartbeat_us + 2'000'000;
    in_budget = loop.RunUntil(resume_us + drain_us, caught_up);
  }
  clients.FinishAll();

  const std::vector<ApplyRecord>& applies = cluster.applies();
  if (!(result.violation = CheckSlots(applies)) &&
      !(result.violation = CheckLeases(cluster.LeaseSpans())) &&
      !(result.violation = CheckLinearizable(clients.ops(), applies))) {
    if (!in_budget) {
      result.violation =
          Violation{"budget", absl::StrCat("event budget exhausted after ", loop.events_run(),
                                           " events at t=", loop.now() - kSimEpochUs, "us")};
    } else if (liveness) {
      result.violation = liveness;
    } else {
      result.violation = CheckDurability(clients.ops(), applies, cluster.Finals());
    }
  }
  result.trace_hash = loop.trace_hash();
  size_t ok = 0;
  for (const Op& op : clients.ops()) ok += op.outcome == Outcome::kOk;
  result.summary =
      absl::StrCat("events=", loop.events_run(), " ops=", clients.ops().size(), " ok=", ok,
                   " applies=", applies.size(), " messages=", cluster.net().sent(),
                   " dropped=", cluster.net().dropped(), " | ", params.ToString());
  return result;
}

}  // namespace meridian::sim
