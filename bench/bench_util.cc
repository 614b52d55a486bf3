#include "bench/bench_util.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace meridian::bench {

void Die(const char* program, const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", program, what.c_str());
  std::exit(2);
}

const char* FlagValue(const char* arg, const std::string& flag) {
  if (std::strncmp(arg, flag.c_str(), flag.size()) != 0 || arg[flag.size()] != '=') {
    return nullptr;
  }
  return arg + flag.size() + 1;
}

double PercentileMs(const std::vector<int64_t>& sorted, double q, int64_t units_per_ms) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(q * static_cast<double>(sorted.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  if (i >= sorted.size()) i = sorted.size() - 1;
  return static_cast<double>(sorted[i]) / static_cast<double>(units_per_ms);
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace meridian::bench
