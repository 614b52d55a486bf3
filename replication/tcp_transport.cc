#include "replication/tcp_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/paxos.pb.h"
#include "proto/rpc.h"
#include "replication/paxos_wire.h"
#include "replication/peer_socket.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr int64_t kBackoffMinMs = 100;
constexpr int64_t kBackoffMaxMs = 1'000;
// Incoming: a read asks for at least this much room.
constexpr size_t kReadChunk = 64 << 10;

void Log(const std::string& line) { std::fprintf(stderr, "transport: %s\n", line.c_str()); }

// A peer whose host died sends no reset: without these, a connection to it would look alive for
// the kernel's retransmission timeout (many minutes), and one from it would never close.
// Unacknowledged data fails the connection after kUserTimeoutMs; an idle one is probed.
constexpr int kUserTimeoutMs = 5'000;
constexpr int kKeepaliveIdleS = 10;
constexpr int kKeepaliveIntervalS = 5;
constexpr int kKeepaliveProbes = 3;

void TuneSocket(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  socket.set_option(asio::socket_base::keep_alive(true), ignored);
  const int fd = socket.native_handle();
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &kUserTimeoutMs, sizeof(kUserTimeoutMs));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &kKeepaliveIdleS, sizeof(kKeepaliveIdleS));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &kKeepaliveIntervalS, sizeof(kKeepaliveIntervalS));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &kKeepaliveProbes, sizeof(kKeepaliveProbes));
}

void PutBigEndian32(uint32_t v, char* out) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

uint32_t GetBigEndian32(const char* in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError("address '" + address + "' is not HOST:PORT");
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  uint32_t port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError("address '" + address + "' has no valid port");
  }
  return std::make_pair(host, static_cast<uint16_t>(port));
}

