#include "client/src/prepare_fanout.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "client/src/connections.h"

namespace meridian::client {
namespace {

// A PrepareBatch carries at most this many prepares (and kMaxBatchBytes past the first; the
// server takes up to 1,000).
constexpr size_t kMaxBatchPrepares = 256;

// One RPC: a Prepare of calls[items[0]], or a PrepareBatch of calls[items...].
struct Flight {
  std::string address;
  std::vector<size_t> items;
  bool batch = false;
  proto::TxnPrepareBatchRequest request;
  proto::TxnPrepareBatchResponse response;
  grpc::ClientContext context;
  grpc::Status status;
};

// The flights still out. Shared with their callbacks, so that the last one to finish (possibly
// still unlocking after the caller saw the count reach 0) owns the mutex until it is done with it.
struct InFlight {
  absl::Mutex mu;
  size_t n ABSL_GUARDED_BY(mu) = 0;
};

class FanOut {
 public:
  FanOut(Router& router, ConnectionPool& pool, std::vector<PrepareCall>& calls, SteadyTime deadline)
      : router_(router), pool_(pool), calls_(calls), deadline_(deadline) {}

  std::vector<size_t> Run(const std::function<void()>& sent) {
    for (auto& [address, items] : ByLeader()) Split(address, items);
    for (const std::unique_ptr<Flight>& flight : flights_) Send(*flight);
    if (sent) sent();
    AwaitAll();
    return Collect();
  }

 private:
  // The calls to send now, by leader address (ordered: the same calls give the same RPCs): those
  // whose cached leader is in their group and has a connected channel. Fills the calls' ranges.
  std::map<std::string, std::vector<size_t>> ByLeader() {
    std::map<std::string, std::vector<size_t>> by_leader;
    for (size_t i = 0; i < calls_.size(); ++i) {
      PrepareCall& call = calls_[i];
      const std::optional<Location> at = router_.Cached(call.key);
      if (!at.has_value() || at->group != call.group || at->leader_address.empty()) continue;
      auto [it, added] = connections_.try_emplace(at->leader_address);
      if (added) it->second = pool_.Get(at->leader_address);
      if (it->second.channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) continue;
      SetRange(*at, call.request.mutable_range());
      call.response.Clear();
      by_leader[at->leader_address].push_back(i);
    }
    return by_leader;
  }

  // The flights of the calls `items` to `address`: at most kMaxBatchPrepares calls each and, past
  // the first, kMaxBatchBytes.
  void Split(const std::string& address, const std::vector<size_t>& items) {
    size_t next = 0;
    while (next < items.size()) {
      auto flight = std::make_unique<Flight>();
      flight->address = address;
      size_t bytes = 0;
      while (next < items.size() && flight->items.size() < kMaxBatchPrepares) {
        const size_t size = calls_[items[next]].request.ByteSizeLong();
        if (!flight->items.empty() && bytes + size > kMaxBatchBytes) break;
        bytes += size;
        flight->items.push_back(items[next++]);
      }
      flight->batch = flight->items.size() > 1;
      flights_.push_back(std::move(flight));
    }
  }

  void Send(Flight& f) {
    StartContext(&f.context, deadline_);
    {
      absl::MutexLock lock(&in_flight_->mu);
      ++in_flight_->n;
    }
    auto done = [f = &f, in_flight = in_flight_](grpc::Status status) {
      f->status = std::move(status);
      absl::MutexLock lock(&in_flight->mu);
      --in_flight->n;
    };
    proto::Txn::Stub& stub = *connections_.at(f.address).txn;
    if (f.batch) {
      for (size_t i : f.items) *f.request.add_prepares() = calls_[i].request;
      stub.async()->PrepareBatch(&f.context, &f.request, &f.response, std::move(done));
    } else {
      PrepareCall& call = calls_[f.items.front()];
      stub.async()->Prepare(&f.context, &call.request, &call.response, std::move(done));
    }
  }

  void AwaitAll() {
    absl::MutexLock lock(&in_flight_->mu);
    auto none = [p = in_flight_.get()]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) { return p->n == 0; };
    in_flight_->mu.Await(absl::Condition(&none));
  }

  // Settles the calls whose first attempt decided them; the rest, ascending, to run again.
  std::vector<size_t> Collect() {
    std::vector<bool> attempted(calls_.size(), false);
    std::vector<size_t> again;
    for (const std::unique_ptr<Flight>& f : flights_) {
      for (size_t j = 0; j < f->items.size(); ++j) {
        const size_t i = f->items[j];
        attempted[i] = true;
        if (f->batch && f->status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
          again.push_back(i);  // a server without PrepareBatch took none of them
          continue;
        }
        const AttemptResult result = ItemOf(*f, j, &calls_[i].response);
        Router::Verdict verdict =
            router_.Judge(CallKind::kWrite, result, calls_[i].group, calls_[i].key, f->address);
        if (verdict.final.has_value()) {
          calls_[i].status = *std::move(verdict.final);
        } else {
          again.push_back(i);
        }
      }
    }
    for (size_t i = 0; i < calls_.size(); ++i) {
      if (!attempted[i]) again.push_back(i);
    }
    std::sort(again.begin(), again.end());
    return again;
  }

  // The result of item `j` of the finished flight `f`, as if it had been a Prepare of its own;
  // fills `response` when it succeeded.
  static AttemptResult ItemOf(const Flight& f, size_t j, proto::TxnPrepareResponse* response) {
    if (!f.batch) return ResultOf(f.status, f.context);
    AttemptResult result = ItemResult(f.status, f.context, f.response.results(), j, f.items.size());
    if (result.code == absl::StatusCode::kOk) {
      response->set_prepare_ts(f.response.results(static_cast<int>(j)).prepare_ts());
    }
    return result;
  }

  Router& router_;
  ConnectionPool& pool_;
  std::vector<PrepareCall>& calls_;
  const SteadyTime deadline_;
  std::map<std::string, Connection> connections_;
  std::vector<std::unique_ptr<Flight>> flights_;
  const std::shared_ptr<InFlight> in_flight_ = std::make_shared<InFlight>();
};

}  // namespace

std::vector<size_t> SendFirstPrepares(Router& router, ConnectionPool& pool,
                                      std::vector<PrepareCall>& calls, SteadyTime deadline,
                                      const std::function<void()>& sent) {
  return FanOut(router, pool, calls, deadline).Run(sent);
}

}  // namespace meridian::client
