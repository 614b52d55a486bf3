// The results of txn_bench and how they are shown: the points measured, the Table-3 and Table-4
// layouts, the commit-wait / Paxos split, the floor and the target ratios (printed, never
// asserted), and the JSON file. bench/txn_bench.cc states what each figure means.
//
// Thread safety: plain values and functions; use from one thread.
#ifndef MERIDIAN_BENCH_TXN_REPORT_H_
#define MERIDIAN_BENCH_TXN_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bench/txn_load.h"

namespace meridian::bench {

// CPU time per successful call over a point's measured window, in milliseconds: of the
// cluster's processes, and of the bench process (its client threads); -1 when not measured.
struct CpuPerOp {
  double cluster_ms = -1;
  double client_ms = -1;
};

// One measured point: `config` ("1D", "3", ... or "t4"), `op` (rw, write, ro, snap, 2pc),
// `participants` (table 4 only); `cpu` is measured for table 4 only.
struct Point {
  std::string config;
  std::string op;
  int participants = 0;
  LoadResult result;
  CpuPerOp cpu;
};

// The least mean latency one closed-loop client can see when each call costs `cpu` on a
// machine with `cpus` processors: the calls run one after another, and the CPU they use cannot
// exceed cpus x the time they take. -1 when `cpu` was not measured.
double CpuBoundMs(const CpuPerOp& cpu, int cpus);

// One table-3 configuration; `error` is non-empty when its cluster could not run.
struct ConfigRun {
  std::string name;
  int replicas = 0;
  int64_t epsilon_us = 0;
  std::string load_average;
  std::string error;
};

// The machine figures the floor is built from.
struct Floor {
  double fsync_us = 0;  // one synced append
  double rtt_us = 0;    // one loopback round trip
  std::string source;   // where they came from, for the printout
};

// The median p50s of "test=fsync dir=/tmp mode=fdatasync append=1" and "test=tcp size=64"
// (unpinned) lines of a peers/results file; `fsync_us` / `rtt_us` >= 0 override them. A figure
// that is neither given nor found is 0, which `source` says.
Floor FloorInputs(const std::string& path, double fsync_us, double rtt_us);

struct Report {
  std::vector<std::pair<std::string, std::string>> settings;
  // Load averages at start and end; machine idle share before each configuration and table 4.
  std::string load_average_start, load_average_end, t4_load_average;
  int cpus = 0;  // processors the bench may use (UsableCpus), for CpuBoundMs
  Floor floor;
  std::vector<ConfigRun> configs;
  std::vector<Point> table3;
  std::vector<Point> table4;
  int t4_groups = 0;
  std::vector<int> t4_skipped;
  std::string t4_error;
  bool interrupted = false;

  // No failed call, no configuration that could not run, not interrupted.
  bool AllOk() const;
};

// "config 3 rw clients=16: 812 ops/s mean 19.6 p50 18.2 p99 40.1 ms, 0 errors, 3 retries",
// then ", cpu 14.61 cluster + 1.40 client ms/op" when the point's CPU was measured.
std::string FormatPointLine(const Point& p);

// Prints every table and ratio to stdout.
void PrintReport(const Report& report, int staleness_ms, int clients);

// Writes the report as JSON to `path`.
absl::Status WriteJson(const Report& report, const std::string& path);

}  // namespace meridian::bench

#endif  // MERIDIAN_BENCH_TXN_REPORT_H_
