// txn_bench: Meridian's transactions measured in the shape of the Spanner paper's Table 3
// (operation latency and throughput by replica count, commit wait on and off) and Table 4 (2PC
// latency by number of participant groups), on local clusters of real processes that the bench
// starts and stops itself. Prints tables and writes the figures as JSON. `--help` explains the
// flags; what is measured and how:
//
// Table 3. For each configuration ("1D" = 1 replica with epsilon 0, "N" = N replicas with
// --epsilon_us; zones = replicas, one spanserver per zone, --t3_ranges ranges) a fresh cluster
// runs, --keys keys (one byte spreading them over every range, then "txb" and the index) are
// written once, then each operation runs closed-loop with 1 client (latency) and --clients
// clients (throughput):
//   rw     RunTransaction: Get(k) under a lock, then Put(k) — one group, no 2PC;
//   write  Commit({Put(k)}) — a blind one-key write, one group;
//   ro     ReadOnly({k}, Strong()) — a strong read-only transaction at the group leader;
//   snap   ReadOnly({k}, MaxStaleness(--staleness_ms)) — a snapshot read at any replica;
//   put    (not by default) Client::Put(k) — the non-transactional replicated write of the KV
//          service, for comparison.
// Values are --value_bytes (4 KB as in the paper). Keys are picked uniformly per call.
//
// Commit wait and Paxos time. "nD" runs the same cluster with --truetime_epsilon_us=0: the
// servers still commit-wait, but until TT.after(s) with a zero-width interval, i.e. until the
// clock passes s, microseconds. So for the same replica count:
//   exposed commit wait = mean latency(n, epsilon) - mean latency(nD)
// (exposed because Meridian, like Spanner, picks s before the Paxos round and waits after it, so
// Paxos hides up to its own duration of the 2*epsilon wait). The nD and n clusters are up
// together and their 1-client points are taken in alternating slices (--slices), so that the
// shared machine's drifting load falls on both alike. And
//   Paxos time (round + fsync + apply, no commit wait) = mean write(nD) - mean ro(nD)
// (a blind write and a strong read are each one client RPC to the group leader; the write adds
// the replicated, synced log round).
//
// Floor. For a single-group read-write transaction: 2*epsilon + one Paxos round with fsync (an
// fsync for 1 replica; a loopback round trip + an fsync for 3 or 5) + one client hop (a loopback
// round trip), from the fsync (fdatasync, appending, /tmp) and 64-byte TCP figures in
// --peer_results (the median of the files' p50s), unless --fsync_us / --rtt_us are given. The
// bench prints p50 / floor for rw and write at 1 client. (An rw transaction makes two client
// RPCs, a read then a commit; the floor counts one hop as the target states.)
//
// Table 4. One cluster of --t4_zones servers (one per zone, 3 replicas per group) with
// --t4_ranges ranges; each range's group is found with Client::GetTopology and a key inside the
// range is chosen. For each participant count P a transaction Commit()s one key in each of P
// distinct groups (a window over the group list at a random offset, so coordinators vary), one
// client at a time (unloaded latency, as the paper's Table 4), each key new (so no transaction
// waits for the locks of the one before it, which participants hold until they have applied its
// outcome, after the client got its answer). P > 1 is client-driven 2PC.
// Each Table 4 point also reports the CPU time per transaction over its measured window, of the
// cluster's processes (from /proc/<pid>/stat) and of this process (the client), and their sum
// divided by the processors the bench may use ("cpu_bound"): the calls run one at a time, so
// their mean cannot fall below it on this machine however the work is scheduled.
//
// Everything is bounded: each point runs --warmup_s + --duration_s, every call has the SDK's
// deadline --call_deadline_ms, cluster start waits at most --ready_s. Clusters live under a fresh
// directory (--dir_root) on ports from --base_port, and are stopped (SIGTERM, then SIGKILL) when
// a configuration ends, on errors and on SIGINT/SIGTERM; their processes also die with the bench
// (PR_SET_PDEATHSIG in tools/supervisor.cc). The directory is removed unless --keep_dirs or a
// cluster failed (then its path is printed, for the logs).
//
// Exit status: 0 when every call succeeded, 1 when some failed or a configuration could not run
// (all reported), 2 on bad flags.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/txn_load.h"
#include "bench/txn_report.h"
#include "common/random.h"
#include "meridian/client.h"
#include "tools/local_cluster.h"
#include "tools/supervisor.h"

