// meridian::Client (client.h): the gRPC adapter around LocationCache and the retry policy.
#include "meridian/client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "client/src/location_cache.h"
#include "client/src/retry_policy.h"
#include "client/src/txn_engine.h"
#include "client/src/write_lanes.h"
#include "common/random.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "proto/rpc.h"
#include "proto/txn.grpc.pb.h"

namespace meridian {

using client::Action;
using client::AttemptResult;
using client::Backoff;
using client::CallKind;
using client::Decision;
using client::Location;
using client::LocationCache;
using Clock = std::chrono::steady_clock;

namespace {

// The server's page size for one Scan RPC (proto/kv.proto).
constexpr size_t kScanPage = 1000;

// gRPC takes deadlines on the system clock; the client measures them on the steady one.
std::chrono::system_clock::time_point ToSystem(Clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
}

// PrepareAll's batches: at most this many prepares, and past the first, this many bytes (well
// under gRPC's 4 MiB message limit; the server takes up to 1,000).
constexpr size_t kMaxBatchPrepares = 256;
constexpr size_t kMaxBatchBytes = 1 << 20;
// A WriteBatch carries at most this many writes (and kMaxBatchBytes past the first; the server
// takes up to 1,000).
constexpr size_t kMaxBatchWrites = 256;

// How an RPC ended, with the routing markers of its trailing metadata.
AttemptResult ResultOf(const grpc::Status& status, const grpc::ClientContext& context) {
  AttemptResult result;
  result.code = static_cast<absl::StatusCode>(status.error_code());
  result.message = status.error_message();
  result.sent = !client::RpcNeverSent(result.code, result.message);
  if (status.ok()) return result;
  const auto& trailers = context.GetServerTrailingMetadata();
  if (const auto it = trailers.find(rpc::kLeaderMetadataKey); it != trailers.end()) {
    result.has_leader_hint = true;
    result.leader_hint.assign(it->second.data(), it->second.size());
  }
  result.stale_map = trailers.find(rpc::kStaleMapMetadataKey) != trailers.end();
  return result;
}

// True once `channel` is connected; false when it failed to connect or `deadline` passed first.
bool EnsureConnected(grpc::Channel& channel, Clock::time_point deadline) {
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  while (true) {
    if (state == GRPC_CHANNEL_READY) return true;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!channel.WaitForStateChange(state, ToSystem(deadline))) return false;
    state = channel.GetState(/*try_to_connect=*/true);
  }
}

Clock::time_point Earliest(Clock::time_point a, Clock::time_point b) { return std::min(a, b); }

}  // namespace

class Client::Impl final : public client::TxnTransport {
 public:
  Impl(std::vector<std::string> placement_addresses, ClientOptions options)
      : options_(options),
        placement_addresses_(std::move(placement_addresses)),
        random_(options.seed),
        placement_target_(placement_addresses_.front()),
        lanes_({.max_in_flight = options.write_batches_in_flight,
                .max_items = kMaxBatchWrites,
                .max_bytes = kMaxBatchBytes}),
        engine_(this, {.backoff_initial = options.backoff_initial,
                       .backoff_max = options.backoff_max,
                       .seed = options.seed}) {}

