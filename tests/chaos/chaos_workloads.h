// The workloads of a chaos run, as child processes: `meridian workload append` (it records its
// history for the list-append checker) and `meridian workload bank` (it checks the bank total
// itself, with read-only transactions, every 100 ms and once more at its end, and exits 1 on a
// violation), each with its log in DIR/logs/workload-<name>.log. Running the real command line
// tests what a user runs, and a workload killed by a broken client library cannot take the
// nemesis down with it.
//
// Thread safety: none; one thread drives it (the one that drives the cluster).
#ifndef MERIDIAN_TESTS_CHAOS_CHAOS_WORKLOADS_H_
#define MERIDIAN_TESTS_CHAOS_CHAOS_WORKLOADS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "tools/supervisor.h"

namespace meridian::chaos {

class WorkloadRunner {
 public:
  // `meridian` is the CLI's path; `placement` the cluster's placement addresses (comma-joined).
  WorkloadRunner(std::string meridian, std::string dir, std::string placement);

  // Starts `meridian workload <args...> --placement=...` as workload `name` (a new name each
  // time: "append", "bank", "final-append", ...).
  absl::Status Start(const std::string& name, const std::vector<std::string>& args);
  // Waits until `name`'s log contains `marker`; false when `deadline` passed or the workload
  // exited first.
  bool WaitForLog(const std::string& name, const std::string& marker, absl::Time deadline);
  // Waits until every workload has exited; those still running at `deadline` are killed (and
  // false returned).
  bool WaitAll(absl::Time deadline);

  // The exit code once it exited normally; -1 otherwise.
  int ExitCode(const std::string& name) const;
  // How it ended ("exited with code 0"), or "running".
  std::string Exit(const std::string& name) const;
  std::string LogPath(const std::string& name) const;
  // The last line of its log that starts with `prefix` ("" if none).
  std::string LastLineStarting(const std::string& name, const std::string& prefix) const;

 private:
  const std::string meridian_;
  const std::string dir_;
  const std::string placement_;
  tools::Supervisor supervisor_;
};

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_CHAOS_WORKLOADS_H_