class TcpTransport::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, std::function<void(paxos::Message)> deliver,
       TcpTransport::AttachmentHandler attachments, TcpTransportOptions options)
      : options_(options),
        io_(io),
        deliver_(std::move(deliver)),
        attachments_(std::move(attachments)),
        acceptor_(io) {
    if (!options_.tls.enabled()) return;
    absl::StatusOr<std::unique_ptr<asio::ssl::context>> context = MakePeerTlsContext(options_.tls);
    if (context.ok()) {
      tls_ = *std::move(context);
    } else {
      tls_status_ = context.status();
    }
  }

  absl::StatusOr<std::string> Listen(const std::string& address) {
    if (!tls_status_.ok()) return tls_status_;
    absl::StatusOr<std::pair<std::string, uint16_t>> split = SplitHostPort(address);
    if (!split.ok()) return split.status();
    boost::system::error_code ec;
    asio::ip::address ip =
        asio::ip::make_address(split->first.empty() ? "0.0.0.0" : split->first, ec);
    if (ec) {
      // A host name: its first address (resolved once, at startup). Peers get the number.
      tcp::resolver resolver(io_);
      const tcp::resolver::results_type found = resolver.resolve(split->first, "", ec);
      if (ec || found.empty()) {
        return absl::InvalidArgumentError(absl::StrCat("peer listen address '", address,
                                                       "': cannot resolve '", split->first, "'",
                                                       ec ? ": " + ec.message() : ""));
      }
      ip = found.begin()->endpoint().address();
    }
    const tcp::endpoint endpoint(ip, split->second);
    std::lock_guard<std::mutex> lock(mu_);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return absl::UnavailableError(absl::StrCat("cannot listen on ", address, ": ", ec.message()));
    }
    const tcp::endpoint bound = acceptor_.local_endpoint(ec);
    if (ec) return absl::UnavailableError("listen socket has no address: " + ec.message());
    listen_ip_ = bound.address();
    const std::string host = bound.address().to_string();
    return absl::StrCat(bound.address().is_v6() ? "[" + host + "]" : host, ":", bound.port());
  }

  void Start(uint64_t self) {
    std::lock_guard<std::mutex> lock(mu_);
    self_.store(self);
    if (acceptor_.is_open() && !shut_down_) AcceptLocked();
  }

  void Shutdown() {
    std::unique_lock<std::mutex> lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [id, peer] : peers_) CloseLocked(*peer);
    for (const std::shared_ptr<Inbound>& in : inbound_) {
      in->socket.Close();
      in->idle_timer.cancel();
    }
    // Aborted handlers run on the io threads; none starts new work once shut_down_ is set.
    // (They hold this object, so not waiting is safe too: without running io threads, or
    // after a bound, the sockets are closed and the handlers are destroyed with the io_context.)
    if (io_.stopped()) return;
    if (!idle_.wait_for(lock, std::chrono::seconds(5), [this] { return ops_ == 0; })) {
      Log(absl::StrCat("shutdown: ", ops_, " socket operations still pending after 5 s"));
    }
  }

  void SetPeerAddress(uint64_t server_id, const std::string& address) {
    if (server_id == self_.load()) return;  // messages to self are delivered locally
    std::lock_guard<std::mutex> lock(mu_);
    std::shared_ptr<Peer>& peer = peers_[server_id];
    if (peer == nullptr) peer = std::make_shared<Peer>(io_, server_id);
    if (peer->address == address) return;
    peer->address = address;
    CloseLocked(*peer);  // a new connection to the new address on the next Send
    peer->backoff_ms = 0;
    Log(absl::StrCat("server ", server_id, " is at ", address.empty() ? "(unknown)" : address));
  }

  void SetPeerName(uint64_t server_id, const std::string& name) {
    std::lock_guard<std::mutex> lock(names_mu_);
    names_[server_id] = name;
  }

  void Send(std::vector<paxos::Message> messages) {
    std::vector<paxos::Message> local;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const uint64_t self = self_.load();
      // The peers to kick once everything is queued, so that one Send goes out as one frame.
      absl::InlinedVector<Peer*, 4> touched;
      for (paxos::Message& m : messages) {
        if (self != 0 && m.to == self) {
          local.push_back(std::move(m));
          continue;
        }
        Peer* peer = SendableLocked(m.to);
        if (peer == nullptr || !peer->queue.Push(std::move(m))) {
          dropped_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (std::find(touched.begin(), touched.end(), peer) == touched.end()) {
          touched.push_back(peer);
        }
      }
      for (Peer* peer : touched) KickLocked(*peer);
    }
    for (paxos::Message& m : local) deliver_(std::move(m));
  }

  void SendAttachment(uint64_t to, std::string attachment) {
    const uint64_t self = self_.load();
    if (self != 0 && to == self) {
      if (attachments_) attachments_(to, std::move(attachment));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    Peer* peer = SendableLocked(to);
    if (peer == nullptr || !peer->queue.PushAttachment(std::move(attachment))) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    KickLocked(*peer);
  }

  TcpTransport::Stats stats() const {
    TcpTransport::Stats s;
    s.frames_sent = frames_sent_.load(std::memory_order_relaxed);
    s.messages_sent = messages_sent_.load(std::memory_order_relaxed);
    s.messages_received = messages_received_.load(std::memory_order_relaxed);
    s.dropped = dropped_.load(std::memory_order_relaxed);
    s.connects = connects_.load(std::memory_order_relaxed);
    s.bytes_received = bytes_received_.load(std::memory_order_relaxed);
    s.inbound_buffer_bytes = inbound_buffer_bytes_.load(std::memory_order_relaxed);
    s.inbound_refused = inbound_refused_.load(std::memory_order_relaxed);
    s.inbound_idle_closed = inbound_idle_closed_.load(std::memory_order_relaxed);
    s.tls_refused = tls_refused_.load(std::memory_order_relaxed);
    s.sender_mismatches = sender_mismatches_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  enum class State { kIdle, kConnecting, kConnected, kBackoff };

  // One destination server. Guarded by mu_; its handlers check `epoch` and do nothing when the
  // connection they were started for has been replaced.
  struct Peer {
    Peer(asio::io_context& io, uint64_t id) : id(id), timer(io) {}
    const uint64_t id;
    std::string address;
    State state = State::kIdle;
    std::shared_ptr<PeerSocket> socket;
    uint64_t epoch = 0;
    PeerQueue queue;
    bool writing = false;
    std::string frame;  // the frame being written (alive until its handler runs)
    size_t frame_messages = 0;
    int64_t backoff_ms = 0;
    asio::steady_timer timer;
  };

  // One accepted connection; only its single outstanding read touches `buffer`.
  struct Inbound {
    Inbound(tcp::socket s, asio::ssl::context* tls, asio::ip::address remote)
        : socket(std::move(s), tls),
          from(std::move(remote)),
          idle_timer(socket.tcp_socket().get_executor()) {}
    PeerSocket socket;
    // With TLS: the name in the peer's verified node certificate, once the handshake is done.
    std::string peer_name;
    const asio::ip::address from;  // the remote address, counted in inbound_per_address_
    std::string buffer;
    size_t used = 0;
    asio::steady_timer idle_timer;  // guarded by mu_, like `heard`
    bool heard = false;             // bytes arrived since the idle timer last fired
  };

  // The peer whose queue takes what is sent to `to` now, or nullptr when it is dropped: an unknown
  // server or one without an address, before Start or after Shutdown, and during a backoff.
  Peer* SendableLocked(uint64_t to) {
    auto it = peers_.find(to);
    Peer* peer = it == peers_.end() ? nullptr : it->second.get();
    if (peer == nullptr || peer->address.empty() || self_.load() == 0 || shut_down_ ||
        peer->state == State::kBackoff) {
      return nullptr;
    }
    return peer;
  }

  // Every async operation is counted from its start to the end of its handler, so that
  // Shutdown() can wait until no handler will touch this object's sockets.
  void BeginOpLocked() { ++ops_; }
  void EndOpLocked() {
    if (--ops_ == 0) idle_.notify_all();
  }

  void KickLocked(Peer& peer) {
    if (shut_down_ || peer.queue.empty()) return;
    if (peer.state == State::kIdle) {
      ConnectLocked(peer);
    } else if (peer.state == State::kConnected && !peer.writing) {
      WriteLocked(peer);
    }
  }

  void ConnectLocked(Peer& peer) {
    absl::StatusOr<std::pair<std::string, uint16_t>> split = SplitHostPort(peer.address);
    boost::system::error_code ec;
    asio::ip::address ip;
    if (split.ok()) ip = asio::ip::make_address(split->first, ec);
    if (!split.ok() || ec) {
      Log(absl::StrCat("server ", peer.id, ": cannot connect to '", peer.address,
                       "': not a numeric HOST:PORT"));
      FailLocked(peer);
      return;
    }
    peer.state = State::kConnecting;
    peer.socket = std::make_shared<PeerSocket>(io_, tls_.get());
    BindToListenAddressLocked(peer.socket->tcp_socket(), ip);
    const uint64_t epoch = ++peer.epoch;
    BeginOpLocked();
    peer.socket->tcp_socket().async_connect(tcp::endpoint(ip, split->second),
                                            [self = shared_from_this(), peer = PeerPtr(peer), epoch,
                                             socket = peer.socket](boost::system::error_code ec) {
                                              std::lock_guard<std::mutex> lock(self->mu_);
                                              self->OnConnected(*peer, epoch, ec);
                                              self->EndOpLocked();
                                            });
  }

  // Servers that share one host on distinct loopback addresses (127.0.0.2, 127.0.0.3, ...: the
  // chaos suite, which cuts links between them with firewall rules) send from their own address,
  // as servers on separate hosts would, rather than from the kernel's choice (127.0.0.1). Other
  // connections leave from the address the kernel's routing picks. A failed bind is not fatal:
  // the connection then leaves from the kernel's choice.
  void BindToListenAddressLocked(tcp::socket& socket, const asio::ip::address& to) {
    if (!listen_ip_.is_loopback() || !to.is_loopback() || listen_ip_.is_v4() != to.is_v4()) return;
    boost::system::error_code ec;
    socket.open(to.is_v4() ? tcp::v4() : tcp::v6(), ec);
    if (!ec) socket.bind(tcp::endpoint(listen_ip_, 0), ec);
    if (ec && !bind_failure_logged_) {
      bind_failure_logged_ = true;
      Log(absl::StrCat("cannot send from ", listen_ip_.to_string(), ": ", ec.message()));
    }
  }

  void OnConnected(Peer& peer, uint64_t epoch, const boost::system::error_code& ec) {
    if (epoch != peer.epoch || shut_down_) return;
    if (ec) {
      if (peer.backoff_ms == 0) {
        Log(absl::StrCat("server ", peer.id, " at ", peer.address, ": ", ec.message(),
                         "; retrying with backoff"));
      }
      FailLocked(peer);
      return;
    }
    TuneSocket(peer.socket->tcp_socket());
    if (!peer.socket->tls()) return EstablishedLocked(peer);
    BeginOpLocked();
    peer.socket->AsyncHandshake(
        /*client=*/true, [self = shared_from_this(), peer = PeerPtr(peer), epoch,
                          socket = peer.socket](boost::system::error_code ec) {
          std::lock_guard<std::mutex> lock(self->mu_);
          self->OnHandshaken(*peer, epoch, ec);
          self->EndOpLocked();
        });
  }

  // The server at the other end must hold a node certificate, and the one that names the server
  // we meant to reach when placement told us its name.
  void OnHandshaken(Peer& peer, uint64_t epoch, const boost::system::error_code& ec) {
    if (epoch != peer.epoch || shut_down_) return;
    absl::StatusOr<TlsIdentity> identity =
        ec ? absl::UnavailableError(ec.message()) : peer.socket->PeerIdentity();
    std::string refusal;
    if (!identity.ok()) {
      refusal = std::string(identity.status().message());
    } else if (identity->role != TlsRole::kNode) {
      refusal = absl::StrCat("its certificate '", identity->name, "' is not a node's");
    } else if (const std::string expected = NameOf(peer.id);
               !expected.empty() && expected != identity->name) {
      refusal = absl::StrCat("its certificate names '", identity->name, "', not '", expected, "'");
    }
    if (refusal.empty()) return EstablishedLocked(peer);
    tls_refused_.fetch_add(1, std::memory_order_relaxed);
    if (peer.backoff_ms == 0) {
      Log(absl::StrCat("server ", peer.id, " at ", peer.address, ": TLS refused (", refusal,
                       "); retrying with backoff"));
    }
    FailLocked(peer);
  }

  void EstablishedLocked(Peer& peer) {
    peer.state = State::kConnected;
    peer.backoff_ms = 0;
    connects_.fetch_add(1, std::memory_order_relaxed);
    KickLocked(peer);
  }

  // Takes the head of the queue into one frame and writes it.
  void WriteLocked(Peer& peer) {
    proto::PaxosBatch batch;
    batch.set_from_server(self_.load());
    batch.set_to_server(peer.id);
    batch.set_protocol_version(rpc::kProtocolVersion);
    const int items = peer.queue.TakeInto(&batch);
    const size_t body = batch.ByteSizeLong();
    if (body > TcpTransport::kMaxFrameBytes) {
      // Only a single message near the limit gets here; the receiver would close on it.
      dropped_.fetch_add(items, std::memory_order_relaxed);
      Log(absl::StrCat("server ", peer.id, ": dropped a frame of ", body, " bytes (limit ",
                       TcpTransport::kMaxFrameBytes, ")"));
      if (!peer.queue.empty()) WriteLocked(peer);
      return;
    }
    peer.frame.resize(4 + body);
    PutBigEndian32(static_cast<uint32_t>(body), peer.frame.data());
    batch.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(peer.frame.data() + 4));
    peer.frame_messages = items;
    peer.writing = true;
    const uint64_t epoch = peer.epoch;
    BeginOpLocked();
    peer.socket->AsyncWrite(asio::buffer(peer.frame),
                            [self = shared_from_this(), peer = PeerPtr(peer), epoch,
                             socket = peer.socket](boost::system::error_code ec, size_t) {
                              std::lock_guard<std::mutex> lock(self->mu_);
                              self->OnWritten(*peer, epoch, ec);
                              self->EndOpLocked();
                            });
  }

  void OnWritten(Peer& peer, uint64_t epoch, const boost::system::error_code& ec) {
    if (epoch != peer.epoch) return;  // the frame was counted as dropped when it was replaced
    peer.writing = false;
    if (shut_down_) return;
    if (ec) {
      dropped_.fetch_add(peer.frame_messages, std::memory_order_relaxed);
      Log(absl::StrCat("server ", peer.id, " at ", peer.address, ": write failed (", ec.message(),
                       "); reconnecting"));
      FailLocked(peer);
      return;
    }
    frames_sent_.fetch_add(1, std::memory_order_relaxed);
    messages_sent_.fetch_add(peer.frame_messages, std::memory_order_relaxed);
    peer.frame.clear();
    KickLocked(peer);
  }

  // Closes the connection and drops what waits for it; the next attempt waits out a backoff.
  void FailLocked(Peer& peer) {
    CloseLocked(peer);
    if (shut_down_) return;
    peer.backoff_ms = std::clamp<int64_t>(peer.backoff_ms * 2, kBackoffMinMs, kBackoffMaxMs);
    peer.state = State::kBackoff;
    peer.timer.expires_after(std::chrono::milliseconds(peer.backoff_ms));
    const uint64_t epoch = peer.epoch;
    BeginOpLocked();
    peer.timer.async_wait(
        [self = shared_from_this(), peer = PeerPtr(peer), epoch](boost::system::error_code) {
          std::lock_guard<std::mutex> lock(self->mu_);
          if (epoch == peer->epoch && peer->state == State::kBackoff) {
            peer->state = State::kIdle;
            self->KickLocked(*peer);
          }
          self->EndOpLocked();
        });
  }

  // Closes the connection (its handlers become stale) and drops the queue and a frame in flight.
  void CloseLocked(Peer& peer) {
    ++peer.epoch;
    if (peer.socket != nullptr) {
      peer.socket->Close();
      peer.socket.reset();
    }
    peer.timer.cancel();
    size_t lost = peer.queue.Clear();
    if (peer.writing) lost += peer.frame_messages;
    dropped_.fetch_add(lost, std::memory_order_relaxed);
    peer.writing = false;
    peer.state = State::kIdle;
  }

  std::shared_ptr<Peer> PeerPtr(Peer& peer) { return peers_.at(peer.id); }

  void AcceptLocked() {
    BeginOpLocked();
    acceptor_.async_accept(
        [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
          std::lock_guard<std::mutex> lock(self->mu_);
          if (!self->shut_down_) {
            if (!ec) {
              self->AdmitLocked(std::move(socket));
            } else if (!self->accept_error_logged_) {
              self->accept_error_logged_ = true;
              Log("accept failed: " + ec.message());
            }
            self->AcceptLocked();
          }
          self->EndOpLocked();
        });
  }

  // Serves an accepted connection, or closes it at once when it would pass a cap on inbound
  // connections (in total, or from its remote address).
  void AdmitLocked(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    int& from_address = inbound_per_address_[remote.address()];
    if (inbound_.size() >= static_cast<size_t>(options_.max_inbound_connections) ||
        from_address >= options_.max_inbound_per_address) {
      if (from_address == 0) inbound_per_address_.erase(remote.address());
      socket.close(ec);
      const uint64_t n = inbound_refused_.fetch_add(1, std::memory_order_relaxed) + 1;
      if ((n & (n - 1)) == 0) {  // the 1st, 2nd, 4th, ... such connection
        Log(absl::StrCat("refused ", n, " inbound connection(s) over the caps (the last from ",
                         remote.address().to_string(), "): ", inbound_.size(), " open, ",
                         from_address, " from that address"));
      }
      return;
    }
    ++from_address;
    TuneSocket(socket);
    auto in = std::make_shared<Inbound>(std::move(socket), tls_.get(), remote.address());
    inbound_.insert(in);
    ArmIdleTimerLocked(in);  // also bounds how long a handshake may stall
    if (!in->socket.tls()) return ReadLocked(in);
    BeginOpLocked();
    in->socket.AsyncHandshake(/*client=*/false,
                              [self = shared_from_this(), in](boost::system::error_code ec) {
                                std::lock_guard<std::mutex> lock(self->mu_);
                                self->OnInboundHandshaken(in, ec);
                                self->EndOpLocked();
                              });
  }

  // Reads from `in` once its peer proved a node certificate; else closes it.
  void OnInboundHandshaken(const std::shared_ptr<Inbound>& in,
                           const boost::system::error_code& ec) {
    if (shut_down_ || inbound_.count(in) == 0) return;
    absl::StatusOr<TlsIdentity> identity =
        ec ? absl::UnavailableError(ec.message()) : in->socket.PeerIdentity();
    if (identity.ok() && identity->role == TlsRole::kNode) {
      in->peer_name = identity->name;
      return ReadLocked(in);
    }
    const uint64_t n = tls_refused_.fetch_add(1, std::memory_order_relaxed) + 1;
    if ((n & (n - 1)) == 0) {  // the 1st, 2nd, 4th, ... such connection
      Log(absl::StrCat("refused ", n, " connection(s) without a valid node certificate (the last ",
                       "from ", in->from.to_string(), ": ",
                       identity.ok() ? absl::StrCat("'", identity->name, "' is not a node")
                                     : std::string(identity.status().message()),
                       ")"));
    }
    CloseInboundLocked(in);
  }

  // Closes `in` unless bytes arrived on it within the last idle period. A flag the reads set,
  // rather than a timer re-armed by every read, keeps the cost off the path of each frame.
  void ArmIdleTimerLocked(const std::shared_ptr<Inbound>& in) {
    in->idle_timer.expires_after(std::chrono::milliseconds(options_.inbound_idle_timeout_ms));
    BeginOpLocked();
    in->idle_timer.async_wait([self = shared_from_this(), in](boost::system::error_code ec) {
      std::lock_guard<std::mutex> lock(self->mu_);
      if (!ec && !self->shut_down_ && self->inbound_.count(in) > 0) {
        if (in->heard) {
          in->heard = false;
          self->ArmIdleTimerLocked(in);
        } else {
          // The pending read fails and its handler forgets the connection.
          self->inbound_idle_closed_.fetch_add(1, std::memory_order_relaxed);
          in->socket.Close();
        }
      }
      self->EndOpLocked();
    });
  }

  // Resizes `in`'s read buffer and keeps the inbound_buffer_bytes gauge in step.
  void ResizeBuffer(Inbound& in, size_t size) {
    inbound_buffer_bytes_.fetch_add(size - in.buffer.size(), std::memory_order_relaxed);
    in.buffer.resize(size);
  }

  void CloseInboundLocked(const std::shared_ptr<Inbound>& in) {
    in->socket.Close();
    in->idle_timer.cancel();
    inbound_buffer_bytes_.fetch_sub(in->buffer.size(), std::memory_order_relaxed);
    if (inbound_.erase(in) == 0) return;
    auto it = inbound_per_address_.find(in->from);
    if (it != inbound_per_address_.end() && --it->second == 0) inbound_per_address_.erase(it);
  }

  void ReadLocked(const std::shared_ptr<Inbound>& in) {
    if (in->buffer.size() - in->used < kReadChunk) ResizeBuffer(*in, in->used + kReadChunk);
    BeginOpLocked();
    in->socket.AsyncReadSome(
        asio::buffer(in->buffer.data() + in->used, in->buffer.size() - in->used),
        [self = shared_from_this(), in](boost::system::error_code ec, size_t n) {
          bool keep = !ec;
          if (keep) {
            in->used += n;
            self->bytes_received_.fetch_add(n, std::memory_order_relaxed);
            keep = self->DeliverFrames(*in);
          }
          std::lock_guard<std::mutex> lock(self->mu_);
          in->heard = true;
          if (keep && !self->shut_down_) {
            self->ReadLocked(in);
          } else {
            self->CloseInboundLocked(in);
          }
          self->EndOpLocked();
        });
  }

  // Delivers every complete frame in the buffer and keeps the partial rest. False when the
  // stream is corrupt (the connection must close).
  bool DeliverFrames(Inbound& in) {
    size_t pos = 0;
    bool ok = true;
    while (in.used - pos >= 4) {
      const uint32_t length = GetBigEndian32(in.buffer.data() + pos);
      if (length == 0 || length > kMaxFrameBytes) {
        Log(absl::StrCat("closing a peer connection: frame length ", length, " is outside 1..",
                         kMaxFrameBytes));
        ok = false;
        break;
      }
      if (in.used - pos - 4 < length) break;
      DeliverFrame(in.peer_name, in.buffer.data() + pos + 4, length);
      pos += 4 + length;
    }
    if (pos > 0) {
      std::memmove(in.buffer.data(), in.buffer.data() + pos, in.used - pos);
      in.used -= pos;
    }
    if (in.used >= 4) {
      // A partial frame: grow the buffer towards its length, but to at most twice what has
      // arrived plus a chunk, so that a length prefix alone (up to 64 MiB) costs no memory,
      // while a large frame still arrives in few reads (the buffer doubles as it fills).
      const size_t need = 4 + size_t{GetBigEndian32(in.buffer.data())};
      const size_t grow = std::min(need, in.used + std::max(kReadChunk, in.used));
      if (in.buffer.size() < grow) ResizeBuffer(in, grow);
    }
    return ok;
  }

  // `peer_name`: the sender's certificate name (TLS), or "" (plaintext: senders are trusted).
  void DeliverFrame(const std::string& peer_name, const char* data, uint32_t length) {
    proto::PaxosBatch batch;
    if (!batch.ParseFromArray(data, static_cast<int>(length))) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (batch.protocol_version() != rpc::kProtocolVersion) {
      dropped_.fetch_add(batch.messages_size() + batch.attachments_size(),
                         std::memory_order_relaxed);
      const uint64_t n = protocol_mismatches_.fetch_add(1, std::memory_order_relaxed) + 1;
      if ((n & (n - 1)) == 0) {  // the 1st, 2nd, 4th, ... such frame
        Log(absl::StrCat("dropped ", n, " frame(s) of another protocol version: server ",
                         batch.from_server(), " speaks ", batch.protocol_version(),
                         ", this server ", rpc::kProtocolVersion,
                         ". Run one Meridian version across the cluster"));
      }
      return;
    }
    if (batch.to_server() != self_.load()) {
      // A peer with a stale address book (e.g. a port reused after a restart).
      dropped_.fetch_add(batch.messages_size() + batch.attachments_size(),
                         std::memory_order_relaxed);
      return;
    }
    if (tls_ != nullptr &&
        !SentBy(batch.from_server(), peer_name, batch.messages_size() + batch.attachments_size())) {
      return;
    }
    messages_received_.fetch_add(batch.messages_size() + batch.attachments_size(),
                                 std::memory_order_relaxed);
    for (proto::PaxosMessage& pm : *batch.mutable_messages()) {
      absl::StatusOr<paxos::Message> m = FromProto(std::move(pm));
      if (!m.ok()) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (tls_ != nullptr && m->from != batch.from_server()) {
        // A replica's id is its server's: a message from another replica is a forgery.
        dropped_.fetch_add(1, std::memory_order_relaxed);
        sender_mismatches_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      deliver_(*std::move(m));
    }
    for (std::string& attachment : *batch.mutable_attachments()) {
      if (attachments_) {
        attachments_(batch.from_server(), std::move(attachment));
      } else {
        dropped_.fetch_add(1, std::memory_order_relaxed);
      }
    }
  }

  // True when server `from` is the one whose certificate is named `peer_name` (placement
  // records each server's certificate name at registration). Otherwise counts the frame's `items`
  // as dropped, then the frame as a sender mismatch, and logs now and then.
  bool SentBy(uint64_t from, const std::string& peer_name, uint64_t items) {
    const std::string expected = NameOf(from);
    if (!expected.empty() && expected == peer_name) return true;
    dropped_.fetch_add(items, std::memory_order_relaxed);
    const uint64_t n = sender_mismatches_.fetch_add(1, std::memory_order_relaxed) + 1;
    if ((n & (n - 1)) == 0) {  // the 1st, 2nd, 4th, ... such frame
      Log(absl::StrCat("dropped ", n,
                       " frame(s) whose sender is not its certificate's server (the ", "last: '",
                       peer_name, "' claimed server ", from, ", which is ",
                       expected.empty() ? "not known by name yet" : "'" + expected + "'", ")"));
    }
    return false;
  }

  std::string NameOf(uint64_t server) {
    std::lock_guard<std::mutex> lock(names_mu_);
    auto it = names_.find(server);
    return it == names_.end() ? std::string() : it->second;
  }

  const TcpTransportOptions options_;
  asio::io_context& io_;
  const std::function<void(paxos::Message)> deliver_;
  const TcpTransport::AttachmentHandler attachments_;
  std::atomic<uint64_t> self_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> frames_sent_{0};
  std::atomic<uint64_t> messages_sent_{0};
  std::atomic<uint64_t> messages_received_{0};
  std::atomic<uint64_t> connects_{0};
  std::atomic<uint64_t> protocol_mismatches_{0};
  std::atomic<uint64_t> bytes_received_{0};
  std::atomic<uint64_t> inbound_buffer_bytes_{0};
  std::atomic<uint64_t> inbound_refused_{0};
  std::atomic<uint64_t> inbound_idle_closed_{0};
  std::atomic<uint64_t> tls_refused_{0};
  std::atomic<uint64_t> sender_mismatches_{0};
  // With TLS (else null): the context of every connection. tls_status_: why it could not be made.
  std::unique_ptr<asio::ssl::context> tls_;
  absl::Status tls_status_;

  std::mutex names_mu_;                    // taken after mu_ when both are held
  std::map<uint64_t, std::string> names_;  // server id -> certificate name; guarded by names_mu_

  std::mutex mu_;
  std::condition_variable idle_;
  tcp::acceptor acceptor_;                                // guarded by mu_
  asio::ip::address listen_ip_;                           // guarded by mu_; set by Listen
  bool bind_failure_logged_ = false;                      // guarded by mu_
  std::map<uint64_t, std::shared_ptr<Peer>> peers_;       // guarded by mu_
  std::set<std::shared_ptr<Inbound>> inbound_;            // guarded by mu_
  std::map<asio::ip::address, int> inbound_per_address_;  // guarded by mu_
  int64_t ops_ = 0;                                       // guarded by mu_
  bool shut_down_ = false;                                // guarded by mu_
  bool accept_error_logged_ = false;                      // guarded by mu_
};

TcpTransport::TcpTransport(boost::asio::io_context& io, std::function<void(paxos::Message)> deliver,
                           AttachmentHandler attachments, TcpTransportOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(deliver), std::move(attachments), options)) {}

TcpTransport::~TcpTransport() { impl_->Shutdown(); }

absl::StatusOr<std::string> TcpTransport::Listen(const std::string& address) {
  return impl_->Listen(address);
}
void TcpTransport::Start(uint64_t self) { impl_->Start(self); }
void TcpTransport::Shutdown() { impl_->Shutdown(); }
void TcpTransport::SetPeerAddress(uint64_t server_id, const std::string& address) {
  impl_->SetPeerAddress(server_id, address);
}
void TcpTransport::SetPeerName(uint64_t server_id, const std::string& name) {
  impl_->SetPeerName(server_id, name);
}
void TcpTransport::Send(std::vector<paxos::Message> messages) { impl_->Send(std::move(messages)); }
void TcpTransport::SendAttachment(uint64_t to, std::string attachment) {
  impl_->SendAttachment(to, std::move(attachment));
}
TcpTransport::Stats TcpTransport::stats() const { return impl_->stats(); }

}  // namespace meridian::replication