namespace meridian::bench {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

[[noreturn]] void Die(const std::string& what) { bench::Die("txn_bench", what); }

struct Flags {
  int base_port = 7900;
  std::string dir_root;  // empty: the system temp directory
  bool keep_dirs = false;
  std::string placementd;
  std::string spanserver;
  std::vector<std::string> configs = {"1D", "1", "3D", "3", "5D", "5"};
  std::vector<std::string> ops = {"rw", "write", "ro", "snap"};
  std::vector<int> participants = {1, 2, 5, 10, 25, 50};
  bool table3 = true;
  bool table4 = true;
  int clients = 16;
  int clients_per_conn = 8;
  double duration_s = 3;
  double warmup_s = 0.5;
  int64_t epsilon_us = 1000;
  int t3_ranges = 8;
  int t4_ranges = 64;
  int t4_zones = 3;
  int keys = 1000;
  int value_bytes = 4096;
  int staleness_ms = 1000;
  int call_deadline_ms = 10000;
  int ready_s = 90;
  int64_t paxos_lease_ms = 2000;
  std::string peer_results = "/work/shared/peers/results/physical.txt";
  double fsync_us = -1;  // < 0: from peer_results
  double rtt_us = -1;
  std::string json = "txn_bench.json";
  uint64_t seed = 1;
  int slices = 6;
  int quiet_wait_s = 0;  // 0: do not wait
  int quiet_idle_pct = 80;
};

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// CPU idle percentage of the whole machine over `window`, from /proc/stat (-1 if unreadable).
int IdlePercent(std::chrono::milliseconds window) {
  auto sample = [](int64_t& total, int64_t& idle) {
    std::ifstream in("/proc/stat");
    std::string cpu;
    int64_t v[8] = {};
    in >> cpu;
    for (int64_t& x : v) in >> x;
    total = 0;
    for (int64_t x : v) total += x;
    idle = v[3] + v[4];  // idle + iowait
    return static_cast<bool>(in);
  };
  int64_t t1 = 0, i1 = 0, t2 = 0, i2 = 0;
  if (!sample(t1, i1)) return -1;
  std::this_thread::sleep_for(window);
  if (!sample(t2, i2) || t2 <= t1) return -1;
  return static_cast<int>(100 * (i2 - i1) / (t2 - t1));
}

void Progress(const std::string& line);

// Waits up to --quiet_wait_s for the machine to be at least --quiet_idle_pct idle (other work
// shares it); returns "idle N% after S s" or "NOT QUIET: idle N% after S s" for the report.
std::string WaitQuiet(const Flags& flags) {
  int idle = IdlePercent(std::chrono::milliseconds(1000));
  int waited = 1;
  while (idle < flags.quiet_idle_pct && waited < flags.quiet_wait_s && !g_stop) {
    if (waited % 10 == 0) {
      Progress("waiting for a quieter machine: idle " + std::to_string(idle) + "% (want " +
               std::to_string(flags.quiet_idle_pct) + "%)");
    }
    idle = IdlePercent(std::chrono::milliseconds(1000));
    ++waited;
  }
  const std::string what = "idle " + std::to_string(idle) + "% after " + std::to_string(waited) +
                           " s; load " + LoadAverage();
  return idle >= flags.quiet_idle_pct ? what : "NOT QUIET: " + what;
}

void Progress(const std::string& line) {
  std::fprintf(stderr, "txn_bench: %s\n", line.c_str());
  std::fflush(stderr);
}

std::string KeyOf(int i) {
  std::string key(1, static_cast<char>(i % 256));
  return key + "txb" + std::to_string(i);
}

// One cluster for one configuration, with the SDK clients of the load threads. Stops its
// processes and removes its directory (unless kept) when destroyed.
class BenchCluster {
 public:
  BenchCluster(const Flags& flags, std::string label) : flags_(flags), label_(std::move(label)) {}
  ~BenchCluster() {
    clients_.clear();
    if (cluster_ != nullptr) cluster_->StopAll();
    cluster_.reset();
    if (dir_.empty()) return;
    if (flags_.keep_dirs || failed_) {
      Progress(label_ + ": cluster directory kept (logs): " + dir_);
    } else {
      std::error_code error;
      fs::remove_all(dir_, error);
    }
  }

