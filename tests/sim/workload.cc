// The registry of simulator workloads.
//
// Seed/faults/checkers: per workload (paxos_workload.h).
#include "tests/sim/workload.h"

#include <functional>
#include <map>

#include "tests/sim/membership_workload.h"
#include "tests/sim/paxos_workload.h"
#include "tests/sim/txn_workload.h"

namespace meridian::sim {
namespace {

const std::map<std::string, std::function<std::unique_ptr<Workload>()>>& Registry() {
  static const auto* registry =
      new std::map<std::string, std::function<std::unique_ptr<Workload>()>>{
          {"append", [] { return std::make_unique<AppendWorkload>(); }},
          {"bank", [] { return std::make_unique<BankWorkload>(); }},
          {"membership", [] { return std::make_unique<MembershipWorkload>(); }},
          {"paxos", [] { return std::make_unique<PaxosWorkload>(); }},
      };
  return *registry;
}

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

std::unique_ptr<Workload> MakeWorkload(const std::string& name) {
  auto it = Registry().find(name);
  return it == Registry().end() ? nullptr : it->second();
}

}  // namespace meridian::sim