  // Waits for the write batches still in flight (their callbacks use this object); each ends by
  // its deadline at the latest.
  ~Impl() {
    absl::MutexLock lock(&flights_->mu);
    auto none = [f = flights_.get()]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(f->mu) { return f->n == 0; };
    flights_->mu.Await(absl::Condition(&none));
  }

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
    absl::Status status = CallLeader<proto::Kv>(
        CallKind::kRead, key, Deadline(),
        [&](proto::Kv::Stub& stub, grpc::ClientContext& context, const Location& at) {
          SetRange(at, request.mutable_range());
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
    const Clock::time_point deadline = Deadline();
    std::vector<std::pair<std::string, std::string>> rows;
    std::string cursor = start;
    while (rows.size() < limit && (end.empty() || cursor < end)) {
      proto::ScanRequest request;
      proto::ScanResponse response;
      std::string range_end;
      absl::Status status = CallLeader<proto::Kv>(
          CallKind::kRead, cursor, deadline,
          [&](proto::Kv::Stub& stub, grpc::ClientContext& context, const Location& at) {
            SetRange(at, request.mutable_range());
            request.set_start(cursor);
            range_end = at.end;
            // The scan's end within this range: the smaller of the two, empty = +infinity.
            request.set_end(end.empty() ? at.end : (at.end.empty() ? end : std::min(end, at.end)));
            request.set_limit(static_cast<uint32_t>(std::min(limit - rows.size(), kScanPage)));
            response.Clear();
            return stub.Scan(&context, request, &response);
          });
      if (!status.ok()) return status;
      for (proto::KeyValue& row : *response.mutable_rows()) {
        if (rows.size() == limit) break;
        rows.emplace_back(std::move(*row.mutable_key()), std::move(*row.mutable_value()));
      }
      if (response.more()) {
        if (response.rows_size() == 0) {
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
    proto::GetTopologyRequest request;
    proto::Topology reply;
    absl::Status status = CallPlacement(
        [&](proto::Placement::Stub& stub, grpc::ClientContext& context) {
          reply.Clear();
          return stub.GetTopology(&context, request, &reply);
        },
        Deadline());
    if (!status.ok()) return status;
    Topology topology;
    topology.bootstrapped = reply.bootstrapped();
    topology.placement_leader = reply.placement_leader();
    topology.zones.assign(reply.zones().begin(), reply.zones().end());
    absl::flat_hash_map<uint64_t, std::string> address_of;
    for (const proto::ServerInfo& s : reply.servers()) {
      topology.servers.push_back(
          {s.id(), s.zone(), s.address(), s.alive(), s.peer_address(), s.removed()});
      if (!s.removed()) address_of[s.id()] = s.address();
    }
    absl::flat_hash_map<uint64_t, const proto::GroupInfo*> group_of;
    for (const proto::GroupInfo& g : reply.groups()) {
      GroupInfo& group = topology.groups.emplace_back(
          GroupInfo{g.id(), {g.replicas().begin(), g.replicas().end()}, g.leader(), {}});
      for (const proto::ReplicaRefusal& r : g.refusals()) {
        group.refusals.push_back({r.server(), r.reason()});
      }
      group_of[g.id()] = &g;
    }
    for (const proto::RegistrationRefusal& r : reply.refused_registrations()) {
      topology.refused_registrations.push_back(
          {r.address(), r.zone(), r.bound_server(), r.reason()});
    }
    std::vector<Location> locations;
    for (const proto::RangeInfo& r : reply.ranges()) {
      topology.ranges.push_back({r.start(), r.end(), r.group(), r.generation()});
      Location location{r.start(), r.end(), r.group(), r.generation(), {}, {}};
      if (const auto g = group_of.find(r.group()); g != group_of.end()) {
        for (const uint64_t id : g->second->replicas()) {
          if (const auto a = address_of.find(id); a != address_of.end()) {
            location.replica_addresses.push_back(a->second);
          }
        }
        if (g->second->leader() != 0) location.leader_address = address_of[g->second->leader()];
      }
      locations.push_back(std::move(location));
    }
    absl::MutexLock lock(&mu_);
    cache_.ReplaceAll(locations);
    return topology;
  }

  absl::Status RemoveServer(uint64_t server_id) {
    proto::RemoveServerRequest request;
    request.set_server_id(server_id);
    proto::RemoveServerResponse reply;
    // Idempotent at placement, so retrying after a lost answer is safe.
    return CallPlacement(
        [&](proto::Placement::Stub& stub, grpc::ClientContext& context) {
          return stub.RemoveServer(&context, request, &reply);
        },
        Deadline());
  }

  // --- client::TxnTransport (txn_engine.h): the Txn service with the routing of CallLeader.

  absl::Status Read(uint64_t group, const std::string& key, proto::TxnReadRequest& request,
                    proto::TxnReadResponse* response, Clock::time_point deadline,
                    uint64_t* group_used) override {
    return CallTxnLeader(
        CallKind::kRead, group, key, deadline, group_used,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          response->Clear();
          return stub.Read(&context, request, response);
        },
        request.mutable_range());
  }

  absl::Status Prepare(uint64_t group, const std::string& key, proto::TxnPrepareRequest& request,
                       proto::TxnPrepareResponse* response, Clock::time_point deadline) override {
    return CallTxnLeader(
        CallKind::kWrite, group, key, deadline, nullptr,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          response->Clear();
          return stub.Prepare(&context, request, response);
        },
        request.mutable_range());
  }

  // The first attempt of every call goes out at once, asynchronously, to the cached leader over
  // a connected channel: the calls whose leaders are on one server in PrepareBatch RPCs (one per
  // server, split past kMaxBatchPrepares items or kMaxBatchBytes), a call alone at its server in
  // a Prepare. A call without a cached leader, or whose attempt should be retried (another leader
  // named, a stale map, not sent, a server without PrepareBatch), then runs Prepare() with its
  // full retry rules. A Prepare sent twice is harmless: the participant answers a duplicate with
  // its first prepare timestamp.
  void PrepareAll(std::vector<client::PrepareCall>& calls, Clock::time_point deadline,
                  const std::function<void()>& sent) override {
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
    // Shared with the callbacks, so that the last one to finish (possibly still unlocking after
    // this thread saw the count reach 0) owns the mutex until it is done with it.
    struct Pending {
      absl::Mutex mu;
      size_t in_flight ABSL_GUARDED_BY(mu) = 0;
    };
    auto pending = std::make_shared<Pending>();
    std::vector<bool> attempted(calls.size(), false);
    // The calls to send now, by leader address (ordered: the same calls give the same RPCs).
    std::map<std::string, std::vector<size_t>> by_leader;
    std::map<std::string, Connection> connections;
    for (size_t i = 0; i < calls.size(); ++i) {
      client::PrepareCall& call = calls[i];
      std::optional<Location> location;
      {
        absl::MutexLock lock(&mu_);
        location = cache_.Lookup(call.key);
      }
      if (!location.has_value() || location->group != call.group ||
          location->leader_address.empty()) {
        continue;
      }
      auto [it, added] = connections.try_emplace(location->leader_address);
      if (added) it->second = Connect(location->leader_address);
      if (it->second.channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) continue;
      SetRange(*location, call.request.mutable_range());
      call.response.Clear();
      by_leader[location->leader_address].push_back(i);
    }
    std::vector<std::unique_ptr<Flight>> flights;
    for (auto& [address, items] : by_leader) {
      size_t next = 0;
      while (next < items.size()) {
        auto flight = std::make_unique<Flight>();
        flight->address = address;
        size_t bytes = 0;
        while (next < items.size() && flight->items.size() < kMaxBatchPrepares) {
          const size_t size = calls[items[next]].request.ByteSizeLong();
          if (!flight->items.empty() && bytes + size > kMaxBatchBytes) break;
          bytes += size;
          flight->items.push_back(items[next++]);
        }
        flight->batch = flight->items.size() > 1;
        flights.push_back(std::move(flight));
      }
    }
    for (std::unique_ptr<Flight>& owned : flights) {
      Flight* f = owned.get();
      f->context.set_deadline(ToSystem(deadline));
      {
        absl::MutexLock lock(&pending->mu);
        ++pending->in_flight;
      }
      auto done = [f, pending](grpc::Status status) {
        f->status = std::move(status);
        absl::MutexLock lock(&pending->mu);
        --pending->in_flight;
      };
      proto::Txn::Stub& stub = *connections.at(f->address).txn;
      if (f->batch) {
        for (size_t i : f->items) *f->request.add_prepares() = calls[i].request;
        stub.async()->PrepareBatch(&f->context, &f->request, &f->response, std::move(done));
      } else {
        client::PrepareCall& call = calls[f->items.front()];
        stub.async()->Prepare(&f->context, &call.request, &call.response, std::move(done));
      }
    }
    if (sent) sent();
    {
      absl::MutexLock lock(&pending->mu);
      auto all_done = [p = pending.get()]()
                          ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu) { return p->in_flight == 0; };
      pending->mu.Await(absl::Condition(&all_done));
    }
    std::vector<size_t> again;
    for (const std::unique_ptr<Flight>& f : flights) {
      for (size_t j = 0; j < f->items.size(); ++j) {
        const size_t i = f->items[j];
        attempted[i] = true;
        if (f->batch && f->status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
          again.push_back(i);  // a server without PrepareBatch took none of them
          continue;
        }
        const AttemptResult result = BatchItemResult(*f, j, &calls[i].response);
        const uint64_t group = calls[i].group;
        const Decision decision = client::Decide(CallKind::kWrite, result, f->address);
        const absl::Status status(
            result.code, absl::StrCat("group ", group, " at ", f->address, ": ", result.message));
        if (std::optional<absl::Status> done = Settled(decision, result, status)) {
          calls[i].status = *std::move(done);
          continue;
        }
        Learn(decision, result, group, calls[i].key, f->address);
        again.push_back(i);
      }
    }
    for (size_t i = 0; i < calls.size(); ++i) {
      if (!attempted[i]) again.push_back(i);
    }
    if (again.empty()) return;
    std::sort(again.begin(), again.end());
    std::vector<client::PrepareCall> rest;
    rest.reserve(again.size());
    for (size_t i : again) rest.push_back(std::move(calls[i]));
    TxnTransport::PrepareAll(rest, deadline);  // Prepare() each, on threads
    for (size_t j = 0; j < again.size(); ++j) calls[again[j]] = std::move(rest[j]);
  }

  // The result of item `j` of a finished Prepare or PrepareBatch flight, as if it had been a
  // Prepare of its own; fills `response` when it succeeded.
  template <typename Flight>
  static AttemptResult BatchItemResult(const Flight& f, size_t j,
                                       proto::TxnPrepareResponse* response) {
    if (!f.batch) return ResultOf(f.status, f.context);
    AttemptResult result = ItemResult(f.status, f.context, f.response.results(), j, f.items.size());
    if (result.code == absl::StatusCode::kOk) {
      response->set_prepare_ts(f.response.results(static_cast<int>(j)).prepare_ts());
    }
    return result;
  }

  // Item `j` of `n` of a batch RPC that ended with `status`: the RPC's own result when it failed,
  // else the item's code, message and routing markers (TxnPrepareResult, KvWriteResult), as the
  // status and trailers of a call of its own would have carried them.
  template <typename Item>
  static AttemptResult ItemResult(const grpc::Status& status, const grpc::ClientContext& context,
                                  const google::protobuf::RepeatedPtrField<Item>& results, size_t j,
                                  size_t n) {
    if (!status.ok()) return ResultOf(status, context);
    if (results.size() != static_cast<int>(n)) {
      AttemptResult malformed;
      malformed.code = absl::StatusCode::kInternal;
      malformed.message =
          absl::StrCat("a batch of ", n, " was answered with ", results.size(), " results");
      return malformed;
    }
    const Item& item = results[static_cast<int>(j)];
    AttemptResult result;
    result.code = static_cast<absl::StatusCode>(item.code());
    result.message = item.message();
    result.has_leader_hint = item.has_leader_hint();
    result.leader_hint = item.leader_hint();
    result.stale_map = item.stale_map();
    return result;
  }

  absl::Status Commit(uint64_t group, const std::string& key, proto::TxnCommitRequest& request,
                      proto::TxnCommitResponse* response, Clock::time_point deadline) override {
    return CallTxnLeader(
        CallKind::kWrite, group, key, deadline, nullptr,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          response->Clear();
          return stub.Commit(&context, request, response);
        },
        request.mutable_range());
  }

