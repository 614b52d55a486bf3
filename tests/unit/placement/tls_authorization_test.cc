// Mutual TLS on the gRPC services, in process: a Placement service (one replica of group 0) and
// a spanserver (ServerRuntime without placement), both serving with node certificates of one CA
// made by tools/certs.h. Checked: a caller without a certificate never gets an answer; a plain
// client certificate is denied Register, RemoveServer and TransferLeader with PERMISSION_DENIED
// and a message saying what it needs, but may read (GetTopology); an admin certificate and a node
// certificate are allowed; Register records the node certificate's name, and a second server
// with the same name is refused.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/tls.h"
#include "placement/metadata.h"
#include "placement/service.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "replication/group_host.h"
#include "replication/grpc_tls.h"
#include "spanserver/server/server_runtime.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/paxos_log.h"
#include "tools/certs.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

using std::chrono::steady_clock;

class NullTransport : public replication::Transport {
 public:
  void Send(std::vector<paxos::Message>) override {}
};

class TlsAuthorizationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "tls-authz-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    ca_ = dir_ + "/ca";
    ASSERT_TRUE(tools::CreateCa(ca_).ok());
    for (const auto& [name, role] :
         std::vector<std::pair<std::string, TlsRole>>{{"placement-1", TlsRole::kNode},
                                                      {"span-a1", TlsRole::kNode},
                                                      {"span-b1", TlsRole::kNode},
                                                      {"ops", TlsRole::kAdmin},
                                                      {"app", TlsRole::kClient}}) {
      ASSERT_TRUE(
          tools::CreateCert(ca_, {.name = name, .role = role, .hosts = {}, .days = 1}).ok());
    }
    StartPlacement();
    StartSpanserver();
  }

  void TearDown() override {
    if (runtime_ != nullptr) runtime_->Shutdown();
    runtime_.reset();
    service_->Stop();
    std::thread stopper(
        [this] { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1)); });
    host_->Stop();
    stopper.join();
    server_.reset();
    service_.reset();
    host_.reset();
    work_.reset();
    io_.stop();
    for (std::thread& t : threads_) t.join();
    writer_->Shutdown();
    writer_.reset();
    paxos_log_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  TlsOptions Tls(const std::string& name) {
    absl::StatusOr<TlsOptions> tls = LoadTlsDir(ca_ + "/" + name);
    EXPECT_TRUE(tls.ok()) << tls.status();
    return tls.ok() ? *tls : TlsOptions{};
  }

  void StartPlacement() {
    auto source = truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {});
    truetime_ =
        std::make_unique<truetime::TrueTime>(std::move(*source), truetime::TrueTime::Options{});
    engine_ = std::move(*storage::Engine::Open(dir_ + "/pd"));
    paxos_log_ = std::move(*storage::PaxosLog::Open(dir_ + "/pd_paxos_log"));
    writer_ = std::make_unique<storage::GroupCommitWriter>(engine_.get(), paxos_log_.get());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
    replication::GroupHostOptions options;
    options.paxos.group = 0;
    options.paxos.id = 1;
    options.paxos.members = {1};
    options.paxos.election_timeout_us = 50'000;
    options.paxos.heartbeat_interval_us = 20'000;
    auto metadata = std::make_unique<MetadataStateMachine>();
    const MetadataStateMachine* metadata_ptr = metadata.get();
    host_ =
        std::make_unique<replication::GroupHost>(io_, engine_.get(), writer_.get(), truetime_.get(),
                                                 &transport_, options, std::move(metadata));
    PlacementServiceOptions service_options;
    service_options.bootstrap_delay_us = 0;
    service_options.balancer.interval_us = 0;
    service_options.tls = Tls("placement-1");
    service_ = std::make_unique<PlacementService>(host_.get(), metadata_ptr, truetime_.get(),
                                                  service_options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", replication::ServerCredentials(Tls("placement-1")),
                             &port);
    service_->RegisterService(&builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    placement_address_ = "127.0.0.1:" + std::to_string(port);
    service_->SetReplicaAddress(1, placement_address_);
    ASSERT_TRUE(host_->Start().ok());
  }

  void StartSpanserver() {
    spanserver::ServerOptions options;
    options.zone = "zone-a";
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_ + "/span";
    options.gc_interval_ms = 0;
    options.tls = Tls("span-a1");
    absl::StatusOr<std::unique_ptr<spanserver::ServerRuntime>> runtime =
        spanserver::ServerRuntime::Open(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = *std::move(runtime);
    ASSERT_TRUE(runtime_->StartWithoutPlacement(1).ok());
  }

  // A stub to `address` presenting `who`'s certificate ("": none, only the CA to check the
  // server with).
  template <typename Service>
  std::unique_ptr<typename Service::Stub> Stub(const std::string& address, const std::string& who) {
    std::shared_ptr<grpc::ChannelCredentials> credentials;
    if (who.empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = Tls("app").ca_cert_pem;
      credentials = grpc::SslCredentials(ssl);
    } else {
      credentials = replication::ChannelCredentials(Tls(who));
    }
    return Service::NewStub(grpc::CreateChannel(address, credentials));
  }

  // Register through `who`'s certificate, retried (with `retry`) while the placement replica
  // elects itself.
  grpc::Status Register(const std::string& who, const std::string& address, uint64_t* id = nullptr,
                        bool retry = true) {
    auto stub = Stub<proto::Placement>(placement_address_, who);
    grpc::Status status;
    const auto deadline = steady_clock::now() + std::chrono::seconds(10);
    do {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      proto::RegisterRequest request;
      request.set_zone("zone-a");
      request.set_address(address);
      request.set_incarnation(7);
      proto::RegisterResponse response;
      status = stub->Register(&ctx, request, &response);
      if (id != nullptr) *id = response.server_id();
      if (!retry || status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (steady_clock::now() < deadline);
    return status;
  }

  grpc::Status TransferLeader(const std::string& who) {
    auto stub = Stub<proto::Kv>(runtime_->address(), who);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    proto::TransferLeaderRequest request;
    request.set_group(42);
    request.set_target_server(2);
    proto::TransferLeaderResponse response;
    return stub->TransferLeader(&ctx, request, &response);
  }

  std::string dir_;
  std::string ca_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  NullTransport transport_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::PaxosLog> paxos_log_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  std::unique_ptr<replication::GroupHost> host_;
  std::unique_ptr<PlacementService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string placement_address_;
  std::unique_ptr<spanserver::ServerRuntime> runtime_;
};

TEST_F(TlsAuthorizationTest, ACallerWithoutACertificateIsRefused) {
  ASSERT_TRUE(Register("span-a1", "127.0.0.1:9001").ok());  // placement is up
  grpc::Status status = Register("", "127.0.0.1:9002", nullptr, /*retry=*/false);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  status = TransferLeader("");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  // Nor does a plaintext channel get through.
  auto plain = proto::Placement::NewStub(
      grpc::CreateChannel(placement_address_, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  proto::Topology topology;
  EXPECT_FALSE(plain->GetTopology(&ctx, proto::GetTopologyRequest(), &topology).ok());
}

TEST_F(TlsAuthorizationTest, AClientCertificateIsDeniedAdminRpcsButMayRead) {
  grpc::Status status = Register("app", "127.0.0.1:9001");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(status.error_message().find("Register is an admin RPC"), std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("'app' has a client certificate"), std::string::npos)
      << status.error_message();

  status = TransferLeader("app");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(status.error_message().find("TransferLeader"), std::string::npos);

  auto stub = Stub<proto::Placement>(placement_address_, "app");
  grpc::ClientContext remove_ctx;
  proto::RemoveServerRequest remove;
  remove.set_server_id(5);
  proto::RemoveServerResponse removed;
  EXPECT_EQ(stub->RemoveServer(&remove_ctx, remove, &removed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  ASSERT_TRUE(Register("span-a1", "127.0.0.1:9001").ok());  // placement is up
  grpc::ClientContext ctx;
  proto::Topology topology;
  EXPECT_TRUE(stub->GetTopology(&ctx, proto::GetTopologyRequest(), &topology).ok());
}

TEST_F(TlsAuthorizationTest, AdminAndNodeCertificatesAreAllowed) {
  uint64_t id = 0;
  grpc::Status status = Register("span-a1", "127.0.0.1:9001", &id);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_NE(id, 0u);
  EXPECT_TRUE(Register("ops", "127.0.0.1:9002").ok());

  // Authorized, the call reaches the server, which does not host group 42.
  for (const char* who : {"ops", "placement-1"}) {
    status = TransferLeader(who);
    EXPECT_NE(status.error_message().find("group 42 is not hosted here"), std::string::npos)
        << who << ": " << status.error_message();
  }
}

TEST_F(TlsAuthorizationTest, RegisterBindsTheCertificateNameToOneServer) {
  uint64_t id = 0;
  ASSERT_TRUE(Register("span-a1", "127.0.0.1:9001", &id).ok());
  auto stub = Stub<proto::Placement>(placement_address_, "app");
  grpc::ClientContext ctx;
  proto::Topology topology;
  ASSERT_TRUE(stub->GetTopology(&ctx, proto::GetTopologyRequest(), &topology).ok());
  ASSERT_EQ(topology.servers_size(), 1);
  EXPECT_EQ(topology.servers(0).name(), "span-a1");

  // Another server (another address) with span-a1's certificate is refused.
  grpc::Status status = Register("span-a1", "127.0.0.1:9002");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("certificate name 'span-a1' belongs to server"),
            std::string::npos)
      << status.error_message();
  EXPECT_TRUE(Register("span-b1", "127.0.0.1:9002").ok());
}

}  // namespace
}  // namespace meridian::placement
