#include "bench/txn_load.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace meridian::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Fills ops, ops_per_s and the latency statistics from r.latencies_us and r.duration_s.
void Summarize(LoadResult& r) {
  std::sort(r.latencies_us.begin(), r.latencies_us.end());
  const std::vector<int64_t>& all = r.latencies_us;
  r.ops = static_cast<int64_t>(all.size());
  r.ops_per_s = r.duration_s > 0 ? static_cast<double>(r.ops) / r.duration_s : 0;
  r.mean_ms = r.p50_ms = r.p90_ms = r.p99_ms = r.max_ms = 0;
  if (all.empty()) return;
  int64_t sum = 0;
  for (int64_t v : all) sum += v;
  r.mean_ms = static_cast<double>(sum) / static_cast<double>(all.size()) / 1000.0;
  r.p50_ms = PercentileMs(all, 0.50, 1000);
  r.p90_ms = PercentileMs(all, 0.90, 1000);
  r.p99_ms = PercentileMs(all, 0.99, 1000);
  r.max_ms = static_cast<double>(all.back()) / 1000.0;
}

struct ThreadTally {
  std::vector<int64_t> latencies_us;
  int64_t errors = 0;
  int64_t retries = 0;
  std::map<std::string, int64_t> error_codes;
  std::map<std::string, std::string> error_examples;
};

}  // namespace

LoadResult RunClosedLoop(const LoadOptions& options, const Op& op, const std::atomic<bool>& stop) {
  const auto t0 = SteadyClock::now();
  const auto window_start =
      t0 + std::chrono::microseconds(static_cast<int64_t>(options.warmup_s * 1e6));
  const auto window_end =
      window_start + std::chrono::microseconds(static_cast<int64_t>(options.duration_s * 1e6));
  std::atomic<bool> done{false};
  std::vector<ThreadTally> tallies(static_cast<size_t>(options.clients));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(options.clients));
  for (int t = 0; t < options.clients; ++t) {
    workers.emplace_back([&, t] {
      ThreadTally& tally = tallies[static_cast<size_t>(t)];
      tally.latencies_us.reserve(1 << 12);
      Random rnd(options.seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(t) * 104729 + 1);
      while (!done.load(std::memory_order_relaxed) && !stop.load(std::memory_order_relaxed)) {
        const auto begin = SteadyClock::now();
        const OpOutcome outcome = op(t, rnd);
        const auto end = SteadyClock::now();
        if (begin < window_start || end > window_end) continue;
        tally.retries += outcome.retries;
        if (outcome.status.ok()) {
          tally.latencies_us.push_back(
              std::chrono::duration_cast<std::chrono::microseconds>(end - begin).count());
        } else {
          ++tally.errors;
          const std::string code = absl::StatusCodeToString(outcome.status.code());
          if (tally.error_codes[code]++ == 0)
            tally.error_examples[code] = outcome.status.ToString();
        }
      }
    });
  }
  // Poll so that `stop` ends the point early.
  auto wait_until = [&stop](SteadyClock::time_point t) {
    for (auto now = SteadyClock::now(); now < t && !stop.load(); now = SteadyClock::now()) {
      std::this_thread::sleep_for(
          std::min<SteadyClock::duration>(t - now, std::chrono::milliseconds(20)));
    }
  };
  wait_until(window_start);
  const bool window_opened = !stop.load();
  if (window_opened && options.on_window) options.on_window(true);
  wait_until(window_end);
  if (window_opened && options.on_window) options.on_window(false);
  done = true;
  for (std::thread& w : workers) w.join();

  LoadResult r;
  r.clients = options.clients;
  r.duration_s = options.duration_s;
  for (ThreadTally& tally : tallies) {
    r.latencies_us.insert(r.latencies_us.end(), tally.latencies_us.begin(),
                          tally.latencies_us.end());
    r.errors += tally.errors;
    r.retries += tally.retries;
    for (const auto& [code, count] : tally.error_codes) {
      r.error_codes[code] += count;
      r.error_examples.emplace(code, tally.error_examples[code]);
    }
  }
  Summarize(r);
  return r;
}

LoadResult MergeResults(const std::vector<LoadResult>& parts) {
  LoadResult r;
  r.clients = parts.front().clients;
  for (const LoadResult& p : parts) {
    r.duration_s += p.duration_s;
    r.errors += p.errors;
    r.retries += p.retries;
    r.latencies_us.insert(r.latencies_us.end(), p.latencies_us.begin(), p.latencies_us.end());
    for (const auto& [code, count] : p.error_codes) r.error_codes[code] += count;
    for (const auto& [code, example] : p.error_examples) r.error_examples.emplace(code, example);
  }
  Summarize(r);
  return r;
}

}  // namespace meridian::bench
