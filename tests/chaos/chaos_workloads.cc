#include "tests/chaos/chaos_workloads.h"

#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace meridian::chaos {

WorkloadRunner::WorkloadRunner(std::string meridian, std::string dir, std::string placement)
    : meridian_(std::move(meridian)), dir_(std::move(dir)), placement_(std::move(placement)) {}

std::string WorkloadRunner::LogPath(const std::string& name) const {
  return absl::StrCat(dir_, "/logs/workload-", name, ".log");
}

absl::Status WorkloadRunner::Start(const std::string& name, const std::vector<std::string>& args) {
  tools::ProcessSpec spec{.name = name, .role = "workload", .log = LogPath(name)};
  spec.argv = {meridian_, "workload"};
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.argv.push_back("--placement=" + placement_);
  return supervisor_.Start(spec);
}

bool WorkloadRunner::WaitForLog(const std::string& name, const std::string& marker,
                                absl::Time deadline) {
  while (absl::Now() < deadline) {
    std::ifstream in(LogPath(name));
    for (std::string line; std::getline(in, line);) {
      if (absl::StrContains(line, marker)) return true;
    }
    supervisor_.ReapUnexpected();
    if (!supervisor_.Running(name)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

bool WorkloadRunner::WaitAll(absl::Time deadline) {
  bool all = true;
  for (const tools::ProcessState& p : supervisor_.Processes()) {
    while (supervisor_.Running(p.spec.name) && absl::Now() < deadline) {
      supervisor_.ReapUnexpected();
      if (!supervisor_.Running(p.spec.name)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (supervisor_.Running(p.spec.name)) {
      all = false;
      supervisor_.Kill(p.spec.name).IgnoreError();
    }
  }
  return all;
}

std::string WorkloadRunner::Exit(const std::string& name) const {
  absl::StatusOr<tools::ProcessState> state = supervisor_.State(name);
  if (!state.ok()) return "never started";
  if (state->pid != 0) return "running";
  return state->last_exit;
}

int WorkloadRunner::ExitCode(const std::string& name) const {
  const std::string ended = Exit(name);
  absl::string_view exit = ended;
  int code = -1;
  if (!absl::ConsumePrefix(&exit, "exited with code ") || !absl::SimpleAtoi(exit, &code)) {
    return -1;
  }
  return code;
}

std::string WorkloadRunner::LastLineStarting(const std::string& name,
                                             const std::string& prefix) const {
  std::ifstream in(LogPath(name));
  std::string last;
  for (std::string line; std::getline(in, line);) {
    if (absl::StartsWith(line, prefix)) last = line;
  }
  return last;
}

}  // namespace meridian::chaos
