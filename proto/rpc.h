// What Meridian's gRPC services and their callers agree on beyond the .proto files: the trailing
// metadata keys of routing hints (kv.proto, txn.proto and placement.proto say when each is sent)
// and the one mapping of absl::Status to grpc::Status (the codes are the same numbers; the
// message is kept).
//
// Include it only in .cc files: it pulls in grpcpp's status header. Thread safety: constants and
// pure functions.
#ifndef MERIDIAN_PROTO_RPC_H_
#define MERIDIAN_PROTO_RPC_H_

#include <grpcpp/support/status.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace meridian::rpc {

// The version of Meridian's wire protocol: the meaning of every message in proto/ and of the
// peer frames. Processes of different versions refuse each other's traffic (peer frames carry it;
// see PaxosBatch.protocol_version) instead of half-understanding it. Raised on any change that an
// older process would misread.
inline constexpr uint32_t kProtocolVersion = 1;

// UNAVAILABLE from a replica that is not the leader: the leader's address (may be empty).
inline constexpr char kLeaderMetadataKey[] = "meridian-leader";
// UNAVAILABLE from a server that does not own the range at the request's generation.
inline constexpr char kStaleMapMetadataKey[] = "meridian-stale-map";

inline grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace meridian::rpc

#endif  // MERIDIAN_PROTO_RPC_H_
