// move_bench: how fast placement moves a range between groups (movedir, placement/mover.h), and
// what the move costs the writes that go on meanwhile.
//
//   build/bench/move_bench                       # 100 MB, 16 foreground writers, 10 s phases
//   build/bench/move_bench --mb=20 --phase_seconds=5 --json=move.json
//
// Setup: the bench starts its own local cluster (placementd + 3 spanservers in 3 zones, 8 ranges:
// tools/local_cluster.h) in a temporary directory, and
//  1. measures the disk's sequential write rate in that directory (--disk_mb MB written in 1 MiB
//     pieces, then fdatasync), the yardstick of the move rate;
//  2. loads --mb MB into the range of "m" (keys "m<i>", --value_bytes random values, through
//     --load_clients writers, with progress);
//  3. runs --clients closed-loop writers of 256-byte values to keys of the other ranges ("0...",
//     "A...") for three windows: before the move (--phase_seconds), during the move (from
//     MoveRange until placement lists no move), after it (--phase_seconds);
//  4. moves the range of "m" to another group and times it.
// Placement's automatic splits and balancing are off (they would cut or move the range).
// Output: the move's MB, seconds and MB/s against the disk's rate, per window the writers'
// throughput and p50/p99 latency, and the cluster CPU the move cost per MB (the cluster's CPU
// during the move beyond what its foreground writes cost at the window before's CPU per write),
// which bounds an unpaced move on this machine; --json=FILE writes the same figures.
// --move_rate_mb paces the copy (placementd's flag of that name; 0 here: unpaced).
// Every load loop is bounded (by bytes or by the windows); Ctrl-C stops the bench and its cluster.
#include <fcntl.h>
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
#include "absl/time/time.h"
#include "bench/bench_util.h"
#include "bench/own_cluster.h"
#include "common/random.h"
#include "meridian/client.h"
#include "tools/local_cluster.h"

namespace meridian {
namespace {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

[[noreturn]] void Die(const std::string& what) { bench::Die("move_bench", what); }

struct Flags {
  int mb = 100;
  int value_bytes = 16 << 10;
  int load_clients = 16;
  int clients = 16;
  int phase_seconds = 10;
  int disk_mb = 256;
  int base_port = 23700;
  int call_deadline_ms = 10'000;
  uint64_t seed = 1;
  int move_rate_mb = 0;      // placementd --move_rate_mb
  int move_ingest_kb = 512;  // placementd --move_ingest_kb
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
          "usage: move_bench [--mb=100] [--value_bytes=16384] [--load_clients=16] [--clients=16]\n"
          "                  [--phase_seconds=10] [--disk_mb=256] [--base_port=23700]\n"
          "                  [--move_rate_mb=0] [--move_ingest_kb=512]\n"
          "                  [--seed=1] [--dir_root=DIR] [--json=FILE]\n"
          "Starts a local cluster, loads --mb MB into one range, and moves it to another group\n"
          "while --clients writers write elsewhere; prints the move rate against the disk's\n"
          "sequential write rate and the writers' latency before, during and after the move.\n"
          "--move_rate_mb and --move_ingest_kb are passed to placementd (its --help).\n");
      std::exit(0);
    } else if ((v = bench::FlagValue(a, "--mb"))) {
      f.mb = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--value_bytes"))) {
      f.value_bytes = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--load_clients"))) {
      f.load_clients = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--clients"))) {
      f.clients = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--phase_seconds"))) {
      f.phase_seconds = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--disk_mb"))) {
      f.disk_mb = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--base_port"))) {
      f.base_port = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--move_rate_mb"))) {
      f.move_rate_mb = std::atoi(v);
    } else if ((v = bench::FlagValue(a, "--move_ingest_kb"))) {
      f.move_ingest_kb = std::atoi(v);
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
  if (f.mb < 1 || f.value_bytes < 16 || f.value_bytes > (512 << 10) || f.load_clients < 1 ||
      f.clients < 1 || f.phase_seconds < 1 || f.disk_mb < 1 || f.move_rate_mb < 0 ||
      f.move_ingest_kb < 16 || f.move_ingest_kb > 900) {
    Die("flags out of range (see --help)");
  }
  return f;
}

double Seconds(SteadyClock::duration d) { return std::chrono::duration<double>(d).count(); }

// The sequential write rate of the file system under `dir`, in MB/s: `mb` MiB in 1 MiB writes,
// then one fdatasync, as a bulk copy writes.
double MeasureDiskMbps(const std::string& dir, int mb) {
  const std::string path = dir + "/disk-rate.tmp";
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) Die("cannot create " + path);
  std::string block(1 << 20, 'x');
  const auto start = SteadyClock::now();
  for (int i = 0; i < mb; ++i) {
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) {
      Die("writing " + path + " failed");
    }
  }
  fdatasync(fd);
  const double s = Seconds(SteadyClock::now() - start);
  close(fd);
  unlink(path.c_str());
  return mb / s;
}

