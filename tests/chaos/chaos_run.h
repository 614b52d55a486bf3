// One chaos run (docs/testing.md, "The chaos suite"): a 3-zone LocalCluster of real placementd
// and spanserver processes on loopback, `meridian workload append` and `meridian workload bank`
// against it, a nemesis (nemesis.h) that injects faults for `duration`, then a heal, and the
// checks of chaos_report.h:
//   no-crash                       no process exited unless the nemesis killed it
//   append-history-strictly-serializable
//                                  the append history plus a final read taken after the heal is
//                                  strictly serializable (tools/history/append_checker.h, the
//                                  checker of `meridian check-history`)
//   no-lost-acknowledged-append    every acknowledged append is in that final read
//   bank-invariant                 the bank workload's own checks held during the run, and a
//                                  snapshot after the heal holds the initial total
//   healed                         every process runs, every group has a leader with a lease,
//                                  every server is alive and no group is fenced
//   final-round                    short append and bank runs on the healed cluster commit
//                                  transactions and check clean
// Every wait is bounded; every process it starts it stops, by PID (tools/supervisor.h).
//
// Thread safety: RunChaos runs on the calling thread (it must stay alive while the cluster
// runs: the children die with it, PR_SET_PDEATHSIG).
#ifndef MERIDIAN_TESTS_CHAOS_CHAOS_RUN_H_
#define MERIDIAN_TESTS_CHAOS_CHAOS_RUN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tests/chaos/nemesis.h"

namespace meridian::chaos {

struct ChaosOptions {
  absl::Duration duration = absl::Seconds(60);  // of the fault phase
  uint64_t seed = 1;
  std::vector<FaultKind> faults;
  std::string dir;        // empty: a new directory under /tmp, removed after a clean run
  std::string json_path;  // empty: DIR/chaos-summary.json
  bool keep_dir = false;
  int port_hint = 24000;
  int placement_replicas = 1;
  int64_t truetime_epsilon_us = 1000;
  // The largest clock step, either way. Default (-1): 100 x epsilon. A step within epsilon
  // TrueTime absorbs; a larger one is a server whose clock lies, which its peers' clock probes
  // must catch (truetime/peer_clock_check.h): TrueTime widens (up to 3 x its guard, 30 ms
  // here) or the server stops serving until its clock agrees again, and no check may fail.
  int64_t clock_step_max_us = -1;
  int64_t paxos_lease_ms = 1000;
  absl::Duration hold_max = absl::Seconds(5);   // longest fault (a disk fault: twice)
  absl::Duration quiet_max = absl::Seconds(3);  // longest calm between faults
  absl::Duration final_round = absl::Seconds(5);
  absl::Duration heal_timeout = absl::Seconds(120);
  int append_clients = 3;
  int bank_clients = 2;
  int bank_accounts = 10;
  std::vector<std::string> plants;  // names from chaos_report.h kPlants
  std::string placementd_path;
  std::string spanserver_path;
  std::string meridian_path;
};

// Runs the scenario, printing progress; writes the JSON summary. Returns the exit status: 0 every
// check passed (with plants: every planted bug was caught by its check), 1 otherwise, 2 the
// cluster could not be set up.
int RunChaos(const ChaosOptions& options);

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_CHAOS_RUN_H_
