// PeerSocket: one TcpTransport connection, plaintext or mutual TLS over the same TCP socket
// (Boost.Asio ssl::stream, OpenSSL), so that the transport has one code path for both. Internal
// to replication/: it includes Asio's and OpenSSL's headers, so only tcp_transport.cc and
// peer_socket.cc include it.
//
// TLS: both ends present a certificate signed by the cluster's CA and verify the other's
// (verify_peer + verify_fail_if_no_peer_cert), TLS 1.2 or newer. The identity (common/tls.h) is
// read from the verified peer certificate after the handshake; matching it to a server id is
// the transport's business.
//
// Thread safety: like an Asio socket, one operation of each direction at a time, and no
// concurrent use of one object from several threads (TcpTransport serializes through its mutex
// and its one-operation-at-a-time discipline per connection).
#ifndef MERIDIAN_REPLICATION_PEER_SOCKET_H_
#define MERIDIAN_REPLICATION_PEER_SOCKET_H_

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <optional>
#include <utility>

#include "absl/status/statusor.h"
#include "common/tls.h"

namespace meridian::replication {

// The context every TLS connection of one transport shares: this process's certificate and key,
// the CA, mutual verification. INVALID_ARGUMENT when a PEM block does not load.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakePeerTlsContext(
    const TlsOptions& tls);

class PeerSocket {
 public:
  using tcp = boost::asio::ip::tcp;

  // `tls` null: plaintext. Otherwise it must outlive this object.
  PeerSocket(boost::asio::io_context& io, boost::asio::ssl::context* tls) : socket_(io) {
    if (tls != nullptr) stream_.emplace(socket_, *tls);
  }
  PeerSocket(tcp::socket socket, boost::asio::ssl::context* tls) : socket_(std::move(socket)) {
    if (tls != nullptr) stream_.emplace(socket_, *tls);
  }

  tcp::socket& tcp_socket() { return socket_; }
  bool tls() const { return stream_.has_value(); }

  // The TLS handshake (`client`: as the side that connected). Only when tls().
  template <typename Handler>
  void AsyncHandshake(bool client, Handler&& handler) {
    stream_->async_handshake(
        client ? boost::asio::ssl::stream_base::client : boost::asio::ssl::stream_base::server,
        std::forward<Handler>(handler));
  }

  template <typename Buffers, typename Handler>
  void AsyncWrite(const Buffers& buffers, Handler&& handler) {
    if (stream_.has_value()) {
      boost::asio::async_write(*stream_, buffers, std::forward<Handler>(handler));
    } else {
      boost::asio::async_write(socket_, buffers, std::forward<Handler>(handler));
    }
  }

  template <typename Buffers, typename Handler>
  void AsyncReadSome(const Buffers& buffers, Handler&& handler) {
    if (stream_.has_value()) {
      stream_->async_read_some(buffers, std::forward<Handler>(handler));
    } else {
      socket_.async_read_some(buffers, std::forward<Handler>(handler));
    }
  }

  // The identity of the verified certificate the peer presented in the handshake.
  // PERMISSION_DENIED without one; INVALID_ARGUMENT when its subject names no identity.
  absl::StatusOr<TlsIdentity> PeerIdentity();

  // Closes the TCP socket (no TLS close_notify: peers treat any close alike); pending operations
  // fail with operation_aborted.
  void Close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<tcp::socket&>> stream_;
};

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_PEER_SOCKET_H_
