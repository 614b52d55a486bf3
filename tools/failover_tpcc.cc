#include "tools/failover_tpcc.h"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "tools/tpcc.h"

namespace meridian::tools {
namespace {

// The demo's population: small enough to load in seconds on a 2-core machine.
constexpr int kItems = 10'000;
constexpr int kCustomers = 300;

class TpccWorkload final : public FailoverWorkload {
 public:
  TpccWorkload(Client* client, const TpccWorkloadOptions& options)
      : client_(client), options_(options) {
    config_.warehouses = options.warehouses;
    config_.items = kItems;
    config_.customers = kCustomers;
    config_.seed = options.seed;
    config_.load = true;
  }

  std::string Describe() const override {
    return absl::StrCat("tpcc: ", threads_, " terminals over ", config_.warehouses,
                        " warehouse(s) (", kItems, " items, ", kCustomers,
                        " customers per district), closed loop; an operation is a committed "
                        "transaction");
  }

  absl::Status Prepare() override {
    absl::StatusOr<std::unique_ptr<tpcc::Backend>> backend =
        tpcc::MakeMeridianBackend(*client_, config_);
    if (!backend.ok()) return backend.status();
    backend_ = *std::move(backend);
    if (absl::Status s = backend_->CreateSchema(config_); !s.ok()) return s;
    if (absl::Status s = backend_->PlaceWarehouses(config_); !s.ok()) return s;
    return tpcc::LoadDatabase(*backend_, config_);
  }

  absl::Status Start(int threads, WorkloadMeter* meter) override {
    threads_ = threads;
    config_.clients = threads;
    meter_ = meter;
    Random seeds(config_.seed);
    const int64_t run = absl::ToUnixMicros(absl::Now());
    for (int t = 0; t < threads; ++t) {
      terminals_.emplace_back([this, t, run, random = seeds.Fork()] {
        tpcc::RunTerminal(
            *backend_, config_, t, run, random, stop_,
            [this, t](tpcc::TxnType type, const absl::Status& s, const tpcc::TxnOutcome& out,
                      absl::Duration) { Done(t, type, s, out); });
      });
    }
    return absl::OkStatus();
  }

  void Stop() override {
    if (!stop_.HasBeenNotified()) stop_.Notify();
    for (std::thread& t : terminals_) t.join();
    terminals_.clear();
  }

  absl::StatusOr<VerifyReport> Verify() override {
    VerifyReport report;
    absl::StatusOr<std::unique_ptr<tpcc::Connection>> c = backend_->Connect();
    if (!c.ok()) return c.status();
    std::vector<std::string> violations;
    absl::StatusOr<bool> consistent = tpcc::CheckConsistency(**c, config_, &violations);
    if (!consistent.ok()) return consistent.status();
    report.problems = violations;
    std::map<std::pair<int64_t, int64_t>, std::set<int64_t>> orders;
    {
      absl::MutexLock lock(&mu_);
      orders = committed_orders_;
    }
    if (options_.testing_corrupt_ack && !orders.empty()) {
      orders.begin()->second.insert(1'000'000'000);  // an order that was never written
    }
    for (const auto& [district, ids] : orders) {
      report.keys += static_cast<int64_t>(ids.size());
      absl::StatusOr<std::set<int64_t>> found = ReadOrders(**c, district, ids);
      if (!found.ok()) return found.status();
      for (const int64_t id : ids) {
        if (found->count(id) != 0) continue;
        ++report.lost;
        report.problems.push_back(absl::StrCat("order (", district.first, ", ", district.second,
                                               ", ", id,
                                               "): LOST, its New-Order was acknowledged"));
      }
    }
    report.unknown_writes = unknown_;
    return report;
  }

  ~TpccWorkload() override { Stop(); }

 private:
  void Done(int terminal, tpcc::TxnType type, const absl::Status& s, const tpcc::TxnOutcome& out) {
    if (!s.ok()) {
      meter_->Failed(s);
      if (IsOutcomeUnknown(s)) ++unknown_;
      return;
    }
    meter_->Committed(absl::Now());
    if (type == tpcc::TxnType::kNewOrder && !out.rolled_back) {
      const int64_t w = terminal % config_.warehouses + 1;
      absl::MutexLock lock(&mu_);
      committed_orders_[{w, out.district}].insert(out.order_id);
    }
  }

  // Which of `ids` ORDERS holds in `district` (warehouse, district), in one snapshot.
  absl::StatusOr<std::set<int64_t>> ReadOrders(tpcc::Connection& c,
                                               std::pair<int64_t, int64_t> district,
                                               const std::set<int64_t>& ids) {
    std::set<int64_t> found;
    int attempts = 0;
    absl::Status s = c.Run(
        true,
        [&](tpcc::Txn& txn) -> absl::Status {
          found.clear();
          absl::StatusOr<sql::ResultSet> r =
              txn.Execute("SELECT o_id FROM orders WHERE w_id = @w AND d_id = @d AND o_id >= @lo",
                          {{"w", sql::Value::Int64(district.first)},
                           {"d", sql::Value::Int64(district.second)},
                           {"lo", sql::Value::Int64(*ids.begin())}});
          if (!r.ok()) return r.status();
          for (const std::vector<sql::Value>& row : r->rows) found.insert(row[0].int64_value());
          return absl::OkStatus();
        },
        &attempts);
    if (!s.ok()) return s;
    return found;
  }

  Client* const client_;
  WorkloadMeter* meter_ = nullptr;
  const TpccWorkloadOptions options_;
  tpcc::Config config_;
  int threads_ = 0;
  std::unique_ptr<tpcc::Backend> backend_;
  absl::Notification stop_;
  std::vector<std::thread> terminals_;
  std::atomic<int64_t> unknown_{0};
  absl::Mutex mu_;
  std::map<std::pair<int64_t, int64_t>, std::set<int64_t>> committed_orders_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

std::unique_ptr<FailoverWorkload> MakeTpccWorkload(Client* client,
                                                   const TpccWorkloadOptions& options) {
  return std::make_unique<TpccWorkload>(client, options);
}

}  // namespace meridian::tools
