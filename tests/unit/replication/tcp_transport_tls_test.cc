// TcpTransport with mutual TLS between endpoints on 127.0.0.1 in one process, with certificates
// made by tools/certs.h in a temporary directory: node certificates of one CA are accepted; a
// plaintext peer, a certificate of another CA and a client certificate are refused; a frame or a
// message claiming a server other than the certificate's is dropped and counted. Waits are
// bounded polls: delivery happens on the io threads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/tls.h"
#include "proto/paxos.pb.h"
#include "proto/rpc.h"
#include "replication/paxos_wire.h"
#include "replication/tcp_transport.h"
#include "tests/unit/replication/transport_test_util.h"
#include "tools/certs.h"

namespace meridian::replication {
namespace {

using testing::Msg;
using testing::WaitUntil;
namespace asio = boost::asio;

// One CA with node certificates span-a, span-b, span-c and a client certificate app; a second
// CA (rogue/) with its own span-a.
class TlsTransportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string templ = (std::filesystem::temp_directory_path() / "tls-transport-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = new std::string(templ);
    ASSERT_TRUE(tools::CreateCa(*dir_).ok());
    ASSERT_TRUE(tools::CreateCa(*dir_ + "/rogue").ok());
    for (const char* name : {"span-a", "span-b", "span-c"}) {
      ASSERT_TRUE(
          tools::CreateCert(*dir_, {.name = name, .role = TlsRole::kNode, .hosts = {}, .days = 1})
              .ok());
    }
    ASSERT_TRUE(
        tools::CreateCert(*dir_, {.name = "app", .role = TlsRole::kClient, .hosts = {}, .days = 1})
            .ok());
    ASSERT_TRUE(
        tools::CreateCert(*dir_ + "/rogue",
                          {.name = "span-a", .role = TlsRole::kNode, .hosts = {}, .days = 1})
            .ok());
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static TlsOptions Tls(const std::string& sub) {
    absl::StatusOr<TlsOptions> tls = LoadTlsDir(*dir_ + "/" + sub);
    EXPECT_TRUE(tls.ok()) << tls.status();
    return tls.ok() ? *tls : TlsOptions{};
  }

  static std::string* dir_;
};
std::string* TlsTransportTest::dir_ = nullptr;

// A transport serving as server `id` with the certificates of `tls`, which knows the names of
// servers 1, 2 and 3 as placement would tell them (span-a, span-b, span-c).
struct Endpoint {
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread thread;
  testing::Inbox inbox;
  std::unique_ptr<TcpTransport> transport;
  std::string address;

  Endpoint(uint64_t id, const TlsOptions& tls) {
    work.emplace(io.get_executor());
    thread = std::thread([this] { io.run(); });
    TcpTransportOptions options;
    options.tls = tls;
    transport = std::make_unique<TcpTransport>(io, inbox.Sink(), nullptr, options);
    absl::StatusOr<std::string> bound = transport->Listen("127.0.0.1:0");
    EXPECT_TRUE(bound.ok()) << bound.status();
    if (bound.ok()) address = *bound;
    transport->SetPeerName(1, "span-a");
    transport->SetPeerName(2, "span-b");
    transport->SetPeerName(3, "span-c");
    transport->Start(id);
  }
  ~Endpoint() {
    transport->Shutdown();
    work.reset();
    io.stop();
    thread.join();
    transport.reset();
  }
  size_t count() { return inbox.count(); }
};

TEST_F(TlsTransportTest, NodesOfOneCaExchangeMessages) {
  Endpoint a(1, Tls("span-a")), b(2, Tls("span-b"));
  a.transport->SetPeerAddress(2, b.address);
  b.transport->SetPeerAddress(1, a.address);
  for (int i = 1; i <= 50; ++i) a.transport->Send({Msg(1, 2, i, i == 25 ? 200'000 : 0)});
  b.transport->Send({Msg(2, 1, 7)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 50 && a.count() == 1; }));
  EXPECT_EQ(b.transport->stats().tls_refused, 0u);
  EXPECT_EQ(b.transport->stats().sender_mismatches, 0u);
  EXPECT_EQ(a.transport->stats().connects, 1u);
}

TEST_F(TlsTransportTest, APlaintextPeerIsRefused) {
  Endpoint b(2, Tls("span-b"));
  proto::PaxosBatch batch;
  batch.set_from_server(1);
  batch.set_to_server(2);
  batch.set_protocol_version(rpc::kProtocolVersion);
  *batch.add_messages() = ToProto(Msg(1, 2, 7));
  const std::string body = batch.SerializeAsString();
  const uint32_t n = body.size();
  const std::string frame = std::string{static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                                        static_cast<char>(n >> 8), static_cast<char>(n)} +
                            body;
  asio::io_context io;
  asio::ip::tcp::socket raw(io);
  absl::StatusOr<std::pair<std::string, uint16_t>> split = SplitHostPort(b.address);
  ASSERT_TRUE(split.ok());
  raw.connect({asio::ip::make_address(split->first), split->second});
  boost::system::error_code ec;
  asio::write(raw, asio::buffer(frame), ec);
  ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().tls_refused >= 1; }));
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.transport->stats().messages_received, 0u);
}

