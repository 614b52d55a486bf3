// kv_bench: closed-loop throughput and latency of a running Meridian cluster through the C++ SDK.
// Replicated single-key writes (Client::Put) and linearizable leader reads (Client::Get) at
// several concurrency levels; prints a table and writes the figures as JSON.
//
//   build/bench/kv_bench --placement=127.0.0.1:7700
//   build/bench/kv_bench --placement=127.0.0.1:7700 --clients=64 --seconds=10 --ops=write
//
// Setup and choices:
//  * A "client" is one closed-loop caller: a thread that issues one call, waits for its answer and
//    issues the next at once (no think time). N clients = N calls outstanding at all times.
//    Threads share meridian::Client objects (the SDK is thread-safe): one Client, i.e. one set of
//    gRPC channels, per --clients_per_conn threads. The default (1024) gives every thread one
//    Client, as the threads of one application process would share it; the SDK then sends the
//    writes that threads make at once to one server in shared WriteBatch RPCs (--write_batches).
//    --clients_per_conn=8 is the setting of earlier runs (etcd's benchmark spreads 64 clients
//    over 8 connections).
//  * Keys: --keys keys; key i is one byte (i mod 256) followed by "kvb" and i in decimal, so keys
//    cover the whole first-byte key space that placementd splits ranges on and every range (and
//    so every group and leader) gets its share. Each call picks a key uniformly from a generator
//    seeded by --seed and the thread's index.
//  * Values: --value_bytes random bytes (seeded), a few bytes changed per write.
//  * Before the first read level every key is written once (pre-load), so reads find values; a
//    read that finds no value is counted as an error ("MISSING").
//  * Each level runs --warmup_seconds (not counted), then --seconds of measurement: a call counts
//    when it completes inside the window; latency percentiles cover the same calls. Every failed
//    call is counted by status code and the first message of each code is printed.
//  * Bounded: every call has the SDK deadline --call_deadline_ms; after the window the load stops
//    and the level ends when the last in-flight call returns.
//  * Before measuring, the bench waits (up to --ready_seconds) until placement reports every group
//    with a leader.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "bench/bench_util.h"
#include "common/random.h"
#include "meridian/client.h"

namespace meridian {
namespace {

using SteadyClock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& what) { bench::Die("kv_bench", what); }
using bench::JsonString;

struct Flags {
  std::vector<std::string> placement;
  std::vector<int> clients = {1, 16, 64, 256};
  double seconds = 10;
  double warmup_seconds = 1;
  int value_bytes = 256;
  int keys = 10000;
  std::vector<std::string> ops = {"write", "read"};
  std::string json = "kv_bench.json";
  int clients_per_conn = 1024;
  int write_batches = 2;
  int call_deadline_ms = 5000;
  int ready_seconds = 30;
  uint64_t seed = 1;
};

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string KeyOf(int i) {
  std::string key(1, static_cast<char>(i % 256));
  key += "kvb" + std::to_string(i);
  return key;
}

double Percentile(const std::vector<int64_t>& sorted_us, double q) {
  return bench::PercentileMs(sorted_us, q, 1000);
}

struct LevelResult {
  std::string op;
  int clients = 0;
  double seconds = 0;
  int64_t ops = 0;
  int64_t errors = 0;
  double ops_per_s = 0;
  double avg_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  std::map<std::string, int64_t> error_codes;
  std::map<std::string, std::string> error_examples;
};

// Per-thread tallies, merged after the level ends.
struct ThreadTally {
  std::vector<int64_t> latencies_us;
  int64_t ops = 0;
  std::map<std::string, int64_t> error_codes;
  std::map<std::string, std::string> error_examples;
};

class Bench {
 public:
  explicit Bench(Flags flags) : flags_(std::move(flags)) {}

