#include "bench/txn_report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "bench/bench_util.h"

namespace meridian::bench {
namespace {

const LoadResult* Find(const std::vector<Point>& points, const std::string& config,
                       const std::string& op, int clients) {
  for (const Point& p : points) {
    if (p.config == config && p.op == op && p.result.clients == clients && p.result.ops > 0) {
      return &p.result;
    }
  }
  return nullptr;
}

const ConfigRun* FindConfig(const Report& report, int replicas, bool zero_epsilon) {
  for (const ConfigRun& c : report.configs) {
    if (c.error.empty() && c.replicas == replicas && (c.epsilon_us == 0) == zero_epsilon) {
      return &c;
    }
  }
  return nullptr;
}

// "12.34" or "-" when there is no point.
std::string Ms(const LoadResult* r, double LoadResult::*field) {
  if (r == nullptr) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", r->*field);
  return buf;
}

std::string Kops(const LoadResult* r) {
  if (r == nullptr) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", r->ops_per_s / 1000.0);
  return buf;
}

double MedianOf(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The value of "name=VALUE" in a whitespace-separated line, or nullopt-like -1.
double FieldOf(const std::string& line, const std::string& name) {
  std::istringstream in(line);
  std::string word;
  while (in >> word) {
    if (word.rfind(name + "=", 0) == 0) return std::strtod(word.c_str() + name.size() + 1, nullptr);
  }
  return -1;
}

bool Has(const std::string& line, const std::string& word) {
  return (" " + line + " ").find(" " + word + " ") != std::string::npos;
}

// The Paxos round of the floor: one fsync alone, or a follower round trip plus its fsync.
double PaxosRoundUs(const Floor& f, int replicas) {
  return replicas == 1 ? f.fsync_us : f.rtt_us + f.fsync_us;
}

double FloorMs(const Floor& f, const ConfigRun& c) {
  return (2.0 * static_cast<double>(c.epsilon_us) + PaxosRoundUs(f, c.replicas) + f.rtt_us) /
         1000.0;
}

// "1.92", or "-" for a figure that was not measured (negative).
std::string MsOrDash(double ms) {
  if (ms < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", ms);
  return buf;
}

std::string PointJson(const Point& p) {
  const LoadResult& r = p.result;
  char buf[512];
  std::snprintf(buf, sizeof(buf),
                "{\"config\": %s, \"op\": %s, \"participants\": %d, \"clients\": %d, "
                "\"duration_s\": %.2f, \"ops\": %" PRId64 ", \"errors\": %" PRId64
                ", \"retries\": %" PRId64
                ", \"ops_per_s\": %.1f, \"mean_ms\": %.3f, \"p50_ms\": %.3f, \"p90_ms\": %.3f, "
                "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"cpu_cluster_ms\": %.3f, "
                "\"cpu_client_ms\": %.3f, \"errors_by_code\": {",
                JsonString(p.config).c_str(), JsonString(p.op).c_str(), p.participants, r.clients,
                r.duration_s, r.ops, r.errors, r.retries, r.ops_per_s, r.mean_ms, r.p50_ms,
                r.p90_ms, r.p99_ms, r.max_ms, p.cpu.cluster_ms, p.cpu.client_ms);
  std::string out = buf;
  bool first = true;
  for (const auto& [code, count] : r.error_codes) {
    out += (first ? "" : ", ") + JsonString(code) + ": " + std::to_string(count);
    first = false;
  }
  out += "}, \"error_examples\": {";
  first = true;
  for (const auto& [code, example] : r.error_examples) {
    out += (first ? "" : ", ") + JsonString(code) + ": " + JsonString(example);
    first = false;
  }
  return out + "}}";
}

void PrintPoints(const std::vector<Point>& points) {
  std::printf("%-6s %-6s %5s %7s %10s %9s %9s %9s %9s %9s %7s %7s\n", "config", "op", "parts",
              "clients", "ops/s", "mean_ms", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors",
              "retries");
  for (const Point& p : points) {
    const LoadResult& r = p.result;
    std::printf("%-6s %-6s %5d %7d %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %7" PRId64 " %7" PRId64
                "\n",
                p.config.c_str(), p.op.c_str(), p.participants, r.clients, r.ops_per_s, r.mean_ms,
                r.p50_ms, r.p90_ms, r.p99_ms, r.max_ms, r.errors, r.retries);
    for (const auto& [code, count] : r.error_codes) {
      std::printf("         %" PRId64 " x %s, e.g. %s\n", count, code.c_str(),
                  r.error_examples.at(code).c_str());
    }
  }
}

}  // namespace

Floor FloorInputs(const std::string& path, double fsync_us, double rtt_us) {
  std::vector<double> fsyncs, rtts;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (Has(line, "test=fsync") && Has(line, "dir=/tmp") && Has(line, "mode=fdatasync") &&
        Has(line, "append=1")) {
      fsyncs.push_back(FieldOf(line, "p50_us"));
    } else if (Has(line, "test=tcp") && Has(line, "size=64") &&
               line.find(" pin=") == std::string::npos) {
      rtts.push_back(FieldOf(line, "p50_us"));
    }
  }
  Floor f;
  std::ostringstream source;
  if (fsync_us >= 0) {
    f.fsync_us = fsync_us;
    source << "fsync " << fsync_us << " us (--fsync_us)";
  } else {
    f.fsync_us = MedianOf(fsyncs);
    source << "fsync " << f.fsync_us << " us (median p50 of " << fsyncs.size()
           << " fdatasync-append /tmp runs in " << path << ")";
  }
  if (rtt_us >= 0) {
    f.rtt_us = rtt_us;
    source << ", loopback RTT " << rtt_us << " us (--rtt_us)";
  } else {
    f.rtt_us = MedianOf(rtts);
    source << ", loopback RTT " << f.rtt_us << " us (median p50 of " << rtts.size()
           << " 64-byte TCP runs)";
  }
  f.source = source.str();
  return f;
}

bool Report::AllOk() const {
  if (interrupted || !t4_error.empty()) return false;
  for (const ConfigRun& c : configs) {
    if (!c.error.empty()) return false;
  }
  for (const std::vector<Point>* points : {&table3, &table4}) {
    for (const Point& p : *points) {
      if (p.result.errors > 0) return false;
    }
  }
  return true;
}

double CpuBoundMs(const CpuPerOp& cpu, int cpus) {
  if (cpu.cluster_ms < 0 || cpu.client_ms < 0 || cpus <= 0) return -1;
  return (cpu.cluster_ms + cpu.client_ms) / cpus;
}

std::string FormatPointLine(const Point& p) {
  const LoadResult& r = p.result;
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "config %s %s%s clients=%d: %.0f ops/s, mean %.2f p50 %.2f p99 %.2f ms, %" PRId64
                " errors, %" PRId64 " retries",
                p.config.c_str(), p.op.c_str(),
                p.participants > 0 ? (" parts=" + std::to_string(p.participants)).c_str() : "",
                r.clients, r.ops_per_s, r.mean_ms, r.p50_ms, r.p99_ms, r.errors, r.retries);
  std::string line = buf;
  if (p.cpu.cluster_ms >= 0 && p.cpu.client_ms >= 0) {
    line += ", cpu " + MsOrDash(p.cpu.cluster_ms) + " cluster + " + MsOrDash(p.cpu.client_ms) +
            " client ms/op";
  }
  return line;
}

void PrintReport(const Report& report, int staleness_ms, int clients) {
  std::printf("\n=== txn_bench (load average: start %s, end %s; machine is shared)\n",
              report.load_average_start.c_str(), report.load_average_end.c_str());
  for (const ConfigRun& c : report.configs) {
    std::printf("config %-3s replicas=%d epsilon=%" PRId64 "us [%s]%s%s\n", c.name.c_str(),
                c.replicas, c.epsilon_us, c.load_average.c_str(),
                c.error.empty() ? "" : " FAILED: ", c.error.c_str());
  }
  if (!report.table3.empty()) {
    std::printf("\n--- all table 3 points\n");
    PrintPoints(report.table3);
    std::printf(
        "\n--- Table 3 shape. Latency: 1 client, mean (p50/p99) ms. Throughput: %d clients, "
        "Kops/s.\n",
        clients);
    std::printf(
        "    rw = read+write one key; write = blind one-key Commit; ro = strong read-only;"
        " snap = %d ms-stale snapshot read\n",
        staleness_ms);
    std::printf("%-6s %-22s %-22s %-22s %-22s | %7s %7s %7s %7s\n", "config", "rw ms", "write ms",
                "ro ms", "snap ms", "rw", "write", "ro", "snap");
    for (const ConfigRun& c : report.configs) {
      if (!c.error.empty()) continue;
      std::printf("%-6s", c.name.c_str());
      for (const char* op : {"rw", "write", "ro", "snap"}) {
        const LoadResult* r = Find(report.table3, c.name, op, 1);
        const std::string cell = Ms(r, &LoadResult::mean_ms) + " (" + Ms(r, &LoadResult::p50_ms) +
                                 "/" + Ms(r, &LoadResult::p99_ms) + ")";
        std::printf(" %-22s", cell.c_str());
      }
      std::printf(" |");
      for (const char* op : {"rw", "write", "ro", "snap"}) {
        std::printf(" %7s", Kops(Find(report.table3, c.name, op, clients)).c_str());
      }
      std::printf("\n");
    }

    std::printf("\n--- Commit wait and Paxos (1 client, means)\n");
    std::printf(
        "    exposed commit wait = latency(N replicas, epsilon) - latency(ND, epsilon 0);\n"
        "    Paxos = write(ND) - ro(ND): both are one RPC to the leader, the write adds "
        "the synced replicated round and apply\n");
    for (int replicas = 1; replicas <= 5; ++replicas) {
      const ConfigRun* d = FindConfig(report, replicas, true);
      const ConfigRun* e = FindConfig(report, replicas, false);
      if (d != nullptr) {
        const LoadResult* w = Find(report.table3, d->name, "write", 1);
        const LoadResult* ro = Find(report.table3, d->name, "ro", 1);
        if (w != nullptr && ro != nullptr) {
          std::printf("replicas=%d: Paxos = %.2f - %.2f = %.2f ms\n", replicas, w->mean_ms,
                      ro->mean_ms, w->mean_ms - ro->mean_ms);
        }
      }
      if (d == nullptr || e == nullptr) continue;
      for (const char* op : {"rw", "write"}) {
        const LoadResult* with = Find(report.table3, e->name, op, 1);
        const LoadResult* without = Find(report.table3, d->name, op, 1);
        if (with == nullptr || without == nullptr) continue;
        std::printf(
            "replicas=%d %-5s: commit wait exposed = %.2f - %.2f = %.2f ms (2*epsilon = "
            "%.2f ms by construction)\n",
            replicas, op, with->mean_ms, without->mean_ms, with->mean_ms - without->mean_ms,
            2.0 * static_cast<double>(e->epsilon_us) / 1000.0);
      }
    }

    std::printf(
        "\n--- Floor of a single-group read-write transaction: 2*epsilon + Paxos round "
        "(fsync; RTT + fsync when replicated) + one client hop (RTT)\n");
    std::printf("    inputs: %s\n", report.floor.source.c_str());
    std::printf("%-6s %9s %9s %12s %9s %12s\n", "config", "floor_ms", "rw_p50", "rw_p50/floor",
                "write_p50", "write/floor");
    for (const ConfigRun& c : report.configs) {
      if (!c.error.empty()) continue;
      const double floor = FloorMs(report.floor, c);
      const LoadResult* rw = Find(report.table3, c.name, "rw", 1);
      const LoadResult* w = Find(report.table3, c.name, "write", 1);
      std::printf("%-6s %9.3f %9s %12.2f %9s %12.2f\n", c.name.c_str(), floor,
                  Ms(rw, &LoadResult::p50_ms).c_str(),
                  rw == nullptr || floor <= 0 ? 0.0 : rw->p50_ms / floor,
                  Ms(w, &LoadResult::p50_ms).c_str(),
                  w == nullptr || floor <= 0 ? 0.0 : w->p50_ms / floor);
    }
    std::printf("    target (issue 5, not asserted): rw p50 <= 1.3 x floor\n");
  }

  if (!report.table4.empty() || !report.t4_error.empty()) {
    std::printf(
        "\n--- Table 4 shape: 2PC, one key written in each of N groups, 1 client "
        "(%s, %d groups)\n",
        report.t4_load_average.c_str(), report.t4_groups);
    if (!report.t4_error.empty()) std::printf("FAILED: %s\n", report.t4_error.c_str());
    std::printf("%12s %9s %9s %9s %9s %7s %12s %11s %10s\n", "participants", "mean_ms", "p50_ms",
                "p99_ms", "ops/s", "errors", "cpu_cluster", "cpu_client", "cpu_bound");
    for (const Point& p : report.table4) {
      std::printf("%12d %9.2f %9.2f %9.2f %9.1f %7" PRId64 " %12s %11s %10s\n", p.participants,
                  p.result.mean_ms, p.result.p50_ms, p.result.p99_ms, p.result.ops_per_s,
                  p.result.errors, MsOrDash(p.cpu.cluster_ms).c_str(),
                  MsOrDash(p.cpu.client_ms).c_str(),
                  MsOrDash(CpuBoundMs(p.cpu, report.cpus)).c_str());
    }
    std::printf(
        "    cpu_cluster / cpu_client: CPU ms per transaction in the window (cluster processes; "
        "this bench);\n    cpu_bound: their sum / %d processors, the least mean time per "
        "transaction one client can see here\n",
        report.cpus);
    for (int skipped : report.t4_skipped) {
      std::printf("%12d skipped: fewer groups\n", skipped);
    }
    const Point* one = nullptr;
    const Point* most = nullptr;
    for (const Point& p : report.table4) {
      if (p.result.ops == 0) continue;
      if (p.participants == 1) one = &p;
      if (most == nullptr || p.participants > most->participants) most = &p;
    }
    if (one != nullptr && most != nullptr && most != one) {
      std::printf(
          "2PC(%d)/2PC(1): mean %.2f, p50 %.2f, p99 %.2f   (target, not asserted: "
          "50 participants <= 2.5 x one)\n",
          most->participants, most->result.mean_ms / one->result.mean_ms,
          most->result.p50_ms / one->result.p50_ms, most->result.p99_ms / one->result.p99_ms);
      const double bound = CpuBoundMs(most->cpu, report.cpus);
      if (bound > 0) {
        std::printf(
            "    2.5 x one's mean is %.2f ms; 2PC(%d)'s cpu_bound is %.2f ms (%.2f x one's "
            "mean)\n",
            2.5 * one->result.mean_ms, most->participants, bound, bound / one->result.mean_ms);
      }
    }
    for (const Point& p : report.table4) {
      for (const auto& [code, count] : p.result.error_codes) {
        std::printf("  parts=%d: %" PRId64 " x %s, e.g. %s\n", p.participants, count, code.c_str(),
                    p.result.error_examples.at(code).c_str());
      }
    }
  }
  if (report.interrupted) std::printf("\nINTERRUPTED: the figures above are partial\n");
}

absl::Status WriteJson(const Report& report, const std::string& path) {
  std::ofstream out(path);
  if (!out) return absl::InternalError("cannot write " + path);
  out << "{\n  \"bench\": \"txn_bench\",\n  \"load_average_start\": "
      << JsonString(report.load_average_start)
      << ",\n  \"load_average_end\": " << JsonString(report.load_average_end)
      << ",\n  \"interrupted\": " << (report.interrupted ? "true" : "false")
      << ",\n  \"cpus\": " << report.cpus << ",\n  \"settings\": {";
  for (size_t i = 0; i < report.settings.size(); ++i) {
    out << (i == 0 ? "" : ", ") << JsonString(report.settings[i].first) << ": "
        << JsonString(report.settings[i].second);
  }
  out << "},\n  \"floor_inputs\": {\"fsync_us\": " << report.floor.fsync_us
      << ", \"rtt_us\": " << report.floor.rtt_us
      << ", \"source\": " << JsonString(report.floor.source) << "},\n  \"configs\": [\n";
  for (size_t i = 0; i < report.configs.size(); ++i) {
    const ConfigRun& c = report.configs[i];
    const LoadResult* rw = Find(report.table3, c.name, "rw", 1);
    const double floor = FloorMs(report.floor, c);
    out << "    {\"name\": " << JsonString(c.name) << ", \"replicas\": " << c.replicas
        << ", \"epsilon_us\": " << c.epsilon_us
        << ", \"load_average\": " << JsonString(c.load_average)
        << ", \"error\": " << JsonString(c.error) << ", \"floor_ms\": " << floor
        << ", \"rw_p50_over_floor\": " << (rw == nullptr || floor <= 0 ? 0.0 : rw->p50_ms / floor)
        << "}" << (i + 1 < report.configs.size() ? "," : "") << "\n";
  }
  out << "  ],\n  \"table3\": [\n";
  for (size_t i = 0; i < report.table3.size(); ++i) {
    out << "    " << PointJson(report.table3[i]) << (i + 1 < report.table3.size() ? "," : "")
        << "\n";
  }
  out << "  ],\n  \"table4_groups\": " << report.t4_groups
      << ",\n  \"table4_error\": " << JsonString(report.t4_error)
      << ",\n  \"table4_load_average\": " << JsonString(report.t4_load_average)
      << ",\n  \"table4\": [\n";
  for (size_t i = 0; i < report.table4.size(); ++i) {
    out << "    " << PointJson(report.table4[i]) << (i + 1 < report.table4.size() ? "," : "")
        << "\n";
  }
  out << "  ]\n}\n";
  if (!out) return absl::InternalError("error writing " + path);
  return absl::OkStatus();
}

}  // namespace meridian::bench