  absl::Status Start(int zones, int ranges, int64_t epsilon_us, int max_threads) {
    tools::LocalClusterOptions options;
    if (!flags_.placementd.empty()) options.placementd_path = flags_.placementd;
    if (!flags_.spanserver.empty()) options.spanserver_path = flags_.spanserver;
    if (options.placementd_path.empty() || options.spanserver_path.empty()) {
      tools::LocalClusterOptions found;
      if (absl::Status s = tools::FindSiblingBinaries(found); !s.ok()) return s;
      if (options.placementd_path.empty()) options.placementd_path = found.placementd_path;
      if (options.spanserver_path.empty()) options.spanserver_path = found.spanserver_path;
    }
    const fs::path root =
        flags_.dir_root.empty() ? fs::temp_directory_path() : fs::path(flags_.dir_root);
    std::string templ = (root / "txn_bench-XXXXXX").string();
    if (mkdtemp(templ.data()) == nullptr) return absl::InternalError("mkdtemp " + templ);
    dir_ = templ;
    options.dir = dir_;
    options.zones = zones;
    options.servers_per_zone = 1;
    options.ranges = ranges;
    options.truetime_epsilon_us = epsilon_us;
    options.paxos_lease_ms = flags_.paxos_lease_ms;
    absl::StatusOr<int> base = tools::FindFreePorts(flags_.base_port, 1 + zones);
    if (!base.ok()) return Fail(base.status());
    options.base_port = *base;
    Progress(label_ + ": starting placementd + " + std::to_string(zones) +
             " spanserver(s), epsilon " + std::to_string(epsilon_us) + " us, " +
             std::to_string(ranges) + " ranges, ports " + std::to_string(*base) + "..., dir " +
             dir_);
    cluster_ = std::make_unique<tools::LocalCluster>(options);
    if (absl::Status s = cluster_->Start(); !s.ok()) return Fail(s);
    absl::Status ready = cluster_->WaitReady(
        absl::Seconds(flags_.ready_s),
        [this](const std::string& missing) { Progress(label_ + ": waiting: " + missing); },
        [] { return g_stop.load(); });
    if (!ready.ok()) return Fail(ready);
    const int n = (max_threads + flags_.clients_per_conn - 1) / flags_.clients_per_conn;
    for (int i = 0; i < n; ++i) {
      ClientOptions client_options;
      client_options.deadline = std::chrono::milliseconds(flags_.call_deadline_ms);
      client_options.seed = flags_.seed * 1000 + static_cast<uint64_t>(i);
      absl::StatusOr<std::unique_ptr<Client>> c =
          Client::Connect(cluster_->placement_addresses(), client_options);
      if (!c.ok()) return Fail(c.status());
      clients_.push_back(std::move(*c));
    }
    Progress(label_ + ": cluster ready");
    return absl::OkStatus();
  }

  Client& ClientFor(int thread) {
    return *clients_[static_cast<size_t>(thread / flags_.clients_per_conn) % clients_.size()];
  }

  // CPU time used so far by the cluster's running processes (placementd and spanservers), in
  // microseconds; nullopt when one could not be read.
  std::optional<int64_t> CpuMicros() const {
    if (cluster_ == nullptr) return std::nullopt;
    int64_t total = 0;
    for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
      if (p.pid == 0) continue;
      std::optional<int64_t> used = ProcessCpuMicros(p.pid);
      if (!used) return std::nullopt;
      total += *used;
    }
    return total;
  }

  // Records that the cluster misbehaved (its directory is kept) and passes `s` through.
  absl::Status Fail(absl::Status s) {
    failed_ = true;
    if (cluster_ != nullptr) {
      for (const std::string& exit : cluster_->ReapUnexpected()) {
        s = absl::Status(s.code(), std::string(s.message()) + "; exited: " + exit);
      }
    }
    return s;
  }

 private:
  const Flags& flags_;
  std::string label_;
  std::string dir_;
  bool failed_ = false;
  std::unique_ptr<tools::LocalCluster> cluster_;
  std::vector<std::unique_ptr<Client>> clients_;
};

