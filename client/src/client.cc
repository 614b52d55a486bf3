// meridian::Client (client.h): the Kv and placement calls, and the parts of the SDK wired
// together — the connections, the placement client, the router over the location cache, the write
// lanes and the transaction engine over the gRPC TxnTransport.
#include "meridian/client.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/src/connections.h"
#include "client/src/grpc_txn_transport.h"
#include "client/src/lane_writer.h"
#include "client/src/placement_client.h"
#include "client/src/router.h"
#include "client/src/txn_engine.h"
#include "proto/kv.grpc.pb.h"

namespace meridian {

using client::CallKind;
using client::Clock;
using client::Location;
using client::Replicas;
using client::SteadyTime;

namespace {

// The server's page size for one Scan RPC (proto/kv.proto).
constexpr size_t kScanPage = 1000;

client::RouterOptions RouterOptionsOf(const ClientOptions& options) {
  return {.attempt_timeout = options.attempt_timeout,
          .backoff_initial = options.backoff_initial,
          .backoff_max = options.backoff_max,
          .leader_backoff_max = options.leader_backoff_max,
          .seed = options.seed};
}

}  // namespace

class Client::Impl final {
 public:
  Impl(std::vector<std::string> placement_addresses, const ClientOptions& options,
       std::shared_ptr<grpc::ChannelCredentials> credentials)
      : options_(options),
        pool_(options.attempt_timeout, std::move(credentials)),
        placement_(std::move(placement_addresses), RouterOptionsOf(options), &pool_),
        router_(RouterOptionsOf(options),
                [this](const std::string& key, SteadyTime deadline) {
                  return placement_.Locate(key, deadline);
                }),
        writer_(options.write_batches_in_flight, &pool_),
        transport_(&router_, &pool_),
        engine_(&transport_, {.backoff_initial = options.backoff_initial,
                              .backoff_max = options.backoff_max,
                              .seed = options.seed}) {}

  client::TxnEngine& engine() { return engine_; }

  absl::Status Put(const std::string& key, const std::string& value) {
    proto::KvWrite write;
    write.set_key(key);
    write.set_value(value);
    return Write(std::move(write));
  }

  absl::Status Delete(const std::string& key) {
    proto::KvWrite write;
    write.set_key(key);
    write.set_is_delete(true);
    return Write(std::move(write));
  }

  absl::StatusOr<std::optional<std::string>> Get(const std::string& key) {
    proto::GetRequest request;
    request.set_key(key);
    proto::GetResponse response;
    const absl::Status status =
        CallKv(CallKind::kRead, key, Deadline(),
               [&](proto::Kv::Stub& stub, grpc::ClientContext& context, const Location& at) {
                 client::SetRange(at, request.mutable_range());
                 response.Clear();
                 return stub.Get(&context, request, &response);
               });
    if (!status.ok()) return status;
    if (!response.found()) return std::optional<std::string>();
    return std::optional<std::string>(std::move(*response.mutable_value()));
  }

  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Scan(const std::string& start,
                                                                        const std::string& end,
                                                                        size_t limit) {
    if (limit == 0) return absl::InvalidArgumentError("scan limit must be positive");
    if (!end.empty() && end <= start) {
      return absl::InvalidArgumentError("scan end must be empty or after start");
    }
    const SteadyTime deadline = Deadline();
    std::vector<std::pair<std::string, std::string>> rows;
    std::string cursor = start;
    while (rows.size() < limit && (end.empty() || cursor < end)) {
      proto::ScanResponse page;
      std::string range_end;
      const absl::Status status =
          ScanPage(cursor, end, limit - rows.size(), deadline, &page, &range_end);
      if (!status.ok()) return status;
      for (proto::KeyValue& row : *page.mutable_rows()) {
        if (rows.size() == limit) break;
        rows.emplace_back(std::move(*row.mutable_key()), std::move(*row.mutable_value()));
      }
      if (page.more()) {
        if (page.rows_size() == 0) {
          return absl::InternalError("scan reply said 'more' but carried no rows");
        }
        cursor = rows.back().first + std::string(1, '\0');
      } else {
        if (range_end.empty()) break;
        cursor = range_end;
      }
    }
    return rows;
  }

