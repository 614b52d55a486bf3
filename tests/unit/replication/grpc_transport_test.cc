// GrpcTransport between two servers on 127.0.0.1 in one process. Waits are bounded polls: the
// transport runs on gRPC's threads.
#include "replication/grpc_transport.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/replication/transport_test_util.h"

namespace meridian::replication {
namespace {

using testing::Msg;
using testing::WaitUntil;

using std::chrono::milliseconds;

struct Endpoint {
  testing::Inbox inbox;
  std::vector<paxos::Message>& received = inbox.received;
  std::mutex& mu = inbox.mu;
  std::unique_ptr<GrpcTransport> transport;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  explicit Endpoint(uint64_t id) {
    transport = std::make_unique<GrpcTransport>(id, inbox.Sink());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    transport->RegisterService(&builder);
    server = builder.BuildAndStart();
  }
  ~Endpoint() {
    server->Shutdown(std::chrono::system_clock::now() + milliseconds(500));
    transport.reset();
  }
  size_t count() { return inbox.count(); }
};

TEST(GrpcTransportTest, DeliversEveryMessageInOrderAcrossBatches) {
  Endpoint a(1), b(2);
  ASSERT_GT(b.port, 0);
  a.transport->SetPeerAddress(2, absl::StrCat("127.0.0.1:", b.port));
  constexpr int kMessages = 2000;
  for (int i = 1; i <= kMessages; i += 10) {
    std::vector<paxos::Message> batch;
    for (int j = i; j < i + 10; ++j) batch.push_back(Msg(1, 2, j));
    a.transport->Send(std::move(batch));
  }
  ASSERT_TRUE(WaitUntil([&] { return b.count() == kMessages; })) << b.count();
  std::lock_guard<std::mutex> lock(b.mu);
  for (int i = 0; i < kMessages; ++i) {
    ASSERT_EQ(b.received[i].index, static_cast<uint64_t>(i + 1));
    EXPECT_EQ(b.received[i].entries.at(0).command, absl::StrCat("cmd", i + 1));
    EXPECT_EQ(b.received[i].group, 4u);
  }
  EXPECT_EQ(a.transport->dropped(), 0u);
}

TEST(GrpcTransportTest, DropsMessagesToUnknownServersAndDeliversToSelfLocally) {
  Endpoint a(1);
  a.transport->Send({Msg(1, 9, 1), Msg(1, 1, 2)});
  EXPECT_EQ(a.transport->dropped(), 1u);
  ASSERT_EQ(a.count(), 1u);
  EXPECT_EQ(a.received[0].index, 2u);
}

TEST(GrpcTransportTest, FailedRpcsDropTheirBatchAndLaterOnesGetThrough) {
  Endpoint a(1);
  // Nobody listens there (port 1 needs root): the RPC fails and its batch is dropped.
  a.transport->SetPeerAddress(2, "127.0.0.1:1");
  a.transport->Send({Msg(1, 2, 1)});
  ASSERT_TRUE(WaitUntil([&] { return a.transport->dropped() == 1; }));

  Endpoint b(2);
  a.transport->SetPeerAddress(2, absl::StrCat("127.0.0.1:", b.port));
  a.transport->Send({Msg(1, 2, 2)});
  ASSERT_TRUE(WaitUntil([&] { return b.count() == 1; }));
  EXPECT_EQ(b.received[0].index, 2u);
}

}  // namespace
}  // namespace meridian::replication
