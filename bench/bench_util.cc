#include "bench/bench_util.h"

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

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

void ParseFlagTable(const char* program, int argc, char** argv,
                    const std::vector<FlagTarget>& flags, const char* usage) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0) {
      std::printf("%s", usage);
      std::exit(0);
    }
    bool known = false;
    for (const FlagTarget& flag : flags) {
      const char* v = FlagValue(argv[i], flag.name);
      if (v == nullptr) continue;
      known = true;
      char* end = nullptr;
      if (std::string* const* text = std::get_if<std::string*>(&flag.target)) {
        **text = v;
      } else if (int* const* n = std::get_if<int*>(&flag.target)) {
        const long value = std::strtol(v, &end, 10);
        **n = static_cast<int>(value);
      } else {
        **std::get_if<uint64_t*>(&flag.target) = std::strtoull(v, &end, 10);
      }
      if (end != nullptr && (*v == '\0' || *end != '\0')) {
        Die(program, std::string("not a number: ") + argv[i]);
      }
    }
    if (!known) Die(program, std::string("unknown flag ") + argv[i] + " (see --help)");
  }
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

std::optional<int64_t> ParseProcStatCpuTicks(std::string_view stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string_view::npos) return std::nullopt;
  std::istringstream fields{std::string(stat.substr(close + 1))};
  // After the command: field 3 (state) up to field 15 (stime).
  std::string field;
  int64_t utime = -1;
  int64_t stime = -1;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n != 14 && n != 15) continue;
    char* end = nullptr;
    const long long v = std::strtoll(field.c_str(), &end, 10);
    if (end == field.c_str() || *end != '\0' || v < 0) return std::nullopt;
    (n == 14 ? utime : stime) = v;
  }
  if (utime < 0 || stime < 0) return std::nullopt;
  return utime + stime;
}

std::optional<int64_t> ProcessCpuMicros(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!in || !std::getline(in, stat)) return std::nullopt;
  const std::optional<int64_t> ticks = ParseProcStatCpuTicks(stat);
  const long hz = sysconf(_SC_CLK_TCK);
  if (!ticks || hz <= 0) return std::nullopt;
  return *ticks * 1000000 / hz;
}

int64_t SelfCpuMicros() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto micros = [](const timeval& t) { return int64_t{t.tv_sec} * 1000000 + t.tv_usec; };
  return micros(usage.ru_utime) + micros(usage.ru_stime);
}

int UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<int>(online) : 1;
}

}  // namespace meridian::bench
