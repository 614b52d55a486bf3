// meridian_sim: the deterministic simulator's command line.
//
//   meridian_sim --workload=paxos --seeds=N --first_seed=S [--plant=KNOB] [--verbose]
//   meridian_sim --workload=paxos --list_plants
//   meridian_sim --workload=paxos --report_plants=N --first_seed=S [--min_hit_rate_pct=P]
//
// Seed: seeds S..S+N-1, each a full run (see the workload's header for its workload, faults and
// checkers). Every seed runs twice and must produce the same trace hash (the determinism
// checker). Each seed runs in a forked child so a CHECK failure or a hang (alarm) inside the
// replica is reported as that seed's failure (checker=crash) and the sweep goes on.
// Output: one FAIL line per failing seed with the command that replays it, then
// "seeds=N failures=F". Exit 0 iff F == 0 (inverted by --expect_failure, for planted-bug tests);
// 2 on bad flags.
// --report_plants=N measures the simulator's power: it runs seeds S..S+N-1 clean (timed: the
// seeds/s of a sweep) and then with each of the workload's plants, and prints a table of each
// plant's hit rate: the share of seeds that fail with the plant and pass without it. Exit 0 iff
// the clean run has no failure and every plant's rate is at least --min_hit_rate_pct (default 5).
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
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
    "                    [--verbose] [--expect_failure] [--no_fork] [--list_plants]\n"
    "                    [--report_plants=N [--min_hit_rate_pct=P]] [--help]\n"
    "  --workload=NAME    the workload to simulate (registered: %s)\n"
    "  --seeds=N          how many seeds to run (default 1, at most 10000000)\n"
    "  --first_seed=S     the first seed (default 1); seeds S..S+N-1 run\n"
    "  --plant=KNOB       turn on a planted bug (see --list_plants)\n"
    "  --verbose          print each seed's parameters and event trace\n"
    "  --expect_failure   exit 0 iff at least one seed fails (tests of planted bugs)\n"
    "  --no_fork          run seeds in this process (a CHECK failure then ends the sweep)\n"
    "  --list_plants      print the workload's planted-bug knobs, one per line\n"
    "  --report_plants=N  run seeds S..S+N-1 clean, then with every plant, and print each\n"
    "                     plant's hit rate (seeds failing with it and passing without it)\n"
    "  --min_hit_rate_pct=P  the rate every plant must reach in --report_plants (default 5)\n"
    "Prints one FAIL line per failing seed with its replay command, then 'seeds=N failures=F'.\n"
    "Exit status: 0 iff no seed failed (--report_plants: iff the clean run passed and every\n"
    "plant reached the rate); 1 otherwise; 2 on bad usage.\n";

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
  uint64_t report_plants = 0;  // seeds per plant; 0: no report
  double min_hit_rate_pct = 5;
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

bool ParsePercent(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && *out >= 0 && *out <= 100;
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
    } else if (name == "seeds" || name == "first_seed" || name == "report_plants") {
      uint64_t v = 0;
      if (!has_value || !ParseUint(value, &v)) {
        return absl::StrCat("--", name, " needs a non-negative integer, got '", value, "'");
      }
      if (name == "report_plants" && v == 0) return "--report_plants must be in [1, 10000000]";
      (name == "seeds" ? f->seeds : name == "first_seed" ? f->first_seed : f->report_plants) = v;
    } else if (name == "min_hit_rate_pct") {
      if (!has_value || !ParsePercent(value, &f->min_hit_rate_pct)) {
        return absl::StrCat("--", name, " needs a number in [0, 100], got '", value, "'");
      }
    } else {
      return absl::StrCat("unknown flag '", arg, "'");
    }
  }
  if (f->seeds == 0 || f->seeds > 10'000'000) return "--seeds must be in [1, 10000000]";
  if (f->report_plants > 10'000'000) return "--report_plants must be in [1, 10000000]";
  if (f->report_plants > 0) {
    if (!f->plant.empty() || f->expect_failure) {
      return "--report_plants runs every plant; it takes no --plant or --expect_failure";
    }
    f->seeds = f->report_plants;
  }
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