  int Run() {
    ConnectClients(*std::max_element(flags_.clients.begin(), flags_.clients.end()));
    WaitReady();
    std::vector<LevelResult> results;
    bool preloaded = false;
    for (const std::string& op : flags_.ops) {
      if (op == "read" && !preloaded) {
        Preload();
        preloaded = true;
      }
      for (int n : flags_.clients) {
        results.push_back(RunLevel(op, n));
        PrintRow(results.back());
      }
    }
    std::printf("\n");
    PrintTable(results);
    const uint64_t longest_log = LongestLog();
    std::printf("longest Paxos log after the run: %" PRIu64
                " entries (as the servers last reported; they compact at --max_log_mb)\n",
                longest_log);
    WriteJson(results, longest_log);
    std::printf("wrote %s\n", flags_.json.c_str());
    int64_t errors = 0;
    for (const LevelResult& r : results) errors += r.errors;
    return errors == 0 ? 0 : 1;
  }

 private:
  void ConnectClients(int max_clients) {
    const int n = (max_clients + flags_.clients_per_conn - 1) / flags_.clients_per_conn;
    for (int i = 0; i < n; ++i) {
      ClientOptions options;
      options.deadline = std::chrono::milliseconds(flags_.call_deadline_ms);
      options.seed = flags_.seed * 1000 + static_cast<uint64_t>(i);
      options.write_batches_in_flight = flags_.write_batches;
      absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(flags_.placement, options);
      if (!c.ok()) Die("connect: " + c.status().ToString());
      clients_.push_back(std::move(*c));
    }
  }

  Client& ClientFor(int thread) { return *clients_[thread / flags_.clients_per_conn]; }

