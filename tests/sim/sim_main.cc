// meridian_sim: the deterministic simulator's command line.
//
//   meridian_sim --workload=paxos --seeds=N --first_seed=S [--plant=KNOB] [--verbose]
//   meridian_sim --workload=paxos --list_plants
//
// Seed: seeds S..S+N-1, each a full run (see the workload's header for its workload, faults and
// checkers). Every seed runs twice and must produce the same trace hash (the determinism
// checker). Each seed runs in a forked child so a CHECK failure or a hang (alarm) inside the
// replica is reported as that seed's failure (checker=crash) and the sweep goes on.
// Output: one FAIL line per failing seed with the command that replays it, then
// "seeds=N failures=F". Exit 0 iff F == 0 (inverted by --expect_failure, for planted-bug tests);
// 2 on bad flags.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/sim/workload.h"

namespace meridian::sim {
namespace {

constexpr char kUsage[] =
    "usage: meridian_sim --workload=NAME [--seeds=N] [--first_seed=S] [--plant=KNOB]\n"
    "                    [--verbose] [--expect_failure] [--no_fork] [--list_plants] [--help]\n"
    "  --workload=NAME    the workload to simulate (registered: %s)\n"
    "  --seeds=N          how many seeds to run (default 1, at most 10000000)\n"
    "  --first_seed=S     the first seed (default 1); seeds S..S+N-1 run\n"
    "  --plant=KNOB       turn on a planted bug (see --list_plants)\n"
    "  --verbose          print each seed's parameters and event trace\n"
    "  --expect_failure   exit 0 iff at least one seed fails (tests of planted bugs)\n"
    "  --no_fork          run seeds in this process (a CHECK failure then ends the sweep)\n"
    "  --list_plants      print the workload's planted-bug knobs, one per line\n"
    "Prints one FAIL line per failing seed with its replay command, then 'seeds=N failures=F'.\n"
    "Exit status: 0 iff no seed failed; 1 otherwise; 2 on bad usage.\n";

constexpr unsigned kSeedAlarmSeconds = 300;
constexpr char kResultTag[] = "@@RESULT ";

struct Flags {
  std::string workload;
  uint64_t seeds = 1;
  uint64_t first_seed = 1;
  std::string plant;
  bool verbose = false;
  bool expect_failure = false;
  bool no_fork = false;
  bool list_plants = false;
  bool help = false;
};

int Usage(const std::string& error) {
  std::fprintf(stderr, "meridian_sim: %s\n", error.c_str());
  std::fprintf(stderr, kUsage, absl::StrJoin(WorkloadNames(), ", ").c_str());
  return 2;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Returns an error message, or empty on success.
std::string ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.substr(0, 2) != "--") return absl::StrCat("unexpected argument '", arg, "'");
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const bool has_value = eq != std::string::npos;
    const std::string value = has_value ? arg.substr(eq + 1) : std::string();
    const std::map<std::string, bool*> booleans = {
        {"verbose", &f->verbose}, {"expect_failure", &f->expect_failure},
        {"no_fork", &f->no_fork}, {"list_plants", &f->list_plants},
        {"help", &f->help},
    };
    if (auto it = booleans.find(name); it != booleans.end()) {
      if (has_value) return absl::StrCat("--", name, " takes no value");
      *it->second = true;
    } else if (name == "workload" || name == "plant") {
      if (!has_value || value.empty()) return absl::StrCat("--", name, " needs a value");
      (name == "workload" ? f->workload : f->plant) = value;
    } else if (name == "seeds" || name == "first_seed") {
      uint64_t v = 0;
      if (!has_value || !ParseUint(value, &v)) {
        return absl::StrCat("--", name, " needs a non-negative integer, got '", value, "'");
      }
      (name == "seeds" ? f->seeds : f->first_seed) = v;
    } else {
      return absl::StrCat("unknown flag '", arg, "'");
    }
  }
  if (f->seeds == 0 || f->seeds > 10'000'000) return "--seeds must be in [1, 10000000]";
  if (f->first_seed > UINT64_MAX - f->seeds) return "--first_seed + --seeds overflows";
  return "";
}

struct Verdict {
  bool failed = false;
  std::string checker;
  std::string detail;
};

