#include "client/src/grpc_txn_transport.h"

#include <utility>

#include "client/src/connections.h"
#include "client/src/pending_commit.h"
#include "client/src/prepare_fanout.h"

namespace meridian::client {
namespace {

RoutePolicy AtLeader(CallKind kind, uint64_t group) { return {kind, Replicas::kLeader, group}; }

// Runs the Txn RPC `rpc` for `key` as `policy` says. Each attempt names the range it goes to in
// `range` and its group in `*group_used` (may be null).
template <typename Rpc>
absl::Status CallTxn(Router& router, ConnectionPool& pool, const RoutePolicy& policy,
                     const std::string& key, SteadyTime deadline, proto::RangeRef* range,
                     const Rpc& rpc, uint64_t* group_used = nullptr) {
  return router.Call(
      policy, key, deadline,
      [&](const std::string& address, const Location& at, SteadyTime attempt_deadline) {
        return pool.Attempt<proto::Txn>(address, deadline, attempt_deadline,
                                        [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                                          if (group_used != nullptr) *group_used = at.group;
                                          SetRange(at, range);
                                          return rpc(stub, context);
                                        });
      });
}

}  // namespace

absl::StatusOr<Location> GrpcTxnTransport::Locate(const std::string& key, SteadyTime deadline) {
  return router_->Locate(key, deadline);
}

absl::Status GrpcTxnTransport::Read(uint64_t group, const std::string& key,
                                    proto::TxnReadRequest& request,
                                    proto::TxnReadResponse* response, SteadyTime deadline,
                                    uint64_t* group_used) {
  return CallTxn(
      *router_, *pool_, AtLeader(CallKind::kRead, group), key, deadline, request.mutable_range(),
      [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
        response->Clear();
        return stub.Read(&context, request, response);
      },
      group_used);
}

absl::Status GrpcTxnTransport::Prepare(uint64_t group, const std::string& key,
                                       proto::TxnPrepareRequest& request,
                                       proto::TxnPrepareResponse* response, SteadyTime deadline) {
  return CallTxn(*router_, *pool_, AtLeader(CallKind::kWrite, group), key, deadline,
                 request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   response->Clear();
                   return stub.Prepare(&context, request, response);
                 });
}

void GrpcTxnTransport::PrepareAll(std::vector<PrepareCall>& calls, SteadyTime deadline,
                                  const std::function<void()>& sent) {
  const std::vector<size_t> again = SendFirstPrepares(*router_, *pool_, calls, deadline, sent);
  if (again.empty()) return;
  std::vector<PrepareCall> rest;
  rest.reserve(again.size());
  for (size_t i : again) rest.push_back(std::move(calls[i]));
  TxnTransport::PrepareAll(rest, deadline);  // Prepare() each, on threads
  for (size_t j = 0; j < again.size(); ++j) calls[again[j]] = std::move(rest[j]);
}

absl::Status GrpcTxnTransport::Commit(uint64_t group, const std::string& key,
                                      proto::TxnCommitRequest& request,
                                      proto::TxnCommitResponse* response, SteadyTime deadline) {
  return CallTxn(*router_, *pool_, AtLeader(CallKind::kWrite, group), key, deadline,
                 request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   response->Clear();
                   return stub.Commit(&context, request, response);
                 });
}

std::unique_ptr<TxnTransport::PendingCommit> GrpcTxnTransport::StartCommit(
    uint64_t group, const std::string& key, proto::TxnCommitRequest& request,
    proto::TxnCommitResponse* response, SteadyTime deadline) {
  auto commit = [this, group, key, &request, response, deadline] {
    return Commit(group, key, request, response, deadline);
  };
  return StartPendingCommit(*router_, *pool_, std::move(commit), group, key, request, response,
                            deadline);
}

absl::Status GrpcTxnTransport::Abort(uint64_t group, const std::string& key,
                                     proto::TxnAbortRequest& request, SteadyTime deadline) {
  return CallTxn(*router_, *pool_, AtLeader(CallKind::kRead, group), key, deadline,
                 request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   proto::TxnAbortResponse response;
                   return stub.Abort(&context, request, &response);
                 });
}

absl::Status GrpcTxnTransport::Keepalive(uint64_t group, const std::string& key,
                                         proto::TxnKeepaliveRequest& request, SteadyTime deadline) {
  return CallTxn(*router_, *pool_, AtLeader(CallKind::kRead, group), key, deadline,
                 request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   proto::TxnKeepaliveResponse response;
                   return stub.Keepalive(&context, request, &response);
                 });
}

absl::Status GrpcTxnTransport::ReadOnly(uint64_t group, const std::string& key,
                                        proto::ReadOnlyRequest& request,
                                        proto::SnapshotReadResponse* response,
                                        SteadyTime deadline) {
  return CallTxn(*router_, *pool_, AtLeader(CallKind::kRead, group), key, deadline,
                 request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   response->Clear();
                   return stub.ReadOnly(&context, request, response);
                 });
}

absl::Status GrpcTxnTransport::SnapshotRead(uint64_t group, const std::string& key,
                                            bool leader_first, proto::SnapshotReadRequest& request,
                                            proto::SnapshotReadResponse* response,
                                            SteadyTime deadline) {
  const RoutePolicy policy{
      CallKind::kRead, leader_first ? Replicas::kAnyLeaderFirst : Replicas::kAnyLeaderLast, group};
  return CallTxn(*router_, *pool_, policy, key, deadline, request.mutable_range(),
                 [&](proto::Txn::Stub& stub, grpc::ClientContext& context) {
                   response->Clear();
                   return stub.SnapshotRead(&context, request, response);
                 });
}

}  // namespace meridian::client
