// soak_bench: does a cluster's disk use stay flat under a long steady write load once the keys
// are overwritten? Log compaction (spanserver --max_log_mb) keeps every group's Paxos log near
// its limit, and MVCC garbage collection (--mvcc_retention_s) erases versions older than the
// retention window, so after the first window the data held is the live keys plus one window of
// old versions, whatever the run's length.
//
//   build/bench/soak_bench                                    # 30 minutes, a sample every 30 s
//   build/bench/soak_bench --minutes=5 --sample_s=10 --json=soak.json
//
// Setup: the bench starts its own local cluster (placementd + 3 spanservers in 3 zones, 8 ranges:
// tools/local_cluster.h) in a temporary directory, with the spanservers' --mvcc_retention_s and
// --max_log_mb from its flags (the defaults, 60 s and 16 MiB, make both bounds show within
// minutes; the servers' own defaults are 1 hour and 64 MiB) and placement's splits and balancing
// off (they would move data between servers and blur the per-server figures). --clients
// closed-loop writers put --value_bytes random values to keys drawn uniformly from --keys keys
// (seeded by --seed), so every key is overwritten many times.
// Every --sample_s the bench prints and records: writes/s and p50/p99 latency in that interval,
// each spanserver's data directory size (every file under it: LevelDB's tables, logs and
// manifests) and the longest Paxos log among its replicas, in entries (ServerStatus: last_index
// - compacted).
// Output: the samples, then the verdict: disk use at the end of the first retention window
// after the first full overwrite, at the middle and at the end, and the growth over the second
// half of the run (flat: a few percent, the noise of LevelDB's compactions); --json=FILE writes
// the same. Bounded by --minutes; Ctrl-C stops the bench and its cluster.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/own_cluster.h"
#include "common/random.h"
#include "meridian/client.h"
#include "proto/kv.pb.h"
#include "tools/local_cluster.h"

namespace meridian {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

[[noreturn]] void Die(const std::string& what) { bench::Die("soak_bench", what); }

struct Flags {
  int minutes = 30;
  int sample_s = 30;
  int clients = 8;
  int keys = 20'000;
  int value_bytes = 1024;
  int mvcc_retention_s = 60;
  int max_log_mb = 16;
  int base_port = 23800;
  int call_deadline_ms = 10'000;
  uint64_t seed = 1;
  std::string json;
  std::string dir_root;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const char* v = nullptr;
    if (std::string(a) == "--help") {
      std::printf(
          "usage: soak_bench [--minutes=30] [--sample_s=30] [--clients=8] [--keys=20000]\n"
          "                  [--value_bytes=1024] [--mvcc_retention_s=60] [--max_log_mb=16]\n"
          "                  [--base_port=23800] [--seed=1] [--dir_root=DIR] [--json=FILE]\n"
          "Starts a local cluster and overwrites --keys keys for --minutes; every --sample_s\n"
          "prints writes/s, latency, each server's disk use and longest Paxos log, then says\n"
          "how much disk use grew over the second half of the run.\n");
      std::exit(0);
    } else if ((v = bench::FlagValue(a, "--minutes"))) {
      f.minutes = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--sample_s"))) {
      f.sample_s = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--clients"))) {
      f.clients = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--keys"))) {
      f.keys = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--value_bytes"))) {
      f.value_bytes = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--mvcc_retention_s"))) {
      f.mvcc_retention_s = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--max_log_mb"))) {
      f.max_log_mb = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--base_port"))) {
      f.base_port = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--seed"))) {
      f.seed = std::strtoull(v, nullptr, 10);
    } else if ((v = bench::FlagValue(a, "--dir_root"))) {
      f.dir_root = v;
    } else if ((v = bench::FlagValue(a, "--json"))) {
      f.json = v;
    } else {
      Die(absl::StrCat("unknown flag ", a, " (see --help)"));
    }
  }
  if (f.minutes < 1 || f.sample_s < 1 || f.clients < 1 || f.keys < 1 || f.value_bytes < 1 ||
      f.value_bytes > (512 << 10) || f.mvcc_retention_s < 10 || f.max_log_mb < 1) {
    Die("flags out of range (see --help; --mvcc_retention_s is at least 10)");
  }
  return f;
}

// The bytes of every regular file under `dir`.
uint64_t DirectoryBytes(const std::string& dir) {
  uint64_t total = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(dir, error), end; !error && it != end;
       it.increment(error)) {
    std::error_code e;
    if (it->is_regular_file(e)) total += it->file_size(e);
  }
  return total;
}