// Runs one seed twice; the second run must hash the same trace.
Verdict RunSeedChecked(Workload& w, uint64_t seed, const Flags& flags) {
  RunOptions opts{flags.plant, flags.verbose};
  const SeedResult first = w.RunSeed(seed, opts);
  if (flags.verbose)
    std::printf("seed=%llu %s\n", static_cast<unsigned long long>(seed), first.summary.c_str());
  if (first.violation) return {true, first.violation->checker, first.violation->detail};
  opts.verbose = false;
  const SeedResult second = w.RunSeed(seed, opts);
  if (second.trace_hash != first.trace_hash || second.violation) {
    return {true, "determinism",
            absl::StrCat("two runs of the seed differ: trace hash ", first.trace_hash, " vs ",
                         second.trace_hash)};
  }
  return {};
}

// Runs one seed in a child process and turns a crash or hang into a verdict.
Verdict RunSeedForked(Workload& w, uint64_t seed, const Flags& flags) {
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  if (pipe(fds) != 0) return {true, "harness", "pipe() failed"};
  const pid_t pid = fork();
  if (pid < 0) return {true, "harness", "fork() failed"};
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDERR_FILENO);
    alarm(kSeedAlarmSeconds);
    const Verdict v = RunSeedChecked(w, seed, flags);
    std::fflush(stdout);
    const std::string line =
        v.failed ? absl::StrCat(kResultTag, v.checker, "\t", v.detail, "\n") : "";
    if (!line.empty() && write(fds[1], line.data(), line.size()) < 0) _exit(3);
    _exit(v.failed ? 1 : 0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof(buf))) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const size_t tag = out.rfind(kResultTag);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1 && tag != std::string::npos) {
    std::string rest = out.substr(tag + std::strlen(kResultTag));
    while (!rest.empty() && rest.back() == '\n') rest.pop_back();
    const size_t tab = rest.find('\t');
    return {true, rest.substr(0, tab), tab == std::string::npos ? "" : rest.substr(tab + 1)};
  }
  // Crashed (a CHECK in the replica or the simulator) or hung: report the last stderr line.
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const size_t nl = out.rfind('\n');
  const std::string last = nl == std::string::npos ? out : out.substr(nl + 1);
  std::string how = WIFSIGNALED(status)
                        ? absl::StrCat("killed by signal ", WTERMSIG(status),
                                       WTERMSIG(status) == SIGALRM ? " (seed timed out)" : "")
                        : absl::StrCat("exit status ", WEXITSTATUS(status));
  return {true, "crash", absl::StrCat(how, last.empty() ? "" : ": ", last)};
}

int Main(int argc, char** argv) {
  Flags flags;
  if (std::string error = ParseFlags(argc, argv, &flags); !error.empty()) return Usage(error);
  if (flags.help) {
    std::printf(kUsage, absl::StrJoin(WorkloadNames(), ", ").c_str());
    return 0;
  }
  if (flags.workload.empty()) return Usage("--workload is required");
  std::unique_ptr<Workload> workload = MakeWorkload(flags.workload);
  if (workload == nullptr) {
    return Usage(absl::StrCat("unknown workload '", flags.workload,
                              "' (registered: ", absl::StrJoin(WorkloadNames(), ", "), ")"));
  }
  const std::vector<std::string> plants = workload->Plants();
  if (flags.list_plants) {
    for (const std::string& p : plants) std::printf("%s\n", p.c_str());
    return 0;
  }
  if (!flags.plant.empty() &&
      std::find(plants.begin(), plants.end(), flags.plant) == plants.end()) {
    return Usage(absl::StrCat("unknown plant '", flags.plant, "' for workload ", flags.workload,
                              " (known: ", absl::StrJoin(plants, ", "), ")"));
  }

  uint64_t failures = 0;
  for (uint64_t seed = flags.first_seed; seed < flags.first_seed + flags.seeds; ++seed) {
    const Verdict v = flags.no_fork ? RunSeedChecked(*workload, seed, flags)
                                    : RunSeedForked(*workload, seed, flags);
    if (!v.failed) continue;
    ++failures;
    std::printf(
        "FAIL seed=%llu checker=%s: %s replay: build/tests/sim/meridian_sim --workload=%s "
        "--seeds=1 --first_seed=%llu%s\n",
        static_cast<unsigned long long>(seed), v.checker.c_str(), v.detail.c_str(),
        flags.workload.c_str(), static_cast<unsigned long long>(seed),
        flags.plant.empty() ? "" : absl::StrCat(" --plant=", flags.plant).c_str());
    std::fflush(stdout);
  }
  std::printf("seeds=%llu failures=%llu\n", static_cast<unsigned long long>(flags.seeds),
              static_cast<unsigned long long>(failures));
  const bool ok = flags.expect_failure ? failures > 0 : failures == 0;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace meridian::sim

int main(int argc, char** argv) { return meridian::sim::Main(argc, argv); }
