// TcpTransport: the peer transport between spanservers. Paxos messages travel over TCP
// (Boost.Asio; plaintext or mutual TLS), one connection per destination server, as length-prefixed
// proto::PaxosBatch frames (proto/paxos.proto).
//
// Why not gRPC, which carries everything else: a unary RPC per batch costs a reply and several
// thread hand-offs inside gRPC on both sides. On this machine one replicated write at one client
// made about 50 context switches over the three servers, most of them in gRPC's threads, and a
// Paxos message took 180-260 us from send to receipt against a loopback round trip of 116 us.
// Here a frame is one write on the sending thread and one read on the receiving io thread, and
// nothing is sent back.
//
// Outgoing: Send() queues messages per destination; at most one write is in flight per
// connection, and whatever queued meanwhile goes out as the next frame (so batching grows with
// load). A connection is made on demand; after it fails, its queued messages are dropped (Paxos
// retransmits what matters) and messages for that server are dropped for a backoff (100 ms,
// doubling to 1 s) before the next attempt. Queues are bounded; every drop is counted.
// Incoming: Start() accepts connections on the listen address; each frame's messages go to
// `deliver` on an io thread, and its attachments to `attachments`. A frame addressed to another
// server (a peer with a stale address book) or one that does not parse is dropped; a length of 0
// or above the limit closes the connection, since the stream cannot be resynchronized. What a
// peer can make the listener hold is bounded (TcpTransportOptions): a read buffer grows only with
// the bytes that arrived, not to the length a frame announces; connections over the caps (in
// total, per remote address) are closed at once; one that sends nothing for the idle timeout is
// closed. Each is counted in stats().
//
// Attachments: opaque payloads of the layer above (the transaction layer's group messages) for
// another server. SendAttachment() queues one beside the Paxos messages for that server, under
// the same bounds, so it shares their frames and their connection: no RPC, no reply, no extra
// thread hand-off. Best effort, like the messages.
//
// Mutual TLS (TcpTransportOptions::tls; replication/peer_socket.h): every connection is TLS 1.2+
// with both certificates verified against the cluster's CA, and both must be node certificates
// (common/tls.h). A server's identity on the wire is its certificate's name: an inbound frame
// whose from_server is not the server placement bound to that name (SetPeerName), or that holds
// a message from another replica, is dropped and counted (sender_mismatches); a connection that
// fails the handshake or presents no node certificate is closed and counted (tls_refused). An
// outgoing connection checks that the certificate names the server it meant to reach.
//
// Sockets: TCP_NODELAY; keepalive probes and a 5 s TCP_USER_TIMEOUT, so a connection to or from
// a host that died without a reset fails within seconds rather than the kernel's minutes.
//
// Frame: a 4-byte big-endian length N (1 .. 64 MiB), then N bytes of a serialized PaxosBatch.
//
// Lifecycle: construct, Listen() (the address may have port 0: the OS picks one, and
// listen_address() tells which), Start(self server id), Send/SetPeerAddress..., Shutdown()
// while the io_context still runs (it closes every socket and waits for their handlers).
//
// Thread safety: every method is thread-safe. Asio stays out of this header (pimpl).
#ifndef MERIDIAN_REPLICATION_TCP_TRANSPORT_H_
#define MERIDIAN_REPLICATION_TCP_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls.h"
#include "replication/group_host.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace meridian::replication {

// Limits on what peers can make a listener hold. Connections past a cap are accepted and closed
// at once. Every server keeps one connection to each other server, plus a replaced one for a
// moment after a reconnect, so the defaults leave room for clusters of hundreds of servers,
// and for tests that run many servers on one host.
struct TcpTransportOptions {
  int max_inbound_connections = 1024;  // from all addresses together
  int max_inbound_per_address = 128;   // from one remote IP address
  // An inbound connection on which nothing arrives for this long (up to twice it: the check runs
  // once per period) is closed. Leaders send heartbeats every 250 ms, so a connection that
  // carries any group is never idle this long; a sender whose idle connection was closed
  // reconnects on its next Send, losing at most the frame it wrote into the closed socket.
  int64_t inbound_idle_timeout_ms = 120'000;
  // Mutual TLS (see the class comment); disabled: plaintext, and frames are trusted as they claim.
  TlsOptions tls;
};

class TcpTransport : public Transport {
 public:
  // `deliver` receives every incoming message (on an io thread); it routes by message.group.
  // `attachments` receives every incoming attachment with the sending server's id (on an io
  // thread); without it they are dropped.
  // `io` must outlive this object and must be run by some thread until Shutdown() returns.
  using AttachmentHandler = std::function<void(uint64_t from_server, std::string attachment)>;
  TcpTransport(boost::asio::io_context& io, std::function<void(paxos::Message)> deliver,
               AttachmentHandler attachments = nullptr, TcpTransportOptions options = {});
  ~TcpTransport() override;  // Shutdown()s

  // Binds and listens on HOST:PORT (a host name is resolved to its first address). Returns the
  // numeric address with the real port: what peers should be told.
  absl::StatusOr<std::string> Listen(const std::string& address);
  // Starts accepting and sending as server `self`. Messages sent before are dropped.
  void Start(uint64_t self);
  void Shutdown();

  // `address` is the peer's listen address (from placement); "" forgets it.
  void SetPeerAddress(uint64_t server_id, const std::string& address);
  // The name in `server_id`'s node certificate (placement's ServerInfo.name). With TLS, frames
  // claiming to come from `server_id` are accepted only over a connection whose certificate has
  // this name, and a connection made to it must present it.
  void SetPeerName(uint64_t server_id, const std::string& name);
  void Send(std::vector<paxos::Message> messages) override;
  // Queues `attachment` for server `to` (to self: handed to `attachments` at once, on this thread).
  void SendAttachment(uint64_t to, std::string attachment);

  struct Stats {
    uint64_t frames_sent = 0;           // PaxosBatch frames written
    uint64_t messages_sent = 0;         // messages and attachments in them
    uint64_t messages_received = 0;     // messages and attachments delivered from peers
    uint64_t dropped = 0;               // the same dropped: queues full, no address, failed links
    uint64_t connects = 0;              // outgoing connections established
    uint64_t bytes_received = 0;        // bytes read from inbound connections
    uint64_t inbound_buffer_bytes = 0;  // read buffers of the open inbound connections, now
    uint64_t inbound_refused = 0;       // inbound connections closed at once: over a cap
    uint64_t inbound_idle_closed = 0;   // inbound connections closed for sending nothing
    uint64_t tls_refused = 0;           // connections whose handshake or certificate check failed
    uint64_t sender_mismatches = 0;     // frames (and messages) whose claimed sender is not the
                                        // certificate's server, dropped
  };
  Stats stats() const;

  // The largest frame accepted. Batches stop at PeerQueue::kMaxBatchBytes, well below; a frame
  // over it (one giant message) is dropped, not sent.
  static constexpr uint32_t kMaxFrameBytes = 64u << 20;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

// Splits "host:port" (the host may be empty or a bracketed IPv6 literal). Exposed for tests.
absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& address);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_TCP_TRANSPORT_H_
