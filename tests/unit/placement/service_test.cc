// In-process placement: one GroupHost of group 0 (a single replica, or a replica of a two-member
// group whose peer only exists as messages the test injects) with the Placement service on
// 127.0.0.1:0, called through a real stub. Waits are bounded polls of GroupHost::state() or of
// RPC results, each with a 10 s deadline.
#include "placement/service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "placement/metadata.h"
#include "proto/placement.grpc.pb.h"
#include "replication/group_host.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

using std::chrono::steady_clock;

class NullTransport : public replication::Transport {
 public:
  void Send(std::vector<paxos::Message>) override {}
};

// Polls `done` until it holds or 10 s pass.
bool WaitFor(const std::function<bool()>& done) {
  const auto deadline = steady_clock::now() + std::chrono::seconds(10);
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

class PlacementFixture {
 public:
  explicit PlacementFixture(std::vector<paxos::ReplicaId> members) {
    char tmpl[] = "/tmp/placement_service_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto source = truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {});
    truetime_ =
        std::make_unique<truetime::TrueTime>(std::move(*source), truetime::TrueTime::Options{});
    engine_ = std::move(*storage::Engine::Open(dir_ + "/db"));
    writer_ = std::make_unique<storage::GroupCommitWriter>(engine_.get());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });

    replication::GroupHostOptions options;
    options.paxos.group = 0;
    options.paxos.id = 1;
    options.paxos.members = std::move(members);
    options.paxos.election_timeout_us = 50'000;
    options.paxos.heartbeat_interval_us = 20'000;
    auto metadata = std::make_unique<MetadataStateMachine>();
    metadata_ = metadata.get();
    host_ =
        std::make_unique<replication::GroupHost>(io_, engine_.get(), writer_.get(), truetime_.get(),
                                                 &transport_, options, std::move(metadata));

    PlacementServiceOptions service_options;
    service_options.zones_required = 3;
    service_options.num_ranges = 8;
    service_options.bootstrap_delay_us = 0;
    service_options.replica_addresses = {{2, "127.0.0.1:2222"}};
    service_ = std::make_unique<PlacementService>(host_.get(), metadata_, truetime_.get(),
                                                  service_options);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    service_->RegisterService(&builder);
    server_ = builder.BuildAndStart();
    address_ = "127.0.0.1:" + std::to_string(port);
    service_->SetReplicaAddress(1, address_);
    stub_ = proto::Placement::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    EXPECT_TRUE(host_->Start().ok());
  }

  ~PlacementFixture() {
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
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  grpc::Status Register(const std::string& zone, const std::string& address, uint64_t id,
                        uint64_t* assigned) {
    grpc::ClientContext ctx;
    proto::RegisterRequest request;
    request.set_zone(zone);
    request.set_address(address);
    request.set_server_id(id);
    proto::RegisterResponse response;
    grpc::Status status = stub_->Register(&ctx, request, &response);
    *assigned = response.server_id();
    return status;
  }

  grpc::Status Heartbeat(const proto::HeartbeatRequest& request, proto::Topology* topology) {
    grpc::ClientContext ctx;
    proto::HeartbeatResponse response;
    grpc::Status status = stub_->Heartbeat(&ctx, request, &response);
    *topology = response.topology();
    return status;
  }

  grpc::Status Locate(const std::string& key, proto::LocateResponse* response) {
    grpc::ClientContext ctx;
    proto::LocateRequest request;
    request.set_key(key);
    return stub_->Locate(&ctx, request, response);
  }

  replication::GroupHost& host() { return *host_; }
  proto::Placement::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }

 private:
  std::string dir_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  NullTransport transport_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::vector<std::thread> threads_;
  MetadataStateMachine* metadata_ = nullptr;
  std::unique_ptr<replication::GroupHost> host_;
  std::unique_ptr<PlacementService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<proto::Placement::Stub> stub_;
};

