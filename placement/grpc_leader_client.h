// GrpcLeaderClient: asks a data group's leader, over gRPC, to hand the group's leadership to
// another replica (proto/kv.proto Kv.TransferLeader), for the balancer's leader moves. One
// attempt per call, at the address given, with a deadline of call_timeout_us; the answer is the
// server's (UNAVAILABLE when it is not the group's leader any more: the balancer plans afresh).
// Shutdown() cancels the call under way and fails later ones with CANCELLED.
//
// Thread safety: thread-safe. gRPC stays out of this header (pimpl).
#ifndef MERIDIAN_PLACEMENT_GRPC_LEADER_CLIENT_H_
#define MERIDIAN_PLACEMENT_GRPC_LEADER_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "common/tls.h"

namespace meridian::placement {

class GrpcLeaderClient {
 public:
  // Calls go over channels with `tls` (replication/grpc_tls.h).
  explicit GrpcLeaderClient(const TlsOptions& tls = {}, int64_t call_timeout_us = 5'000'000);
  ~GrpcLeaderClient();
  GrpcLeaderClient(const GrpcLeaderClient&) = delete;
  GrpcLeaderClient& operator=(const GrpcLeaderClient&) = delete;

  // Asks the server at `address` (its client address) to hand `group` over to server `target`.
  absl::Status TransferLeader(const std::string& address, uint64_t group, uint64_t target);
  // Cancels the call under way; every later call fails with CANCELLED. Idempotent.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_GRPC_LEADER_CLIENT_H_
