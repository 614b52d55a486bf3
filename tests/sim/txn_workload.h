// The transaction workloads of meridian_sim, "bank" and "append". One seed = one run:
//   seed      -> TxnSwarmParams (txn_swarm.h): 2-4 groups of 3 or 5 replicas, clocks skewed and
//                drifting inside epsilon (sometimes a large epsilon with every clock near its
//                edge), manager timers, the client mix;
//   workload  -> clients (txn_clients.h) running the workload's transactions through
//                txn::TransactionManager on every replica (txn_node.h), routed by their copies
//                of the range map (range_map.h); meanwhile the mover (txn_mover.h) moves and
//                splits 0-4 ranges with the real Mover's steps, checked by the real RangeGuard;
//   faults    -> the fault phase (faults.h: crashes incl. leaders, restarts, wipes — a wiped
//                replica refuses to rejoin and stays down —, pauses, partitions, clogging,
//                power losses, election clogs, snapshot lags when the seed compacts its logs,
//                dropped/duplicated/delayed messages — client requests, replies and group
//                messages too; most seeds focus on one kind), then heal: every group must
//                commit a transaction invoked after the heal within a bound (liveness), then a
//                bounded drain;
//   checkers  -> slot agreement and the states restarts and snapshots carry (checkers.h),
//                applied decisions agree (txn_cluster.h), outcome, snapshot and realtime
//                (txn_checkers.h), plus the workload's own: bank totals, or the list-append
//                checker; meridian_sim adds determinism.
//                A mover still busy after the drain is a liveness violation.
// Planted bugs: the TransactionManagerOptions testing_* knobs, the range-move plants
// (testing_serve_before_adopt, testing_release_without_drain, testing_skip_delta) and the
// compaction plants (TxnPlants()).
// Thread safety: one seed at a time.
#ifndef MERIDIAN_TESTS_SIM_TXN_WORKLOAD_H_
#define MERIDIAN_TESTS_SIM_TXN_WORKLOAD_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/txn_clients.h"
#include "tests/sim/txn_history.h"
#include "tests/sim/txn_swarm.h"
#include "tests/sim/workload.h"

namespace meridian::sim {

// What a transaction workload adds to the common run.
class TxnProgram {
 public:
  virtual ~TxnProgram() = default;
  // Called once per seed before the run, with the seed's parameters (it may adjust the client
  // mix and sizes).
  virtual void Configure(TxnSwarmParams& params) = 0;
  // The keys, by index; key i starts in group 1 + i % groups (RangeMap::Initial).
  virtual std::vector<std::string> Keys() const = 0;
  // A transaction that runs once before the others (e.g. initial balances), or nullopt.
  virtual std::optional<TxnPlan> Setup() = 0;
  virtual TxnPlan Next(Random& rng, const TxnSwarmParams& params) = 0;
  // A read-only transaction of `keys` (the probe reads after a move, TxnClients::Probe).
  virtual TxnPlan ReadPlan(const std::vector<std::string>& keys) = 0;
  // The workload's own checker over the finished history.
  virtual std::optional<Violation> Check(const std::vector<TxnRecord>& records) = 0;
};

SeedResult RunTxnSeed(uint64_t seed, const RunOptions& options, TxnProgram& program);

class BankWorkload : public Workload {
 public:
  std::vector<std::string> Plants() const override;
  SeedResult RunSeed(uint64_t seed, const RunOptions& options) override;
};

class AppendWorkload : public Workload {
 public:
  std::vector<std::string> Plants() const override;
  SeedResult RunSeed(uint64_t seed, const RunOptions& options) override;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_WORKLOAD_H_
