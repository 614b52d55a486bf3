// The gRPC side that every adapter of the client shares: one channel (and stubs) per server
// address, the context every RPC starts with, and how an RPC, or one item of a batch RPC, ended as
// the retry policy (retry_policy.h) sees it.
//
// It includes gRPC and the generated stubs: include it only from the adapters' .cc files (the
// pure parts — router.h, txn_engine.h, write_lanes.h — never need it).
//
// Thread safety: ConnectionPool is thread-safe (its mutex is never held across an RPC); the
// functions are pure.
#ifndef MERIDIAN_CLIENT_SRC_CONNECTIONS_H_
#define MERIDIAN_CLIENT_SRC_CONNECTIONS_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/src/location_cache.h"
#include "client/src/retry_policy.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "proto/txn.grpc.pb.h"

namespace meridian {
struct ClientTlsOptions;
}  // namespace meridian

namespace meridian::client {

using Clock = std::chrono::steady_clock;

// A batch RPC (WriteBatch, PrepareBatch) carries, past its first item, at most this many bytes:
// well under gRPC's 4 MiB message limit.
inline constexpr size_t kMaxBatchBytes = 1 << 20;

// gRPC takes deadlines on the system clock; the client measures them on the steady one.
std::chrono::system_clock::time_point ToSystem(Clock::time_point t);

// Sets up `context` for an RPC that must end by `deadline`. Every RPC of the client starts here.
void StartContext(grpc::ClientContext* context, Clock::time_point deadline);

// Names the range `at` in a request: the server refuses it unless `at` is current.
inline void SetRange(const Location& at, proto::RangeRef* range) {
  range->set_group(at.group);
  range->set_generation(at.generation);
}

// True once `channel` is connected; false when it failed to connect or `deadline` passed first.
bool EnsureConnected(grpc::Channel& channel, Clock::time_point deadline);

// Mutual-TLS channel credentials from the PEM files `tls` names, or insecure ones when it names
// no CA. NOT_FOUND or INVALID_ARGUMENT naming a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const ClientTlsOptions& tls);

// An attempt that certainly never reached the server.
AttemptResult NotSent(absl::StatusCode code, std::string message);

// How an RPC ended, with the routing markers of its trailing metadata.
AttemptResult ResultOf(const grpc::Status& status, const grpc::ClientContext& context);

// Item `j` of `n` of a batch RPC that ended with `status`: the RPC's own result when it failed,
// else the item's code, message and routing markers (TxnPrepareResult, KvWriteResult), as the
// status and trailers of a call of its own would have carried them.
template <typename Item>
AttemptResult ItemResult(const grpc::Status& status, const grpc::ClientContext& context,
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

// The channel to one server and its stubs, shared by every call (stubs are thread-safe; creating
// one per call registers its methods with the channel each time).
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

// The client's connections, one per address, created at first use and kept for its lifetime.
class ConnectionPool {
 public:
  // A connection attempt gives up after `connect_timeout` (ClientOptions::attempt_timeout).
  // Every channel uses `credentials` (ChannelCredentialsFor).
  ConnectionPool(std::chrono::milliseconds connect_timeout,
                 std::shared_ptr<grpc::ChannelCredentials> credentials)
      : connect_timeout_(connect_timeout), credentials_(std::move(credentials)) {}

  Connection Get(const std::string& address);

  // True once the channel to `address` is connected, waiting at most the connect timeout (and
  // not past `deadline`).
  bool Connected(const Connection& connection, Clock::time_point deadline) const {
    return EnsureConnected(*connection.channel,
                           std::min(deadline, Clock::now() + connect_timeout_));
  }

  // One attempt of `rpc` at `address`: connects first (so a failed connection is known not to
  // have sent anything), then calls with `attempt_deadline`.
  template <typename Service, typename Rpc>
  AttemptResult Attempt(const std::string& address, Clock::time_point deadline,
                        Clock::time_point attempt_deadline, const Rpc& rpc) {
    const Connection connection = Get(address);
    if (!Connected(connection, deadline)) {
      return NotSent(absl::StatusCode::kUnavailable, "cannot connect");
    }
    grpc::ClientContext context;
    StartContext(&context, attempt_deadline);
    const grpc::Status status = rpc(connection.template stub<Service>(), context);
    return ResultOf(status, context);
  }

 private:
  const std::chrono::milliseconds connect_timeout_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Connection> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_CONNECTIONS_H_