// Latencies of one window, in microseconds.
struct Window {
  std::mutex mu;
  std::vector<int64_t> us;
  int64_t errors = 0;
};

struct WindowReport {
  std::string name;
  double seconds = 0;
  double writes_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t errors = 0;
};

WindowReport Report(const std::string& name, Window& w, double seconds) {
  std::lock_guard<std::mutex> lock(w.mu);
  std::sort(w.us.begin(), w.us.end());
  return WindowReport{name,
                      seconds,
                      seconds > 0 ? static_cast<double>(w.us.size()) / seconds : 0,
                      bench::PercentileMs(w.us, 0.50, 1000),
                      bench::PercentileMs(w.us, 0.99, 1000),
                      w.errors};
}

class MoveBench {
 public:
  explicit MoveBench(Flags flags) : flags_(std::move(flags)) {}

  void Run() {
    StartCluster();
    disk_mbps_ = MeasureDiskMbps(own_.dir(), flags_.disk_mb);
    std::printf("disk: %.0f MB/s sequential (%d MiB, fdatasync at the end)\n", disk_mbps_,
                flags_.disk_mb);
    Load();
    std::vector<Window> windows(3);
    std::atomic<int> phase{0};  // 0 before, 1 during, 2 after, 3 stop
    std::vector<std::thread> writers;
    for (int i = 0; i < flags_.clients; ++i) {
      writers.emplace_back([&, i] { Write(i, windows, phase); });
    }
    const auto t0 = SteadyClock::now();
    const int64_t cpu0 = CpuMicros();
    std::this_thread::sleep_for(std::chrono::seconds(flags_.phase_seconds));
    phase = 1;
    const auto t1 = SteadyClock::now();
    const int64_t cpu1 = CpuMicros();
    const bool moved = Move();
    const auto t2 = SteadyClock::now();
    const int64_t cpu2 = CpuMicros();
    phase = 2;
    std::this_thread::sleep_for(std::chrono::seconds(flags_.phase_seconds));
    phase = 3;
    const auto t3 = SteadyClock::now();
    for (std::thread& t : writers) t.join();
    move_seconds_ = Seconds(t2 - t1);
    reports_ = {Report("before", windows[0], Seconds(t1 - t0)),
                Report("during", windows[1], move_seconds_),
                Report("after", windows[2], Seconds(t3 - t2))};
    MoveCpu(cpu1 - cpu0, cpu2 - cpu1);
    Print(moved);
  }

 private:
  void StartCluster() {
    bench::OwnClusterOptions options;
    options.name = "move_bench";
    options.dir_root = flags_.dir_root;
    options.base_port = flags_.base_port;
    // Placement's own splits and balancing would cut the loaded range or move it on their own.
    options.placement_flags = {"--split_range_mb=0", "--balance_interval_ms=0",
                               absl::StrCat("--move_rate_mb=", flags_.move_rate_mb),
                               absl::StrCat("--move_ingest_kb=", flags_.move_ingest_kb)};
    options.call_deadline_ms = flags_.call_deadline_ms;
    options.seed = flags_.seed;
    own_.Start(options);
  }