  void WaitReady() {
    const auto deadline = SteadyClock::now() + std::chrono::seconds(flags_.ready_seconds);
    std::string last;
    while (true) {
      absl::StatusOr<Topology> t = clients_[0]->GetTopology();
      if (t.ok()) {
        int leaderless = 0;
        for (const GroupInfo& g : t->groups) leaderless += g.leader == 0 ? 1 : 0;
        if (t->bootstrapped && !t->groups.empty() && leaderless == 0) {
          std::printf("cluster ready: %zu servers, %zu groups, %zu ranges, all groups led\n",
                      t->servers.size(), t->groups.size(), t->ranges.size());
          return;
        }
        last = "bootstrapped=" + std::to_string(t->bootstrapped) +
               " groups=" + std::to_string(t->groups.size()) +
               " leaderless=" + std::to_string(leaderless);
      } else {
        last = t.status().ToString();
      }
      if (SteadyClock::now() > deadline) Die("cluster not ready: " + last);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  // Writes every key once, from 64 threads; any failure is fatal (reads would be meaningless).
  void Preload() {
    const auto start = SteadyClock::now();
    const int threads =
        std::min<int>(64, static_cast<int>(clients_.size()) * flags_.clients_per_conn);
    std::atomic<int> next{0};
    std::atomic<int> failed{0};
    std::mutex mu;
    std::string first_error;
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        Random rnd(flags_.seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(t + 1)));
        const std::string value = rnd.Bytes(static_cast<size_t>(flags_.value_bytes));
        for (int i = next++; i < flags_.keys; i = next++) {
          absl::Status s = ClientFor(t).Put(KeyOf(i), value);
          if (!s.ok()) {
            ++failed;
            std::lock_guard<std::mutex> lock(mu);
            if (first_error.empty()) first_error = s.ToString();
          }
        }
      });
    }
    for (std::thread& w : workers) w.join();
    const double secs = std::chrono::duration<double>(SteadyClock::now() - start).count();
    if (failed > 0) {
      Die("pre-load: " + std::to_string(failed.load()) + " of " + std::to_string(flags_.keys) +
          " writes failed, first: " + first_error);
    }
    std::printf("pre-loaded %d keys in %.2f s\n", flags_.keys, secs);
  }

  LevelResult RunLevel(const std::string& op, int n) {
    const bool write = op == "write";
    std::atomic<bool> stop{false};
    const auto t0 = SteadyClock::now();
    const auto window_start =
        t0 + std::chrono::microseconds(static_cast<int64_t>(flags_.warmup_seconds * 1e6));
    const auto window_end =
        window_start + std::chrono::microseconds(static_cast<int64_t>(flags_.seconds * 1e6));
    std::vector<ThreadTally> tallies(static_cast<size_t>(n));
    std::vector<std::thread> workers;
    workers.reserve(static_cast<size_t>(n));
    for (int t = 0; t < n; ++t) {
      workers.emplace_back([&, t] {
        ThreadTally& tally = tallies[static_cast<size_t>(t)];
        tally.latencies_us.reserve(1 << 14);
        Random rnd(flags_.seed * 7919 + static_cast<uint64_t>(t) * 104729 + (write ? 1 : 2));
        std::string value = rnd.Bytes(static_cast<size_t>(flags_.value_bytes));
        Client& client = ClientFor(t);
        while (!stop.load(std::memory_order_relaxed)) {
          const std::string key =
              KeyOf(static_cast<int>(rnd.Uniform(static_cast<uint64_t>(flags_.keys))));
          if (!value.empty()) value[rnd.Uniform(value.size())] = static_cast<char>(rnd.Next());
          const auto begin = SteadyClock::now();
          absl::Status s;
          if (write) {
            s = client.Put(key, value);
          } else {
            absl::StatusOr<std::optional<std::string>> v = client.Get(key);
            if (!v.ok()) {
              s = v.status();
            } else if (!v->has_value()) {
              s = absl::NotFoundError("MISSING: pre-loaded key has no value");
            }
          }
          const auto end = SteadyClock::now();
          if (begin < window_start || end > window_end) continue;
          if (s.ok()) {
            ++tally.ops;
            tally.latencies_us.push_back(
                std::chrono::duration_cast<std::chrono::microseconds>(end - begin).count());
          } else {
            std::string code = s.message().rfind("MISSING", 0) == 0
                                   ? "MISSING"
                                   : absl::StatusCodeToString(s.code());
            if (tally.error_codes[code]++ == 0) tally.error_examples[code] = s.ToString();
          }
        }
      });
    }
    std::this_thread::sleep_until(window_end);
    stop = true;
    for (std::thread& w : workers) w.join();

    LevelResult r;
    r.op = op;
    r.clients = n;
    r.seconds = flags_.seconds;
    std::vector<int64_t> all;
    for (ThreadTally& tally : tallies) {
      r.ops += tally.ops;
      all.insert(all.end(), tally.latencies_us.begin(), tally.latencies_us.end());
      for (const auto& [code, count] : tally.error_codes) {
        r.errors += count;
        r.error_codes[code] += count;
        r.error_examples.emplace(code, tally.error_examples[code]);
      }
    }
    std::sort(all.begin(), all.end());
    r.ops_per_s = static_cast<double>(r.ops) / flags_.seconds;
    if (!all.empty()) {
      int64_t sum = 0;
      for (int64_t v : all) sum += v;
      r.avg_ms = static_cast<double>(sum) / static_cast<double>(all.size()) / 1000.0;
      r.p50_ms = Percentile(all, 0.50);
      r.p90_ms = Percentile(all, 0.90);
      r.p99_ms = Percentile(all, 0.99);
      r.p999_ms = Percentile(all, 0.999);
      r.max_ms = static_cast<double>(all.back()) / 1000.0;
    }
    return r;
  }

  static void PrintRow(const LevelResult& r) {
    std::printf("%-5s clients=%-4d ops/s=%-9.0f p50=%.3fms p99=%.3fms p999=%.3fms errors=%" PRId64
                "\n",
                r.op.c_str(), r.clients, r.ops_per_s, r.p50_ms, r.p99_ms, r.p999_ms, r.errors);
    for (const auto& [code, count] : r.error_codes) {
      std::printf("      %" PRId64 " x %s, e.g. %s\n", count, code.c_str(),
                  r.error_examples.at(code).c_str());
    }
    std::fflush(stdout);
  }

  static void PrintTable(const std::vector<LevelResult>& results) {
    std::printf("%-6s %8s %10s %9s %9s %9s %9s %9s %8s\n", "op", "clients", "ops/s", "avg_ms",
                "p50_ms", "p90_ms", "p99_ms", "p999_ms", "errors");
    for (const LevelResult& r : results) {
      std::printf("%-6s %8d %10.0f %9.3f %9.3f %9.3f %9.3f %9.3f %8" PRId64 "\n", r.op.c_str(),
                  r.clients, r.ops_per_s, r.avg_ms, r.p50_ms, r.p90_ms, r.p99_ms, r.p999_ms,
                  r.errors);
    }
  }

  // The longest log of any live replica of any group, from placement's soft state (heartbeats).
  uint64_t LongestLog() {
    absl::StatusOr<Topology> topology = clients_[0]->GetTopology();
    if (!topology.ok()) return 0;
    uint64_t longest = 0;
    for (const GroupInfo& g : topology->groups) {
      for (const ReplicaLog& l : g.logs) longest = std::max(longest, l.entries);
    }
    return longest;
  }

  void WriteJson(const std::vector<LevelResult>& results, uint64_t longest_log) {
    std::ofstream out(flags_.json);
    if (!out) Die("cannot write " + flags_.json);
    std::string placement;
    for (const std::string& p : flags_.placement) placement += (placement.empty() ? "" : ",") + p;
    out << "{\n  \"bench\": \"kv_bench\",\n  \"placement\": " << JsonString(placement)
        << ",\n  \"seconds\": " << flags_.seconds
        << ",\n  \"warmup_seconds\": " << flags_.warmup_seconds
        << ",\n  \"value_bytes\": " << flags_.value_bytes << ",\n  \"keys\": " << flags_.keys
        << ",\n  \"clients_per_conn\": " << flags_.clients_per_conn
        << ",\n  \"write_batches_in_flight\": " << flags_.write_batches
        << ",\n  \"seed\": " << flags_.seed << ",\n  \"longest_log_entries\": " << longest_log
        << ",\n  \"results\": [\n";
    for (size_t i = 0; i < results.size(); ++i) {
      const LevelResult& r = results[i];
      char buf[512];
      std::snprintf(buf, sizeof(buf),
                    "    {\"op\": \"%s\", \"clients\": %d, \"ops\": %" PRId64
                    ", \"errors\": %" PRId64
                    ", \"ops_per_s\": %.1f, \"avg_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
                    "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f, \"error_codes\": {",
                    r.op.c_str(), r.clients, r.ops, r.errors, r.ops_per_s, r.avg_ms, r.p50_ms,
                    r.p90_ms, r.p99_ms, r.p999_ms, r.max_ms);
      out << buf;
      bool first = true;
      for (const auto& [code, count] : r.error_codes) {
        out << (first ? "" : ", ") << JsonString(code) << ": " << count;
        first = false;
      }
      out << "}}" << (i + 1 < results.size() ? "," : "") << "\n";
    }
    out << "  ]\n}\n";
  }

  Flags flags_;
  std::vector<std::unique_ptr<Client>> clients_;
};

