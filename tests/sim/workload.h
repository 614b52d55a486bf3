// Workload registry of the deterministic simulator. A workload runs one seed and returns its
// verdict; meridian_sim runs seeds, checks determinism (each seed twice, same trace hash) and
// reports. Workloads (paxos, membership, bank, append) register a factory in workload.cc.
//
// Seed: a workload must be a pure function of (seed, RunOptions). Workload/faults/checkers: per
// workload; see paxos_workload.h. Thread safety: a Workload runs one seed at a time.
#ifndef MERIDIAN_TESTS_SIM_WORKLOAD_H_
#define MERIDIAN_TESTS_SIM_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/history.h"

namespace meridian::sim {

struct RunOptions {
  std::string plant;     // a planted-bug knob name, or empty
  bool verbose = false;  // print the trace
};

struct SeedResult {
  std::optional<Violation> violation;  // the first violation found, if any
  uint64_t trace_hash = 0;
  std::string summary;  // one line: the swarm parameters and counters (for --verbose)
};

class Workload {
 public:
  virtual ~Workload() = default;
  // The planted-bug knobs this workload understands.
  virtual std::vector<std::string> Plants() const = 0;
  virtual SeedResult RunSeed(uint64_t seed, const RunOptions& options) = 0;
};

// Names of every registered workload, sorted.
std::vector<std::string> WorkloadNames();
// nullptr for an unknown name.
std::unique_ptr<Workload> MakeWorkload(const std::string& name);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_WORKLOAD_H_
