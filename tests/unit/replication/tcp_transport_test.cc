// TcpTransport between endpoints on 127.0.0.1 in one process, each with its own io_context on
// one thread. Waits are bounded polls: delivery happens on the io threads.
#include "replication/tcp_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "proto/paxos.pb.h"
#include "proto/rpc.h"
#include "replication/paxos_wire.h"
#include "tests/unit/replication/transport_test_util.h"

namespace meridian::replication {
namespace {

using testing::Msg;
using testing::WaitUntil;

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct Endpoint {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  testing::Inbox inbox;
  std::vector<paxos::Message>& received = inbox.received;
  std::mutex& mu = inbox.mu;
  std::unique_ptr<TcpTransport> transport;
  std::string address;
  // Attachments received, with their sender (guarded by mu).
  std::vector<std::pair<uint64_t, std::string>> attachments;

  // Listens on `listen` and serves as server `id` (0: listen only, Start later).
  explicit Endpoint(uint64_t id, const std::string& listen = "127.0.0.1:0",
                    TcpTransportOptions options = {}) {
    work.emplace(io.get_executor());
    thread = std::thread([this] { io.run(); });
    transport = std::make_unique<TcpTransport>(
        io, inbox.Sink(),
        [this](uint64_t from, std::string attachment) {
          std::lock_guard<std::mutex> lock(mu);
          attachments.emplace_back(from, std::move(attachment));
        },
        options);
    absl::StatusOr<std::string> bound = transport->Listen(listen);
    EXPECT_TRUE(bound.ok()) << bound.status();
    if (bound.ok()) address = *bound;
    if (id != 0) transport->Start(id);
  }
  ~Endpoint() {
    transport->Shutdown();
    work.reset();
    io.stop();
    thread.join();
    transport.reset();
  }
  size_t count() { return inbox.count(); }
  size_t attachment_count() {
    std::lock_guard<std::mutex> lock(mu);
    return attachments.size();
  }
};

TEST(TcpTransportTest, DeliversEveryMessageInOrderAcrossFrames) {
  Endpoint a(1), b(2);
  a.transport->SetPeerAddress(2, b.address);
  constexpr int kMessages = 2000;
  for (int i = 1; i <= kMessages; i += 10) {
    std::vector<paxos::Message> batch;
    // Some large entries, so that frames span many reads.
    for (int j = i; j < i + 10; ++j) batch.push_back(Msg(1, 2, j, j % 97 == 0 ? 300'000 : 0));
    a.transport->Send(std::move(batch));
  }
  ASSERT_TRUE(WaitUntil([&] { return b.count() == kMessages; })) << b.count();
  std::lock_guard<std::mutex> lock(b.mu);
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(b.received[i].index, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(b.received[i].entries.at(0).command.substr(0, 3 + std::to_string(i + 1).size()),
              absl::StrCat("cmd", i + 1));
    EXPECT_EQ(b.received[i].group, 4u);
  }
  // The sender counts a frame when its write completes, which may be after the receiver has it.
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().messages_sent == kMessages; }));
  const TcpTransport::Stats stats = a.transport->stats();
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.connects, 1u);
  EXPECT_LE(stats.frames_sent, static_cast<uint64_t>(kMessages / 10));
  EXPECT_EQ(b.transport->stats().messages_received, static_cast<uint64_t>(kMessages));
}

TEST(TcpTransportTest, OneSendToAnIdleConnectionIsOneFrame) {
  Endpoint a(1), b(2);
  a.transport->SetPeerAddress(2, b.address);
  a.transport->Send({Msg(1, 2, 1)});  // connects
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().messages_sent == 1; }));
  std::vector<paxos::Message> batch;
  for (int i = 2; i <= 11; ++i) batch.push_back(Msg(1, 2, i));
  a.transport->Send(std::move(batch));
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().messages_sent == 11; }));
  EXPECT_EQ(a.transport->stats().frames_sent, 2u);
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 11; }));
}

TEST(TcpTransportTest, DropsMessagesToUnknownServersAndDeliversToSelfLocally) {
  Endpoint a(1);
  a.transport->Send({Msg(1, 9, 1), Msg(1, 1, 2)});
  EXPECT_EQ(a.transport->stats().dropped, 1u);
  ASSERT_EQ(a.count(), 1u);
  EXPECT_EQ(a.received[0].index, 2u);
}