struct Sample {
  double t_s = 0;
  double writes_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t errors = 0;
  std::vector<double> disk_mb;       // per spanserver
  std::vector<int64_t> log_entries;  // per spanserver: its longest group log (-1: no answer)
  double total_disk_mb() const {
    double t = 0;
    for (double d : disk_mb) t += d;
    return t;
  }
};

class SoakBench {
 public:
  explicit SoakBench(Flags flags) : flags_(std::move(flags)) {}

  void Run() {
    StartCluster();
    std::atomic<bool> done{false};
    std::vector<std::thread> writers;
    for (int i = 0; i < flags_.clients; ++i) writers.emplace_back([&, i] { Write(i, done); });
    const auto start = SteadyClock::now();
    const auto end = start + std::chrono::minutes(flags_.minutes);
    PrintHeader();
    auto next = start;
    while (!g_stop && next < end) {
      next += std::chrono::seconds(flags_.sample_s);
      std::this_thread::sleep_until(std::min(next, end));
      samples_.push_back(TakeSample(std::chrono::duration<double>(SteadyClock::now() - start)));
      PrintSample(samples_.back());
    }
    done = true;
    for (std::thread& t : writers) t.join();
    PrintVerdict();
  }

 private:
  void StartCluster() {
    bench::OwnClusterOptions options;
    options.name = "soak_bench";
    options.dir_root = flags_.dir_root;
    options.base_port = flags_.base_port;
    options.spanserver_flags = {absl::StrCat("--mvcc_retention_s=", flags_.mvcc_retention_s),
                                absl::StrCat("--max_log_mb=", flags_.max_log_mb)};
    // Placement's splits and balancing would move data between servers.
    options.placement_flags = {"--split_range_mb=0", "--balance_interval_ms=0"};
    options.call_deadline_ms = flags_.call_deadline_ms;
    options.seed = flags_.seed;
    std::printf("retention %d s, log limit %d MiB\n", flags_.mvcc_retention_s, flags_.max_log_mb);
    own_.Start(options);
  }

  // One closed-loop writer: random values to uniformly drawn keys, one byte (i mod 256) first so
  // that the keys cover every range.
  void Write(int index, const std::atomic<bool>& done) {
    Random random(flags_.seed * 104729 + static_cast<uint64_t>(index));
    std::string value(flags_.value_bytes, '\0');
    for (char& c : value) c = static_cast<char>(random.Uniform(256));
    while (!done && !g_stop) {
      const uint64_t i = random.Uniform(static_cast<uint64_t>(flags_.keys));
      const std::string key = absl::StrCat(std::string(1, static_cast<char>(i % 256)), "soak", i);
      value[random.Uniform(value.size())] = static_cast<char>(random.Uniform(256));
      const auto t0 = SteadyClock::now();
      const absl::Status s = own_.client().Put(key, value);
      const int64_t us =
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count();
      std::lock_guard<std::mutex> lock(mu_);
      if (s.ok()) {
        latencies_us_.push_back(us);
      } else {
        ++errors_;
      }
      ++writes_total_;
    }
  }

  Sample TakeSample(std::chrono::duration<double> since_start) {
    Sample s;
    s.t_s = since_start.count();
    std::vector<int64_t> us;
    {
      std::lock_guard<std::mutex> lock(mu_);
      us.swap(latencies_us_);
      s.errors = errors_;
      errors_ = 0;
    }
    std::sort(us.begin(), us.end());
    const double interval = samples_.empty() ? s.t_s : s.t_s - samples_.back().t_s;
    s.writes_per_s = interval > 0 ? static_cast<double>(us.size()) / interval : 0;
    s.p50_ms = bench::PercentileMs(us, 0.50, 1000);
    s.p99_ms = bench::PercentileMs(us, 0.99, 1000);
    for (const std::string& name : own_.cluster().server_names()) {
      std::string data_dir;
      for (const tools::ProcessState& p : own_.cluster().supervisor().Processes()) {
        if (p.spec.name == name) data_dir = p.spec.data_dir;
      }
      s.disk_mb.push_back(static_cast<double>(DirectoryBytes(data_dir)) / (1 << 20));
      int64_t longest = -1;
      if (absl::StatusOr<proto::ServerStatusResponse> st = own_.cluster().ServerStatus(name);
          st.ok()) {
        for (const proto::GroupStatus& g : st->groups()) {
          const int64_t entries =
              static_cast<int64_t>(g.last_index() - std::min(g.last_index(), g.compacted()));
          longest = std::max(longest, entries);
        }
      }
      s.log_entries.push_back(longest);
    }
    return s;
  }