  std::unique_ptr<PendingCommit> StartCommit(uint64_t group, const std::string& key,
                                             proto::TxnCommitRequest& request,
                                             proto::TxnCommitResponse* response,
                                             Clock::time_point deadline) override {
    auto pending =
        std::make_unique<GrpcPendingCommit>(this, group, key, request, response, deadline);
    pending->Start();
    return pending;
  }

  absl::Status Abort(uint64_t group, const std::string& key, proto::TxnAbortRequest& request,
                     Clock::time_point deadline) override {
    return CallTxnLeader(
        CallKind::kRead, group, key, deadline, nullptr,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          proto::TxnAbortResponse response;
          return stub.Abort(&context, request, &response);
        },
        request.mutable_range());
  }

  absl::Status Keepalive(uint64_t group, const std::string& key,
                         proto::TxnKeepaliveRequest& request, Clock::time_point deadline) override {
    return CallTxnLeader(
        CallKind::kRead, group, key, deadline, nullptr,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          proto::TxnKeepaliveResponse response;
          return stub.Keepalive(&context, request, &response);
        },
        request.mutable_range());
  }

  absl::Status ReadOnly(uint64_t group, const std::string& key, proto::ReadOnlyRequest& request,
                        proto::SnapshotReadResponse* response,
                        Clock::time_point deadline) override {
    return CallTxnLeader(
        CallKind::kRead, group, key, deadline, nullptr,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
          response->Clear();
          return stub.ReadOnly(&context, request, response);
        },
        request.mutable_range());
  }

  absl::Status SnapshotRead(uint64_t group, const std::string& key, bool leader_first,
                            proto::SnapshotReadRequest& request,
                            proto::SnapshotReadResponse* response,
                            Clock::time_point deadline) override {
    Random random = ForkRandom();
    Backoff backoff = MakeBackoff(&random);
    absl::Status last = absl::UnavailableError("no replica was tried");
    int attempts = 0;
    bool refresh = false;
    while (Clock::now() < deadline) {
      std::optional<Location> location;
      if (!refresh) {
        absl::MutexLock lock(&mu_);
        location = cache_.Lookup(key);
      }
      refresh = false;
      if (!location.has_value()) {
        absl::StatusOr<Location> located = LocateAtPlacement(key, deadline);
        if (!located.ok()) return located.status();
        location = *std::move(located);
      }
      if (location->group != group) return RangeMoved(key, group, location->group);
      SetRange(*location, request.mutable_range());
      // Replicas in the order to try: the leader first or last.
      std::vector<std::string> order;
      for (const std::string& address : location->replica_addresses) {
        if (address != location->leader_address) order.push_back(address);
      }
      if (!location->leader_address.empty()) {
        order.insert(leader_first ? order.begin() : order.end(), location->leader_address);
      }
      for (const std::string& address : order) {
        if (Clock::now() >= deadline) break;
        ++attempts;
        const AttemptResult result = Attempt<proto::Txn>(
            address, deadline, Earliest(deadline, Clock::now() + options_.attempt_timeout),
            [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
              response->Clear();
              return stub.SnapshotRead(&context, request, response);
            });
        const absl::Status status(
            result.code, absl::StrCat("group ", group, " at ", address, ": ", result.message));
        if (client::Decide(CallKind::kRead, result, address).action == Action::kReturn) {
          return result.code == absl::StatusCode::kOk ? absl::OkStatus() : status;
        }
        last = status;
        if (result.stale_map) {
          absl::MutexLock lock(&mu_);
          cache_.Invalidate(key);
          refresh = true;
          break;
        }
        if (!result.sent) {
          absl::MutexLock lock(&mu_);
          cache_.ForgetLeader(group, address);
        }
      }
      if (order.empty()) refresh = true;
      Sleep(backoff, deadline);
    }
    return absl::DeadlineExceededError(absl::StrCat("snapshot read: deadline passed (", attempts,
                                                    " attempts); last error: ", last.ToString()));
  }

 private:
  template <typename Service>
  using LeaderRpc =
      std::function<grpc::Status(typename Service::Stub&, grpc::ClientContext&, const Location&)>;
  using PlacementRpc = std::function<grpc::Status(proto::Placement::Stub&, grpc::ClientContext&)>;

  Clock::time_point Deadline() const { return Clock::now() + options_.deadline; }

  static void SetRange(const Location& at, proto::RangeRef* range) {
    range->set_group(at.group);
    range->set_generation(at.generation);
  }

  // The channel to `address` and its stubs, created once and shared by every call (stubs are
  // thread-safe; creating one per call registers its methods with the channel each time).
  struct Connection {
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<proto::Kv::Stub> kv;
    std::shared_ptr<proto::Placement::Stub> placement;
    std::shared_ptr<proto::Txn::Stub> txn;

    template <typename Service>
    typename Service::Stub& stub() const {
      if constexpr (std::is_same_v<Service, proto::Kv>) {
        return *kv;
      } else if constexpr (std::is_same_v<Service, proto::Txn>) {
        return *txn;
      } else {
        return *placement;
      }
    }
  };

  Connection Connect(const std::string& address) {
    absl::MutexLock lock(&mu_);
    Connection& connection = channels_[address];
    if (connection.channel == nullptr) {
      grpc::ChannelArguments args;
      // Find a restarted server within about a second instead of gRPC's default of minutes.
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
      connection.channel =
          grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
      connection.kv = proto::Kv::NewStub(connection.channel);
      connection.placement = proto::Placement::NewStub(connection.channel);
      connection.txn = proto::Txn::NewStub(connection.channel);
    }
    return connection;
  }

  // --- Put and Delete: every attempt goes through the write lanes (write_lanes.h), so the writes
  // that threads make at once to one server share WriteBatch RPCs.

  // A Put or Delete: routed and retried by CallLeaderWith like any write.
  absl::Status Write(proto::KvWrite write) {
    const Clock::time_point deadline = Deadline();
    const std::string key = write.key();
    return CallLeaderWith(
        CallKind::kWrite, key, deadline,
        [&](const std::string& address, const Location& at, Clock::time_point /*attempt*/) {
          SetRange(at, write.mutable_range());
          return LaneWrite(address, write, deadline);
        });
  }

  // One write waiting in a lane or in flight in a batch. `result` is set before `done`.
  struct PendingWrite {
    proto::KvWrite write;
    Clock::time_point deadline;
    AttemptResult result;
    absl::Notification done;
  };

  // The batches in flight; shared with their callbacks, so that the last one to finish owns the
  // mutex until it is done with it (see ~Impl).
  struct FlightCount {
    absl::Mutex mu;
    int n ABSL_GUARDED_BY(mu) = 0;
  };

  static AttemptResult NotSent(absl::StatusCode code, std::string message) {
    AttemptResult result;
    result.code = code;
    result.message = std::move(message);
    result.sent = false;
    return result;
  }

  // One attempt of `write` at `address`, in the next WriteBatch to that server. Waits for the
  // answer until `deadline`;
  // a write still queued then was never sent, one in flight has an unknown outcome.
  AttemptResult LaneWrite(const std::string& address, const proto::KvWrite& write,
                          Clock::time_point deadline) {
    const Connection connection = Connect(address);
    if (!EnsureConnected(*connection.channel,
                         Earliest(deadline, Clock::now() + options_.attempt_timeout))) {
      return NotSent(absl::StatusCode::kUnavailable, "cannot connect");
    }
    auto pending = std::make_shared<PendingWrite>();
    pending->write = write;
    pending->deadline = deadline;
    uint64_t ticket = 0;
    std::optional<client::WriteLanes::Batch> now;
    {
      absl::MutexLock lock(&lanes_mu_);
      ticket = next_ticket_++;
      queued_writes_[ticket] = pending;
      now = lanes_.Submit(address, ticket, write.ByteSizeLong());
    }
    if (now.has_value()) SendBatch(*std::move(now));
    if (!pending->done.WaitForNotificationWithDeadline(absl::FromChrono(ToSystem(deadline)))) {
      {
        absl::MutexLock lock(&lanes_mu_);
        if (lanes_.Withdraw(address, ticket)) {
          queued_writes_.erase(ticket);
          return NotSent(absl::StatusCode::kDeadlineExceeded,
                         "the deadline passed before the write was sent");
        }
      }
      AttemptResult in_flight;
      in_flight.code = absl::StatusCode::kDeadlineExceeded;
      in_flight.message = "the deadline passed while the write was in flight";
      return in_flight;
    }
    return pending->result;
  }

  // Sends the writes of `batch` in one WriteBatch; its callback hands each write its result and
  // sends the lane's next batch.
  void SendBatch(client::WriteLanes::Batch batch) {
    struct Flight {
      std::string address;
      std::vector<std::shared_ptr<PendingWrite>> writes;
      proto::WriteBatchRequest request;
      proto::WriteBatchResponse response;
      grpc::ClientContext context;
    };
    auto flight = std::make_unique<Flight>();
    flight->address = std::move(batch.address);
    {
      absl::MutexLock lock(&lanes_mu_);
      for (const uint64_t ticket : batch.tickets) {
        const auto it = queued_writes_.find(ticket);
        flight->writes.push_back(std::move(it->second));
        queued_writes_.erase(it);
      }
    }
    {
      absl::MutexLock lock(&flights_->mu);
      ++flights_->n;
    }
    // The latest deadline of its writes: each caller stops waiting at its own.
    Clock::time_point deadline = Clock::now();
    for (const std::shared_ptr<PendingWrite>& w : flight->writes) {
      *flight->request.add_writes() = w->write;
      deadline = std::max(deadline, w->deadline);
    }
    flight->context.set_deadline(ToSystem(deadline));
    const Connection connection = Connect(flight->address);
    Flight* f = flight.release();
    connection.kv->async()->WriteBatch(
        &f->context, &f->request, &f->response, [this, f, flights = flights_](grpc::Status status) {
          std::unique_ptr<Flight> owned(f);
          for (size_t j = 0; j < f->writes.size(); ++j) {
            PendingWrite& w = *f->writes[j];
            w.result = ItemResult(status, f->context, f->response.results(), j, f->writes.size());
            w.done.Notify();
          }
          std::optional<client::WriteLanes::Batch> next;
          {
            absl::MutexLock lock(&lanes_mu_);
            next = lanes_.Finished(f->address);
          }
          if (next.has_value()) SendBatch(*std::move(next));
          owned.reset();
          absl::MutexLock lock(&flights->mu);
          --flights->n;
        });
  }

  // A generator for one call's jitter (Random is not thread-safe; the client's is under mu_).
  Random ForkRandom() {
    absl::MutexLock lock(&mu_);
    return random_.Fork();
  }

  // Sleeps for the next backoff delay, but not past `deadline`.
  static void Sleep(Backoff& backoff, Clock::time_point deadline) {
    const Clock::time_point wake = Clock::now() + std::chrono::microseconds(backoff.NextDelayUs());
    std::this_thread::sleep_until(Earliest(wake, deadline));
  }

  Backoff MakeBackoff(Random* random) const {
    return Backoff(
        std::chrono::duration_cast<std::chrono::microseconds>(options_.backoff_initial).count(),
        std::chrono::duration_cast<std::chrono::microseconds>(options_.backoff_max).count(),
        random);
  }

  // One attempt of `rpc` at `address`: connects first (so a failed connection is known not to
  // have sent anything), then calls with `attempt_deadline`.
  template <typename Service, typename Rpc>
  AttemptResult Attempt(const std::string& address, Clock::time_point deadline,
                        Clock::time_point attempt_deadline, const Rpc& rpc) {
    const Connection connection = Connect(address);
    if (!EnsureConnected(*connection.channel,
                         Earliest(deadline, Clock::now() + options_.attempt_timeout))) {
      AttemptResult result;
      result.code = absl::StatusCode::kUnavailable;
      result.message = "cannot connect";
      result.sent = false;
      return result;
    }
    grpc::ClientContext context;
    context.set_deadline(ToSystem(attempt_deadline));
    const grpc::Status status = rpc(connection.template stub<Service>(), context);
    return ResultOf(status, context);
  }

  // Runs a placement RPC at the placement leader (reads only: retried after any transient error).
  absl::Status CallPlacement(const PlacementRpc& rpc, Clock::time_point deadline) {
    Random random = ForkRandom();
    Backoff backoff = MakeBackoff(&random);
    absl::Status last = absl::UnavailableError("no placement replica was tried");
    int attempts = 0;
    int hops = 0;
    while (Clock::now() < deadline) {
      std::string address;
      {
        absl::MutexLock lock(&mu_);
        address = placement_target_;
      }
      ++attempts;
      const AttemptResult result = Attempt<proto::Placement>(
          address, deadline, Earliest(deadline, Clock::now() + options_.attempt_timeout), rpc);
      const Decision decision = client::Decide(CallKind::kRead, result, address);
      const absl::Status status(result.code,
                                absl::StrCat("placement at ", address, ": ", result.message));
      if (decision.action == Action::kReturn) return status;
      last = status;
      {
        absl::MutexLock lock(&mu_);
        if (decision.action == Action::kFollowLeader) {
          placement_target_ = decision.leader;
        } else if (placement_target_ == address) {
          placement_target_ = NextPlacementAddress(address);
        }
      }
      // A few hops to a named leader at once, then back off (leadership in flux).
      if (decision.action == Action::kFollowLeader && ++hops <= 2) continue;
      hops = 0;
      Sleep(backoff, deadline);
    }
    return absl::DeadlineExceededError(absl::StrCat("placement not reached before the deadline (",
                                                    attempts,
                                                    " attempts); last error: ", last.ToString()));
  }

  // The placement address after `address` in the configured list (round robin).
  std::string NextPlacementAddress(const std::string& address) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const auto it = std::find(placement_addresses_.begin(), placement_addresses_.end(), address);
    if (it == placement_addresses_.end() || it + 1 == placement_addresses_.end()) {
      return placement_addresses_.front();
    }
    return *(it + 1);
  }

  // TxnTransport: the cached location of `key`, else placement's. A stale answer is safe: every
  // request carries the range's group and generation, the server refuses one that is not current
  // for all its keys, and the refreshed location then shows the key moved (ABORTED, retried).
  absl::StatusOr<Location> Locate(const std::string& key, Clock::time_point deadline) override {
    {
      absl::MutexLock lock(&mu_);
      if (std::optional<Location> cached = cache_.Lookup(key)) return *std::move(cached);
    }
    return LocateAtPlacement(key, deadline);
  }

  // Asks placement where `key` lives and caches the answer.
  absl::StatusOr<Location> LocateAtPlacement(const std::string& key, Clock::time_point deadline) {
    proto::LocateRequest request;
    request.set_key(key);
    proto::LocateResponse reply;
    absl::Status status = CallPlacement(
        [&](proto::Placement::Stub& stub, grpc::ClientContext& context) {
          reply.Clear();
          return stub.Locate(&context, request, &reply);
        },
        deadline);
    if (!status.ok()) return status;
    Location location{reply.range().start(),
                      reply.range().end(),
                      reply.range().group(),
                      reply.range().generation(),
                      {},
                      reply.leader_address()};
    for (const proto::ServerInfo& server : reply.replicas()) {
      location.replica_addresses.push_back(server.address());
    }
    absl::MutexLock lock(&mu_);
    cache_.Update(location);
    return location;
  }

  static absl::Status RangeMoved(const std::string& key, uint64_t expected, uint64_t now) {
    return absl::AbortedError(absl::StrCat("the range of key '", EscapeBytes(key),
                                           "' moved from group ", expected, " to group ", now));
  }

  // CallLeader for the Txn service: fills `range` from the location used, records its group in
  // `*group_used` (may be null), and answers ABORTED without sending when the key is no longer in
  // `group` (unless 0).
  absl::Status CallTxnLeader(
      CallKind kind, uint64_t group, const std::string& key, Clock::time_point deadline,
      uint64_t* group_used,
      const std::function<grpc::Status(proto::Txn::Stub&, grpc::ClientContext&)>& rpc,
      proto::RangeRef* range) {
    return CallLeader<proto::Txn>(
        kind, key, deadline,
        [&](proto::Txn::Stub& stub, grpc::ClientContext& context, const Location& at) {
          if (group_used != nullptr) *group_used = at.group;
          if (group != 0 && at.group != group) {
            const absl::Status moved = RangeMoved(key, group, at.group);
            return grpc::Status(grpc::StatusCode::ABORTED, std::string(moved.message()));
          }
          SetRange(at, range);
          return rpc(stub, context);
        });
  }

  // What a call ends with when `decision` ends it (kReturn, kOutcomeUnknown); nullopt when the
  // call goes on elsewhere. `status` is the attempt's result named by its group and address.
  static std::optional<absl::Status> Settled(const Decision& decision, const AttemptResult& result,
                                             const absl::Status& status) {
    switch (decision.action) {
      case Action::kReturn:
        return result.code == absl::StatusCode::kOk ? absl::OkStatus() : status;
      case Action::kOutcomeUnknown:
        return OutcomeUnknown(result.code, status);
      case Action::kFollowLeader:
      case Action::kRefreshAndRetry:
        break;
    }
    return std::nullopt;
  }

  static absl::Status OutcomeUnknown(absl::StatusCode code, const absl::Status& status) {
    return MarkOutcomeUnknown(
        absl::Status(code, absl::StrCat("outcome unknown: the write may or may not have been "
                                        "applied (",
                                        status.message(), ")")));
  }

  // What a failed attempt at `address` for `key` in `group` teaches the cache: the leader it
  // named, a stale range, or a server that could not be reached.
  void Learn(const Decision& decision, const AttemptResult& result, uint64_t group,
             const std::string& key, const std::string& address) {
    absl::MutexLock lock(&mu_);
    if (decision.action == Action::kFollowLeader) {
      cache_.SetLeader(group, decision.leader);
      return;
    }
    if (result.stale_map) cache_.Invalidate(key);
    if (!result.sent) cache_.ForgetLeader(group, address);
  }

  // Runs `rpc` at the leader of the group holding `key`, following the retry rules of client.h.
  template <typename Service>
  absl::Status CallLeader(CallKind kind, const std::string& key, Clock::time_point deadline,
                          const LeaderRpc<Service>& rpc) {
    return CallLeaderWith(
        kind, key, deadline,
        [&](const std::string& address, const Location& at, Clock::time_point attempt_deadline) {
          return Attempt<Service>(address, deadline, attempt_deadline,
                                  [&](typename Service::Stub& stub, grpc::ClientContext& context) {
                                    return rpc(stub, context, at);
                                  });
        });
  }

  // One attempt of a call at `address` (the leader believed to hold `at`), with its deadline.
  using LeaderAttempt = std::function<AttemptResult(const std::string& address, const Location& at,
                                                    Clock::time_point attempt_deadline)>;

  // CallLeader with each attempt made by `attempt`.
  absl::Status CallLeaderWith(CallKind kind, const std::string& key, Clock::time_point deadline,
                              const LeaderAttempt& attempt) {
    const bool write = kind == CallKind::kWrite;
    Random random = ForkRandom();
    Backoff backoff = MakeBackoff(&random);
    absl::Status last = absl::UnavailableError("no server was tried");
    std::string hint;                   // a leader named by "meridian-leader"
    bool refresh = false;               // ask placement instead of the cache
    std::set<std::string> unreachable;  // for reads: replicas that failed to connect
    size_t next_replica = 0;
    int attempts = 0;
    int hops = 0;
    while (Clock::now() < deadline) {
      std::optional<Location> location;
      if (!refresh) {
        absl::MutexLock lock(&mu_);
        location = cache_.Lookup(key);
      }
      refresh = false;
      if (!location.has_value()) {
        absl::StatusOr<Location> located = LocateAtPlacement(key, deadline);
        if (!located.ok()) {
          const absl::Status& s = located.status();
          const bool transient = s.code() == absl::StatusCode::kUnavailable ||
                                 s.code() == absl::StatusCode::kDeadlineExceeded;
          if (write && transient) {
            return absl::UnavailableError(
                absl::StrCat("not applied: cannot locate the key: ", s.ToString()));
          }
          return s;
        }
        location = *std::move(located);
      }
      std::string address = hint.empty() ? location->leader_address : hint;
      if (!write && (address.empty() || unreachable.contains(address))) {
        // Any replica will do for a read: a follower names the leader.
        address.clear();
        for (size_t i = 0; i < location->replica_addresses.size() && address.empty(); ++i) {
          const std::string& candidate =
              location->replica_addresses[(next_replica + i) % location->replica_addresses.size()];
          if (!unreachable.contains(candidate)) address = candidate;
        }
        ++next_replica;
        if (address.empty()) unreachable.clear();
      }
      if (address.empty()) {
        last = absl::UnavailableError(
            absl::StrCat("no reachable leader known for group ", location->group));
        refresh = true;
        Sleep(backoff, deadline);
        continue;
      }
      ++attempts;
      const Clock::time_point attempt_deadline =
          write ? deadline : Earliest(deadline, Clock::now() + options_.attempt_timeout);
      const AttemptResult result = attempt(address, *location, attempt_deadline);
      const Decision decision = client::Decide(kind, result, address);
      const absl::Status status(result.code, absl::StrCat("group ", location->group, " at ",
                                                          address, ": ", result.message));
      if (std::optional<absl::Status> done = Settled(decision, result, status)) return *done;
      last = status;
      Learn(decision, result, location->group, key, address);
      if (decision.action == Action::kFollowLeader) {
        hint = decision.leader;
        if (++hops <= 2) continue;  // a few hops at once, then back off (leaders in flux)
      } else {                      // kRefreshAndRetry
        hint.clear();
        if (!result.sent) unreachable.insert(address);
        refresh = true;
      }
      hops = 0;
      Sleep(backoff, deadline);
    }
    if (write) {
      return absl::UnavailableError(
          absl::StrCat("not applied: no attempt was accepted before the "
                       "deadline (",
                       attempts, " attempts); last error: ", last.ToString()));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("deadline passed (", attempts, " attempts); last error: ", last.ToString()));
  }

  // The first attempt as an asynchronous RPC to the leader the cache names (when its channel is
  // connected); Finish() waits for it, and when it was not sent or must go elsewhere (another
  // leader, a refreshed map) carries on as Commit() would, with Commit().
  class GrpcPendingCommit final : public client::TxnTransport::PendingCommit {
   public:
    GrpcPendingCommit(Impl* impl, uint64_t group, std::string key, proto::TxnCommitRequest& request,
                      proto::TxnCommitResponse* response, Clock::time_point deadline)
        : impl_(impl),
          group_(group),
          key_(std::move(key)),
          request_(request),
          response_(response),
          deadline_(deadline) {}
    ~GrpcPendingCommit() override { WaitForAnswer(); }

    // Sends the first attempt, when the cache names a leader with a connected channel.
    void Start() {
      std::optional<Location> location;
      {
        absl::MutexLock lock(&impl_->mu_);
        location = impl_->cache_.Lookup(key_);
      }
      if (!location.has_value() || location->group != group_ || location->leader_address.empty()) {
        return;
      }
      connection_ = impl_->Connect(location->leader_address);
      if (connection_.channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) return;
      address_ = location->leader_address;
      SetRange(*location, request_.mutable_range());
      response_->Clear();
      context_.set_deadline(ToSystem(deadline_));
      connection_.txn->async()->Commit(&context_, &request_, response_, [this](grpc::Status s) {
        status_ = std::move(s);
        answered_.Notify();
      });
    }

    absl::Status Finish() override {
      if (address_.empty()) {
        return impl_->Commit(group_, key_, request_, response_, deadline_);
      }
      WaitForAnswer();
      const AttemptResult result = ResultOf(status_, context_);
      const Decision decision = client::Decide(CallKind::kWrite, result, address_);
      const absl::Status status(
          result.code, absl::StrCat("group ", group_, " at ", address_, ": ", result.message));
      if (std::optional<absl::Status> done = Settled(decision, result, status)) return *done;
      // Certainly not taken there: learn where to go, and go on as Commit() does.
      impl_->Learn(decision, result, group_, key_, address_);
      return impl_->Commit(group_, key_, request_, response_, deadline_);
    }

   private:
    void WaitForAnswer() {
      if (!address_.empty()) answered_.WaitForNotification();
    }

    Impl* const impl_;
    const uint64_t group_;
    const std::string key_;
    proto::TxnCommitRequest& request_;
    proto::TxnCommitResponse* const response_;
    const Clock::time_point deadline_;
    Connection connection_;
    std::string address_;  // where the first attempt went; empty when it was not sent
    grpc::ClientContext context_;
    absl::Notification answered_;  // the first attempt ended (when it was sent)
    grpc::Status status_;          // its status, once answered_
  };

  const ClientOptions options_;
  const std::vector<std::string> placement_addresses_;

  absl::Mutex mu_;
  Random random_ ABSL_GUARDED_BY(mu_);
  LocationCache cache_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Connection> channels_ ABSL_GUARDED_BY(mu_);
  std::string placement_target_ ABSL_GUARDED_BY(mu_);  // where placement calls go first
  // Put and Delete (LaneWrite): the lanes, the writes they queue by ticket, and the servers that
  // answered a WriteBatch with UNIMPLEMENTED.
  absl::Mutex lanes_mu_;
  client::WriteLanes lanes_ ABSL_GUARDED_BY(lanes_mu_);
  absl::flat_hash_map<uint64_t, std::shared_ptr<PendingWrite>> queued_writes_
      ABSL_GUARDED_BY(lanes_mu_);
  uint64_t next_ticket_ ABSL_GUARDED_BY(lanes_mu_) = 1;
  const std::shared_ptr<FlightCount> flights_ = std::make_shared<FlightCount>();
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
      options.backoff_initial.count() <= 0 || options.backoff_max.count() <= 0) {
    return absl::InvalidArgumentError(
        "deadline, attempt_timeout and backoff times must be positive");
  }
  if (options.write_batches_in_flight < 1) {
    return absl::InvalidArgumentError("write_batches_in_flight must be at least 1");
  }
  return std::unique_ptr<Client>(
      new Client(std::make_unique<Impl>(std::move(placement_addresses), options)));
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

absl::Status Client::RemoveServer(uint64_t server_id) { return impl_->RemoveServer(server_id); }

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

}  // namespace meridian
