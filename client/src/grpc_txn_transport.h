// The gRPC TxnTransport (txn_engine.h): the Txn service's RPCs, each routed by Router::Call —
// at the leader of its group, except SnapshotRead, which any replica serves. Prepares fan out in
// batches (prepare_fanout.h) and a Commit can start before its prepares are answered
// (pending_commit.h).
//
// Thread safety: thread-safe, as TxnTransport requires.
#ifndef MERIDIAN_CLIENT_SRC_GRPC_TXN_TRANSPORT_H_
#define MERIDIAN_CLIENT_SRC_GRPC_TXN_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/src/router.h"
#include "client/src/txn_engine.h"

namespace meridian::client {

class ConnectionPool;

class GrpcTxnTransport final : public TxnTransport {
 public:
  // `router` and `pool` outlive the transport.
  GrpcTxnTransport(Router* router, ConnectionPool* pool) : router_(router), pool_(pool) {}

  absl::StatusOr<Location> Locate(const std::string& key, SteadyTime deadline) override;
  absl::Status Read(uint64_t group, const std::string& key, proto::TxnReadRequest& request,
                    proto::TxnReadResponse* response, SteadyTime deadline,
                    uint64_t* group_used) override;
  absl::Status Prepare(uint64_t group, const std::string& key, proto::TxnPrepareRequest& request,
                       proto::TxnPrepareResponse* response, SteadyTime deadline) override;
  void PrepareAll(std::vector<PrepareCall>& calls, SteadyTime deadline,
                  const std::function<void()>& sent) override;
  absl::Status Commit(uint64_t group, const std::string& key, proto::TxnCommitRequest& request,
                      proto::TxnCommitResponse* response, SteadyTime deadline) override;
  std::unique_ptr<PendingCommit> StartCommit(uint64_t group, const std::string& key,
                                             proto::TxnCommitRequest& request,
                                             proto::TxnCommitResponse* response,
                                             SteadyTime deadline) override;
  absl::Status Abort(uint64_t group, const std::string& key, proto::TxnAbortRequest& request,
                     SteadyTime deadline) override;
  absl::Status Keepalive(uint64_t group, const std::string& key,
                         proto::TxnKeepaliveRequest& request, SteadyTime deadline) override;
  absl::Status ReadOnly(uint64_t group, const std::string& key, proto::ReadOnlyRequest& request,
                        proto::SnapshotReadResponse* response, SteadyTime deadline) override;
  absl::Status SnapshotRead(uint64_t group, const std::string& key, bool leader_first,
                            proto::SnapshotReadRequest& request,
                            proto::SnapshotReadResponse* response, SteadyTime deadline) override;

 private:
  Router* const router_;
  ConnectionPool* const pool_;
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_GRPC_TXN_TRANSPORT_H_
