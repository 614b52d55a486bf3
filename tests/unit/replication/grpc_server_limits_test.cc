// ApplyGrpcServerLimits: what a gRPC server built with it refuses, and that it keeps serving.
// The server is a stand-in Kv service whose Get of key "hold" stays open until the test releases
// it (so a test controls how many calls a connection has in flight); every other call answers at
// once. Caps are set small so that the attacks are cheap.
#include "replication/grpc_server_limits.h"

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"

namespace meridian::replication {
namespace {

class HoldingKv final : public proto::Kv::CallbackService {
 public:
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* ctx, const proto::GetRequest* request,
                                proto::GetResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (request->key() == "hold" && !released_) {
      held_.push_back(reactor);
    } else {
      reactor->Finish(grpc::Status::OK);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const proto::PutRequest*,
                                proto::PutResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    ++calls_;
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // Waits (bounded) until `n` calls are held open.
  bool AwaitHeld(size_t n) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return held_.size() >= n; };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Seconds(10));
  }

  void Release() {
    absl::MutexLock lock(&mu_);
    released_ = true;
    for (grpc::ServerUnaryReactor* r : held_) r->Finish(grpc::Status::OK);
    held_.clear();
  }

  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Mutex mu_;
  std::vector<grpc::ServerUnaryReactor*> held_ ABSL_GUARDED_BY(mu_);
  bool released_ ABSL_GUARDED_BY(mu_) = false;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

class GrpcServerLimitsTest : public ::testing::Test {
 protected:
  void Start(const GrpcServerLimits& limits) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    ApplyGrpcServerLimits(limits, &builder);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    service_.Release();
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  // A stub over a connection of its own (channels with the same arguments share one otherwise).
  std::unique_ptr<proto::Kv::Stub> NewConnection() {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return proto::Kv::NewStub(grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port_),
                                                        grpc::InsecureChannelCredentials(), args));
  }

  static grpc::Status Get(proto::Kv::Stub& stub, const std::string& key, int timeout_ms) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    proto::GetRequest request;
    request.set_key(key);
    proto::GetResponse response;
    return stub.Get(&ctx, request, &response);
  }

  HoldingKv service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

// A client that opens more calls on one connection than the cap: the extra call waits in the
// client (the server never sees it) while another connection is served at once; once the open
// calls end, the connection serves again.
TEST_F(GrpcServerLimitsTest, CallsOverTheStreamCapWaitWhileOtherConnectionsAreServed) {
  GrpcServerLimits limits;
  limits.max_concurrent_streams = 2;
  Start(limits);
  std::unique_ptr<proto::Kv::Stub> greedy = NewConnection();
  ASSERT_TRUE(Get(*greedy, "warm", 5'000).ok());  // the server's SETTINGS have arrived
  struct Held {
    grpc::ClientContext ctx;
    proto::GetRequest request;
    proto::GetResponse response;
  };
  std::vector<std::unique_ptr<Held>> held;
  absl::Mutex mu;
  int finished = 0;
  for (int i = 0; i < 2; ++i) {
    auto h = std::make_unique<Held>();
    h->request.set_key("hold");
    greedy->async()->Get(&h->ctx, &h->request, &h->response, [&](grpc::Status) {
      absl::MutexLock lock(&mu);
      ++finished;
    });
    held.push_back(std::move(h));
  }
  ASSERT_TRUE(service_.AwaitHeld(2));
  const int calls_before = service_.calls();

  EXPECT_EQ(Get(*greedy, "extra", 500).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(service_.calls(), calls_before) << "the server accepted a stream over its cap";
  std::unique_ptr<proto::Kv::Stub> other = NewConnection();
  EXPECT_TRUE(Get(*other, "other", 5'000).ok());

  service_.Release();
  {
    absl::MutexLock lock(&mu);
    auto done = [&]() { return finished == 2; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10)));
  }
  EXPECT_TRUE(Get(*greedy, "after", 5'000).ok());
}

// A request over the receive limit is refused with RESOURCE_EXHAUSTED before the handler runs;
// the same connection then serves a normal call.
TEST_F(GrpcServerLimitsTest, AnOversizedRequestIsRefusedAndTheServerStaysUp) {
  GrpcServerLimits limits;
  limits.max_receive_message_bytes = 64 << 10;
  Start(limits);
  std::unique_ptr<proto::Kv::Stub> stub = NewConnection();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  proto::PutRequest request;
  request.set_key("k");
  request.set_value(std::string(100 << 10, 'x'));
  proto::PutResponse response;
  const grpc::Status status = stub->Put(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_EQ(service_.calls(), 0);
  EXPECT_TRUE(Get(*stub, "k", 5'000).ok());
  EXPECT_EQ(service_.calls(), 1);
}

// A client that connects, says hello in HTTP/2 and then goes silent is disconnected after the
// idle limit (a dead client holds nothing for long).
TEST_F(GrpcServerLimitsTest, AnIdleConnectionIsClosed) {
  GrpcServerLimits limits;
  limits.max_connection_idle_ms = 300;
  Start(limits);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port_));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  // The client connection preface, then an empty SETTINGS frame (length 0, type 4, stream 0).
  const std::string hello = std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
                            std::string("\x00\x00\x00\x04\x00\x00\x00\x00\x00", 9);
  ASSERT_EQ(::write(fd, hello.data(), hello.size()), static_cast<ssize_t>(hello.size()));
  // Read (the server's SETTINGS, its GOAWAY) until the server closes, within 10 s.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    closed = n <= 0;
  }
  ::close(fd);
  EXPECT_TRUE(closed) << "the server kept an idle connection open";
}

}  // namespace
}  // namespace meridian::replication
