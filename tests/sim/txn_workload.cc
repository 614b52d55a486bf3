// RunTxnSeed: the phases of one seed of a transaction workload and the checkers run on its
// history; see txn_workload.h.
//
// Seed: TxnSwarmParams and every Random derive from it. Workload: the TxnProgram's transactions,
// and the TxnMover's moves and splits during the fault phase. Faults: the FaultInjector during the
// fault phase. Checkers: slot, apply/decision, outcome,
// snapshot, realtime, the program's own, liveness, budget.
#include "tests/sim/txn_workload.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"
#include "tests/sim/checkers.h"
#include "tests/sim/cluster.h"
#include "tests/sim/faults.h"
#include "tests/sim/txn_checkers.h"
#include "tests/sim/txn_cluster.h"
#include "tests/sim/txn_mover.h"
#include "txn/ownership.h"

namespace meridian::sim {
namespace {

// The bootstrap map: key i in group 1 + i % groups.
RangeMap InitialMap(const std::vector<std::string>& keys, size_t groups) {
  std::map<std::string, paxos::GroupId> key_groups;
  for (size_t i = 0; i < keys.size(); ++i) {
    key_groups[keys[i]] = static_cast<paxos::GroupId>(1 + i % groups);
  }
  return RangeMap::Initial(key_groups);
}

// At each map switch of a move, the clients probe the range's new group with the program's reads
// of the keys in it.
void ConnectProbes(TxnProgram& program, const std::vector<std::string>& keys, TxnClients& clients,
                   TxnMover& mover) {
  clients.set_probe_planner([&program, &keys](const SimRange& range) -> std::optional<TxnPlan> {
    std::vector<std::string> inside;
    for (const std::string& k : keys) {
      if (txn::InRange(k, range.start, range.end)) inside.push_back(k);
    }
    if (inside.empty()) return std::nullopt;
    return program.ReadPlan(inside);
  });
  mover.set_on_switch(
      [&clients](const SimRange& range, const std::vector<txn::Timestamp>& ingest_ts) {
        clients.Probe(range, ingest_ts);
      });
}

}  // namespace

SeedResult RunTxnSeed(uint64_t seed, const RunOptions& options, TxnProgram& program) {
  TxnSwarmParams params = DrawTxnSwarm(seed);
  program.Configure(params);
  if (options.verbose) {
    std::printf("seed=%llu %s\n", static_cast<unsigned long long>(seed), params.ToString().c_str());
  }
  Random rng(seed);
  TxnCluster cluster(params, rng.Next(), options.plant, options.verbose);
  const std::vector<std::string> keys = program.Keys();
  cluster.SetInitialMap(InitialMap(keys, cluster.groups().size()));
  TxnClients clients(&cluster, params, rng.Fork(),
                     [&program, &params](Random& r) { return program.Next(r, params); });
  FaultInjector faults(&cluster, params.paxos, rng.Fork());
  TxnMover mover(&cluster, params, rng.Fork(), keys);
  ConnectProbes(program, keys, clients, mover);
  EventLoop& loop = cluster.loop();

  SeedResult result;
  std::optional<Violation> liveness;
  cluster.StartAll();
  clients.Start(program.Setup());
  faults.Start(loop.now() + params.paxos.fault_phase_us);
  mover.Start(loop.now() + params.paxos.fault_phase_us / 10,
              loop.now() + params.paxos.fault_phase_us);
  cluster.ScheduleClockLie(params, loop.now() + params.paxos.fault_phase_us / 5,
                           loop.now() + params.paxos.fault_phase_us);
  bool in_budget = loop.RunUntil(loop.now() + params.paxos.fault_phase_us);

  // Heal: every group must commit a transaction invoked after this point, within the bound.
  faults.Heal();
  const TrueUs heal_us = loop.now();
  auto all_committed = [&] {
    for (paxos::GroupId g : cluster.groups()) {
      if (!clients.CommittedSince(g, heal_us)) return false;
    }
    return true;
  };
  const int64_t bound_us = params.paxos.LivenessBoundUs() + params.txn_idle_timeout_us +
                           4 * params.call_timeout_us + 2'000'000;
  if (in_budget) in_budget = loop.RunUntil(heal_us + bound_us, all_committed);
  const TrueUs live_us = loop.now();
  // Then a calm period of ordinary traffic (most planted bugs show best without faults).
  if (in_budget && all_committed()) in_budget = loop.RunUntil(loop.now() + params.calm_us);
  if (in_budget && !all_committed()) {
    std::string which;
    for (paxos::GroupId g : cluster.groups()) {
      if (!clients.CommittedSince(g, heal_us)) absl::StrAppend(&which, which.empty() ? "" : ",", g);
    }
    liveness =
        Violation{"liveness", absl::StrCat("no transaction committed in group(s) ", which,
                                           " within ", bound_us / 1e6, " s after heal",
                                           clients.setup_done() ? "" : " (setup never committed)")};
  }

  // Drain: no new transactions; let the open ones finish (every call times out, attempts are
  // bounded), then give participants time to learn outcomes.
  clients.StopNewTxns();
  if (in_budget && !liveness) {
    const int64_t drain_us = static_cast<int64_t>(params.max_txn_attempts) *
                                 params.max_call_attempts * (params.call_timeout_us + 250'000) +
                             params.paxos.pause_max_us + 2'000'000;
    in_budget =
        loop.RunUntil(loop.now() + drain_us, [&] { return clients.Idle() && mover.Idle(); });
    if (in_budget && !clients.Idle()) {
      liveness = Violation{"liveness", "clients still busy after the drain"};
    } else if (in_budget && !mover.Idle()) {
      liveness = Violation{"liveness", "the mover is stuck after the drain: " + mover.Describe()};
    }
    if (in_budget) in_budget = loop.RunUntil(loop.now() + 2 * params.in_doubt_inquiry_us + 500'000);
  }

  const std::vector<TxnRecord>& records = clients.records();
  const AttemptMap& attempts = clients.attempt_writes();
  if (!(result.violation = CheckSlots(cluster.applies())) &&
      !(result.violation = cluster.apply_violation()) &&
      !(result.violation = CheckOutcomes(records, cluster.decisions(), attempts)) &&
      !(result.violation = program.Check(records)) &&
      !(result.violation = CheckSnapshots(records, cluster.decisions(), attempts)) &&
      !(result.violation = CheckRealTime(records))) {
    if (!in_budget) {
      result.violation =
          Violation{"budget", absl::StrCat("event budget exhausted after ", loop.events_run(),
                                           " events at t=", loop.now() - kSimEpochUs, "us")};
    } else if (liveness) {
      result.violation = liveness;
    }
  }
  result.trace_hash = loop.trace_hash();
  result.summary = absl::StrCat(
      "events=", loop.events_run(), " txns=", records.size(), " ", clients.counts().ToString(),
      " decisions=", cluster.decisions().size(), " live_after=", (live_us - heal_us) / 1000,
      "ms messages=", cluster.net().sent(), " dropped=", cluster.net().dropped(),
      " group_messages=", cluster.group_messages(), " moved=", mover.done(), " | ",
      params.ToString());
  return result;
}

std::vector<std::string> BankWorkload::Plants() const { return TxnPlants(); }
std::vector<std::string> AppendWorkload::Plants() const { return TxnPlants(); }

}  // namespace meridian::sim
