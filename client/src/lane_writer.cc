#include "client/src/lane_writer.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/src/connections.h"
#include "proto/kv.pb.h"

namespace meridian::client {
namespace {

// A WriteBatch carries at most this many writes (and kMaxBatchBytes past the first; the server
// takes up to 1,000).
constexpr size_t kMaxBatchWrites = 256;

}  // namespace

// One write waiting in a lane or in flight in a batch. `result` is set before `done`.
struct LaneWriter::PendingWrite {
  proto::KvWrite write;
  SteadyTime deadline;
  AttemptResult result;
  absl::Notification done;
};

struct LaneWriter::FlightCount {
  absl::Mutex mu;
  int n ABSL_GUARDED_BY(mu) = 0;
};

LaneWriter::LaneWriter(int batches_in_flight, ConnectionPool* pool)
    : pool_(pool),
      lanes_({.max_in_flight = batches_in_flight,
              .max_items = kMaxBatchWrites,
              .max_bytes = kMaxBatchBytes}),
      flights_(std::make_shared<FlightCount>()) {}

LaneWriter::~LaneWriter() {
  absl::MutexLock lock(&flights_->mu);
  auto none = [f = flights_.get()]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu) { return f->n == 0; };
  flights_->mu.Await(absl::Condition(&none));
}

AttemptResult LaneWriter::Write(const std::string& address, const proto::KvWrite& write,
                                SteadyTime deadline) {
  if (!pool_->Connected(pool_->Get(address), deadline)) {
    return NotSent(absl::StatusCode::kUnavailable, "cannot connect");
  }
  auto pending = std::make_shared<PendingWrite>();
  pending->write = write;
  pending->deadline = deadline;
  uint64_t ticket = 0;
  std::optional<WriteLanes::Batch> now;
  {
    absl::MutexLock lock(&mu_);
    ticket = next_ticket_++;
    queued_[ticket] = pending;
    now = lanes_.Submit(address, ticket, write.ByteSizeLong());
  }
  if (now.has_value()) SendBatch(*std::move(now));
  if (pending->done.WaitForNotificationWithDeadline(absl::FromChrono(ToSystem(deadline)))) {
    return pending->result;
  }
  {
    absl::MutexLock lock(&mu_);
    if (lanes_.Withdraw(address, ticket)) {
      queued_.erase(ticket);
      return NotSent(absl::StatusCode::kDeadlineExceeded,
                     "the deadline passed before the write was sent");
    }
  }
  AttemptResult in_flight;
  in_flight.code = absl::StatusCode::kDeadlineExceeded;
  in_flight.message = "the deadline passed while the write was in flight";
  return in_flight;
}

// One WriteBatch RPC and the writes it carries, in order.
struct LaneWriter::Flight {
  std::string address;
  std::vector<std::shared_ptr<PendingWrite>> writes;
  proto::WriteBatchRequest request;
  proto::WriteBatchResponse response;
  grpc::ClientContext context;

  // Hands each write its result, once the RPC ended with `status`.
  void Answer(const grpc::Status& status) {
    for (size_t j = 0; j < writes.size(); ++j) {
      PendingWrite& w = *writes[j];
      w.result = ItemResult(status, context, response.results(), j, writes.size());
      w.done.Notify();
    }
  }
};

void LaneWriter::SendBatch(WriteLanes::Batch batch) {
  std::unique_ptr<Flight> flight = Board(std::move(batch));
  {
    absl::MutexLock lock(&flights_->mu);
    ++flights_->n;
  }
  const Connection connection = pool_->Get(flight->address);
  Flight* f = flight.release();
  connection.kv->async()->WriteBatch(&f->context, &f->request, &f->response,
                                     [this, f, flights = flights_](grpc::Status status) {
                                       std::unique_ptr<Flight> owned(f);
                                       f->Answer(status);
                                       SendNext(f->address);
                                       owned.reset();
                                       absl::MutexLock lock(&flights->mu);
                                       --flights->n;
                                     });
}

std::unique_ptr<LaneWriter::Flight> LaneWriter::Board(WriteLanes::Batch batch) {
  auto flight = std::make_unique<Flight>();
  flight->address = std::move(batch.address);
  {
    absl::MutexLock lock(&mu_);
    for (const uint64_t ticket : batch.tickets) {
      const auto it = queued_.find(ticket);
      flight->writes.push_back(std::move(it->second));
      queued_.erase(it);
    }
  }
  // The latest deadline of its writes: each caller stops waiting at its own.
  SteadyTime deadline = Clock::now();
  for (const std::shared_ptr<PendingWrite>& w : flight->writes) {
    *flight->request.add_writes() = w->write;
    deadline = std::max(deadline, w->deadline);
  }
  StartContext(&flight->context, deadline);
  return flight;
}

void LaneWriter::SendNext(const std::string& address) {
  std::optional<WriteLanes::Batch> next;
  {
    absl::MutexLock lock(&mu_);
    next = lanes_.Finished(address);
  }
  if (next.has_value()) SendBatch(*std::move(next));
}

}  // namespace meridian::client
