// GrpcLeaderClient against an in-process Kv service that only answers TransferLeader: the request
// it sends (group, target, protocol version), an error passed back with its code, an address where
// nothing listens, and Shutdown.
#include "placement/grpc_leader_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "proto/kv.grpc.pb.h"
#include "proto/rpc.h"

namespace meridian::placement {
namespace {

class TransferOnlyKv final : public proto::Kv::CallbackService {
 public:
  grpc::ServerUnaryReactor* TransferLeader(grpc::CallbackServerContext* ctx,
                                           const proto::TransferLeaderRequest* request,
                                           proto::TransferLeaderResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    const auto version = ctx->client_metadata().find(rpc::kProtocolMetadataKey);
    {
      absl::MutexLock lock(&mu);
      last = *request;
      saw_version = version != ctx->client_metadata().end();
    }
    reactor->Finish(request->group() == 13
                        ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader of 13")
                        : grpc::Status::OK);
    return reactor;
  }

  absl::Mutex mu;
  proto::TransferLeaderRequest last ABSL_GUARDED_BY(mu);
  bool saw_version ABSL_GUARDED_BY(mu) = false;
};

TEST(GrpcLeaderClientTest, AsksTheServerAndPassesItsAnswerBack) {
  TransferOnlyKv kv;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&kv);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(port);

  GrpcLeaderClient client({}, 2'000'000);
  ASSERT_TRUE(client.TransferLeader(address, 7, 3).ok());
  {
    absl::MutexLock lock(&kv.mu);
    EXPECT_EQ(kv.last.group(), 7u);
    EXPECT_EQ(kv.last.target_server(), 3u);
    EXPECT_TRUE(kv.saw_version);
  }
  const absl::Status refused = client.TransferLeader(address, 13, 3);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(refused.message(), "TransferLeader of group 13 at " + address))
      << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "not the leader of 13")) << refused;

  client.Shutdown();
  EXPECT_EQ(client.TransferLeader(address, 7, 3).code(), absl::StatusCode::kCancelled);
  server->Shutdown();
}

TEST(GrpcLeaderClientTest, NobodyListening) {
  GrpcLeaderClient client({}, 2'000'000);
  // Port 1 on loopback: connection refused at once.
  const absl::Status status = client.TransferLeader("127.0.0.1:1", 7, 3);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

}  // namespace
}  // namespace meridian::placement