// Attachments reach the other server's handler in order, with the sender's id, and share the
// frames of the Paxos messages queued beside them; one to self is handed over at once.
TEST(TcpTransportTest, DeliversAttachmentsInOrderInTheMessagesFrames) {
  Endpoint a(1), b(2);
  a.transport->SetPeerAddress(2, b.address);
  a.transport->Send({Msg(1, 2, 1)});  // connects
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  constexpr int kAttachments = 500;
  for (int i = 0; i < kAttachments; ++i) {
    a.transport->SendAttachment(2, absl::StrCat("group message ", i));
    if (i % 50 == 0) a.transport->Send({Msg(1, 2, 2 + i / 50)});
  }
  ASSERT_TRUE(WaitUntil([&] { return b.attachment_count() == kAttachments; }))
      << b.attachment_count();
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 11; }));
  {
    std::lock_guard<std::mutex> lock(b.mu);
    for (int i = 0; i < kAttachments; ++i) {
      EXPECT_EQ(b.attachments[i].first, 1u);
      EXPECT_EQ(b.attachments[i].second, absl::StrCat("group message ", i));
    }
  }
  // The sender counts a frame when its write completes, which may be after the receiver has it.
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().messages_sent == kAttachments + 11; }))
      << a.transport->stats().messages_sent;
  const TcpTransport::Stats stats = a.transport->stats();
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_LT(stats.frames_sent, static_cast<uint64_t>(kAttachments + 11));
  EXPECT_EQ(b.transport->stats().messages_received, static_cast<uint64_t>(kAttachments + 11));

  a.transport->SendAttachment(1, "to self");
  ASSERT_EQ(a.attachment_count(), 1u);
  EXPECT_EQ(a.attachments[0], std::make_pair(uint64_t{1}, std::string("to self")));
  a.transport->SendAttachment(9, "to nobody");
  EXPECT_EQ(a.transport->stats().dropped, 1u);
}

TEST(TcpTransportTest, DropsWhatIsSentBeforeStart) {
  Endpoint a(0), b(2);
  a.transport->SetPeerAddress(2, b.address);
  a.transport->Send({Msg(1, 2, 1)});
  EXPECT_EQ(a.transport->stats().dropped, 1u);
  a.transport->Start(1);
  a.transport->Send({Msg(1, 2, 2)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.received[0].index, 2u);
}

TEST(TcpTransportTest, UnreachablePeerDropsAndBacksOffThenANewAddressGetsThrough) {
  Endpoint a(1);
  std::string dead;
  {
    Endpoint gone(2);
    dead = gone.address;  // nobody listens there once `gone` is destroyed
  }
  a.transport->SetPeerAddress(2, dead);
  a.transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().dropped == 1; }));
  // During the backoff, messages for that server are dropped at once.
  a.transport->Send({Msg(1, 2, 2)});
  EXPECT_EQ(a.transport->stats().dropped, 2u);

  Endpoint b(2);
  a.transport->SetPeerAddress(2, b.address);  // a new address ends the backoff
  a.transport->Send({Msg(1, 2, 3)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.received[0].index, 3u);
}

TEST(TcpTransportTest, ReconnectsToAPeerRestartedOnTheSameAddress) {
  Endpoint a(1);
  auto b = std::make_unique<Endpoint>(2);
  const std::string address = b->address;
  a.transport->SetPeerAddress(2, address);
  a.transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(WaitUntil([&] { return b->count() == 1; }));
  b.reset();
  b = std::make_unique<Endpoint>(2, address);
  ASSERT_EQ(b->address, address);
  // The old connection is dead: sends fail, back off, and a later one reconnects. Keep sending
  // (as Paxos retransmits) until one arrives.
  uint64_t index = 2;
  ASSERT_TRUE(WaitUntil([&] {
    a.transport->Send({Msg(1, 2, index++)});
    return b->count() > 0;
  }));
  EXPECT_EQ(a.transport->stats().connects, 2u);
}

TEST(TcpTransportTest, FramesForAnotherServerAreDropped) {
  Endpoint a(1), b(3);
  a.transport->SetPeerAddress(2, b.address);  // a's address book is stale: 2 is not there
  a.transport->Send({Msg(1, 2, 1), Msg(1, 2, 2)});
  ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().dropped == 2; }));
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.transport->stats().messages_received, 0u);
}

// A raw listener that reports the source address of the first connection it accepts, within 5 s
// ("" when none came).
std::string FirstSourceAddress(asio::ip::tcp::acceptor& acceptor) {
  asio::ip::tcp::socket peer(acceptor.get_executor());
  acceptor.non_blocking(true);
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(5000);
  boost::system::error_code ec;
  while (std::chrono::steady_clock::now() < deadline) {
    acceptor.accept(peer, ec);
    if (!ec) return peer.remote_endpoint().address().to_string();
    std::this_thread::sleep_for(milliseconds(2));
  }
  return "";
}

