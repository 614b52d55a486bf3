// The TPC-C driver (tpcc.h): terminals bound to a home warehouse run the five transactions at the
// spec's mix (clause 5.2.3: New-Order 45%, Payment 43%, Order-Status, Delivery and Stock-Level
// 4% each), either closed loop (the default, as `cockroach workload tpcc --wait=false`) or with
// the spec's keying and think times (--wait, clause 5.2.5), and report tpmC, per-type throughput
// and latency, and retries.
//
// tpmC counts New-Orders completed per minute, the 1% that roll back on purpose included (clause
// 5.4.2 counts them as completed). Latency is measured from the start of a transaction's first
// attempt to its end (retries included), keying and think times excluded. Delivery runs inline,
// not deferred to a queue (clause 2.7.2 allows either; its response time is then the whole
// delivery's).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tools/command.h"
#include "tools/latency.h"
#include "tools/tpcc.h"

namespace meridian::tools::tpcc {
namespace {

constexpr int64_t kErrorsShown = 5;
// The spec's maximum tpmC per warehouse with keying and think times (clause 4.2.2 and 5.2.5).
constexpr double kMaxTpmCPerWarehouse = 12.86;

// Clause 5.2.5.7: keying time and mean think time per type, in seconds.
constexpr double kKeyingSeconds[kTxnTypes] = {18, 3, 2, 2, 2};
constexpr double kThinkSeconds[kTxnTypes] = {12, 12, 10, 5, 5};

struct TypeStats {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> rolled_back{0};
  std::atomic<int64_t> retried{0};  // transactions that needed more than one attempt
  std::atomic<int64_t> skipped{0};  // Delivery: a district had no new order
  absl::Mutex mu;
  std::vector<int64_t> latencies_us;  // guarded by mu
};

struct RunStats {
  TypeStats types[kTxnTypes];
};

TxnType PickType(TpccRandom& r) {
  const int64_t x = r.Uniform(1, 100);
  if (x <= 45) return TxnType::kNewOrder;
  if (x <= 88) return TxnType::kPayment;
  if (x <= 92) return TxnType::kOrderStatus;
  if (x <= 96) return TxnType::kDelivery;
  return TxnType::kStockLevel;
}

}  // namespace

void RunTerminal(Backend& backend, const Config& config, int terminal, int64_t run, Random random,
                 absl::Notification& stop, const TxnDone& done) {
  absl::StatusOr<std::unique_ptr<Connection>> connection = backend.Connect();
  if (!connection.ok()) {
    std::fprintf(stderr, "terminal %d: %s\n", terminal, connection.status().ToString().c_str());
    return;
  }
  Connection& c = **connection;
  TpccRandom r(std::move(random), config, /*c_last=*/223, /*c_id=*/259, /*ol_i_id=*/7911);
  const int64_t w = terminal % config.warehouses + 1;
  const int64_t stock_district = (terminal / config.warehouses) % kDistrictsPerWarehouse + 1;
  HistoryId history{run, terminal, 0};
  while (!stop.HasBeenNotified()) {
    const TxnType type = PickType(r);
    const int t = static_cast<int>(type);
    if (config.wait && stop.WaitForNotificationWithTimeout(absl::Seconds(kKeyingSeconds[t]))) {
      break;
    }
    TxnOutcome out;
    const absl::Time start = absl::Now();
    absl::Status s;
    switch (type) {
      case TxnType::kNewOrder:
        s = RunNewOrder(c, r, config, w, &out);
        break;
      case TxnType::kPayment:
        ++history.seq;
        s = RunPayment(c, r, config, w, history, &out);
        break;
      case TxnType::kOrderStatus:
        s = RunOrderStatus(c, r, config, w, &out);
        break;
      case TxnType::kDelivery:
        s = RunDelivery(c, r, config, w, &out);
        break;
      case TxnType::kStockLevel:
        s = RunStockLevel(c, r, config, w, stock_district, &out);
        break;
    }
    done(type, s, out, absl::Now() - start);
    if (config.wait) {
      // Negative exponential think time with the type's mean, at most ten times it.
      const double u = std::max(1e-9, r.raw().NextDouble());
      const double think = std::min(-std::log(u) * kThinkSeconds[t], 10 * kThinkSeconds[t]);
      if (stop.WaitForNotificationWithTimeout(absl::Seconds(think))) break;
    }
  }
}

namespace {

// What the command's report counts of one finished transaction.
void Count(RunStats& stats, int terminal, TxnType type, const absl::Status& s,
           const TxnOutcome& out, absl::Duration latency) {
  TypeStats& ts = stats.types[static_cast<int>(type)];
  if (out.attempts > 1) ++ts.retried;
  if (!s.ok()) {
    if (ts.failed++ < kErrorsShown) {
      std::fprintf(stderr, "terminal %d: %s failed: %s\n", terminal, TxnName(type),
                   s.ToString().c_str());
    }
    return;
  }
  ++ts.ok;
  if (out.rolled_back) ++ts.rolled_back;
  if (out.skipped_delivery) ++ts.skipped;
  absl::MutexLock lock(&ts.mu);
  ts.latencies_us.push_back(absl::ToInt64Microseconds(latency));
}

struct TypeSummary {
  int64_t ok, failed, rolled_back, retried, skipped;
  double tps, p50, p90, p99;
};

TypeSummary Summarize(TypeStats& ts, double seconds) {
  std::vector<int64_t> latencies;
  {
    absl::MutexLock lock(&ts.mu);
    latencies = ts.latencies_us;
  }
  TypeSummary s{};
  s.ok = ts.ok.load();
  s.failed = ts.failed.load();
  s.rolled_back = ts.rolled_back.load();
  s.retried = ts.retried.load();
  s.skipped = ts.skipped.load();
  s.tps = seconds > 0 ? static_cast<double>(s.ok) / seconds : 0;
  s.p50 = PercentileMs(latencies, 50);
  s.p90 = PercentileMs(latencies, 90);
  s.p99 = PercentileMs(latencies, 99);
  return s;
}

std::string Mode(const Config& config) {
  return config.wait ? "with keying and think times (--wait)"
                     : "closed loop, no keying or think times (--wait=false)";
}

absl::Status WriteJson(const Config& config, const std::string& target, double seconds, double tpmc,
                       const TypeSummary* types) {
  std::vector<std::string> parts;
  for (int t = 0; t < kTxnTypes; ++t) {
    const TypeSummary& s = types[t];
    parts.push_back(absl::StrFormat(
        "\"%s\": {\"ok\": %d, \"failed\": %d, \"rolled_back\": %d, \"retried\": %d, "
        "\"tps\": %.2f, \"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f}}",
        TxnName(static_cast<TxnType>(t)), s.ok, s.failed, s.rolled_back, s.retried, s.tps, s.p50,
        s.p90, s.p99));
  }
  std::ofstream out(config.json_path);
  out << absl::StrFormat(
      "{\"workload\": \"tpcc\", \"target\": \"%s\", \"warehouses\": %d, \"terminals\": %d, "
      "\"wait\": %s, \"duration_s\": %.3f, \"tpmC\": %.1f, \"efficiency\": %.4f, "
      "\"transactions\": {%s}}\n",
      target, config.warehouses, config.clients, config.wait ? "true" : "false", seconds, tpmc,
      tpmc / (kMaxTpmCPerWarehouse * config.warehouses), absl::StrJoin(parts, ", "));
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("could not write ", config.json_path));
  return absl::OkStatus();
}

absl::Status Run(Backend& backend, const Config& config) {
  std::printf("tpcc: %d terminals over %d warehouses for %s on %s; %s\n", config.clients,
              config.warehouses, absl::FormatDuration(config.duration).c_str(),
              backend.Describe().c_str(), Mode(config).c_str());
  std::fflush(stdout);
  RunStats stats;
  absl::Notification stop;
  Random seeds(config.seed);
  const int64_t run = absl::ToUnixMicros(absl::Now());
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int t = 0; t < config.clients; ++t) {
    threads.emplace_back([&, t, random = seeds.Fork()] {
      RunTerminal(backend, config, t, run, random, stop,
                  [&stats, t](TxnType type, const absl::Status& s, const TxnOutcome& out,
                              absl::Duration latency) { Count(stats, t, type, s, out, latency); });
    });
  }
  const absl::Time end = start + config.duration;
  int64_t last_new_orders = 0;
  for (int second = 1; absl::Now() < end; ++second) {
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    const int64_t new_orders = stats.types[0].ok.load();
    std::vector<std::string> counts;
    int64_t failed = 0;
    for (int t = 0; t < kTxnTypes; ++t) {
      counts.push_back(
          absl::StrCat(TxnName(static_cast<TxnType>(t)), "=", stats.types[t].ok.load()));
      failed += stats.types[t].failed.load();
    }
    std::printf("t=%ds new_orders/s=%lld tpmC=%.0f %s failed=%lld\n", second,
                static_cast<long long>(new_orders - last_new_orders),
                static_cast<double>(new_orders) * 60 / elapsed, absl::StrJoin(counts, " ").c_str(),
                static_cast<long long>(failed));
    std::fflush(stdout);
    last_new_orders = new_orders;
  }
  stop.Notify();
  for (std::thread& t : threads) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  TypeSummary types[kTxnTypes];
  for (int t = 0; t < kTxnTypes; ++t) types[t] = Summarize(stats.types[t], seconds);
  const double tpmc = static_cast<double>(types[0].ok) * 60 / seconds;
  std::printf("summary: %s, %d terminals, %d warehouses, %.1f s\n", Mode(config).c_str(),
              config.clients, config.warehouses, seconds);
  std::printf("  %-13s %9s %9s %9s %9s %9s %8s %8s %8s\n", "transaction", "ok", "per s", "p50 ms",
              "p90 ms", "p99 ms", "retried", "failed", "rolled");
  for (int t = 0; t < kTxnTypes; ++t) {
    const TypeSummary& s = types[t];
    std::printf("  %-13s %9lld %9.1f %9.1f %9.1f %9.1f %8lld %8lld %8lld\n",
                TxnName(static_cast<TxnType>(t)), static_cast<long long>(s.ok), s.tps, s.p50, s.p90,
                s.p99, static_cast<long long>(s.retried), static_cast<long long>(s.failed),
                static_cast<long long>(s.rolled_back));
  }
  std::printf("tpmC=%.1f (New-Orders per minute, rollbacks included)", tpmc);
  if (config.wait) {
    std::printf(" efficiency=%.1f%% of %.2f per warehouse",
                100 * tpmc / (kMaxTpmCPerWarehouse * config.warehouses), kMaxTpmCPerWarehouse);
  }
  if (types[3].skipped > 0) {
    std::printf(" (deliveries that skipped an empty district: %lld)",
                static_cast<long long>(types[3].skipped));
  }
  std::printf("\n");
  std::fflush(stdout);
  if (!config.json_path.empty()) {
    return WriteJson(config, backend.Describe(), seconds, tpmc, types);
  }
  return absl::OkStatus();
}