  void PrintHeader() const {
    std::printf("%8s %10s %8s %8s %6s %10s   %s\n", "t (s)", "writes/s", "p50 ms", "p99 ms",
                "errors", "disk MB", "per server: disk MB / longest log (entries)");
  }

  void PrintSample(const Sample& s) const {
    std::string servers;
    for (size_t i = 0; i < s.disk_mb.size(); ++i) {
      absl::StrAppend(&servers, i ? "  " : "",
                      absl::StrFormat("%.0f/%d", s.disk_mb[i], s.log_entries[i]));
    }
    std::printf("%8.0f %10.0f %8.2f %8.2f %6lld %10.0f   %s\n", s.t_s, s.writes_per_s, s.p50_ms,
                s.p99_ms, static_cast<long long>(s.errors), s.total_disk_mb(), servers.c_str());
    std::fflush(stdout);
  }

  // The sample nearest to `t_s`.
  const Sample& At(double t_s) const {
    const Sample* best = &samples_.front();
    for (const Sample& s : samples_) {
      if (std::abs(s.t_s - t_s) < std::abs(best->t_s - t_s)) best = &s;
    }
    return *best;
  }

  void PrintVerdict() {
    if (samples_.size() < 2) return;
    const Sample& middle = At(samples_.back().t_s / 2);
    const Sample& last = samples_.back();
    const double growth =
        middle.total_disk_mb() > 0 ? 100 * (last.total_disk_mb() / middle.total_disk_mb() - 1) : 0;
    int64_t longest_log = 0;
    for (const Sample& s : samples_) {
      for (int64_t e : s.log_entries) longest_log = std::max(longest_log, e);
    }
    const double overwrites = static_cast<double>(writes_total_) / flags_.keys;
    std::printf(
        "\n%lld writes (each key overwritten %.0f times on average); disk %.0f MB at %.0f s, "
        "%.0f MB at the end (%.0f s): %+.1f%% over the second half; longest Paxos log "
        "%lld entries\n",
        static_cast<long long>(writes_total_), overwrites, middle.total_disk_mb(), middle.t_s,
        last.total_disk_mb(), last.t_s, growth, static_cast<long long>(longest_log));
    if (flags_.json.empty()) return;
    std::ofstream out(flags_.json);
    out << "{\"bench\":\"soak_bench\",\"minutes\":" << flags_.minutes
        << ",\"clients\":" << flags_.clients << ",\"keys\":" << flags_.keys
        << ",\"value_bytes\":" << flags_.value_bytes
        << ",\"mvcc_retention_s\":" << flags_.mvcc_retention_s
        << ",\"max_log_mb\":" << flags_.max_log_mb << ",\"writes\":" << writes_total_
        << ",\"second_half_growth_pct\":" << growth << ",\"longest_log_entries\":" << longest_log
        << ",\"samples\":[";
    for (size_t i = 0; i < samples_.size(); ++i) {
      const Sample& s = samples_[i];
      out << (i ? "," : "") << "{\"t_s\":" << s.t_s << ",\"writes_per_s\":" << s.writes_per_s
          << ",\"p50_ms\":" << s.p50_ms << ",\"p99_ms\":" << s.p99_ms << ",\"errors\":" << s.errors
          << ",\"disk_mb\":" << s.total_disk_mb() << ",\"servers\":[";
      for (size_t j = 0; j < s.disk_mb.size(); ++j) {
        out << (j ? "," : "") << "{\"disk_mb\":" << s.disk_mb[j]
            << ",\"longest_log_entries\":" << s.log_entries[j] << "}";
      }
      out << "]}";
    }
    out << "]}\n";
  }

  const Flags flags_;
  bench::OwnCluster own_;
  std::vector<Sample> samples_;
  std::mutex mu_;
  std::vector<int64_t> latencies_us_;  // since the last sample
  int64_t errors_ = 0;                 // since the last sample
  int64_t writes_total_ = 0;
};

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) {
  std::signal(SIGINT, [](int) { meridian::g_stop = true; });
  std::signal(SIGTERM, [](int) { meridian::g_stop = true; });
  meridian::SoakBench bench(meridian::ParseFlags(argc, argv));
  bench.Run();
  return 0;
}
