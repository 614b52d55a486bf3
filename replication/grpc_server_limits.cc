// ApplyGrpcServerLimits; see grpc_server_limits.h.
#include "replication/grpc_server_limits.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>

#include <algorithm>
#include <cstddef>

namespace meridian::replication {

void ApplyGrpcServerLimits(const GrpcServerLimits& limits, grpc::ServerBuilder* builder) {
  grpc::ResourceQuota quota("meridian-server");
  quota.Resize(static_cast<size_t>(std::max<int64_t>(limits.memory_bytes, 1)));
  quota.SetMaxThreads(limits.max_threads);
  builder->SetResourceQuota(quota);
  builder->SetMaxReceiveMessageSize(limits.max_receive_message_bytes);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, limits.keepalive_time_ms);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, limits.keepalive_timeout_ms);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, limits.max_connection_idle_ms);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, limits.max_connection_age_ms);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                              limits.max_connection_age_grace_ms);
}

}  // namespace meridian::replication