TEST(PlacementServiceTest, RegisterHeartbeatBootstrapLocate) {
  PlacementFixture placement({1});
  ASSERT_TRUE(WaitFor([&] {
    const replication::GroupState state = placement.host().state();
    return state.role == paxos::Role::kLeader && state.has_lease;
  }));

  uint64_t ids[3] = {0, 0, 0};
  const char* zones[3] = {"zone-a", "zone-b", "zone-c"};
  for (int i = 0; i < 3; ++i) {
    grpc::Status status =
        placement.Register(zones[i], "127.0.0.1:" + std::to_string(7001 + i), 0, &ids[i]);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(ids[i], static_cast<uint64_t>(i + 1));
  }
  uint64_t again = 0;
  ASSERT_TRUE(placement.Register("zone-b", "127.0.0.1:7102", 2, &again).ok());
  EXPECT_EQ(again, 2u);
  EXPECT_EQ(placement.Register("", "x:1", 0, &again).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  proto::LocateResponse located;
  EXPECT_EQ(placement.Locate("a", &located).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  proto::Topology topology;
  proto::HeartbeatRequest unknown;
  unknown.set_server_id(99);
  EXPECT_EQ(placement.Heartbeat(unknown, &topology).error_code(), grpc::StatusCode::NOT_FOUND);

  // Heartbeats from all three; server 1 leads group 4 (which holds "a", 0x61).
  auto heartbeat_all = [&] {
    for (uint64_t id = 1; id <= 3; ++id) {
      proto::HeartbeatRequest request;
      request.set_server_id(id);
      if (id == 1) {
        proto::GroupReport* report = request.add_groups();
        report->set_group(4);
        report->set_is_leader(true);
        report->set_has_lease(true);
      }
      grpc::Status status = placement.Heartbeat(request, &topology);
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
    return topology.bootstrapped();
  };
  ASSERT_TRUE(WaitFor(heartbeat_all));
  EXPECT_EQ(topology.ranges_size(), 8);
  EXPECT_EQ(topology.groups_size(), 8);
  ASSERT_EQ(topology.servers_size(), 3);
  for (const proto::ServerInfo& server : topology.servers()) EXPECT_TRUE(server.alive());
  EXPECT_EQ(topology.servers(1).address(), "127.0.0.1:7102");
  EXPECT_EQ(topology.placement_leader(), placement.address());
  EXPECT_EQ(topology.zones_size(), 3);

  grpc::Status status = placement.Locate("a", &located);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(located.range().group(), 4u);
  EXPECT_EQ(located.range().start(), "\x60");
  EXPECT_EQ(located.range().end(), "\x80");
  EXPECT_EQ(located.group().id(), 4u);
  EXPECT_EQ(located.replicas_size(), 3);
  EXPECT_EQ(located.group().leader(), 1u);
  EXPECT_EQ(located.leader_address(), "127.0.0.1:7001");

  grpc::ClientContext ctx;
  proto::Topology full;
  ASSERT_TRUE(placement.stub().GetTopology(&ctx, proto::GetTopologyRequest(), &full).ok());
  EXPECT_TRUE(full.bootstrapped());
  EXPECT_EQ(full.ranges_size(), 8);
}

TEST(PlacementServiceTest, FollowerRepliesUnavailableWithLeaderHint) {
  // Replica 1 of {1, 2}; replica 2 exists only as one Accept injected here, which makes 1 a
  // follower that knows 2 leads.
  PlacementFixture placement({1, 2});
  paxos::Message accept;
  accept.type = paxos::MessageType::kAccept;
  accept.group = 0;
  accept.from = 2;
  accept.to = 1;
  accept.ballot = paxos::Ballot{100, 2};
  ASSERT_TRUE(WaitFor([&] {
    placement.host().Deliver(accept);
    return placement.host().state().leader == 2;
  }));

  grpc::ClientContext ctx;
  proto::RegisterRequest request;
  request.set_zone("z");
  request.set_address("127.0.0.1:7001");
  proto::RegisterResponse response;
  grpc::Status status = placement.stub().Register(&ctx, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find("meridian-leader");
  ASSERT_NE(it, trailers.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "127.0.0.1:2222");
}

}  // namespace
}  // namespace meridian::placement