// Runs the seeds of `flags` with `plant` (or none); returns the failing seeds. With `print`,
// prints a FAIL line with the replay command for each.
std::vector<uint64_t> Sweep(Workload& w, const Flags& flags, const std::string& plant, bool print) {
  Flags run = flags;
  run.plant = plant;
  std::vector<uint64_t> failing;
  for (uint64_t seed = flags.first_seed; seed < flags.first_seed + flags.seeds; ++seed) {
    const Verdict v = flags.no_fork ? RunSeedChecked(w, seed, run) : RunSeedForked(w, seed, run);
    if (!v.failed) continue;
    failing.push_back(seed);
    if (!print) continue;
    std::printf(
        "FAIL seed=%llu checker=%s: %s replay: build/tests/sim/meridian_sim --workload=%s "
        "--seeds=1 --first_seed=%llu%s\n",
        static_cast<unsigned long long>(seed), v.checker.c_str(), v.detail.c_str(),
        flags.workload.c_str(), static_cast<unsigned long long>(seed),
        plant.empty() ? "" : absl::StrCat(" --plant=", plant).c_str());
    std::fflush(stdout);
  }
  return failing;
}

// --report_plants: the clean sweep (timed), then one sweep per plant; prints the table.
int ReportPlants(Workload& w, const Flags& flags, const std::vector<std::string>& plants) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<uint64_t> clean = Sweep(w, flags, "", /*print=*/true);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const unsigned long long first = flags.first_seed, last = flags.first_seed + flags.seeds - 1;
  std::printf("workload=%s seeds=%llu..%llu clean: failures=%zu seeds/s=%.1f\n",
              flags.workload.c_str(), first, last, clean.size(),
              static_cast<double>(flags.seeds) / std::max(secs, 1e-9));
  std::printf("%-36s %8s %8s %8s\n", "plant", "seeds", "caught", "rate");
  std::fflush(stdout);
  std::vector<std::string> weak;
  for (const std::string& plant : plants) {
    size_t caught = 0;
    for (uint64_t seed : Sweep(w, flags, plant, /*print=*/false)) {
      // A seed that fails without the plant too proves nothing about the plant.
      caught += !std::binary_search(clean.begin(), clean.end(), seed);
    }
    const double rate_pct = 100.0 * static_cast<double>(caught) / static_cast<double>(flags.seeds);
    std::printf("%-36s %8llu %8zu %7.1f%%\n", plant.c_str(),
                static_cast<unsigned long long>(flags.seeds), caught, rate_pct);
    std::fflush(stdout);
    if (rate_pct < flags.min_hit_rate_pct) weak.push_back(plant);
  }
  if (!clean.empty()) std::printf("FAILED: %zu clean seed(s) failed\n", clean.size());
  if (!weak.empty()) {
    std::printf("FAILED: below %.1f%%: %s\n", flags.min_hit_rate_pct,
                absl::StrJoin(weak, ", ").c_str());
  }
  return clean.empty() && weak.empty() ? 0 : 1;
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
  if (flags.report_plants > 0) return ReportPlants(*workload, flags, plants);
  if (!flags.plant.empty() &&
      std::find(plants.begin(), plants.end(), flags.plant) == plants.end()) {
    return Usage(absl::StrCat("unknown plant '", flags.plant, "' for workload ", flags.workload,
                              " (known: ", absl::StrJoin(plants, ", "), ")"));
  }

  const uint64_t failures = Sweep(*workload, flags, flags.plant, /*print=*/true).size();
  std::printf("seeds=%llu failures=%llu\n", static_cast<unsigned long long>(flags.seeds),
              static_cast<unsigned long long>(failures));
  const bool ok = flags.expect_failure ? failures > 0 : failures == 0;
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace meridian::sim

int main(int argc, char** argv) { return meridian::sim::Main(argc, argv); }