// Servers on loopback addresses of their own send from them (not from the kernel's 127.0.0.1),
// so that the chaos suite's firewall rules can tell them apart (tests/chaos/net_partition.h).
TEST(TcpTransportTest, SendsFromItsOwnLoopbackListenAddress) {
  for (const std::string host : {"127.0.0.2", "127.0.0.1"}) {
    Endpoint a(1, host + ":0");
    asio::io_context io;
    asio::ip::tcp::acceptor b(io, {asio::ip::make_address("127.0.0.3"), 0});
    a.transport->SetPeerAddress(2, absl::StrCat("127.0.0.3:", b.local_endpoint().port()));
    a.transport->Send({Msg(1, 2, 1)});
    EXPECT_EQ(FirstSourceAddress(b), host);
  }
}

// A raw client writing frames by hand, from `from` (any 127.x.y.z is this host on Linux).
struct RawClient {
  asio::io_context io;
  asio::ip::tcp::socket socket{io};
  explicit RawClient(const std::string& address, const std::string& from = "") {
    absl::StatusOr<std::pair<std::string, uint16_t>> split = SplitHostPort(address);
    EXPECT_TRUE(split.ok());
    if (!from.empty()) {
      socket.open(asio::ip::tcp::v4());
      socket.bind({asio::ip::make_address(from), 0});
    }
    socket.connect({asio::ip::make_address(split->first), split->second});
  }
  void Write(const std::string& bytes) { asio::write(socket, asio::buffer(bytes)); }
  static std::string Frame(const std::string& body) {
    const uint32_t n = body.size();
    std::string out = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                       static_cast<char>(n >> 8), static_cast<char>(n)};
    return out + body;
  }
  // True when the server closed the connection (reads EOF within the bound).
  bool ClosedByPeer() {
    char c;
    boost::system::error_code ec;
    socket.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(5000);
    while (std::chrono::steady_clock::now() < deadline) {
      socket.read_some(asio::buffer(&c, 1), ec);
      if (ec == asio::error::eof || ec == asio::error::connection_reset) return true;
      if (ec != asio::error::would_block) return false;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return false;
  }
};

TEST(TcpTransportTest, GarbageFramesAreDroppedAndABadLengthClosesTheConnection) {
  Endpoint b(2);
  proto::PaxosBatch good;
  good.set_from_server(1);
  good.set_to_server(2);
  good.set_protocol_version(rpc::kProtocolVersion);
  *good.add_messages() = ToProto(Msg(1, 2, 7));

  RawClient raw(b.address);
  // A body that is not a PaxosBatch is dropped; the stream stays usable.
  raw.Write(RawClient::Frame(std::string("\xff\xff\xff\xff\x0f", 5)));
  raw.Write(RawClient::Frame(good.SerializeAsString()));
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.received[0].index, 7u);
  EXPECT_EQ(b.transport->stats().dropped, 1u);

  // Byte by byte still works (frames split over reads).
  const std::string frame = RawClient::Frame(good.SerializeAsString());
  for (char c : frame) raw.Write(std::string(1, c));
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 2; }));

  // A length above the limit cannot be skipped: the connection is closed.
  raw.Write(std::string("\x7f\xff\xff\xff", 4));
  EXPECT_TRUE(raw.ClosedByPeer());
  // A zero length too, on a new connection.
  RawClient raw2(b.address);
  raw2.Write(std::string(4, '\0'));
  EXPECT_TRUE(raw2.ClosedByPeer());

  // The listener still serves others.
  Endpoint a(1);
  a.transport->SetPeerAddress(2, b.address);
  a.transport->Send({Msg(1, 2, 8)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 3; }));
}

// A length prefix alone must not make the listener allocate the frame it announces: the buffer
// grows only with the bytes that arrive.
TEST(TcpTransportTest, ALargeLengthPrefixDoesNotAllocateTheFrame) {
  Endpoint b(2);
  RawClient raw(b.address);
  raw.Write(std::string("\x03\xff\xff\xff", 4) + std::string(10, 'x'));  // 64 MiB announced
  ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().bytes_received == 14; }));
  EXPECT_LT(b.transport->stats().inbound_buffer_bytes, uint64_t{1} << 20);
  // A frame that does arrive in full is still delivered, however it is split.
  proto::PaxosBatch batch;
  batch.set_from_server(1);
  batch.set_to_server(2);
  batch.set_protocol_version(rpc::kProtocolVersion);
  *batch.add_messages() = ToProto(Msg(1, 2, 7, 3 << 20));
  RawClient raw2(b.address);
  raw2.Write(RawClient::Frame(batch.SerializeAsString()));
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.received[0].entries.at(0).command.size(), size_t{3} << 20);
}

