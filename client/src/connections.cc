#include "client/src/connections.h"

#include <fstream>
#include <utility>

#include "common/tls.h"
#include "meridian/client.h"
#include "proto/rpc.h"

namespace meridian {

ClientTlsOptions ClientTlsOptions::FromDir(const std::string& dir) {
  const std::string base = dir + (std::ifstream(dir + "/node.crt").good() ? "/node" : "/client");
  return {.ca_cert_file = dir + "/ca.crt", .cert_file = base + ".crt", .key_file = base + ".key"};
}

}  // namespace meridian

namespace meridian::client {

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const ClientTlsOptions& tls) {
  if (tls.ca_cert_file.empty()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<TlsOptions> files = LoadTlsFiles(tls.ca_cert_file, tls.cert_file, tls.key_file);
  if (!files.ok()) return files.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = files->ca_cert_pem;
  options.pem_cert_chain = files->cert_pem;
  options.pem_private_key = files->key_pem;
  return grpc::SslCredentials(options);
}

std::chrono::system_clock::time_point ToSystem(Clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(t - Clock::now());
}

void StartContext(grpc::ClientContext* context, Clock::time_point deadline) {
  context->set_deadline(ToSystem(deadline));
  context->AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
}

bool EnsureConnected(grpc::Channel& channel, Clock::time_point deadline) {
  grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
  while (true) {
    if (state == GRPC_CHANNEL_READY) return true;
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE || state == GRPC_CHANNEL_SHUTDOWN) return false;
    if (!channel.WaitForStateChange(state, ToSystem(deadline))) return false;
    state = channel.GetState(/*try_to_connect=*/true);
  }
}

AttemptResult NotSent(absl::StatusCode code, std::string message) {
  AttemptResult result;
  result.code = code;
  result.message = std::move(message);
  result.sent = false;
  return result;
}

AttemptResult ResultOf(const grpc::Status& status, const grpc::ClientContext& context) {
  AttemptResult result;
  result.code = static_cast<absl::StatusCode>(status.error_code());
  result.message = status.error_message();
  result.sent = !RpcNeverSent(result.code, result.message);
  if (status.ok()) return result;
  const auto& trailers = context.GetServerTrailingMetadata();
  if (const auto it = trailers.find(rpc::kLeaderMetadataKey); it != trailers.end()) {
    result.has_leader_hint = true;
    result.leader_hint.assign(it->second.data(), it->second.size());
  }
  result.stale_map = trailers.find(rpc::kStaleMapMetadataKey) != trailers.end();
  return result;
}

Connection ConnectionPool::Get(const std::string& address) {
  absl::MutexLock lock(&mu_);
  Connection& connection = connections_[address];
  if (connection.channel == nullptr) {
    grpc::ChannelArguments args;
    // Find a restarted server within about a second instead of gRPC's default of minutes.
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
    connection.channel = grpc::CreateCustomChannel(address, credentials_, args);
    connection.kv = proto::Kv::NewStub(connection.channel);
    connection.placement = proto::Placement::NewStub(connection.channel);
    connection.txn = proto::Txn::NewStub(connection.channel);
  }
  return connection;
}

}  // namespace meridian::client
