// PlacementClient: the spanserver's blocking client of placementd (Register, Heartbeat).
//
// placementd is a Paxos group of 1 or 3 replicas; only its leader answers. A call goes to the
// replica believed to lead; an UNAVAILABLE reply with trailing metadata "meridian-leader" moves
// the call to that address at once (a few hops at most), any other failure moves the next call to
// the next configured address. The topology's placement_leader (SetLeaderHint) also steers it.
//
// Thread safety: all methods are thread-safe; calls block up to their timeout, so use them from a
// thread of the server's own (never a gRPC handler or an Asio strand).
#ifndef MERIDIAN_SPANSERVER_SERVER_PLACEMENT_CLIENT_H_
#define MERIDIAN_SPANSERVER_SERVER_PLACEMENT_CLIENT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/placement.pb.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace meridian::spanserver {

class PlacementClient {
 public:
  // `addresses`: host:port of every placement replica (non-empty).
  // Every call goes over a channel with `credentials` (replication/grpc_tls.h).
  PlacementClient(std::vector<std::string> addresses,
                  std::shared_ptr<grpc::ChannelCredentials> credentials);
  ~PlacementClient();
  PlacementClient(const PlacementClient&) = delete;
  PlacementClient& operator=(const PlacementClient&) = delete;

  // The reply, or the last attempt's error as an absl::Status (code kept).
  absl::StatusOr<proto::RegisterResponse> Register(const proto::RegisterRequest& request,
                                                   absl::Duration timeout);
  absl::StatusOr<proto::HeartbeatResponse> Heartbeat(const proto::HeartbeatRequest& request,
                                                     absl::Duration timeout);

  // Prefer `address` for the next call (e.g. the topology's placement_leader). Empty: no-op.
  void SetLeaderHint(const std::string& address);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_PLACEMENT_CLIENT_H_