  // Puts --mb MB under "m<i>", in parallel, printing progress every 10%.
  void Load() {
    const int64_t count = (static_cast<int64_t>(flags_.mb) << 20) / flags_.value_bytes;
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> done{0};
    std::atomic<int64_t> failed{0};
    const auto start = SteadyClock::now();
    std::vector<std::thread> loaders;
    for (int t = 0; t < flags_.load_clients; ++t) {
      loaders.emplace_back([&, t] {
        Random random(flags_.seed * 7919 + static_cast<uint64_t>(t));
        std::string value(flags_.value_bytes, '\0');
        for (char& c : value) c = static_cast<char>(random.Uniform(256));
        for (int64_t i = next++; i < count && !g_stop; i = next++) {
          value[0] = static_cast<char>(i);
          absl::Status s = own_.client().Put(absl::StrCat("m", i), value);
          for (int tries = 0; !s.ok() && tries < 20 && !g_stop; ++tries) {
            s = own_.client().Put(absl::StrCat("m", i), value);
          }
          if (!s.ok()) ++failed;
          const int64_t d = ++done;
          if (d % std::max<int64_t>(1, count / 10) == 0) {
            std::printf("load: %lld%% (%lld of %lld values)\n",
                        static_cast<long long>(d * 100 / count), static_cast<long long>(d),
                        static_cast<long long>(count));
            std::fflush(stdout);
          }
        }
      });
    }
    for (std::thread& t : loaders) t.join();
    if (failed > 0) Die(absl::StrCat(failed.load(), " loads failed"));
    loaded_mb_ = static_cast<double>(count * flags_.value_bytes) / (1 << 20);
    std::printf("load: %.0f MB in %.1f s\n", loaded_mb_, Seconds(SteadyClock::now() - start));
  }

  // One foreground writer: 256-byte puts to its own keys in the ranges of "0" and "A".
  void Write(int index, std::vector<Window>& windows, std::atomic<int>& phase) {
    Random random(flags_.seed * 104729 + static_cast<uint64_t>(index));
    std::string value(256, 'v');
    for (uint64_t n = 0; phase.load() < 3 && !g_stop; ++n) {
      const std::string key = absl::StrCat(n % 2 == 0 ? "0" : "A", "w", index, "-", n % 64);
      value[0] = static_cast<char>(random.Uniform(256));
      const int p = phase.load();
      const auto start = SteadyClock::now();
      const absl::Status s = own_.client().Put(key, value);
      const int64_t us =
          std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
      if (p > 2 || phase.load() != p) continue;  // straddles two windows: counted in neither
      Window& w = windows[p];
      std::lock_guard<std::mutex> lock(w.mu);
      if (s.ok()) {
        w.us.push_back(us);
      } else {
        ++w.errors;
      }
    }
  }

  // CPU time the cluster's processes (placementd, spanservers) used so far, in microseconds.
  int64_t CpuMicros() const {
    int64_t total = 0;
    for (const tools::ProcessState& p : own_.cluster().supervisor().Processes()) {
      if (p.pid == 0) continue;
      total += bench::ProcessCpuMicros(p.pid).value_or(0);
    }
    return total;
  }

  // The cluster CPU the move itself cost: the CPU of the window during the move beyond what its
  // foreground writes cost at the rate the window before measured (CPU per write).
  void MoveCpu(int64_t before_us, int64_t during_us) {
    const WindowReport& before = reports_[0];
    const WindowReport& during = reports_[1];
    const double writes_before = before.writes_per_s * before.seconds;
    const double per_write_us = writes_before > 0 ? before_us / writes_before : 0;
    move_cpu_s_ =
        std::max(0.0, (during_us - per_write_us * during.writes_per_s * during.seconds) / 1e6);
    during_cpus_ = during.seconds > 0 ? during_us / 1e6 / during.seconds : 0;
  }

  // Moves the range of "m" to another group and waits until placement lists no move.
  bool Move() {
    move_start_ = SteadyClock::now();
    absl::StatusOr<Topology> topology = own_.client().GetTopology();
    if (!topology.ok()) Die(topology.status().ToString());
    uint64_t from = 0;
    for (const RangeInfo& r : topology->ranges) {
      if (r.start <= "m" && (r.end.empty() || "m" < r.end)) from = r.group;
    }
    uint64_t to = 0;
    for (const GroupInfo& g : topology->groups) {
      if (g.id != from) to = g.id;
    }
    absl::StatusOr<RangeMove> move = own_.client().MoveRange("m", to);
    if (!move.ok()) Die("MoveRange: " + move.status().ToString());
    std::printf("moving the range of \"m\" from group %llu to group %llu\n",
                static_cast<unsigned long long>(from), static_cast<unsigned long long>(to));
    std::string last_phase;
    const auto deadline = SteadyClock::now() + std::chrono::minutes(10);
    while (SteadyClock::now() < deadline && !g_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      absl::StatusOr<Topology> t = own_.client().GetTopology();
      if (!t.ok()) continue;
      if (t->moves.empty()) return true;
      if (t->moves.front().phase != last_phase) {
        last_phase = t->moves.front().phase;
        std::printf("  %.1f s: %s\n", Seconds(SteadyClock::now() - move_start_),
                    last_phase.c_str());
        std::fflush(stdout);
      }
    }
    return false;
  }

