// Small helpers shared by the plain-main benchmarks (kv_bench, paxos_bench, txn_bench), so that
// their flags, fatal errors and percentiles behave the same way. Thread-safe: pure functions.
#ifndef MERIDIAN_BENCH_BENCH_UTIL_H_
#define MERIDIAN_BENCH_BENCH_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace meridian::bench {

// Prints "program: what" to stderr and exits with status 2 (bad usage or an unusable setup).
[[noreturn]] void Die(const char* program, const std::string& what);

// When `arg` is "--name=value" for `flag` == "--name", the value; otherwise nullptr.
const char* FlagValue(const char* arg, const std::string& flag);

// Nearest-rank percentile (q in [0, 1]) of ascending `sorted` samples, converted to
// milliseconds given how many sample units make one millisecond; 0 when there are no samples.
double PercentileMs(const std::vector<int64_t>& sorted, double q, int64_t units_per_ms);

// `s` as a quoted JSON string (quotes and backslashes escaped, other non-printable bytes as
// \u00XX).
std::string JsonString(const std::string& s);

}  // namespace meridian::bench

#endif  // MERIDIAN_BENCH_BENCH_UTIL_H_
