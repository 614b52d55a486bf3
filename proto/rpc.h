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
// peer frames. Processes of different versions refuse each other's traffic instead of
// half-understanding it: peer frames carry it (PaxosBatch.protocol_version), and gRPC calls carry
// it as metadata kProtocolMetadataKey = its decimal text. Raised on any change that an older
// process would misread. 2: compaction points and configuration slots in Paxos messages, config
// entries, snapshots. 3: ownership records in data groups' logs (range moves and splits),
// learners and strangers answered in phase 1, the Movement service. 4: scans in transactions
// (an older server would answer a scan as a read of no keys), read ranges in prepare records.
inline constexpr uint32_t kProtocolVersion = 4;
inline constexpr char kProtocolMetadataKey[] = "meridian-protocol";
inline constexpr char kProtocolVersionText[] = "4";
static_assert(kProtocolVersion == 4, "kProtocolVersionText must say kProtocolVersion");

// UNAVAILABLE from a replica that is not the leader: the leader's address (may be empty).
inline constexpr char kLeaderMetadataKey[] = "meridian-leader";
// UNAVAILABLE from a server that does not own the range at the request's generation.
inline constexpr char kStaleMapMetadataKey[] = "meridian-stale-map";

inline grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// A call may go on unless its metadata names another protocol version: then FAILED_PRECONDITION
// naming both. A call without the key (a tool speaking gRPC directly) goes on.
template <typename Metadata>
absl::Status CheckProtocol(const Metadata& client_metadata) {
  const auto it = client_metadata.find(kProtocolMetadataKey);
  if (it == client_metadata.end()) return absl::OkStatus();
  const std::string theirs(it->second.data(), it->second.length());
  if (theirs == kProtocolVersionText) return absl::OkStatus();
  return absl::FailedPreconditionError("the caller speaks Meridian protocol version " + theirs +
                                       ", this server version " + kProtocolVersionText +
                                       ": use clients and servers of the same Meridian version");
}

// For a callback handler: true when the call may go on; else finishes it with CheckProtocol's
// error.
template <typename Context, typename Reactor>
bool AdmitProtocol(Context* ctx, Reactor* reactor) {
  const absl::Status status = CheckProtocol(ctx->client_metadata());
  if (status.ok()) return true;
  reactor->Finish(ToGrpc(status));
  return false;
}

inline absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace meridian::rpc

#endif  // MERIDIAN_PROTO_RPC_H_
