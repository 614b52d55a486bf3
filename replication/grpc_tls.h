// gRPC credentials from common/tls.h's TlsOptions, and the identity and authorization of a
// caller. Servers built with ServerCredentials require a client certificate signed by the
// cluster's CA (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY); channels built with
// ChannelCredentials present this process's certificate and verify the server's against the CA
// and the dialed address (the node certificate's subjectAltNames).
//
// gRPC stays out of this header (forward declarations): spanserver, placement and tools include
// it. Thread safety: pure functions.
#ifndef MERIDIAN_REPLICATION_GRPC_TLS_H_
#define MERIDIAN_REPLICATION_GRPC_TLS_H_

#include <memory>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls.h"

namespace grpc {
class ChannelCredentials;
class ServerContextBase;
class ServerCredentials;
}  // namespace grpc

namespace meridian::replication {

// Mutual TLS when `tls` is enabled, else insecure (plaintext).
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& tls);
std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsOptions& tls);

// The caller's verified certificate identity; nullopt on a plaintext server (no identities).
// INVALID_ARGUMENT when the certificate's subject names no valid identity (common/tls.h).
absl::StatusOr<std::optional<TlsIdentity>> CallerIdentity(const grpc::ServerContextBase& ctx);

// OK when the caller may call the admin RPC `rpc`: a node or admin certificate, or any caller of
// a plaintext server (run --insecure: it authenticates nobody). PERMISSION_DENIED otherwise,
// naming the RPC, the caller and what it would need.
absl::Status AuthorizeAdmin(const grpc::ServerContextBase& ctx, std::string_view rpc);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GRPC_TLS_H_