  absl::StatusOr<Topology> GetTopology() {
    std::vector<Location> locations;
    absl::StatusOr<Topology> topology = placement_.GetTopology(Deadline(), &locations);
    if (topology.ok()) router_.ReplaceAll(locations);
    return topology;
  }

  absl::StatusOr<ServerHealth> GetServerHealth(const std::string& address) {
    proto::ServerStatusResponse response;
    const SteadyTime deadline = Deadline();
    const client::AttemptResult result = pool_.Attempt<proto::Kv>(
        address, deadline, deadline, [&](proto::Kv::Stub& stub, grpc::ClientContext& context) {
          return stub.Status(&context, proto::ServerStatusRequest(), &response);
        });
    if (result.code != absl::StatusCode::kOk) {
      return absl::Status(result.code, absl::StrCat("status of ", address, ": ", result.message));
    }
    ServerHealth health;
    health.id = response.server_id();
    health.address = address;
    const proto::ClockStatus& clock = response.clock();
    health.clock_source = clock.source();
    health.clock_error_us = clock.error_us();
    health.clock_widening_us = std::max(clock.widen_early_us(), clock.widen_late_us());
    health.clock_unavailable = clock.unavailable();
    for (const proto::PeerClock& p : clock.peers()) {
      health.peer_clocks.push_back({p.server(), p.offset_us(), p.bound_us(), p.fresh()});
    }
    if (clock.has_placement()) {
      const proto::PeerClock& p = clock.placement();
      health.placement_clock = PeerClockInfo{0, p.offset_us(), p.bound_us(), p.fresh()};
    }
    for (const proto::GroupStatus& g : response.groups()) {
      if (!g.fenced().empty()) health.fenced_groups.emplace_back(g.group(), g.fenced());
    }
    return health;
  }

  absl::Status RemoveServer(uint64_t server_id) {
    return placement_.RemoveServer(server_id, Deadline());
  }
  absl::Status DrainServer(uint64_t server_id, bool cancel) {
    return placement_.DrainServer(server_id, cancel, Deadline());
  }
  absl::StatusOr<RangeMove> MoveRange(const std::string& key, uint64_t to_group) {
    return placement_.MoveRange(key, to_group, Deadline());
  }
  absl::StatusOr<uint64_t> SetPolicy(const std::string& key, const Policy& policy) {
    return placement_.SetPolicy(key, policy, Deadline());
  }
  absl::StatusOr<RangeMove> SplitRange(const std::string& key) {
    return placement_.SplitRange(key, Deadline());
  }

 private:
  using KvRpc =
      std::function<grpc::Status(proto::Kv::Stub&, grpc::ClientContext&, const Location&)>;

  SteadyTime Deadline() const { return Clock::now() + options_.deadline; }

  // Runs the Kv RPC `rpc` for `key` at the leader of its group.
  absl::Status CallKv(CallKind kind, const std::string& key, SteadyTime deadline,
                      const KvRpc& rpc) {
    return router_.Call(
        {kind, Replicas::kLeader, 0}, key, deadline,
        [&](const std::string& address, const Location& at, SteadyTime attempt_deadline) {
          return pool_.Attempt<proto::Kv>(address, deadline, attempt_deadline,
                                          [&](proto::Kv::Stub& stub, grpc::ClientContext& context) {
                                            return rpc(stub, context, at);
                                          });
        });
  }

  // One page of a scan from `cursor` to `end` (empty = +infinity) of at most `limit` rows, within
  // the range holding `cursor`; `*range_end` is that range's end.
  absl::Status ScanPage(const std::string& cursor, const std::string& end, size_t limit,
                        SteadyTime deadline, proto::ScanResponse* page, std::string* range_end) {
    proto::ScanRequest request;
    return CallKv(
        CallKind::kRead, cursor, deadline,
        [&](proto::Kv::Stub& stub, grpc::ClientContext& context, const Location& at) {
          client::SetRange(at, request.mutable_range());
          request.set_start(cursor);
          *range_end = at.end;
          // The scan's end within this range: the smaller of the two, empty = +infinity.
          request.set_end(end.empty() ? at.end : (at.end.empty() ? end : std::min(end, at.end)));
          request.set_limit(static_cast<uint32_t>(std::min(limit, kScanPage)));
          page->Clear();
          return stub.Scan(&context, request, page);
        });
  }

