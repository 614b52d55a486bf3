// The register run: phases of one seed and the checkers run on its history, and PaxosWorkload
// on it; see paxos_workload.h.
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
namespace {

// The world of one seed and its phases; an extension, when given, joins each phase.
class RegisterRun {
 public:
  RegisterRun(uint64_t seed, const SwarmParams& params, const RunOptions& options,
              RegisterExtension* extension)
      : params_(params),
        extension_(extension),
        rng_(seed),
        cluster_(params, rng_.Next(), options.plant, options.verbose),
        clients_(&cluster_, params, rng_.Fork()),
        faults_(&cluster_, params, rng_.Fork()),
        loop_(cluster_.loop()) {
    if (extension_ != nullptr) extension_->Attach(cluster_, rng_.Fork());
  }

  SeedResult Run() {
    cluster_.StartAll();
    clients_.Start();
    const TrueUs fault_end = loop_.now() + params_.fault_phase_us;
    faults_.Start(fault_end);
    if (extension_ != nullptr) extension_->Start();
    in_budget_ = loop_.RunUntil(fault_end);
    HealAndWaitForCommits();
    clients_.StopNewOps();
    if (extension_ != nullptr) extension_->Finish();
    if (in_budget_ && !liveness_) Drain();
    clients_.FinishAll();
    return Verdict();
  }

 private:
  bool AllCommittedSince(TrueUs t) const {
    for (paxos::GroupId g : cluster_.groups()) {
      if (!clients_.CommittedSince(g, t)) return false;
    }
    return true;
  }

  // Heal: every group must commit a put invoked after this point, within the bound.
  void HealAndWaitForCommits() {
    faults_.Heal();
    if (extension_ != nullptr) extension_->Heal();
    const TrueUs heal_us = loop_.now();
    auto all_committed = [&] { return AllCommittedSince(heal_us); };
    if (in_budget_) in_budget_ = loop_.RunUntil(heal_us + params_.LivenessBoundUs(), all_committed);
    if (!in_budget_ || all_committed()) return;
    std::string which;
    for (paxos::GroupId g : cluster_.groups()) {
      if (!clients_.CommittedSince(g, heal_us)) {
        absl::StrAppend(&which, which.empty() ? "" : ",", g);
      }
    }
    liveness_ =
        Violation{"liveness", absl::StrCat("no commit within ", params_.LivenessBoundUs() / 1e6,
                                           " s after heal in group(s) ", which)};
  }

  // No new ops; let ops finish and every replica catch up to the last acknowledged put (a
  // refused node is no replica any more).
  void Drain() {
    auto caught_up = [&] {
      if (!clients_.Idle()) return false;
      for (paxos::GroupId g : cluster_.groups()) {
        for (Addr a : cluster_.GroupNodes(g)) {
          if (cluster_.node(a).refused()) continue;
          if (cluster_.node(a).applied() < clients_.MaxAckedSlot(g)) return false;
        }
      }
      return true;
    };
    // A node may still be paused past the heal; once it resumes it may need a lease to pass
    // (a vote it gave, or a ballot it promised) and an election round before it catches up.
    TrueUs resume_us = loop_.now();
    for (Addr a = 0; a < cluster_.num_nodes(); ++a) {
      resume_us = std::max(resume_us, cluster_.node(a).paused_until());
    }
    const int64_t drain_us = params_.op_timeout_us + 2 * params_.lease_us +
                             2 * params_.election_timeout_us + 5 * params_.heartbeat_us + 2'000'000;
    in_budget_ = loop_.RunUntil(resume_us + drain_us, caught_up);
  }

  SeedResult Verdict() {
    SeedResult result;
    const std::vector<ApplyRecord>& applies = cluster_.applies();
    if (!(result.violation = CheckSlots(applies)) &&
        !(result.violation = CheckLeases(cluster_.LeaseSpans())) &&
        !(result.violation = CheckLinearizable(clients_.ops(), applies))) {
      if (!in_budget_) {
        result.violation =
            Violation{"budget", absl::StrCat("event budget exhausted after ", loop_.events_run(),
                                             " events at t=", loop_.now() - kSimEpochUs, "us")};
      } else if (liveness_) {
        result.violation = liveness_;
      } else {
        result.violation = CheckDurability(clients_.ops(), applies, cluster_.Finals());
      }
    }
    result.trace_hash = loop_.trace_hash();
    size_t ok = 0;
    for (const Op& op : clients_.ops()) ok += op.outcome == Outcome::kOk;
    result.summary = absl::StrCat(
        "events=", loop_.events_run(), " ops=", clients_.ops().size(), " ok=", ok,
        " applies=", applies.size(), " messages=", cluster_.net().sent(),
        " dropped=", cluster_.net().dropped(),
        extension_ != nullptr ? " " + extension_->Summary() : "", " | ", params_.ToString());
    return result;
  }

  const SwarmParams params_;
  RegisterExtension* const extension_;
  Random rng_;
  Cluster cluster_;
  Clients clients_;
  FaultInjector faults_;
  EventLoop& loop_;
  bool in_budget_ = true;
  std::optional<Violation> liveness_;
};

}  // namespace

SeedResult RunRegisterSeed(uint64_t seed, const SwarmParams& params, const RunOptions& options,
                           RegisterExtension* extension) {
  if (options.verbose) {
    std::printf("seed=%llu %s\n", static_cast<unsigned long long>(seed), params.ToString().c_str());
  }
  RegisterRun run(seed, params, options, extension);
  return run.Run();
}

std::vector<std::string> PaxosWorkload::Plants() const { return PaxosPlants(); }

SeedResult PaxosWorkload::RunSeed(uint64_t seed, const RunOptions& options) {
  return RunRegisterSeed(seed, DrawSwarm(seed), options, /*extension=*/nullptr);
}

}  // namespace meridian::sim
