// Latency percentiles for the workloads' reports (workload_tpcb.cc, tpcc_run.cc).
#ifndef MERIDIAN_TOOLS_LATENCY_H_
#define MERIDIAN_TOOLS_LATENCY_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace meridian::tools {

// The p-th percentile (0..100) of `micros` in milliseconds (the sample at rank p% of them,
// nearest-rank); 0 when empty. Sorts `micros`.
inline double PercentileMs(std::vector<int64_t>& micros, double p) {
  if (micros.empty()) return 0;
  std::sort(micros.begin(), micros.end());
  const size_t i = std::min(micros.size() - 1, static_cast<size_t>(p / 100 * micros.size()));
  return static_cast<double>(micros[i]) / 1000;
}

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_LATENCY_H_