// --check: in a connection of its own. Returns false on a violation.
absl::StatusOr<bool> Check(Backend& backend, const Config& config, const char* when) {
  std::printf("check (%s):\n", when);
  std::fflush(stdout);
  absl::StatusOr<std::unique_ptr<Connection>> c = backend.Connect();
  if (!c.ok()) return c.status();
  return CheckConsistency(**c, config);
}

}  // namespace

int RunTpcc(Client* client, const Config& config) {
  const bool postgres = !config.target.empty();
  absl::StatusOr<std::unique_ptr<Backend>> backend =
      postgres ? MakePostgresBackend(config) : MakeMeridianBackend(*client, config);
  const auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "meridian workload tpcc: %s\n", s.ToString().c_str());
    return kExitError;
  };
  if (!backend.ok()) return fail(backend.status());
  bool consistent = true;
  if (config.load) {
    if (absl::Status s = (*backend)->CreateSchema(config); !s.ok()) return fail(s);
    if (absl::Status s = (*backend)->PlaceWarehouses(config); !s.ok()) return fail(s);
    if (absl::Status s = LoadDatabase(**backend, config); !s.ok()) return fail(s);
    if (config.check) {
      absl::StatusOr<bool> ok = Check(**backend, config, "after the load");
      if (!ok.ok()) return fail(ok.status());
      consistent = *ok;
    }
  }
  if (config.duration > absl::ZeroDuration()) {
    if (absl::Status s = Run(**backend, config); !s.ok()) return fail(s);
  }
  if (config.check && (!config.load || config.duration > absl::ZeroDuration())) {
    absl::StatusOr<bool> ok = Check(**backend, config, "after the run");
    if (!ok.ok()) return fail(ok.status());
    consistent = consistent && *ok;
  }
  return consistent ? kExitOk : kExitError;
}

}  // namespace meridian::tools::tpcc
