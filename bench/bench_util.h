// Small helpers shared by the plain-main benchmarks (kv_bench, paxos_bench, txn_bench), so that
// their flags, fatal errors and percentiles behave the same way. Thread-safe: pure functions.
#ifndef MERIDIAN_BENCH_BENCH_UTIL_H_
#define MERIDIAN_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace meridian::bench {

// Prints "program: what" to stderr and exits with status 2 (bad usage or an unusable setup).
[[noreturn]] void Die(const char* program, const std::string& what);

// When `arg` is "--name=value" for `flag` == "--name", the value; otherwise nullptr.
const char* FlagValue(const char* arg, const std::string& flag);

// One --name=value flag and where its value goes (ParseFlagTable).
struct FlagTarget {
  const char* name;  // "--clients"
  std::variant<int*, uint64_t*, std::string*> target;
};

// Parses every argument as one of `flags` (--name=value); --help prints `usage` and exits 0; an
// unknown flag or a malformed number is fatal (Die). Range checks are the caller's.
void ParseFlagTable(const char* program, int argc, char** argv,
                    const std::vector<FlagTarget>& flags, const char* usage);

// Nearest-rank percentile (q in [0, 1]) of ascending `sorted` samples, converted to
// milliseconds given how many sample units make one millisecond; 0 when there are no samples.
double PercentileMs(const std::vector<int64_t>& sorted, double q, int64_t units_per_ms);

// `s` as a quoted JSON string (quotes and backslashes escaped, other non-printable bytes as
// \u00XX).
std::string JsonString(const std::string& s);

// ---- CPU time (Linux), to relate a benchmark's latency to the CPU its operations cost ----

// User + system CPU clock ticks from the text of a /proc/<pid>/stat file (fields 14 and 15).
// The command name in field 2 may hold spaces and ')', so fields are counted after the last ')'.
// nullopt when the text does not have that shape.
std::optional<int64_t> ParseProcStatCpuTicks(std::string_view stat);

// CPU time (user + system, all threads) process `pid` has used, in microseconds, from
// /proc/<pid>/stat: clock-tick resolution (10 ms at the usual 100 Hz), so measure over seconds.
// nullopt when the process is gone or the file cannot be read.
std::optional<int64_t> ProcessCpuMicros(int pid);

// CPU time (user + system, all threads) of this process, in microseconds (getrusage).
int64_t SelfCpuMicros();

// Processors this process may run on (at least 1).
int UsableCpus();

}  // namespace meridian::bench

#endif  // MERIDIAN_BENCH_BENCH_UTIL_H_
