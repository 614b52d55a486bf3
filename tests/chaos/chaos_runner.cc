// chaos_runner: the chaos suite's driver (docs/testing.md, "The chaos suite"). ctest runs it for a
// bounded minute; `--duration=10m` runs it long. --help lists the flags.
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/chaos/chaos_report.h"
#include "tests/chaos/chaos_run.h"

namespace meridian::chaos {
namespace {

struct Flag {
  const char* name;
  const char* default_value;
  const char* help;
};

constexpr Flag kFlags[] = {
    {"duration", "60s", "how long the nemesis injects faults (90s, 10m, 1h; a bare number: s)"},
    {"seed", "1", "seed of every choice: fault kinds, targets, holds, clock steps, workloads"},
    {"faults", "all", "fault kinds to inject: kill,stop,partition,clock,disk or all"},
    {"json", "", "write the JSON summary here (default: DIR/chaos-summary.json)"},
    {"dir", "",
     "directory for the cluster, logs and histories (default: a new one in /tmp, "
     "removed after a clean run)"},
    {"keep_dir", "false", "keep the directory after a clean run too"},
    {"plant", "",
     "planted bugs, comma-separated (see below): the run then succeeds only if each "
     "is caught by its check"},
    {"truetime_epsilon_us", "1000", "every process's TrueTime epsilon"},
    {"clock_step_max_us", "-1",
     "largest clock step either way; -1: 100 x epsilon (servers whose clocks step past epsilon "
     "widen TrueTime or stop serving until their peers agree)"},
    {"hold_max", "5s", "longest fault (a disk fault lasts twice as long)"},
    {"quiet_max", "3s", "longest calm between two faults"},
    {"final_round", "5s", "how long the workloads run again on the healed cluster"},
    {"placement_replicas", "1", "placementd replicas: 1 or 3"},
    {"port_hint", "24000", "the cluster takes the first free ports from here"},
    {"placementd", MERIDIAN_PLACEMENTD_PATH, "the placementd binary"},
    {"spanserver", MERIDIAN_SPANSERVER_PATH, "the spanserver binary"},
    {"meridian", MERIDIAN_CLI_PATH, "the meridian binary (its workloads)"},
};

void PrintHelp() {
  std::printf(
      "Usage: chaos_runner [--duration=10m] [--seed=N] [--faults=kill,stop,partition,clock,disk] "
      "[flags]\n\n"
      "Starts a 3-zone Meridian cluster (placementd + 3 spanservers, each on a loopback address\n"
      "of its own), runs `meridian workload append` and `meridian workload bank` against it\n"
      "while a seeded nemesis kills (-9) and restarts processes, stops (SIGSTOP) and continues\n"
      "them, cuts links between spanservers (nftables), steps spanserver clocks (their\n"
      "--testing_clock_offset_file) and fills one spanserver's disk (a tmpfs). Then it heals\n"
      "everything and checks: no crash, the append history plus a final read is strictly\n"
      "serializable, no acknowledged append is lost, the bank total held, everything healed\n"
      "(every group led, every server alive, nothing fenced), and a final round of both\n"
      "workloads checks clean. Progress is printed as it runs; a JSON summary is written.\n"
      "A fault kind this machine cannot inject (no nft, not root) is skipped and says why.\n"
      "Exit status: 0 every check passed, 1 a check failed, 2 the cluster could not be set up.\n\n"
      "Flags:\n");
  for (const Flag& flag : kFlags) {
    std::printf("  --%-22s %s (default: %s)\n", absl::StrCat(flag.name, "=...").c_str(), flag.help,
                *flag.default_value ? flag.default_value : "none");
  }
  std::printf("\nPlanted bugs (--plant):\n");
  for (const Plant& plant : kPlants) {
    std::printf("  %-20s %s; caught by %s\n", plant.name, plant.what, plant.check);
  }
}

bool ParseDurationFlag(const std::string& text, absl::Duration* out) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    *out = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, out)) {
    return false;
  }
  return *out > absl::ZeroDuration() && *out <= absl::Hours(24);
}

// The flags into `options`; "" when valid, else what is wrong.
std::string ParseFlags(const std::map<std::string, std::string>& f, ChaosOptions& options) {
  if (!ParseDurationFlag(f.at("duration"), &options.duration)) return "bad --duration";
  if (!ParseDurationFlag(f.at("hold_max"), &options.hold_max)) return "bad --hold_max";
  if (!ParseDurationFlag(f.at("quiet_max"), &options.quiet_max)) return "bad --quiet_max";
  if (!ParseDurationFlag(f.at("final_round"), &options.final_round)) return "bad --final_round";
  if (!absl::SimpleAtoi(f.at("seed"), &options.seed)) return "--seed takes an integer";
  absl::StatusOr<std::vector<FaultKind>> faults = ParseFaults(f.at("faults"));
  if (!faults.ok()) return std::string(faults.status().message());
  options.faults = *faults;
  if (!absl::SimpleAtoi(f.at("truetime_epsilon_us"), &options.truetime_epsilon_us) ||
      options.truetime_epsilon_us < 0) {
    return "--truetime_epsilon_us takes a non-negative integer";
  }
  if (!absl::SimpleAtoi(f.at("clock_step_max_us"), &options.clock_step_max_us) ||
      options.clock_step_max_us < -1) {
    return "--clock_step_max_us takes -1 or a non-negative integer";
  }
  if (!absl::SimpleAtoi(f.at("placement_replicas"), &options.placement_replicas) ||
      (options.placement_replicas != 1 && options.placement_replicas != 3)) {
    return "--placement_replicas must be 1 or 3";
  }
  if (!absl::SimpleAtoi(f.at("port_hint"), &options.port_hint) || options.port_hint < 1024 ||
      options.port_hint > 60000) {
    return "--port_hint must be in 1024..60000";
  }
  for (const absl::string_view plant : absl::StrSplit(f.at("plant"), ',', absl::SkipEmpty())) {
    if (std::none_of(std::begin(kPlants), std::end(kPlants),
                     [&](const Plant& p) { return plant == p.name; })) {
      return absl::StrCat("unknown --plant ", plant, " (see --help)");
    }
    options.plants.emplace_back(plant);
  }
  options.json_path = f.at("json");
  options.dir = f.at("dir");
  options.keep_dir = f.at("keep_dir") == "true";
  options.placementd_path = f.at("placementd");
  options.spanserver_path = f.at("spanserver");
  options.meridian_path = f.at("meridian");
  return "";
}

int Main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  for (const Flag& flag : kFlags) flags[flag.name] = flag.default_value;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return 0;
    }
    if (arg == "--keep_dir") arg = "--keep_dir=true";
    const size_t eq = arg.find('=');
    const std::string name = absl::StartsWith(arg, "--") ? arg.substr(2, eq - 2) : "";
    if (eq == std::string::npos || !flags.contains(name)) {
      std::fprintf(stderr, "chaos_runner: unknown argument '%s'; see --help\n", arg.c_str());
      return 2;
    }
    flags[name] = arg.substr(eq + 1);
  }
  ChaosOptions options;
  if (const std::string error = ParseFlags(flags, options); !error.empty()) {
    std::fprintf(stderr, "chaos_runner: %s; see --help\n", error.c_str());
    return 2;
  }
  return RunChaos(options);
}

}  // namespace
}  // namespace meridian::chaos

int main(int argc, char** argv) {
  // As the servers do: Debian's Abseil checks every mutex acquisition for lock-order cycles.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return meridian::chaos::Main(argc, argv);
}
