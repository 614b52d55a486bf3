// GrpcMovementClient: the MovementClient of placementd — proto::Movement calls to the leader of
// a data group, over gRPC, with the protocol version as metadata (proto/rpc.h).
//
// Finding the leader. `resolver` names the group's leader as placement last heard it (liveness)
// and its replicas. A call goes to the leader first, else to the first replica; an answer
// UNAVAILABLE with "meridian-leader" naming another server is followed at once (up to
// kMaxLeaderHops times per call); an UNAVAILABLE without a hint (no leader known there, or the
// group not hosted there), or a replica that cannot be reached within connect_timeout_us, sends
// the call to the next replica not tried yet. Once every replica was tried the call fails
// UNAVAILABLE: the mover backs off and calls again while a new leader is elected. Any other
// answer is the leader's and is returned as it is — so is an UNAVAILABLE whose hint names the
// server that answered (the leader itself asking to be called again: Release's "range busy").
//
// Each attempt has a deadline of call_timeout_us. Shutdown() cancels the calls under way and
// fails later ones with CANCELLED, so that placementd stops promptly.
//
// Thread safety: thread-safe. gRPC stays out of this header (pimpl).
#ifndef MERIDIAN_PLACEMENT_GRPC_MOVEMENT_CLIENT_H_
#define MERIDIAN_PLACEMENT_GRPC_MOVEMENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/tls.h"
#include "placement/movement_client.h"

namespace meridian::placement {

// Where a data group's replicas answer (spanserver client addresses).
struct GroupAddresses {
  std::string leader;                 // "" when placement knows no live leader
  std::vector<std::string> replicas;  // the group's replicas on servers not removed
};
using GroupResolver = std::function<GroupAddresses(uint64_t group)>;

struct GrpcMovementClientOptions {
  int64_t connect_timeout_us = 1'000'000;
  int64_t call_timeout_us = 10'000'000;
  TlsOptions tls;  // of the calls to spanservers (replication/grpc_tls.h)
};

class GrpcMovementClient : public MovementClient {
 public:
  static constexpr int kMaxLeaderHops = 3;

  explicit GrpcMovementClient(GroupResolver resolver, GrpcMovementClientOptions options = {});
  ~GrpcMovementClient() override;
  GrpcMovementClient(const GrpcMovementClient&) = delete;
  GrpcMovementClient& operator=(const GrpcMovementClient&) = delete;

  absl::StatusOr<proto::ExportResponse> Export(const proto::ExportRequest& request) override;
  absl::Status Ingest(const proto::IngestRequest& request) override;
  absl::StatusOr<proto::ReleaseResponse> Release(const proto::ReleaseRequest& request) override;
  absl::StatusOr<proto::AdoptResponse> Adopt(const proto::AdoptRequest& request) override;
  absl::StatusOr<proto::DropResponse> Drop(const proto::DropRequest& request) override;

  // Cancels the calls under way; every later call fails with CANCELLED. Idempotent.
  void Shutdown();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_GRPC_MOVEMENT_CLIENT_H_