constexpr char kUsage[] =
    "usage: kv_bench --placement=HOST:PORT[,HOST:PORT...] [flags]\n"
    "  --placement=LIST        placementd addresses (required)\n"
    "  --clients=LIST          concurrent closed-loop clients per level (default 1,16,64,256)\n"
    "  --seconds=S             measured seconds per level (default 10)\n"
    "  --warmup_seconds=S      unmeasured seconds before each level's window (default 1)\n"
    "  --value_bytes=N         value size of writes (default 256)\n"
    "  --keys=N                key space; reads pre-load every key (default 10000)\n"
    "  --ops=LIST              write, read or both, in that order (default write,read)\n"
    "  --json=PATH             where to write the figures (default kv_bench.json)\n"
    "  --clients_per_conn=N    client threads sharing one meridian::Client (default 1024)\n"
    "  --write_batches=N       ClientOptions::write_batches_in_flight: WriteBatch RPCs in\n"
    "                          flight per server before writes queue and share one (default 2)\n"
    "  --call_deadline_ms=MS   SDK deadline of each call (default 5000)\n"
    "  --ready_seconds=S       how long to wait for every group to have a leader (default 30)\n"
    "  --seed=N                seed of keys and values (default 1)\n"
    "  --help                  this text\n"
    "Exit status: 0 when no call failed, 1 when some did (counted in the table), 2 on bad flags\n"
    "or a cluster that is not ready.\n";

