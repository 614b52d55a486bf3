#include "tests/chaos/chaos_run.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "meridian/client.h"
#include "meridian/transaction.h"
#include "tests/chaos/chaos_checks.h"
#include "tests/chaos/chaos_report.h"
#include "tests/chaos/chaos_workloads.h"
#include "tests/chaos/net_partition.h"
#include "tests/chaos/small_disk.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"
#include "tools/local_cluster.h"

namespace meridian::chaos {
namespace {

namespace fs = std::filesystem;

// The tmpfs that holds the disk fault's server: far more than a run writes (60 s MVCC retention,
// 16 MiB logs), so that only the ballast fills it. tmpfs takes memory only for what is written.
constexpr int64_t kSmallDiskBytes = int64_t{1} << 30;
// The workloads run this much longer than the fault phase, so that their last transactions and
// their own final reads meet the healed cluster.
constexpr absl::Duration kWorkloadTail = absl::Seconds(5);

// The number after `label` in `line` ("summary: txns ok=12 ..." with "ok="); -1 if none.
int64_t CountAfter(const std::string& line, const std::string& label) {
  const size_t at = line.find(label);
  if (at == std::string::npos) return -1;
  size_t end = at + label.size();
  while (end < line.size() && isdigit(static_cast<unsigned char>(line[end]))) ++end;
  int64_t value = -1;
  if (!absl::SimpleAtoi(line.substr(at + label.size(), end - at - label.size()), &value)) {
    return -1;
  }
  return value;
}

bool Has(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

class ChaosRun {
 public:
  explicit ChaosRun(ChaosOptions options) : options_(std::move(options)), random_(options_.seed) {}
  int Run();

 private:
  void Say(const std::string& line) const {
    std::printf("[%6.1fs] %s\n", absl::ToDoubleSeconds(absl::Now() - start_), line.c_str());
    std::fflush(stdout);
  }
  void Record(const std::string& name, bool ok, const std::string& detail) {
    summary_.checks.push_back(CheckOutcome{.name = name, .ok = ok, .detail = detail});
    Say(absl::StrCat(ok ? "PASS " : "FAIL ", name, ": ", detail));
  }
  bool Planted(const std::string& plant) const { return Has(options_.plants, plant); }

  absl::Status SetUp();
  absl::Status StartCluster();
  void SetUpDisk();
  absl::Status StartWorkloads();
  void RunFaults();
  void CheckHealed();
  absl::StatusOr<Rows> FinalRead(int64_t* invoke_us, int64_t* complete_us);
  void CheckAppend(const Rows& rows, int64_t invoke_us, int64_t complete_us);
  void CheckBank(const Rows& rows);
  void FinalRound();
  std::string CheckHistoryFile(const std::string& path, int64_t* txns_ok);
  int Finish();
  void TearDown();

  ChaosOptions options_;
  Random random_;
  const absl::Time start_ = absl::Now();
  std::string dir_;
  bool made_dir_ = false;
  ChaosSummary summary_;
  std::vector<FaultKind> faults_;  // those this machine can inject
  // Destroyed after the cluster (declared before it): the table and the mount outlive its
  // processes.
  std::unique_ptr<NftPartitioner> partitioner_;
  std::unique_ptr<SmallDisk> disk_;
  std::string disk_server_;
  std::unique_ptr<tools::LocalCluster> cluster_;
  std::unique_ptr<Nemesis> nemesis_;
  std::unique_ptr<WorkloadRunner> workloads_;
  std::unique_ptr<Client> client_;
};

absl::Status ChaosRun::SetUp() {
  dir_ = options_.dir;
  if (dir_.empty()) {
    std::string templ = (fs::temp_directory_path() / "meridian-chaos-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) return absl::InternalError("mkdtemp " + templ);
    dir_ = templ;
    made_dir_ = true;
  }
  std::error_code error;
  fs::create_directories(fs::path(dir_) / "clock", error);
  if (error) return absl::InternalError("cannot create " + dir_ + ": " + error.message());
  summary_.dir = dir_;
  summary_.seed = options_.seed;
  summary_.duration_s = absl::ToDoubleSeconds(options_.duration);
  summary_.truetime_epsilon_us = options_.truetime_epsilon_us;
  summary_.clock_step_max_us = options_.clock_step_max_us < 0 ? 100 * options_.truetime_epsilon_us
                                                              : options_.clock_step_max_us;
  summary_.plants = options_.plants;
  Say(absl::StrCat("chaos: seed ", options_.seed, ", faults for ",
                   absl::FormatDuration(options_.duration), ", directory ", dir_));
  for (const FaultKind kind : options_.faults) {
    if (kind == FaultKind::kPartition) {
      absl::StatusOr<std::unique_ptr<NftPartitioner>> p = NftPartitioner::Create(dir_);
      if (!p.ok()) {
        summary_.skipped["partition"] = std::string(p.status().message());
        Say(absl::StrCat("SKIP partition faults: ", p.status().message()));
        continue;
      }
      partitioner_ = *std::move(p);
    }
    faults_.push_back(kind);
  }
  RETURN_IF_ERROR(StartCluster());
  SetUpDisk();
  for (const FaultKind kind : faults_) summary_.faults.push_back(FaultName(kind));
  return absl::OkStatus();
}

absl::Status ChaosRun::StartCluster() {
  tools::LocalClusterOptions cluster;
  cluster.dir = dir_;
  cluster.placementd_path = options_.placementd_path;
  cluster.spanserver_path = options_.spanserver_path;
  cluster.zones = 3;
  cluster.servers_per_zone = 1;
  cluster.ranges = 8;
  cluster.placement_replicas = options_.placement_replicas;
  cluster.truetime_epsilon_us = options_.truetime_epsilon_us;
  cluster.paxos_lease_ms = options_.paxos_lease_ms;
  cluster.distinct_loopback_hosts = true;
  cluster.clock_offset_dir = (fs::path(dir_) / "clock").string();
  // Old versions kept for a minute and logs compacted at 16 MiB: a long run's data stays small
  // (the disk fault's tmpfs), and checkpoints and compaction run under the faults too.
  cluster.spanserver_flags = {"--mvcc_retention_s=60", "--max_log_mb=16"};
  const int processes = cluster.placement_replicas + cluster.zones * cluster.servers_per_zone;
  ASSIGN_OR_RETURN(cluster.base_port, tools::FindFreePorts(options_.port_hint, processes));
  cluster_ = std::make_unique<tools::LocalCluster>(cluster);
  RETURN_IF_ERROR(cluster_->Start());
  RETURN_IF_ERROR(cluster_->WaitReady(absl::Seconds(90), [this](const std::string& missing) {
    Say("waiting for the cluster: " + missing);
  }));
  Say(absl::StrCat("cluster ready: ", absl::StrJoin(cluster_->server_names(), ", "),
                   " on their own loopback addresses; placement at ",
                   absl::StrJoin(cluster_->placement_addresses(), ",")));
  return absl::OkStatus();
}

void ChaosRun::SetUpDisk() {
  if (std::find(faults_.begin(), faults_.end(), FaultKind::kDisk) == faults_.end()) return;
  const std::vector<std::string> servers = cluster_->server_names();
  disk_server_ = servers[random_.Uniform(servers.size())];
  absl::StatusOr<tools::ProcessState> state = cluster_->supervisor().State(disk_server_);
  absl::Status status = state.status();
  if (status.ok()) status = cluster_->Kill(disk_server_);
  if (status.ok()) {
    absl::StatusOr<std::unique_ptr<SmallDisk>> disk =
        SmallDisk::Mount(state->spec.data_dir, kSmallDiskBytes);
    if (disk.ok()) disk_ = *std::move(disk);
    status = disk.status();
  }
  const absl::Status restarted = cluster_->Restart(disk_server_);
  if (status.ok()) status = restarted;
  if (status.ok()) status = cluster_->WaitReady(absl::Seconds(60));
  if (!status.ok()) {
    summary_.skipped["disk"] = std::string(status.message());
    Say(absl::StrCat("SKIP disk faults: ", status.message()));
    faults_.erase(std::find(faults_.begin(), faults_.end(), FaultKind::kDisk));
    disk_.reset();
    return;
  }
  Say(absl::StrCat(disk_server_, "'s data directory is on a ", kSmallDiskBytes >> 20,
                   " MiB tmpfs for the disk faults"));
}

absl::Status ChaosRun::StartWorkloads() {
  workloads_ = std::make_unique<WorkloadRunner>(
      options_.meridian_path, dir_, absl::StrJoin(cluster_->placement_addresses(), ","));
  const std::string duration =
      absl::StrCat("--duration=", absl::ToInt64Seconds(options_.duration + kWorkloadTail));
  RETURN_IF_ERROR(workloads_->Start(
      "append", {"append", duration, absl::StrCat("--clients=", options_.append_clients),
                 "--keys=12", absl::StrCat("--seed=", random_.Next() >> 1),
                 "--history=" + (fs::path(dir_) / "history.jsonl").string()}));
  std::vector<std::string> bank = {"bank", duration,
                                   absl::StrCat("--clients=", options_.bank_clients),
                                   absl::StrCat("--accounts=", options_.bank_accounts),
                                   absl::StrCat("--seed=", random_.Next() >> 1)};
  if (Planted("break_transfers")) bank.push_back("--testing_break_transfers");
  RETURN_IF_ERROR(workloads_->Start("bank", bank));
  // Both have set up their keys (before any fault) once they print "... clients for ...".
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  for (const std::string name : {"append", "bank"}) {
    if (!workloads_->WaitForLog(name, "clients for", deadline)) {
      return absl::UnavailableError(absl::StrCat("workload ", name, " did not start (",
                                                 workloads_->Exit(name), "); see ",
                                                 workloads_->LogPath(name)));
    }
  }
  Say("workloads running: append (history " + (fs::path(dir_) / "history.jsonl").string() +
      ") and bank");
  return absl::OkStatus();
}

void ChaosRun::RunFaults() {
  NemesisOptions nemesis;
  nemesis.faults = faults_;
  nemesis.hold_max = options_.hold_max;
  nemesis.quiet_max = options_.quiet_max;
  nemesis.clock_step_max_us = summary_.clock_step_max_us;
  nemesis.plant_leave_stopped = Planted("leave_stopped");
  nemesis_ = std::make_unique<Nemesis>(cluster_.get(), nemesis, random_.Next(), partitioner_.get(),
                                       disk_.get(), disk_server_, start_);
  const absl::Time end = absl::Now() + options_.duration;
  int ticks = 0;
  nemesis_->RunUntil(
      end, [this](const std::string& line) { Say(line); },
      [&] {
        if (++ticks % 5 != 0) return;
        Say(absl::StrCat("progress: append ", workloads_->LastLineStarting("append", "t="),
                         " | bank ", workloads_->LastLineStarting("bank", "t=")));
      });
  Say("fault phase over: healing");
  if (absl::Status healed = nemesis_->Heal([this](const std::string& l) { Say(l); });
      !healed.ok()) {
    Say("heal: " + healed.ToString());
  }
  summary_.events = nemesis_->events();
  summary_.crashes = nemesis_->crashes();
  const bool ended = workloads_->WaitAll(absl::Now() + kWorkloadTail + absl::Seconds(90));
  for (const std::string name : {"append", "bank"}) {
    summary_.workloads[name] =
        absl::StrCat(workloads_->Exit(name), "; ", workloads_->LastLineStarting(name, "summary:"));
  }
  if (!ended) Say("a workload did not end in time and was killed");
  Record(kCheckNoCrash, summary_.crashes.empty(),
         summary_.crashes.empty() ? "no process exited unless killed by the nemesis"
                                  : absl::StrJoin(summary_.crashes, "; "));
}

void ChaosRun::CheckHealed() {
  const absl::Duration timeout =
      Planted("leave_stopped") ? absl::Seconds(20) : options_.heal_timeout;
  std::vector<std::string> problems;
  if (absl::Status ready = cluster_->WaitReady(timeout); !ready.ok()) {
    problems.push_back(std::string(ready.message()));
  }
  for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
    if (p.pid == 0) problems.push_back(p.spec.name + " is not running");
  }
  for (const std::string& name : cluster_->server_names()) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(name);
    // A clock stepped back and then healed holds TrueTime until real time passes the step.
    for (const absl::Time until = absl::Now() + absl::Seconds(10);
         status.ok() && !status->clock().unavailable().empty() && absl::Now() < until;) {
      absl::SleepFor(absl::Milliseconds(100));
      status = cluster_->ServerStatus(name);
    }
    if (!status.ok()) continue;  // WaitReady said so already
    if (!status->clock().unavailable().empty()) {
      problems.push_back(absl::StrCat(name, " has no TrueTime: ", status->clock().unavailable()));
    }
    for (const proto::GroupStatus& g : status->groups()) {
      if (!g.fenced().empty()) {
        problems.push_back(absl::StrCat(name, " fences group ", g.group(), ": ", g.fenced()));
      }
    }
  }
  Record(kCheckHealed, problems.empty(),
         problems.empty() ? "every process runs, every group has a leader with a lease, every "
                            "server is alive with TrueTime, no group is fenced"
                          : absl::StrJoin(problems, "; "));
}

absl::StatusOr<Rows> ChaosRun::FinalRead(int64_t* invoke_us, int64_t* complete_us) {
  ClientOptions client_options;
  client_options.deadline = std::chrono::milliseconds(10'000);
  ASSIGN_OR_RETURN(client_, Client::Connect(cluster_->placement_addresses(), client_options));
  // One snapshot of the whole key space; retried (bounded) while the cluster settles.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  absl::Status last;
  while (absl::Now() < deadline) {
    *invoke_us = absl::ToUnixMicros(absl::Now());
    absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> ro = client_->BeginReadOnly();
    if (ro.ok()) {
      absl::StatusOr<Rows> rows = (*ro)->Scan("", "", 1'000'000);
      if (rows.ok()) {
        *complete_us = absl::ToUnixMicros(absl::Now());
        return rows;
      }
      last = rows.status();
    } else {
      last = ro.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return absl::DeadlineExceededError("no final read in 60 s; last: " + last.ToString());
}

std::string ChaosRun::CheckHistoryFile(const std::string& path, int64_t* txns_ok) {
  absl::StatusOr<history::History> events = history::ReadHistoryFile(path);
  if (!events.ok()) return events.status().ToString();
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(*events);
  if (!result.ok()) return result.status().ToString();
  *txns_ok = result->txns_ok;
  return result->ok ? "" : result->report;
}

void ChaosRun::CheckAppend(const Rows& rows, int64_t invoke_us, int64_t complete_us) {
  const std::string path = (fs::path(dir_) / "history.jsonl").string();
  absl::StatusOr<history::History> events = history::ReadHistoryFile(path);
  absl::StatusOr<FinalLists> lists = AppendListsFromRows(rows);
  if (!events.ok() || !lists.ok()) {
    const std::string why = !events.ok() ? events.status().ToString() : lists.status().ToString();
    Record(kCheckHistory, false, why);
    Record(kCheckNoLostAppend, false, why);
    return;
  }
  if (Planted("lose_ack")) Say("PLANTED: " + PlantLoseAcknowledgedAppend(*events, &*lists));
  if (Planted("reorder_final_read")) Say("PLANTED: " + PlantReorderFinalRead(&*lists));
  const std::vector<std::string> lost = FindLostAppends(*events, *lists);
  int64_t acknowledged = 0;
  for (const history::Event& e : *events) acknowledged += e.type == history::EventType::kOk;
  Record(kCheckNoLostAppend, lost.empty(),
         lost.empty()
             ? absl::StrCat("every append of the ", acknowledged,
                            " acknowledged transactions is in the final read")
             : absl::StrCat(lost.size(), " lost: ",
                            absl::StrJoin(lost.begin(),
                                          lost.begin() + std::min<size_t>(lost.size(), 5), "; ")));
  AppendFinalRead(*lists, invoke_us, complete_us, &*events);
  const std::string with_final = path + ".with-final-read";
  absl::Status written = history::WriteHistoryFile(with_final, *events);
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(*events);
  if (!result.ok()) {
    Record(kCheckHistory, false, result.status().ToString());
    return;
  }
  const bool ok = result->ok && result->txns_ok > 1 && workloads_->ExitCode("append") == 0;
  std::string detail = result->ok ? result->summary : result->report;
  if (workloads_->ExitCode("append") != 0) {
    absl::StrAppend(&detail, "; the workload ", workloads_->Exit("append"));
  }
  if (written.ok()) absl::StrAppend(&detail, " (checked: ", with_final, ")");
  Record(kCheckHistory, ok, detail);
}

void ChaosRun::CheckBank(const Rows& rows) {
  std::vector<std::string> problems;
  if (workloads_->ExitCode("bank") != 0) {
    problems.push_back(absl::StrCat("the bank workload ", workloads_->Exit("bank"), ": ",
                                    workloads_->LastLineStarting("bank", "FAILED"),
                                    workloads_->LastLineStarting("bank", "VIOLATION")));
  }
  if (const std::string wrong = CheckBankRows(rows, options_.bank_accounts); !wrong.empty()) {
    problems.push_back("after the heal, " + wrong);
  }
  Record(kCheckBank, problems.empty(),
         problems.empty() ? absl::StrCat("every check of the workload held (",
                                         workloads_->LastLineStarting("bank", "summary:"),
                                         "), and the total after the heal")
                          : absl::StrJoin(problems, "; "));
}

void ChaosRun::FinalRound() {
  const std::string duration =
      absl::StrCat("--duration=", std::max<int64_t>(1, absl::ToInt64Seconds(options_.final_round)));
  const std::string history = (fs::path(dir_) / "final-history.jsonl").string();
  std::vector<std::string> problems;
  absl::Status started = workloads_->Start(
      "final-append", {"append", duration, "--clients=2", "--keys=12", "--history=" + history});
  if (started.ok()) {
    started = workloads_->Start(
        "final-bank",
        {"bank", duration, "--clients=2", absl::StrCat("--accounts=", options_.bank_accounts)});
  }
  if (!started.ok()) problems.push_back(started.ToString());
  workloads_->WaitAll(absl::Now() + options_.final_round + absl::Seconds(60));
  for (const std::string name : {"final-append", "final-bank"}) {
    summary_.workloads[name] =
        absl::StrCat(workloads_->Exit(name), "; ", workloads_->LastLineStarting(name, "summary:"));
    if (workloads_->ExitCode(name) != 0) {
      problems.push_back(absl::StrCat(name, " ", workloads_->Exit(name)));
    }
  }
  int64_t txns_ok = 0;
  if (const std::string anomalies = CheckHistoryFile(history, &txns_ok); !anomalies.empty()) {
    problems.push_back("final append history: " + anomalies);
  }
  const int64_t transfers =
      CountAfter(workloads_->LastLineStarting("final-bank", "summary:"), "committed=");
  if (txns_ok <= 1 || transfers <= 0) {
    problems.push_back(absl::StrCat("too little committed: ", txns_ok, " append transactions, ",
                                    transfers, " transfers"));
  }
  Record(kCheckFinalRound, problems.empty(),
         problems.empty() ? absl::StrCat(txns_ok, " append transactions and ", transfers,
                                         " transfers committed and checked clean in ",
                                         absl::FormatDuration(options_.final_round))
                          : absl::StrJoin(problems, "; "));
}

int ChaosRun::Finish() {
  bool all_ok = true;
  for (const CheckOutcome& c : summary_.checks) all_ok = all_ok && c.ok;
  summary_.ok = all_ok;
  if (!options_.plants.empty()) {
    bool caught_all = true;
    for (const std::string& plant : options_.plants) {
      const Plant* p = std::find_if(std::begin(kPlants), std::end(kPlants),
                                    [&](const Plant& k) { return plant == k.name; });
      bool caught = false;
      for (const CheckOutcome& c : summary_.checks)
        caught = caught || (c.name == p->check && !c.ok);
      caught_all = caught_all && caught;
      summary_.plant_verdicts.push_back(absl::StrCat(
          "plant ", plant, " (", p->what, "): ", caught ? "CAUGHT" : "MISSED", " by ", p->check));
      Say(summary_.plant_verdicts.back());
    }
    summary_.ok = caught_all;
  }
  summary_.elapsed_s = absl::ToDoubleSeconds(absl::Now() - start_);
  const std::string json = options_.json_path.empty()
                               ? (fs::path(dir_) / "chaos-summary.json").string()
                               : options_.json_path;
  std::ofstream(json, std::ios::trunc) << ChaosSummaryJson(summary_);
  std::map<std::string, int> counts =
      nemesis_ != nullptr ? nemesis_->counts() : std::map<std::string, int>{};
  std::vector<std::string> shown;
  for (const auto& [fault, n] : counts) shown.push_back(absl::StrCat(fault, " x", n));
  Say(absl::StrCat("faults injected: ", shown.empty() ? "none" : absl::StrJoin(shown, ", "),
                   "; summary ", json));
  Say(absl::StrCat(summary_.ok ? "chaos: OK" : "chaos: FAILED", " (seed ", options_.seed, ", ",
                   absl::StrFormat("%.0f", summary_.elapsed_s), " s)"));
  return summary_.ok ? 0 : 1;
}

void ChaosRun::TearDown() {
  client_.reset();
  if (nemesis_ != nullptr) nemesis_->ContinueAll();
  if (cluster_ != nullptr) cluster_->StopAll();
  cluster_.reset();
  disk_.reset();  // unmounted once its server is gone
  partitioner_.reset();
  const bool keep = options_.keep_dir || !summary_.ok || !made_dir_;
  if (keep) {
    Say("directory kept (logs, histories, summary): " + dir_);
    return;
  }
  std::error_code error;
  fs::remove_all(dir_, error);
}

int ChaosRun::Run() {
  if (absl::Status set_up = SetUp(); !set_up.ok()) {
    Say("chaos: cannot set up the cluster: " + set_up.ToString());
    TearDown();
    return 2;
  }
  if (absl::Status started = StartWorkloads(); !started.ok()) {
    Say("chaos: " + started.ToString());
    summary_.ok = false;
    TearDown();
    return 2;
  }
  RunFaults();
  CheckHealed();
  int64_t invoke_us = 0;
  int64_t complete_us = 0;
  absl::StatusOr<Rows> rows = FinalRead(&invoke_us, &complete_us);
  if (rows.ok()) {
    CheckAppend(*rows, invoke_us, complete_us);
    CheckBank(*rows);
  } else {
    for (const char* check : {kCheckHistory, kCheckNoLostAppend, kCheckBank}) {
      Record(check, false, "no final read after the heal: " + rows.status().ToString());
    }
  }
  FinalRound();
  const int code = Finish();
  TearDown();
  return code;
}

}  // namespace

int RunChaos(const ChaosOptions& options) { return ChaosRun(options).Run(); }

}  // namespace meridian::chaos