// Writes every key once from --clients threads; fails on the first error.
absl::Status Preload(const Flags& flags, BenchCluster& cluster) {
  std::atomic<int> next{0};
  absl::Mutex mu;
  absl::Status first_error;
  std::vector<std::thread> workers;
  for (int t = 0; t < flags.clients; ++t) {
    workers.emplace_back([&, t] {
      Random rnd(flags.seed ^ (0x9E3779B97F4A7C15ULL * static_cast<uint64_t>(t + 1)));
      const std::string value = rnd.Bytes(static_cast<size_t>(flags.value_bytes));
      for (int i = next++; i < flags.keys && !g_stop; i = next++) {
        absl::StatusOr<int64_t> ts = cluster.ClientFor(t).Commit({Mutation::Put(KeyOf(i), value)});
        if (!ts.ok()) {
          absl::MutexLock lock(&mu);
          if (first_error.ok()) first_error = ts.status();
          return;
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  if (!first_error.ok()) return cluster.Fail(first_error);
  if (g_stop) return absl::CancelledError("interrupted");
  return absl::OkStatus();
}

// The operation `op` of Table 3 as a closed-loop Op.
Op Table3Op(const Flags& flags, BenchCluster& cluster, const std::string& op) {
  const int keys = flags.keys;
  auto pick = [keys](Random& rnd) {
    return KeyOf(static_cast<int>(rnd.Uniform(static_cast<uint64_t>(keys))));
  };
  auto value_of = [&flags](Random& rnd) {
    std::string v = rnd.Bytes(static_cast<size_t>(flags.value_bytes));
    return v;
  };
  if (op == "rw") {
    return [&cluster, pick, value_of](int t, Random& rnd) {
      const std::string key = pick(rnd);
      const std::string value = value_of(rnd);
      int attempts = 0;
      absl::StatusOr<int64_t> ts =
          cluster.ClientFor(t).RunTransaction([&](Transaction& txn) -> absl::Status {
            attempts = txn.attempt();
            absl::StatusOr<std::optional<std::string>> v = txn.Get(key);
            if (!v.ok()) return v.status();
            if (!v->has_value()) return absl::NotFoundError("pre-loaded key " + key + " missing");
            txn.Put(key, value);
            return absl::OkStatus();
          });
      return OpOutcome{ts.status(), std::max(0, attempts - 1)};
    };
  }
  if (op == "put") {
    return [&cluster, pick, value_of](int t, Random& rnd) {
      return OpOutcome{cluster.ClientFor(t).Put(pick(rnd), value_of(rnd)), 0};
    };
  }
  if (op == "write") {
    return [&cluster, pick, value_of](int t, Random& rnd) {
      absl::StatusOr<int64_t> ts =
          cluster.ClientFor(t).Commit({Mutation::Put(pick(rnd), value_of(rnd))});
      return OpOutcome{ts.status(), 0};
    };
  }
  const bool strong = op == "ro";
  const auto staleness = std::chrono::milliseconds(flags.staleness_ms);
  return [&cluster, pick, strong, staleness](int t, Random& rnd) {
    const std::string key = pick(rnd);
    absl::StatusOr<ReadResult> r = cluster.ClientFor(t).ReadOnly(
        {key}, strong ? ReadOnlyOptions::Strong() : ReadOnlyOptions::MaxStaleness(staleness));
    absl::Status s = r.status();
    if (s.ok() && (r->values.size() != 1 || !r->values[0].has_value())) {
      s = absl::NotFoundError("pre-loaded key " + key + " read as missing at " +
                              std::to_string(r->read_ts));
    }
    return OpOutcome{s, 0};
  };
}

struct ConfigSpec {
  std::string name;
  int replicas = 1;
  int64_t epsilon_us = 0;
};

absl::StatusOr<ConfigSpec> ParseConfig(const std::string& name, int64_t epsilon_us) {
  ConfigSpec spec{name, 0, epsilon_us};
  std::string digits = name;
  if (!digits.empty() && digits.back() == 'D') {
    digits.pop_back();
    spec.epsilon_us = 0;
  }
  if (digits != "1" && digits != "3" && digits != "5" && digits != "2" && digits != "4") {
    return absl::InvalidArgumentError("bad configuration '" + name + "' (1..5, optional D)");
  }
  spec.replicas = digits[0] - '0';
  return spec;
}

// The configurations of one replica count (e.g. "3D" and "3") run side by side: their clusters
// are up at the same time and their 1-client latency points are measured in --slices slices
// taken in turn (D, then not D, then D, ...), so that the machine's noise, which drifts over
// seconds, falls on both alike and their difference is the commit wait. The --clients
// throughput points then run one cluster at a time.
void RunTable3Group(const Flags& flags, const std::vector<ConfigSpec>& specs, Report& report) {
  std::vector<std::unique_ptr<BenchCluster>> clusters;
  std::vector<std::string> names;
  for (const ConfigSpec& spec : specs) {
    const std::string quiet = WaitQuiet(flags);
    Progress("table 3, config " + spec.name + " (" + quiet + ")");
    auto cluster = std::make_unique<BenchCluster>(flags, "config " + spec.name);
    ConfigRun run{spec.name, spec.replicas, spec.epsilon_us, quiet, ""};
    absl::Status s =
        cluster->Start(spec.replicas, flags.t3_ranges, spec.epsilon_us, std::max(flags.clients, 1));
    if (s.ok()) s = Preload(flags, *cluster);
    if (!s.ok()) {
      run.error = s.ToString();
      Progress("config " + spec.name + " FAILED: " + run.error);
    } else {
      clusters.push_back(std::move(cluster));
      names.push_back(spec.name);
    }
    report.configs.push_back(run);
  }
  for (const std::string& op : flags.ops) {
    std::vector<std::vector<LoadResult>> slices(clusters.size());
    for (int slice = 0; slice < flags.slices && !g_stop; ++slice) {
      for (size_t c = 0; c < clusters.size() && !g_stop; ++c) {
        LoadOptions options{1,
                            slice == 0 ? flags.warmup_s : 0.1,
                            flags.duration_s / flags.slices,
                            flags.seed + static_cast<uint64_t>(slice),
                            {}};
        slices[c].push_back(RunClosedLoop(options, Table3Op(flags, *clusters[c], op), g_stop));
      }
    }
    if (g_stop) return;
    for (size_t c = 0; c < clusters.size(); ++c) {
      Point p{names[c], op, 0, MergeResults(slices[c]), {}};
      Progress(FormatPointLine(p));
      report.table3.push_back(std::move(p));
    }
    if (flags.clients == 1) continue;
    for (size_t c = 0; c < clusters.size(); ++c) {
      if (g_stop) return;
      LoadOptions options{flags.clients, flags.warmup_s, flags.duration_s, flags.seed, {}};
      Point p{
          names[c], op, 0, RunClosedLoop(options, Table3Op(flags, *clusters[c], op), g_stop), {}};
      Progress(FormatPointLine(p));
      report.table3.push_back(std::move(p));
    }
  }
}

// One key inside each of `count` ranges of distinct groups, in group order.
absl::StatusOr<std::vector<std::string>> KeysInDistinctGroups(Client& client) {
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  std::map<uint64_t, std::string> key_of_group;
  for (const RangeInfo& r : topology->ranges) {
    if (key_of_group.count(r.group) != 0) continue;
    // The first range starts at "" and "t4" alone would fall in a later range.
    std::string key = (r.start.empty() ? std::string(1, '\0') : r.start) + "t4";
    if (!r.end.empty() && key >= r.end) continue;
    key_of_group[r.group] = key;
  }
  std::vector<std::string> keys;
  for (auto& [group, key] : key_of_group) keys.push_back(std::move(key));
  return keys;
}

void RunTable4(const Flags& flags, Report& report) {
  if (flags.participants.empty()) return;
  report.t4_load_average = WaitQuiet(flags);
  Progress("table 4 (" + report.t4_load_average + ")");
  BenchCluster cluster(flags, "table 4");
  absl::Status s = cluster.Start(flags.t4_zones, flags.t4_ranges, flags.epsilon_us, 1);
  absl::StatusOr<std::vector<std::string>> keys = s.ok()
                                                      ? KeysInDistinctGroups(cluster.ClientFor(0))
                                                      : absl::StatusOr<std::vector<std::string>>(s);
  if (!keys.ok()) {
    report.t4_error = keys.status().ToString();
    Progress("table 4 FAILED: " + report.t4_error);
    return;
  }
  report.t4_groups = static_cast<int>(keys->size());
  Progress("table 4: " + std::to_string(keys->size()) + " groups");
  const std::string value(static_cast<size_t>(flags.value_bytes), 'v');
  for (int parts : flags.participants) {
    if (g_stop) return;
    if (parts > static_cast<int>(keys->size())) {
      report.t4_skipped.push_back(parts);
      Progress("table 4: skipping " + std::to_string(parts) + " participants: only " +
               std::to_string(keys->size()) + " groups");
      continue;
    }
    const std::vector<std::string>& group_keys = *keys;
    // Keys never written before (a suffix per transaction): with the same key in a group each
    // time, a transaction waited at the participants that had not yet applied its predecessor's
    // outcome (they hold its locks until then), which is lock contention, not 2PC latency.
    auto next_txn = std::make_shared<std::atomic<uint64_t>>(0);
    Op op = [&cluster, &group_keys, &value, parts, next_txn](int t, Random& rnd) {
      const size_t n = group_keys.size();
      const std::string suffix =
          "/" + std::to_string(t) + "/" + std::to_string(next_txn->fetch_add(1));
      const size_t offset = rnd.Uniform(n);
      std::vector<Mutation> mutations;
      for (int i = 0; i < parts; ++i) {
        mutations.push_back(
            Mutation::Put(group_keys[(offset + static_cast<size_t>(i)) % n] + suffix, value));
      }
      absl::StatusOr<int64_t> ts = cluster.ClientFor(t).Commit(std::move(mutations));
      return OpOutcome{ts.status(), 0};
    };
    // CPU over the measured window: the cluster's processes, and this process (the client).
    std::optional<int64_t> cluster_cpu[2];
    int64_t client_cpu[2] = {0, 0};
    LoadOptions options{1, flags.warmup_s, flags.duration_s, flags.seed, {}};
    options.on_window = [&](bool open) {
      cluster_cpu[open ? 0 : 1] = cluster.CpuMicros();
      client_cpu[open ? 0 : 1] = SelfCpuMicros();
    };
    LoadResult r = RunClosedLoop(options, op, g_stop);
    Point p{"t4", "2pc", parts, r, {}};
    // A server that exited in the window (no longer counted) leaves the CPU unmeasured.
    if (r.ops > 0 && cluster_cpu[0] && cluster_cpu[1] && *cluster_cpu[1] >= *cluster_cpu[0]) {
      const double ops = static_cast<double>(r.ops);
      p.cpu.cluster_ms = static_cast<double>(*cluster_cpu[1] - *cluster_cpu[0]) / 1000.0 / ops;
      p.cpu.client_ms = static_cast<double>(client_cpu[1] - client_cpu[0]) / 1000.0 / ops;
    }
    Progress(FormatPointLine(p));
    report.table4.push_back(std::move(p));
  }
}

constexpr char kUsage[] =
    "usage: txn_bench [flags]\n"
    "Starts local Meridian clusters (placementd + spanservers as child processes) and measures\n"
    "transactions in the shape of Spanner's Table 3 and Table 4; see the top of\n"
    "bench/txn_bench.cc for exactly what is measured and how commit wait, Paxos time and the\n"
    "floor are computed. Binaries are found next to this one (build/placement/placementd,\n"
    "build/spanserver/spanserver) unless given.\n"
    "Clusters:\n"
    "  --base_port=N          first port to try; each cluster takes 1 + zones free ports at or\n"
    "                         after it (default 7900)\n"
    "  --dir_root=DIR         where cluster directories are made (default: the temp directory)\n"
    "  --keep_dirs            keep cluster directories (logs) even when all went well\n"
    "  --placementd=PATH --spanserver=PATH   the server binaries\n"
    "  --epsilon_us=N         TrueTime epsilon of non-D configurations and table 4 (default "
    "1000)\n"
    "  --paxos_lease_ms=N     leader lease (default 2000)\n"
    "  --ready_s=S            how long a cluster may take to be ready (default 90)\n"
    "Table 3:\n"
    "  --configs=LIST         configurations, N or ND (D: epsilon 0), N = replicas = zones\n"
    "                         (default 1D,1,3D,3,5D,5)\n"
    "  --ops=LIST             rw, write, ro, snap, put (default rw,write,ro,snap)\n"
    "  --clients=N            closed-loop clients of the throughput point; the latency point\n"
    "                         uses 1 (default 16)\n"
    "  --clients_per_conn=N   client threads sharing one meridian::Client (default 8)\n"
    "  --keys=N               keys, pre-loaded (default 1000)\n"
    "  --value_bytes=N        value size (default 4096, the paper's 4 KB)\n"
    "  --staleness_ms=N       snapshot reads' staleness bound (default 1000)\n"
    "  --t3_ranges=N          ranges of table 3 clusters (default 8)\n"
    "  --slices=N             configurations of one replica count (ND and N) run side by side;\n"
    "                         their 1-client points are taken in N alternating slices of\n"
    "                         duration_s/N each (default 6)\n"
    "Table 4:\n"
    "  --participants=LIST    participant group counts (default 1,2,5,10,25,50)\n"
    "  --t4_ranges=N          ranges (groups) of the table 4 cluster (default 64)\n"
    "  --t4_zones=N           servers (= zones = replicas per group) of it (default 3)\n"
    "  (each point also shows CPU ms per transaction of the cluster and the client, and\n"
    "   cpu_bound = their sum / processors: the least mean one client can see here)\n"
    "Both:\n"
    "  --tables=LIST          3, 4 or 3,4 (default 3,4)\n"
    "  --duration_s=S         measured seconds per point (default 3)\n"
    "  --warmup_s=S           unmeasured seconds before each point (default 0.5)\n"
    "  --call_deadline_ms=N   SDK deadline of each call (default 10000)\n"
    "  --peer_results=FILE    fsync and loopback figures for the floor (default\n"
    "                         /work/shared/peers/results/physical.txt)\n"
    "  --fsync_us=X --rtt_us=X   use these instead of the file's\n"
    "  --json=FILE            where to write the results (default txn_bench.json)\n"
    "  --seed=N               seed of keys, values and client backoff (default 1)\n"
    "  --quiet_wait_s=S       before each configuration and table 4, wait up to S s for the\n"
    "                         machine's CPU to be --quiet_idle_pct idle (default 0: no wait;\n"
    "                         the idle share seen is reported either way)\n"
    "  --quiet_idle_pct=N     (default 80)\n"
    "  --help                 this text\n"
    "Progress goes to stderr, tables to stdout. Exit status: 0 all calls succeeded, 1 some\n"
    "failed or a cluster could not run (reported), 2 bad flags.\n";

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

int64_t ParseInt(const std::string& flag, const std::string& v, int64_t min) {
  char* end = nullptr;
  const long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < min) {
    Die("bad " + flag + "='" + v + "' (want an integer >= " + std::to_string(min) + ")");
  }
  return n;
}

double ParseDouble(const std::string& flag, const std::string& v, double min) {
  char* end = nullptr;
  const double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || d < min) Die("bad " + flag + "='" + v + "'");
  return d;
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::optional<std::string> {
      const char* v = FlagValue(argv[i], flag);
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
    auto ints = [&](const std::string& flag, const std::string& v, int64_t min) {
      std::vector<int> out;
      for (const std::string& item : SplitComma(v)) {
        out.push_back(static_cast<int>(ParseInt(flag, item, min)));
      }
      return out;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--keep_dirs") {
      f.keep_dirs = true;
    } else if (auto v = value("--base_port")) {
      f.base_port = static_cast<int>(ParseInt("--base_port", *v, 1024));
    } else if (auto v = value("--dir_root")) {
      f.dir_root = *v;
    } else if (auto v = value("--placementd")) {
      f.placementd = *v;
    } else if (auto v = value("--spanserver")) {
      f.spanserver = *v;
    } else if (auto v = value("--configs")) {
      f.configs = SplitComma(*v);
    } else if (auto v = value("--ops")) {
      f.ops = SplitComma(*v);
      for (const std::string& op : f.ops) {
        if (op != "rw" && op != "write" && op != "ro" && op != "snap" && op != "put") {
          Die("bad --ops entry '" + op + "' (rw|write|ro|snap|put)");
        }
      }
    } else if (auto v = value("--participants")) {
      f.participants = ints("--participants", *v, 1);
    } else if (auto v = value("--tables")) {
      f.table3 = f.table4 = false;
      for (const std::string& t : SplitComma(*v)) {
        if (t == "3") {
          f.table3 = true;
        } else if (t == "4") {
          f.table4 = true;
        } else {
          Die("bad --tables entry '" + t + "' (3|4)");
        }
      }
    } else if (auto v = value("--clients")) {
      f.clients = static_cast<int>(ParseInt("--clients", *v, 1));
    } else if (auto v = value("--clients_per_conn")) {
      f.clients_per_conn = static_cast<int>(ParseInt("--clients_per_conn", *v, 1));
    } else if (auto v = value("--duration_s")) {
      f.duration_s = ParseDouble("--duration_s", *v, 0.1);
    } else if (auto v = value("--warmup_s")) {
      f.warmup_s = ParseDouble("--warmup_s", *v, 0);
    } else if (auto v = value("--epsilon_us")) {
      f.epsilon_us = ParseInt("--epsilon_us", *v, 0);
    } else if (auto v = value("--paxos_lease_ms")) {
      f.paxos_lease_ms = ParseInt("--paxos_lease_ms", *v, 100);
    } else if (auto v = value("--ready_s")) {
      f.ready_s = static_cast<int>(ParseInt("--ready_s", *v, 1));
    } else if (auto v = value("--t3_ranges")) {
      f.t3_ranges = static_cast<int>(ParseInt("--t3_ranges", *v, 1));
    } else if (auto v = value("--t4_ranges")) {
      f.t4_ranges = static_cast<int>(ParseInt("--t4_ranges", *v, 1));
    } else if (auto v = value("--t4_zones")) {
      f.t4_zones = static_cast<int>(ParseInt("--t4_zones", *v, 1));
    } else if (auto v = value("--keys")) {
      f.keys = static_cast<int>(ParseInt("--keys", *v, 1));
    } else if (auto v = value("--value_bytes")) {
      f.value_bytes = static_cast<int>(ParseInt("--value_bytes", *v, 0));
    } else if (auto v = value("--staleness_ms")) {
      f.staleness_ms = static_cast<int>(ParseInt("--staleness_ms", *v, 0));
    } else if (auto v = value("--call_deadline_ms")) {
      f.call_deadline_ms = static_cast<int>(ParseInt("--call_deadline_ms", *v, 1));
    } else if (auto v = value("--peer_results")) {
      f.peer_results = *v;
    } else if (auto v = value("--fsync_us")) {
      f.fsync_us = ParseDouble("--fsync_us", *v, 0);
    } else if (auto v = value("--rtt_us")) {
      f.rtt_us = ParseDouble("--rtt_us", *v, 0);
    } else if (auto v = value("--json")) {
      f.json = *v;
    } else if (auto v = value("--slices")) {
      f.slices = static_cast<int>(ParseInt("--slices", *v, 1));
    } else if (auto v = value("--quiet_wait_s")) {
      f.quiet_wait_s = static_cast<int>(ParseInt("--quiet_wait_s", *v, 0));
    } else if (auto v = value("--quiet_idle_pct")) {
      f.quiet_idle_pct = static_cast<int>(ParseInt("--quiet_idle_pct", *v, 0));
    } else if (auto v = value("--seed")) {
      f.seed = static_cast<uint64_t>(ParseInt("--seed", *v, 0));
    } else {
      std::fputs(kUsage, stderr);
      Die("unknown flag '" + arg + "'");
    }
  }
  for (const std::string& c : f.configs) {
    if (absl::Status s = ParseConfig(c, f.epsilon_us).status(); !s.ok()) Die(s.ToString());
  }
  return f;
}

int Main(int argc, char** argv) {
  // Debian builds absl with Mutex deadlock detection on (a graph update per lock); the SDK takes
  // an absl::Mutex on every call, so turn it off for measurement.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const Flags flags = ParseFlags(argc, argv);
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  Report report;
  report.load_average_start = LoadAverage();
  report.cpus = UsableCpus();
  report.settings = {{"clients", std::to_string(flags.clients)},
                     {"duration_s", std::to_string(flags.duration_s)},
                     {"warmup_s", std::to_string(flags.warmup_s)},
                     {"epsilon_us", std::to_string(flags.epsilon_us)},
                     {"keys", std::to_string(flags.keys)},
                     {"value_bytes", std::to_string(flags.value_bytes)},
                     {"staleness_ms", std::to_string(flags.staleness_ms)},
                     {"t3_ranges", std::to_string(flags.t3_ranges)},
                     {"t4_ranges", std::to_string(flags.t4_ranges)},
                     {"t4_zones", std::to_string(flags.t4_zones)},
                     {"paxos_lease_ms", std::to_string(flags.paxos_lease_ms)},
                     {"seed", std::to_string(flags.seed)}};
  report.floor = FloorInputs(flags.peer_results, flags.fsync_us, flags.rtt_us);
  Progress("load average at start: " + report.load_average_start +
           "; floor inputs: " + report.floor.source);
  if (flags.table3) {
    std::vector<int> replica_counts;  // in order of first mention
    for (const std::string& name : flags.configs) {
      const int r = ParseConfig(name, flags.epsilon_us)->replicas;
      if (std::find(replica_counts.begin(), replica_counts.end(), r) == replica_counts.end()) {
        replica_counts.push_back(r);
      }
    }
    for (int r : replica_counts) {
      if (g_stop) break;
      std::vector<ConfigSpec> group;
      for (const std::string& name : flags.configs) {
        ConfigSpec spec = *ParseConfig(name, flags.epsilon_us);
        if (spec.replicas == r) group.push_back(spec);
      }
      RunTable3Group(flags, group, report);
    }
  }
  if (flags.table4 && !g_stop) RunTable4(flags, report);
  report.load_average_end = LoadAverage();
  report.interrupted = g_stop;
  PrintReport(report, flags.staleness_ms, flags.clients);
  if (absl::Status s = WriteJson(report, flags.json); !s.ok()) {
    std::fprintf(stderr, "txn_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("wrote %s\n", flags.json.c_str());
  return report.AllOk() ? 0 : 1;
}

}  // namespace
}  // namespace meridian::bench

int main(int argc, char** argv) { return meridian::bench::Main(argc, argv); }
