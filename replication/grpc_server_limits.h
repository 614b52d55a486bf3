// GrpcServerLimits: the resource bounds every Meridian gRPC server (spanserver, placementd) is
// built with, so that one misbehaving or malicious client, or many dead ones, cannot take the
// process's memory, threads or connections:
//  - a grpc::ResourceQuota: the memory gRPC may take for connections and calls, and the threads
//    it may start (near the memory bound gRPC shrinks its buffers and refuses new work rather
//    than letting the process grow until the kernel kills it);
//  - at most max_concurrent_streams calls in flight per connection (HTTP/2
//    SETTINGS_MAX_CONCURRENT_STREAMS): further calls wait in the client, queued behind the
//    connection's open ones, while other connections are served;
//  - requests larger than max_receive_message_bytes are refused with RESOURCE_EXHAUSTED before
//    any handler sees them (the connection and the server stay up);
//  - keepalive pings on connections with calls in flight close a connection whose client stopped
//    answering (a dead host, a cut link) within keepalive_time + keepalive_timeout; a connection
//    with no calls for max_connection_idle is closed, and every connection is asked to reconnect
//    after max_connection_age (calls in flight then get max_connection_age_grace to finish).
//    gRPC clients reconnect on their own: a live client sees none of this.
//
// The defaults are the constants below, chosen for this codebase's traffic: the SDK multiplexes
// all of a process's calls to one server over one connection (a `meridian workload` at 64
// threads keeps about 64 in flight, a 2PC's prepares one per group), the largest request a
// client sends is a WriteBatch or a Commit with its writes (values are at most 1 MiB,
// common/limits.h), and placementd's own Paxos traffic rides the same server with messages up
// to 64 MiB (replication/grpc_transport.cc raises that server's receive limit to it).
// Operators tune only the memory (--grpc_memory_mb on both servers).
//
// gRPC stays out of this header (a forward declaration): spanserver and placement include it.
// Thread safety: a plain struct and a function of it.
#ifndef MERIDIAN_REPLICATION_GRPC_SERVER_LIMITS_H_
#define MERIDIAN_REPLICATION_GRPC_SERVER_LIMITS_H_

#include <cstdint>

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace meridian::replication {

inline constexpr int64_t kDefaultGrpcMemoryBytes = int64_t{1} << 30;
inline constexpr int kDefaultGrpcMaxThreads = 64;
inline constexpr int kDefaultGrpcMaxConcurrentStreams = 512;
// gRPC's own default for servers, made explicit: every request Meridian's clients send today
// fits well within it.
inline constexpr int kDefaultGrpcMaxReceiveMessageBytes = 4 << 20;
inline constexpr int kDefaultGrpcKeepaliveTimeMs = 60'000;
inline constexpr int kDefaultGrpcKeepaliveTimeoutMs = 20'000;
inline constexpr int kDefaultGrpcMaxConnectionIdleMs = 30 * 60'000;
inline constexpr int kDefaultGrpcMaxConnectionAgeMs = 2 * 3'600'000;
// Long enough for a snapshot or range copy stream that started just before the age ran out.
inline constexpr int kDefaultGrpcMaxConnectionAgeGraceMs = 30 * 60'000;

struct GrpcServerLimits {
  int64_t memory_bytes = kDefaultGrpcMemoryBytes;
  int max_threads = kDefaultGrpcMaxThreads;
  int max_concurrent_streams = kDefaultGrpcMaxConcurrentStreams;
  int max_receive_message_bytes = kDefaultGrpcMaxReceiveMessageBytes;
  int keepalive_time_ms = kDefaultGrpcKeepaliveTimeMs;
  int keepalive_timeout_ms = kDefaultGrpcKeepaliveTimeoutMs;
  int max_connection_idle_ms = kDefaultGrpcMaxConnectionIdleMs;
  int max_connection_age_ms = kDefaultGrpcMaxConnectionAgeMs;
  int max_connection_age_grace_ms = kDefaultGrpcMaxConnectionAgeGraceMs;
};

// Sets `limits` on `builder` (before BuildAndStart). A service registered later may raise the
// receive limit for the whole server (GrpcTransport::RegisterService does).
void ApplyGrpcServerLimits(const GrpcServerLimits& limits, grpc::ServerBuilder* builder);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GRPC_SERVER_LIMITS_H_
