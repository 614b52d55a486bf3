// `meridian failover-demo`: Figure 5 of the Spanner paper on a local cluster. Starts a cluster
// (or attaches to a running one), runs a steady workload through the SDK, applies one fault after
// a warm-up (failover_scenario.h), samples committed operations every 100 ms, then reports the
// recovery time and the longest window without a commit (failover_timeline.h), checks that no
// acknowledged write was lost (failover_workload.h), and plots throughput over time with the
// fault marked (failover_report.h). Whatever happens — the end, Ctrl-C, SIGTERM, an error — every
// process it started is stopped before it exits.
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "meridian/client.h"
#include "tools/command.h"
#include "tools/failover_cluster.h"
#include "tools/failover_report.h"
#include "tools/failover_sampler.h"
#include "tools/failover_scenario.h"
#include "tools/failover_timeline.h"
#include "tools/failover_tpcc.h"
#include "tools/failover_workload.h"
#include "tools/local_cluster.h"
#include "tools/stop_signal.h"

namespace meridian::tools {
namespace {

struct Config {
  Scenario scenario = Scenario::kLeader;
  std::string workload = "kv";
  int clients = 8;
  int keys = 1000;
  int warehouses = 1;  // tpcc
  uint64_t seed = 1;
  int64_t deadline_ms = 10'000;
  int64_t backoff_max_ms = 1'000;
  absl::Duration warmup;
  absl::Duration after;
  absl::Duration down;
  std::string dir;
  std::string json;
  std::string gnuplot;
  std::vector<std::string> placement;  // attached: the cluster's placement addresses
  std::string cluster_dir;             // attached: the demo's --dir (its manifest)
  LocalClusterOptions cluster;         // started here when not attached
  bool testing_corrupt_ack = false;
  bool attached() const { return !placement.empty() || !cluster_dir.empty(); }
};

FailoverTarget TargetOf(const Config& config) {
  const double lease_s = static_cast<double>(config.cluster.paxos_lease_ms) / 1000;
  switch (config.scenario) {
    case Scenario::kLeader:
    case Scenario::kZone:
    case Scenario::kRestart:
      return {.kind = FailoverTarget::Kind::kRecovery,
              .limit_s = lease_s + 0.5,
              .why = absl::StrFormat("one lease %.2f s + 0.5 s", lease_s)};
    case Scenario::kTransfer:
      return {.kind = FailoverTarget::Kind::kZeroWindow,
              .limit_s = 0.1,
              .why = "a planned move stops no client for more than 100 ms"};
    case Scenario::kPlacement:
      break;
  }
  return {};
}

// The running phase of a run: the cluster, its control, the client, the workload and the sampler.
struct Run {
  std::unique_ptr<LocalCluster> cluster;  // null when attached
  std::unique_ptr<ProcessControl> control;
  std::vector<std::string> placement;
  std::unique_ptr<Client> client;
  std::unique_ptr<WorkloadMeter> meter;
  std::unique_ptr<FailoverWorkload> workload;
  std::unique_ptr<Sampler> sampler;
  std::optional<double> caught_up_s;
  double fault_s = 0;
  // Follows the groups that lost their leader until each is led again (AwaitLeaders).
  std::thread leader_watch;
  std::atomic<bool> stop_watch{false};
  std::optional<double> leaders_back_s;  // written by leader_watch; read after joining it
  ~Run() { StopLeaderWatch(); }
  void StopLeaderWatch() {
    stop_watch = true;
    if (leader_watch.joinable()) leader_watch.join();
  }
};

// Starts run.leader_watch: it marks the "leaders" event when every group that lost its leader
// has a new one with a lease (polling every 20 ms, for at most `limit`).
void WatchLeaders(Run& run, const FaultPlan& plan, std::vector<ClusterProcess> processes,
                  absl::Time fault, absl::Duration limit) {
  if (plan.groups_hit.empty()) return;
  run.leader_watch = std::thread([&run, plan, processes = std::move(processes), fault, limit] {
    const std::optional<absl::Time> back =
        AwaitLeaders(plan, processes, absl::Milliseconds(20), fault + limit,
                     [&run] { return run.stop_watch.load() || StopRequested(); });
    if (!back.has_value()) return;
    run.leaders_back_s = absl::ToDoubleSeconds(*back - fault);
    const std::string label =
        absl::StrCat("all ", plan.groups_hit.size(), " groups hit have a new leader with a lease");
    run.sampler->Mark(*back, "leaders", label);
    std::printf("  %s, %.2f s after the fault\n", label.c_str(), *run.leaders_back_s);
    std::fflush(stdout);
  });
}

void ReportUnexpectedExits(Run& run) {
  if (run.cluster == nullptr) return;
  for (const std::string& exit : run.cluster->ReapUnexpected()) {
    std::printf("  ! %s (logs in %s/logs)\n", exit.c_str(), run.cluster->options().dir.c_str());
    std::fflush(stdout);
  }
}

// Waits `d`, reporting processes that exit and, with `watch`, polling a restarted server.
void Wait(Run& run, absl::Duration d, RestartWatch* watch, absl::Time restarted_at) {
  const absl::Time end = absl::Now() + d;
  while (!StopRequested() && absl::Now() < end) {
    SleepUnlessStopping(std::min(absl::Milliseconds(250), end - absl::Now()));
    ReportUnexpectedExits(run);
    if (watch == nullptr || run.caught_up_s.has_value()) continue;
    const bool caught_up = watch->Poll();
    run.sampler->SetNote(watch->progress());
    if (!caught_up) continue;
    const absl::Time now = absl::Now();
    run.caught_up_s = absl::ToDoubleSeconds(now - restarted_at);
    run.sampler->Mark(now, "caught_up", watch->progress());
    run.sampler->SetNote("");
    std::printf("  caught up: %s, %.2f s after its restart\n", watch->progress().c_str(),
                *run.caught_up_s);
    std::fflush(stdout);
  }
}

absl::Status StartCluster(const Config& config, Run& run) {
  if (config.attached()) {
    run.placement = config.placement;
    if (!config.cluster_dir.empty()) {
      std::vector<std::string> from_manifest;
      absl::StatusOr<std::unique_ptr<ProcessControl>> control =
          ControlFromManifest(config.cluster_dir, &from_manifest);
      if (!control.ok()) return control.status();
      run.control = *std::move(control);
      if (run.placement.empty()) run.placement = from_manifest;
    }
    std::printf("Attached to the cluster at %s\n", absl::StrJoin(run.placement, ",").c_str());
    return absl::OkStatus();
  }
  const LocalClusterOptions& options = config.cluster;
  run.cluster = std::make_unique<LocalCluster>(options);
  std::printf(
      "Starting a local cluster in %s: %d placement replica(s), %d zones, %d ranges, Paxos lease "
      "%lld ms\n",
      options.dir.c_str(), options.placement_replicas, options.zones, options.ranges,
      static_cast<long long>(options.paxos_lease_ms));
  std::fflush(stdout);
  if (absl::Status s = run.cluster->Start(); !s.ok()) return s;
  run.control = ControlLocalCluster(run.cluster.get());
  run.placement = run.cluster->placement_addresses();
  const absl::Time began = absl::Now();
  if (absl::Status s = run.cluster->WaitReady(absl::Seconds(60), {}, StopRequested); !s.ok()) {
    return s;
  }
  std::printf("Ready in %.1f s (processes and logs: %s)\n",
              absl::ToDoubleSeconds(absl::Now() - began), run.cluster->manifest_path().c_str());
  return absl::OkStatus();
}

absl::Status StartWorkload(const Config& config, Run& run) {
  ClientOptions options;
  options.deadline = std::chrono::milliseconds(config.deadline_ms);
  options.seed = config.seed;
  options.backoff_max = std::chrono::milliseconds(config.backoff_max_ms);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Connect(run.placement, options);
  if (!client.ok()) return client.status();
  run.client = *std::move(client);
  if (config.workload == "tpcc") {
    TpccWorkloadOptions tpcc;
    tpcc.warehouses = config.warehouses;
    tpcc.seed = config.seed;
    tpcc.testing_corrupt_ack = config.testing_corrupt_ack;
    std::printf("Loading TPC-C (%d warehouse(s)) before the warm-up...\n", config.warehouses);
    std::fflush(stdout);
    run.workload = MakeTpccWorkload(run.client.get(), tpcc);
  } else {
    run.workload =
        MakeKvWorkload(run.client.get(), {.keys = config.keys,
                                          .seed = config.seed,
                                          .testing_corrupt_ack = config.testing_corrupt_ack});
  }
  if (absl::Status s = run.workload->Prepare(); !s.ok()) return s;
  const absl::Time start = absl::Now();
  run.meter = std::make_unique<WorkloadMeter>(start);
  run.sampler = std::make_unique<Sampler>(run.meter.get(), start, absl::Milliseconds(100));
  if (absl::Status s = run.workload->Start(config.clients, run.meter.get()); !s.ok()) return s;
  run.sampler->Start();
  std::printf("Workload %s\nWarm-up %s, then --scenario=%s; progress each second:\n",
              run.workload->Describe().c_str(), absl::FormatDuration(config.warmup).c_str(),
              ScenarioName(config.scenario));
  std::fflush(stdout);
  return absl::OkStatus();
}

// Plans and applies the fault (and for restart, the restart), then runs for --after_s.
absl::Status RunScenario(const Config& config, Run& run) {
  std::string placement_leader;
  if (config.scenario == Scenario::kPlacement) {
    absl::StatusOr<Topology> topology = run.client->GetTopology();
    if (!topology.ok()) return topology.status();
    placement_leader = topology->placement_leader;
  }
  const std::vector<ClusterProcess> processes =
      run.control != nullptr ? run.control->Processes() : std::vector<ClusterProcess>();
  std::vector<ClusterProcess> known = processes;
  if (known.empty()) {  // attached without a manifest (transfer only): the servers' addresses
    absl::StatusOr<Topology> topology = run.client->GetTopology();
    if (!topology.ok()) return topology.status();
    for (const ServerInfo& s : topology->servers) {
      if (s.alive) {
        known.push_back({.name = s.address,
                         .role = "spanserver",
                         .zone = s.zone,
                         .address = s.address,
                         .pid = kUnknownPid});
      }
    }
  }
  absl::StatusOr<FaultPlan> plan = PlanFault(config.scenario, known, placement_leader);
  if (!plan.ok()) return plan.status();
  const absl::Time fault = absl::Now();
  run.meter->gaps().MarkFault(fault);
  run.sampler->Mark(fault, "fault", plan->label);
  run.sampler->SetPhase(ScenarioName(config.scenario));
  run.fault_s = run.sampler->SecondsAt(fault);
  if (absl::Status s = ApplyFault(*plan, run.control.get()); !s.ok()) return s;
  std::printf("  fault at %.1f s: %s\n", run.fault_s, plan->label.c_str());
  std::fflush(stdout);
  WatchLeaders(run, *plan, known, fault, config.after + config.down);
  if (config.scenario != Scenario::kRestart) {
    Wait(run, config.after, nullptr, fault);
    return absl::OkStatus();
  }
  Wait(run, config.down, nullptr, fault);
  if (StopRequested()) return absl::OkStatus();
  const std::string& victim = plan->victims.front();
  const Leadership before = SurveyLeadership(run.control->Processes());
  const absl::Time restart = absl::Now();
  if (absl::Status s = run.control->Restart(victim); !s.ok()) return s;
  run.sampler->Mark(restart, "restart", "restart " + victim);
  std::printf("  restart at %.1f s: %s\n", run.sampler->SecondsAt(restart), victim.c_str());
  std::fflush(stdout);
  std::string address;
  for (const ClusterProcess& p : processes) {
    if (p.name == victim) address = p.address;
  }
  RestartWatch watch(before, plan->victim_id, victim, address);
  Wait(run, config.after, &watch, restart);
  return absl::OkStatus();
}

// Stops the workload, checks it, analyses and writes the outputs; returns the exit code.
int Finish(const Config& config, Run& run) {
  run.StopLeaderWatch();
  run.sampler->Stop();
  run.workload->Stop();
  FailoverResult result;
  result.leaders_back_s = run.leaders_back_s;
  result.scenario = ScenarioName(config.scenario);
  result.workload = config.workload;
  result.fault_s = run.fault_s;
  result.target = TargetOf(config);
  result.caught_up_s = run.caught_up_s;
  result.errors = run.meter->errors();
  result.error_kinds = run.meter->DescribeErrors();
  const GapTracker::Longest gaps = run.meter->gaps().LongestGaps(absl::Now());
  result.longest_zero_s = absl::ToDoubleSeconds(gaps.after);
  result.longest_zero_before_s = absl::ToDoubleSeconds(gaps.before);
  const Timeline timeline = run.sampler->TakeTimeline();
  RecoveryOptions options;
  options.baseline_s = std::min(5.0, absl::ToDoubleSeconds(config.warmup) / 2);
  result.recovery = timeline.Analyze(options);
  std::printf("Reading every key back with strong reads...\n");
  std::fflush(stdout);
  absl::StatusOr<VerifyReport> verify = run.workload->Verify();
  if (!verify.ok()) {
    std::fprintf(stderr, "meridian failover-demo: reading back: %s\n",
                 verify.status().ToString().c_str());
    return kExitError;
  }
  result.verify = *std::move(verify);
  const std::string title =
      absl::StrCat("meridian failover-demo --scenario=", result.scenario, ": ",
                   timeline.events().empty() ? "" : timeline.events()[0].label);
  absl::StatusOr<FailoverFiles> files = WriteFailoverFiles(
      config.dir, result.scenario, title, timeline, result.recovery, options, config.gnuplot);
  if (!files.ok()) {
    std::fprintf(stderr, "meridian failover-demo: %s\n", files.status().ToString().c_str());
    return kExitError;
  }
  result.files = *std::move(files);
  PrintFailoverResult(result);
  if (!config.json.empty()) {
    if (absl::Status s = WriteFailoverJson(config.json, result); !s.ok()) {
      std::fprintf(stderr, "meridian failover-demo: %s\n", s.ToString().c_str());
      return kExitError;
    }
  }
  if (!result.verify.problems.empty()) {
    std::fprintf(stderr, "meridian failover-demo: %zu key(s) do not hold what was acknowledged\n",
                 result.verify.problems.size());
    return kExitError;
  }
  if (!result.recovery.recovery_s.has_value()) {
    std::fprintf(stderr, "meridian failover-demo: throughput did not recover by the end\n");
    return kExitError;
  }
  return kExitOk;
}

int RunAll(const Config& config) {
  Run run;
  absl::Status status = StartCluster(config, run);
  if (status.ok() && !StopRequested()) status = StartWorkload(config, run);
  if (status.ok() && !StopRequested()) {
    SleepUnlessStopping(config.warmup);
    if (!StopRequested()) status = RunScenario(config, run);
  }
  int code = kExitError;
  if (status.ok() && !StopRequested()) code = Finish(config, run);
  if (run.sampler != nullptr) run.sampler->Stop();
  if (run.workload != nullptr) run.workload->Stop();
  run.workload.reset();
  run.client.reset();
  if (!status.ok()) {
    std::fprintf(stderr, "meridian failover-demo: %s\n", status.ToString().c_str());
  } else if (StopRequested()) {
    std::printf("\nReceived %s: stopping without a report.\n", strsignal(StopSignal()));
  }
  if (run.cluster != nullptr) {
    std::printf("Stopping the cluster...\n");
    std::fflush(stdout);
    run.cluster->StopAll();
    std::printf("Stopped. Data and logs kept in %s\n", run.cluster->options().dir.c_str());
  }
  std::fflush(stdout);
  return code;
}

absl::StatusOr<absl::Duration> SecondsFlag(const Flags& flags, const std::string& name,
                                           double min) {
  double value = 0;
  if (!absl::SimpleAtod(flags.at(name), &value) || value < min || value > 3600) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a number of seconds in [", min, ", 3600]"));
  }
  return absl::Seconds(value);
}

// The cluster's flags into config.cluster (ignored when attached).
absl::Status ParseClusterFlags(const Flags& flags, Config& config) {
  absl::Status parsed;
  auto take = [&](const std::string& name, int min, int max) {
    absl::StatusOr<int> v = IntFlag(flags, name, min, max);
    parsed.Update(v.status());
    return v.ok() ? *v : 0;
  };
  LocalClusterOptions& options = config.cluster;
  options.zones = take("zones", 3, 26);
  options.ranges = take("ranges", 1, 256);
  options.base_port = take("base_port", 1024, 65000);
  options.placement_replicas = take("placement_replicas", 1, 3);
  options.paxos_lease_ms = take("paxos_lease_ms", 100, 60'000);
  options.truetime_epsilon_us = take("truetime_epsilon_us", 0, 1'000'000);
  if (parsed.ok() && options.placement_replicas == 2) {
    return absl::InvalidArgumentError("--placement_replicas must be 1 or 3");
  }
  if (config.scenario == Scenario::kPlacement) options.placement_replicas = 3;
  return parsed;
}

// Every flag into a Config; INVALID_ARGUMENT saying what is wrong.
absl::StatusOr<Config> ParseConfig(const Flags& flags) {
  Config config;
  absl::StatusOr<Scenario> scenario = ParseScenario(flags.at("scenario"));
  if (!scenario.ok()) return scenario.status();
  config.scenario = *scenario;
  config.workload = flags.at("workload");
  if (config.workload != "kv" && config.workload != "tpcc") {
    return absl::InvalidArgumentError("unknown --workload=" + config.workload + " (kv or tpcc)");
  }
  absl::Status parsed;
  auto take = [&](const std::string& name, int min, int max) {
    absl::StatusOr<int> v = IntFlag(flags, name, min, max);
    parsed.Update(v.status());
    return v.ok() ? *v : 0;
  };
  auto seconds = [&](const std::string& name, double min) {
    absl::StatusOr<absl::Duration> v = SecondsFlag(flags, name, min);
    parsed.Update(v.status());
    return v.ok() ? *v : absl::ZeroDuration();
  };
  config.clients = take("clients", 1, 256);
  config.keys = take("keys", 1, 1'000'000);
  config.warehouses = take("warehouses", 1, 100);
  config.seed = static_cast<uint64_t>(take("seed", 0, 1 << 30));
  config.deadline_ms = take("deadline_ms", 100, 600'000);
  config.backoff_max_ms = take("backoff_max_ms", 10, 60'000);
  config.warmup = seconds("warmup_s", 1);
  config.after = seconds("after_s", 1);
  config.down = seconds("down_s", 0);
  parsed.Update(ParseClusterFlags(flags, config));
  if (!parsed.ok()) return parsed;
  config.dir = flags.at("dir");
  config.json = flags.at("json");
  config.gnuplot = flags.at("gnuplot");
  config.cluster_dir = flags.at("cluster_dir");
  config.testing_corrupt_ack = flags.at("testing_corrupt_ack") == "true";
  for (absl::string_view a : absl::StrSplit(flags.at("placement"), ',', absl::SkipEmpty())) {
    config.placement.emplace_back(a);
  }
  if (config.attached() && config.cluster_dir.empty() && ScenarioKills(config.scenario)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--scenario=", ScenarioName(config.scenario),
        " kills processes, so it needs the cluster's manifest: give --cluster_dir=DIR, the --dir "
        "of a running `meridian demo` (its cluster.json lists the processes); with --placement "
        "alone only --scenario=transfer can run"));
  }
  if (config.attached() && config.scenario == Scenario::kRestart) {
    return absl::InvalidArgumentError(
        "--scenario=restart needs a cluster this command starts (a process it restarts would be "
        "its own child, not the demo's); against a demo's cluster run --scenario=leader and "
        "restart the server from the demo's shell");
  }
  return config;
}

// Creates the output directory (a new one under /tmp by default) and, unless attached, places
// the cluster under it.
absl::Status PrepareDirs(Config& config) {
  if (config.dir.empty()) {
    char templ[] = "/tmp/meridian-failover-XXXXXX";
    if (mkdtemp(templ) == nullptr) return absl::InternalError("mkdtemp /tmp/meridian-failover");
    config.dir = templ;
  }
  std::error_code error;
  std::filesystem::create_directories(config.dir, error);
  if (error) return absl::InternalError("cannot create " + config.dir + ": " + error.message());
  config.dir = std::filesystem::absolute(config.dir).string();
  config.cluster.dir = config.dir + "/cluster";
  if (config.attached()) return absl::OkStatus();
  return FindSiblingBinaries(config.cluster);
}

int RunCommand(const Flags& flags) {
  absl::StatusOr<Config> config = ParseConfig(flags);
  if (!config.ok()) {
    std::fprintf(stderr,
                 "meridian failover-demo: %s\nRun 'meridian failover-demo --help' for its "
                 "flags.\n",
                 std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  if (absl::Status s = PrepareDirs(*config); !s.ok()) {
    std::fprintf(stderr, "meridian failover-demo: %s\n", std::string(s.message()).c_str());
    return kExitError;
  }
  std::printf("meridian failover-demo --scenario=%s: output in %s\n",
              ScenarioName(config->scenario), config->dir.c_str());
  std::fflush(stdout);
  InstallStopSignalHandlers();
  return RunAll(*config);
}

}  // namespace

Command FailoverDemoCommand() {
  Command command;
  command.name = "failover-demo";
  command.summary =
      "throughput across a fault (leader, zone, placement, transfer, restart), "
      "plotted, with recovery time and a lost-write check";
  command.description =
      "Starts a local cluster (3 zones; --placement or --cluster_dir attach to a running one),\n"
      "runs a steady workload through the SDK (kv: --clients threads Put fresh values into\n"
      "keys spread over every range; tpcc: --clients TPC-C terminals over --warehouses, a\n"
      "committed transaction counting as an operation), and after --warmup_s applies --scenario:\n"
      "  leader     kill -9 the spanserver that leads the most groups\n"
      "  zone       kill -9 every spanserver in that server's zone\n"
      "  placement  kill -9 the placement leader (3 placement replicas are started for it)\n"
      "  transfer   that server hands every group it leads to another replica (planned;\n"
      "             as their preferred leader it gets them back once the target caught up)\n"
      "  restart    kill -9 that server, restart it after --down_s, follow its catch-up\n"
      "then runs --after_s more (after the restart, for restart). Committed operations are\n"
      "sampled every 100 ms into DIR/failover-SCENARIO.csv and plotted into .png with gnuplot\n"
      "(the .gp script is written either way). It reports the recovery time — from the fault\n"
      "until a sample, and the median of it and the next 4, are back to >= 90% of the\n"
      "pre-fault median (tools/failover_timeline.h) — and the longest time without any\n"
      "commit, against the targets (leader, zone, restart:\n"
      "one lease + 0.5 s; transfer: no window over 100 ms), then reads every key back with\n"
      "strong reads: each must hold its last acknowledged value (or that of a write whose\n"
      "outcome was unknown); tpcc runs TPC-C's consistency checks and finds every\n"
      "acknowledged New-Order in ORDERS. Exit 0; 1 if a write was lost, throughput never "
      "recovered, or\n"
      "the run failed or was interrupted (Ctrl-C stops every process it started); 2 for a\n"
      "bad command line. An attached cluster: --cluster_dir=DIR of `meridian demo --dir=DIR`\n"
      "(its cluster.json names the processes) for the kill scenarios; --placement alone runs\n"
      "only transfer; restart needs a cluster started here.";
  command.flags = {
      {"scenario", "leader", "leader, zone, placement, transfer or restart"},
      {"workload", "kv", "kv, or tpcc (TPC-C's terminals; loads a small population first)"},
      {"warehouses", "1", "tpcc: warehouses (10,000 items, 300 customers per district)"},
      {"clients", "8", "client threads of the workload"},
      {"keys", "1000", "keys the kv workload writes, over all clients"},
      {"warmup_s", "10", "seconds of workload before the fault"},
      {"after_s", "15", "seconds of workload after the fault (after the restart, for restart)"},
      {"down_s", "5", "restart: seconds between the kill and the restart"},
      {"dir", "", "output directory: CSV, PNG, cluster (default: a new /tmp/meridian-failover-*)"},
      {"json", "", "also write a JSON summary to this file"},
      {"gnuplot", "gnuplot", "the gnuplot to draw the PNG with (empty: only write its script)"},
      {"zones", "3", "zones of the started cluster, one spanserver each"},
      {"ranges", "8", "initial ranges (= Paxos groups) of the started cluster"},
      {"base_port", "7500", "first port of the started cluster"},
      {"placement_replicas", "1", "placementd replicas: 1 or 3 (placement scenario: 3)"},
      {"paxos_lease_ms", "2000",
       "Paxos leader lease (attached: give the cluster's, for the "
       "target)"},
      {"truetime_epsilon_us", "1000", "TrueTime epsilon of the started cluster"},
      {"placement", "", "attach: placement addresses of a running cluster (HOST:PORT,...)"},
      {"cluster_dir", "", "attach: the --dir of a running `meridian demo` (its cluster.json)"},
      {"deadline_ms", "10000", "the SDK's deadline for each call"},
      {"backoff_max_ms", "1000", "the SDK's longest backoff between retries (its default: 1000)"},
      {"seed", "1", "seed of the workload's key choice and the SDK's retry jitter"},
      {"testing_corrupt_ack", "false",
       "tests only: corrupt the record of one acknowledged write (the check must fail)",
       /*is_bool=*/true}};
  command.run = RunCommand;
  return command;
}

}  // namespace meridian::tools