// Inbound connections over the caps (per remote address, then in total) are closed and counted;
// those within them are served.
TEST(TcpTransportTest, InboundConnectionsOverTheCapsAreClosed) {
  Endpoint b(2, "127.0.0.1:0",
             {.max_inbound_connections = 3,
              .max_inbound_per_address = 2,
              .inbound_idle_timeout_ms = 120'000,
              .tls = {}});
  RawClient a1(b.address, "127.0.0.1"), a2(b.address, "127.0.0.1");
  RawClient over_address(b.address, "127.0.0.1");
  EXPECT_TRUE(over_address.ClosedByPeer());
  RawClient c1(b.address, "127.0.0.2");
  RawClient over_total(b.address, "127.0.0.2");
  EXPECT_TRUE(over_total.ClosedByPeer());
  EXPECT_EQ(b.transport->stats().inbound_refused, 2u);
  proto::PaxosBatch batch;
  batch.set_from_server(1);
  batch.set_to_server(2);
  batch.set_protocol_version(rpc::kProtocolVersion);
  *batch.add_messages() = ToProto(Msg(1, 2, 7));
  for (RawClient* raw : {&a1, &a2, &c1}) raw->Write(RawClient::Frame(batch.SerializeAsString()));
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 3; }));
}

// An inbound connection that sends nothing is closed after the idle timeout (short here).
TEST(TcpTransportTest, AnInboundConnectionThatSendsNothingIsClosed) {
  Endpoint b(2, "127.0.0.1:0",
             {.max_inbound_connections = 1024,
              .max_inbound_per_address = 128,
              .inbound_idle_timeout_ms = 50,
              .tls = {}});
  RawClient raw(b.address);
  EXPECT_TRUE(raw.ClosedByPeer());
  EXPECT_EQ(b.transport->stats().inbound_idle_closed, 1u);
  ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().inbound_buffer_bytes == 0; }));
}

TEST(TcpTransportTest, FramesOfAnotherProtocolVersionAreDropped) {
  Endpoint b(2);
  proto::PaxosBatch frame;
  frame.set_from_server(1);
  frame.set_to_server(2);
  *frame.add_messages() = ToProto(Msg(1, 2, 7));
  RawClient raw(b.address);
  for (const uint32_t version : {0u, rpc::kProtocolVersion + 1, rpc::kProtocolVersion}) {
    frame.set_protocol_version(version);
    raw.Write(RawClient::Frame(frame.SerializeAsString()));
  }
  // Only the last one, of this server's version, is delivered; the stream stays usable.
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.transport->stats().dropped, 2u);
}

TEST(TcpTransportTest, ListenRejectsBadAddresses) {
  asio::io_context io;
  TcpTransport t(io, [](paxos::Message) {});
  EXPECT_EQ(t.Listen("127.0.0.1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(t.Listen("127.0.0.1:99999").status().code(), absl::StatusCode::kInvalidArgument);
  Endpoint taken(1);
  EXPECT_EQ(t.Listen(taken.address).status().code(), absl::StatusCode::kUnavailable);
}

TEST(TcpTransportTest, AHostNameIsAdvertisedAsItsAddress) {
  Endpoint a(1, "localhost:0");
  ASSERT_FALSE(a.address.empty());
  EXPECT_TRUE(a.address.rfind("127.0.0.1:", 0) == 0 || a.address.rfind("[::1]:", 0) == 0)
      << a.address;
  Endpoint b(2);
  b.transport->SetPeerAddress(1, a.address);
  b.transport->Send({Msg(2, 1, 1)});
  ASSERT_TRUE(WaitUntil([&] { return a.count() == 1; }));
}

TEST(TcpTransportTest, SplitHostPort) {
  auto v4 = SplitHostPort("127.0.0.1:7701");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 7701);
  auto v6 = SplitHostPort("[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  auto any = SplitHostPort(":0");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->first, "");
  EXPECT_FALSE(SplitHostPort("nohost").ok());
  EXPECT_FALSE(SplitHostPort("h:x").ok());
}

}  // namespace
}  // namespace meridian::replication