int64_t ParseInt(const std::string& flag, const char* v, int64_t min) {
  char* end = nullptr;
  const long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0' || n < min) {
    Die("bad " + flag + "='" + v + "' (want an integer >= " + std::to_string(min) + ")");
  }
  return n;
}

double ParseDouble(const std::string& flag, const char* v, double min) {
  char* end = nullptr;
  const double d = std::strtod(v, &end);
  if (end == v || *end != '\0' || d < min) Die("bad " + flag + "='" + v + "'");
  return d;
}

int Main(int argc, char** argv) {
  // Debian builds absl with Mutex deadlock detection on (a graph update per lock); the SDK takes
  // an absl::Mutex on every call, so turn it off for measurement.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag) { return bench::FlagValue(argv[i], flag); };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (const char* v = value("--placement")) {
      flags.placement = SplitComma(v);
    } else if (const char* v = value("--clients")) {
      flags.clients.clear();
      for (const std::string& item : SplitComma(v)) {
        flags.clients.push_back(static_cast<int>(ParseInt("--clients", item.c_str(), 1)));
      }
      if (flags.clients.empty()) Die("--clients is empty");
    } else if (const char* v = value("--seconds")) {
      flags.seconds = ParseDouble("--seconds", v, 0.001);
    } else if (const char* v = value("--warmup_seconds")) {
      flags.warmup_seconds = ParseDouble("--warmup_seconds", v, 0);
    } else if (const char* v = value("--value_bytes")) {
      flags.value_bytes = static_cast<int>(ParseInt("--value_bytes", v, 0));
    } else if (const char* v = value("--keys")) {
      flags.keys = static_cast<int>(ParseInt("--keys", v, 1));
    } else if (const char* v = value("--ops")) {
      flags.ops = SplitComma(v);
      for (const std::string& op : flags.ops) {
        if (op != "write" && op != "read") Die("bad --ops entry '" + op + "' (write|read)");
      }
      if (flags.ops.empty()) Die("--ops is empty");
    } else if (const char* v = value("--json")) {
      flags.json = v;
    } else if (const char* v = value("--clients_per_conn")) {
      flags.clients_per_conn = static_cast<int>(ParseInt("--clients_per_conn", v, 1));
    } else if (const char* v = value("--write_batches")) {
      flags.write_batches = static_cast<int>(ParseInt("--write_batches", v, 1));
    } else if (const char* v = value("--call_deadline_ms")) {
      flags.call_deadline_ms = static_cast<int>(ParseInt("--call_deadline_ms", v, 1));
    } else if (const char* v = value("--ready_seconds")) {
      flags.ready_seconds = static_cast<int>(ParseInt("--ready_seconds", v, 0));
    } else if (const char* v = value("--seed")) {
      flags.seed = static_cast<uint64_t>(ParseInt("--seed", v, 0));
    } else {
      std::fputs(kUsage, stderr);
      Die("unknown flag '" + arg + "'");
    }
  }
  if (flags.placement.empty()) {
    std::fputs(kUsage, stderr);
    Die("--placement is required");
  }
  return Bench(std::move(flags)).Run();
}

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) { return meridian::Main(argc, argv); }
