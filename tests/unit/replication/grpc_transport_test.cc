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

namespace meridian::replication {
namespace {

using std::chrono::milliseconds;

struct Endpoint {
  std::mutex mu;
  std::vector<paxos::Message> received;
  std::unique_ptr<GrpcTransport> transport;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  explicit Endpoint(uint64_t id) {
    transport = std::make_unique<GrpcTransport>(id, [this](paxos::Message m) {
      std::lock_guard<std::mutex> lock(mu);
      received.push_back(std::move(m));
    });
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    transport->RegisterService(&builder);
    server = builder.BuildAndStart();
  }
  ~Endpoint() {
    server->Shutdown(std::chrono::system_clock::now() + milliseconds(500));
    transport.reset();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return received.size();
  }
};

bool WaitUntil(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(5000);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return pred();
}

paxos::Message Msg(uint64_t from, uint64_t to, uint64_t index) {
  paxos::Message m;
  m.type = paxos::MessageType::kAccept;
  m.group = 4;
  m.from = from;
  m.to = to;
  m.index = index;
  m.entries.push_back({.index = index,
                       .ballot = {1, from},
                       .type = paxos::EntryType::kNormal,
                       .command = absl::StrCat("cmd", index)});
  return m;
}

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
