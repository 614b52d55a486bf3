// GrpcTransport: the peer transport between servers, over gRPC (proto/paxos.proto).
//
// Outgoing: messages are queued per destination server and sent as one PaxosBatch per RPC; at
// most one RPC is in flight per destination, and whatever queued meanwhile goes in the next
// batch (so batching grows with load). A failed RPC drops its batch (Paxos retransmits).
// Queues are bounded (messages past the bound are dropped and counted).
// Incoming: RegisterService() adds the PaxosTransport service to a grpc::ServerBuilder; each
// message is handed to the GroupHost of its group through the `deliver` callback.
//
// Addresses: SetPeerAddress(server id, "host:port") at any time (from placement topology);
// messages to an unknown server are dropped and counted.
//
// Thread safety: all methods are thread-safe. gRPC stays out of this header (pimpl).
#ifndef MERIDIAN_REPLICATION_GRPC_TRANSPORT_H_
#define MERIDIAN_REPLICATION_GRPC_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/tls.h"
#include "replication/group_host.h"

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace meridian::replication {

class GrpcTransport : public Transport {
 public:
  // `deliver` receives every incoming message (any thread); it routes by message.group.
  // Calls to peers go over channels with `tls` (replication/grpc_tls.h); with it enabled, the
  // service takes batches only from node certificates (its server requires one).
  GrpcTransport(uint64_t self_server_id, std::function<void(paxos::Message)> deliver,
                TlsOptions tls = {});
  ~GrpcTransport() override;

  void SetPeerAddress(uint64_t server_id, const std::string& address);
  void Send(std::vector<paxos::Message> messages) override;
  // Adds the PaxosTransport service; the builder (and server) must not outlive this object.
  void RegisterService(grpc::ServerBuilder* builder);

  uint64_t dropped() const;

  struct Stats {
    uint64_t rpcs_sent = 0;          // PaxosBatch RPCs issued
    uint64_t messages_sent = 0;      // messages in them
    uint64_t messages_received = 0;  // messages delivered from peers
    uint64_t dropped = 0;            // see dropped()
  };
  Stats stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GRPC_TRANSPORT_H_
