// Supervisor: starts, signals, restarts and reaps the child processes of a local cluster.
//
// Each child is fork/exec'ed with its stdout and stderr appended to its log file, in its own
// process group (so a Ctrl-C at the terminal reaches only the supervisor, which then stops the
// children itself), and with PR_SET_PDEATHSIG = SIGKILL, so a supervisor that dies without
// stopping them (a crash, kill -9) still leaves nothing behind. The supervisor signals only the
// PIDs it started and still owns: a PID is forgotten as soon as it has been reaped, so a reused
// PID is never signalled.
//
// The manifest (cluster.json, WriteManifest) lists every process with its exact argv, so outside
// tools can find, stop and restart them the same way.
//
// Thread safety: none. Use one Supervisor from one thread, the thread that started the children
// (PR_SET_PDEATHSIG fires when the thread that forked exits).
#ifndef MERIDIAN_TOOLS_SUPERVISOR_H_
#define MERIDIAN_TOOLS_SUPERVISOR_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace meridian::tools {

// How to run one process. argv[0] is the path of the binary.
struct ProcessSpec {
  std::string name = "";  // unique within a Supervisor: "placement-1", "span-a1"
  std::string role = "";  // "placement" or "spanserver"
  std::string zone = "";  // empty for placement
  std::string address = "";
  std::string data_dir = "";
  std::string log = "";  // stdout and stderr are appended here
  std::vector<std::string> argv = {};
  // "NAME=VALUE" entries added to (or replacing in) the supervisor's environment for this process.
  std::vector<std::string> env = {};
};

// A process as the supervisor last saw it.
struct ProcessState {
  ProcessSpec spec = {};
  pid_t pid = 0;               // 0 when not running
  std::string last_exit = "";  // "exited with code 1", "killed by signal 9"; empty if never exited
  bool exit_expected = true;   // false when it exited without Stop/Kill asking it to
};

class Supervisor {
 public:
  Supervisor() = default;
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  // Stops every child (StopAll with a short grace period).
  ~Supervisor();

  // Adds `spec` and starts it. ALREADY_EXISTS for a known name; on a failed fork or a missing
  // binary an error, and nothing is added.
  absl::Status Start(const ProcessSpec& spec);
  // Starts a known, stopped process again with exactly the same argv and log.
  absl::Status Restart(const std::string& name);
  // Sets the extra environment of a known process (ProcessSpec::env) for its next (re)start.
  absl::Status SetEnvironment(const std::string& name, std::vector<std::string> env);

  // Sends `signal` to a running process. FAILED_PRECONDITION if it is not running.
  absl::Status Signal(const std::string& name, int signal);
  // SIGKILL and reap (waits for the exit).
  absl::Status Kill(const std::string& name);
  // SIGTERM; after `grace` SIGKILL; reaps. OK if it was not running.
  absl::Status Stop(const std::string& name, absl::Duration grace);
  // Stop for every running child, all signalled first, then awaited together.
  void StopAll(absl::Duration grace);

  // Reaps children that exited on their own (without Stop/Kill) since the last call and returns
  // their names; their state says how they exited. Never blocks.
  std::vector<std::string> ReapUnexpected();

  bool Running(const std::string& name) const;
  pid_t Pid(const std::string& name) const;  // 0 if not running or unknown
  // The state of a known process; NOT_FOUND otherwise.
  absl::StatusOr<ProcessState> State(const std::string& name) const;
  std::vector<ProcessState> Processes() const;  // in start order

  // Writes {"dir": ..., "placement": [...], "processes": [...]} to `path` atomically (a temporary
  // file renamed over it).
  absl::Status WriteManifest(const std::string& path, const std::string& dir,
                             const std::vector<std::string>& placement_addresses) const;

 private:
  ProcessState* Find(const std::string& name);
  const ProcessState* Find(const std::string& name) const;
  absl::Status Spawn(ProcessState& process);
  // Waits until every PID in `pids` has exited or `deadline` passed; returns those still running.
  std::vector<ProcessState*> AwaitExit(std::vector<ProcessState*> processes, absl::Time deadline);
  // waitpid(WNOHANG) for one process; true if it has exited (and is now forgotten).
  bool TryReap(ProcessState& process);

  std::vector<ProcessState> processes_;
};

// The last `max_lines` lines of a file, for error messages ("" if unreadable).
std::string TailOfFile(const std::string& path, int max_lines);

// OK if every port in [first, first + count) can be bound on 127.0.0.1 right now; else
// FAILED_PRECONDITION naming the first busy port.
absl::Status CheckPortsFree(int first, int count);

// The lowest base port >= `start` (stepping by `count`) whose `count` ports are all free.
absl::StatusOr<int> FindFreePorts(int start, int count);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_SUPERVISOR_H_
