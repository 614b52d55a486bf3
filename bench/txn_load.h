// Closed-loop load for txn_bench: N threads each call one operation, wait for its answer and call
// the next at once (no think time), for a warm-up and then a measured window; the result is the
// throughput and latency distribution of the calls that started and ended inside the window, with
// failures counted by status code.
//
// Bounded: the load stops when the window ends or `stop` (e.g. set by SIGINT) becomes true; the
// point then ends when the last in-flight call returns, so each operation must carry its own
// deadline (the SDK's).
//
// Thread safety: RunClosedLoop calls `op` from `clients` threads at once (op must be
// thread-safe across different thread indexes); each thread gets its own seeded Random.
// Results are plain values.
#ifndef MERIDIAN_BENCH_TXN_LOAD_H_
#define MERIDIAN_BENCH_TXN_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/random.h"

namespace meridian::bench {

// One call's outcome: its status, and how many extra attempts it needed (aborted attempts that
// RunTransaction retried internally; 0 for calls that cannot retry).
struct OpOutcome {
  absl::Status status;
  int retries = 0;
};

// `thread` in [0, clients); `rnd` is that thread's generator.
using Op = std::function<OpOutcome(int thread, Random& rnd)>;

struct LoadOptions {
  int clients = 1;
  double warmup_s = 0.5;
  double duration_s = 3;
  uint64_t seed = 1;
  // Called on the thread running RunClosedLoop when the measured window opens (true) and closes
  // (false), e.g. to sample CPU time over the window; not called for a window `stop` cut short
  // before it opened. May be empty.
  std::function<void(bool open)> on_window;
};

struct LoadResult {
  int clients = 0;
  double duration_s = 0;
  int64_t ops = 0;      // successful calls inside the window
  int64_t errors = 0;   // failed calls inside the window
  int64_t retries = 0;  // aborted attempts retried inside successful or failed calls
  double ops_per_s = 0;
  double mean_ms = 0, p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
  std::map<std::string, int64_t> error_codes;         // code name -> count
  std::map<std::string, std::string> error_examples;  // code name -> first status seen
  std::vector<int64_t> latencies_us;                  // of the successful calls, ascending
};

// Runs `op` closed-loop as described above. Never fails: errors are counted in the result.
LoadResult RunClosedLoop(const LoadOptions& options, const Op& op, const std::atomic<bool>& stop);

// One result for several windows of the same load (e.g. slices interleaved with another
// cluster's): durations, counts and latency samples are pooled and the statistics recomputed.
// `parts` must be non-empty and have the same number of clients.
LoadResult MergeResults(const std::vector<LoadResult>& parts);

}  // namespace meridian::bench

#endif  // MERIDIAN_BENCH_TXN_LOAD_H_