  // A Put or Delete: routed and retried by the router like any write, each attempt sent through
  // the write lanes.
  absl::Status Write(proto::KvWrite write) {
    const SteadyTime deadline = Deadline();
    const std::string key = write.key();
    return router_.Call(
        {CallKind::kWrite, Replicas::kLeader, 0}, key, deadline,
        [&](const std::string& address, const Location& at, SteadyTime /*attempt_deadline*/) {
          client::SetRange(at, write.mutable_range());
          return writer_.Write(address, write, deadline);
        });
  }

  const ClientOptions options_;
  client::ConnectionPool pool_;
  client::PlacementClient placement_;
  client::Router router_;
  // Destroyed before the pool: waits for the write batches still in flight.
  client::LaneWriter writer_;
  client::GrpcTxnTransport transport_;
  // Last: destroyed first, so its keepalive thread stops before the rest goes.
  client::TxnEngine engine_;
};

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(
    std::vector<std::string> placement_addresses, ClientOptions options) {
  if (placement_addresses.empty()) {
    return absl::InvalidArgumentError("no placement address given");
  }
  for (const std::string& address : placement_addresses) {
    if (address.empty()) return absl::InvalidArgumentError("empty placement address");
  }
  if (options.deadline.count() <= 0 || options.attempt_timeout.count() <= 0 ||
      options.backoff_initial.count() <= 0 || options.backoff_max.count() <= 0 ||
      options.leader_backoff_max.count() <= 0) {
    return absl::InvalidArgumentError(
        "deadline, attempt_timeout and backoff times must be positive");
  }
  if (options.write_batches_in_flight < 1) {
    return absl::InvalidArgumentError("write_batches_in_flight must be at least 1");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      client::ChannelCredentialsFor(options.tls);
  if (!credentials.ok()) return credentials.status();
  return std::unique_ptr<Client>(new Client(
      std::make_unique<Impl>(std::move(placement_addresses), options, *std::move(credentials))));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

absl::Status Client::Put(std::string_view key, std::string_view value) {
  return impl_->Put(std::string(key), std::string(value));
}

absl::StatusOr<std::optional<std::string>> Client::Get(std::string_view key) {
  return impl_->Get(std::string(key));
}

absl::Status Client::Delete(std::string_view key) { return impl_->Delete(std::string(key)); }

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Client::Scan(
    std::string_view start, std::string_view end, size_t limit) {
  return impl_->Scan(std::string(start), std::string(end), limit);
}

absl::StatusOr<Topology> Client::GetTopology() { return impl_->GetTopology(); }
absl::StatusOr<ServerHealth> Client::GetServerHealth(const std::string& address) {
  return impl_->GetServerHealth(address);
}

absl::Status Client::RemoveServer(uint64_t server_id) { return impl_->RemoveServer(server_id); }
absl::Status Client::DrainServer(uint64_t server_id, bool cancel) {
  return impl_->DrainServer(server_id, cancel);
}
absl::StatusOr<RangeMove> Client::MoveRange(std::string_view key, uint64_t to_group) {
  return impl_->MoveRange(std::string(key), to_group);
}
absl::StatusOr<RangeMove> Client::SplitRange(std::string_view key) {
  return impl_->SplitRange(std::string(key));
}
absl::StatusOr<uint64_t> Client::SetPolicy(std::string_view key, const Policy& policy) {
  return impl_->SetPolicy(std::string(key), policy);
}

absl::StatusOr<int64_t> Client::RunTransaction(const std::function<absl::Status(Transaction&)>& fn,
                                               TransactionOptions options) {
  return impl_->engine().Run(fn, options);
}

absl::StatusOr<int64_t> Client::Commit(std::vector<Mutation> mutations,
                                       TransactionOptions options) {
  return impl_->engine().Run(
      [&](Transaction& txn) {
        for (const Mutation& m : mutations) {
          if (m.value.has_value()) {
            txn.Put(m.key, *m.value);
          } else {
            txn.Delete(m.key);
          }
        }
        return absl::OkStatus();
      },
      options);
}

absl::StatusOr<ReadResult> Client::ReadOnly(std::vector<std::string> keys,
                                            ReadOnlyOptions options) {
  return impl_->engine().ReadOnly(keys, options);
}

absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> Client::BeginReadOnly(
    ReadOnlyOptions options) {
  return impl_->engine().BeginReadOnly(options);
}

}  // namespace meridian