TEST_F(TlsTransportTest, CertificatesOfAnotherCaOrOfAClientAreRefused) {
  Endpoint b(2, Tls("span-b"));
  for (const char* sub : {"rogue/span-a", "app"}) {
    Endpoint other(1, Tls(sub));
    other.transport->SetPeerAddress(2, b.address);
    const uint64_t refused = b.transport->stats().tls_refused;
    // Each attempt fails the handshake (on both sides); retries follow the backoff.
    other.transport->Send({Msg(1, 2, 1)});
    ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().tls_refused > refused; })) << sub;
    EXPECT_EQ(b.count(), 0u) << sub;
  }
}

TEST_F(TlsTransportTest, AFrameClaimingAnotherServerIsDroppedAndCounted) {
  // span-c's certificate, but it serves as server 1 (span-a's id): every frame it sends claims
  // from_server 1.
  Endpoint impostor(1, Tls("span-c")), b(2, Tls("span-b"));
  impostor.transport->SetPeerAddress(2, b.address);
  impostor.transport->Send({Msg(1, 2, 1), Msg(1, 2, 2)});
  ASSERT_TRUE(WaitUntil([&] { return b.transport->stats().sender_mismatches >= 1; }));
  EXPECT_EQ(b.count(), 0u);
  EXPECT_EQ(b.transport->stats().messages_received, 0u);
  EXPECT_GE(b.transport->stats().dropped, 2u);

  // The real server 1 still gets through.
  Endpoint a(1, Tls("span-a"));
  a.transport->SetPeerAddress(2, b.address);
  a.transport->Send({Msg(1, 2, 3)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
}

TEST_F(TlsTransportTest, AMessageFromAnotherReplicaInsideAnHonestFrameIsDropped) {
  Endpoint c(3, Tls("span-c")), b(2, Tls("span-b"));
  c.transport->SetPeerAddress(2, b.address);
  // The frame truly comes from server 3; its first message claims replica 1.
  c.transport->Send({Msg(1, 2, 1), Msg(3, 2, 2)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.inbox.received.at(0).from, 3u);
  EXPECT_EQ(b.transport->stats().sender_mismatches, 1u);
}

TEST_F(TlsTransportTest, AConnectionToAServerWithAnotherNameIsNotUsed) {
  Endpoint a(1, Tls("span-a")), c(3, Tls("span-c"));
  // a believes server 2 (span-b) listens where span-c does.
  a.transport->SetPeerAddress(2, c.address);
  a.transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(WaitUntil([&] { return a.transport->stats().tls_refused >= 1; }));
  EXPECT_EQ(a.transport->stats().connects, 0u);
  EXPECT_EQ(c.count(), 0u);
}

}  // namespace
}  // namespace meridian::replication