  void Print(bool moved) {
    const double mbps = move_seconds_ > 0 ? loaded_mb_ / move_seconds_ : 0;
    std::printf("\nmove: %s %.0f MB in %.1f s = %.1f MB/s, %.0f%% of the disk's %.0f MB/s\n",
                moved ? "done," : "NOT DONE after 10 min,", loaded_mb_, move_seconds_, mbps,
                100 * mbps / disk_mbps_, disk_mbps_);
    std::printf("%-8s %9s %12s %9s %9s %7s\n", "window", "seconds", "writes/s", "p50 ms", "p99 ms",
                "errors");
    for (const WindowReport& r : reports_) {
      std::printf("%-8s %9.1f %12.0f %9.2f %9.2f %7lld\n", r.name.c_str(), r.seconds,
                  r.writes_per_s, r.p50_ms, r.p99_ms, static_cast<long long>(r.errors));
    }
    const double p99_ratio = reports_[0].p99_ms > 0 ? reports_[1].p99_ms / reports_[0].p99_ms : 0;
    std::printf("foreground p99 during / before: %.2fx\n", p99_ratio);
    // What bounds the copy when it is not paced: the cluster's CPU per MB moved, against the
    // processors there are.
    const double cpu_ms_per_mb = loaded_mb_ > 0 ? move_cpu_s_ * 1000 / loaded_mb_ : 0;
    const int cpus = bench::UsableCpus();
    std::printf(
        "cluster CPU: %.2f cores busy during the move; the move cost %.1f CPU-s = %.0f ms per MB "
        "beyond the foreground's (a CPU-bound ceiling of %.0f MB/s on %d cores)\n",
        during_cpus_, move_cpu_s_, cpu_ms_per_mb,
        cpu_ms_per_mb > 0 ? cpus * 1000 / cpu_ms_per_mb : 0, cpus);
    if (flags_.json.empty()) return;
    std::ofstream out(flags_.json);
    out << "{\"bench\":\"move_bench\",\"moved\":" << (moved ? "true" : "false")
        << ",\"mb\":" << loaded_mb_ << ",\"move_seconds\":" << move_seconds_
        << ",\"move_mbps\":" << mbps << ",\"disk_mbps\":" << disk_mbps_
        << ",\"move_cpu_ms_per_mb\":" << cpu_ms_per_mb << ",\"during_cpus\":" << during_cpus_
        << ",\"foreground_clients\":" << flags_.clients
        << ",\"move_rate_mb\":" << flags_.move_rate_mb
        << ",\"move_ingest_kb\":" << flags_.move_ingest_kb << ",\"windows\":[";
    for (size_t i = 0; i < reports_.size(); ++i) {
      const WindowReport& r = reports_[i];
      out << (i ? "," : "") << "{\"name\":" << bench::JsonString(r.name)
          << ",\"seconds\":" << r.seconds << ",\"writes_per_s\":" << r.writes_per_s
          << ",\"p50_ms\":" << r.p50_ms << ",\"p99_ms\":" << r.p99_ms << ",\"errors\":" << r.errors
          << "}";
    }
    out << "]}\n";
  }

  const Flags flags_;
  bench::OwnCluster own_;
  double disk_mbps_ = 0;
  double loaded_mb_ = 0;
  double move_seconds_ = 0;
  double move_cpu_s_ = 0;   // the cluster's CPU the move cost beyond the foreground's
  double during_cpus_ = 0;  // cores the cluster kept busy during the move
  SteadyClock::time_point move_start_ = SteadyClock::now();
  std::vector<WindowReport> reports_;
};

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) {
  std::signal(SIGINT, [](int) { meridian::g_stop = true; });
  meridian::MoveBench bench(meridian::ParseFlags(argc, argv));
  bench.Run();
  return 0;
}
