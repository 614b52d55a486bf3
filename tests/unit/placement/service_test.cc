// In-process placement: one GroupHost of group 0 (a single replica, or a replica of a two-member
// group whose peer only exists as messages the test injects) with the Placement service on
// 127.0.0.1:0, called through a real stub. Waits are bounded polls of GroupHost::state() or of
// RPC results, each with a 10 s deadline.
#include "placement/service.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
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

#include "absl/strings/match.h"
#include "placement/metadata.h"
#include "proto/placement.grpc.pb.h"
#include "replication/group_host.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/paxos_log.h"
#include "tests/unit/placement/fake_movement_client.h"
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
  // `movement` (optional) is what the mover calls instead of the spanservers.
  // `configure` (optional) changes the service's options; the balancer is off unless it sets
  // balancer.interval_us.
  explicit PlacementFixture(
      std::vector<paxos::ReplicaId> members, MovementClient* movement = nullptr,
      const std::function<void(PlacementServiceOptions&)>& configure = nullptr) {
    char tmpl[] = "/tmp/placement_service_test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    auto source = truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {});
    truetime_ =
        std::make_unique<truetime::TrueTime>(std::move(*source), truetime::TrueTime::Options{});
    engine_ = std::move(*storage::Engine::Open(dir_ + "/db"));
    paxos_log_ = std::move(*storage::PaxosLog::Open(dir_ + "/db_paxos_log"));
    writer_ = std::make_unique<storage::GroupCommitWriter>(engine_.get(), paxos_log_.get());
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
    service_options.movement = movement;
    service_options.mover.backoff_initial_us = 1'000;
    service_options.mover.backoff_max_us = 20'000;
    service_options.mover.idle_poll_us = 10'000;
    service_options.balancer.interval_us = 0;
    if (configure) configure(service_options);
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
    paxos_log_.reset();
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

  grpc::Status MoveRange(const std::string& key, uint64_t to_group, proto::MoveInfo* move) {
    grpc::ClientContext ctx;
    proto::MoveRangeRequest request;
    request.set_key(key);
    request.set_to_group(to_group);
    proto::MoveRangeResponse response;
    grpc::Status status = stub_->MoveRange(&ctx, request, &response);
    *move = response.move();
    return status;
  }

  grpc::Status SplitRange(const std::string& key, proto::MoveInfo* move) {
    grpc::ClientContext ctx;
    proto::SplitRangeRequest request;
    request.set_key(key);
    proto::SplitRangeResponse response;
    grpc::Status status = stub_->SplitRange(&ctx, request, &response);
    *move = response.move();
    return status;
  }

  grpc::Status SetPolicy(const std::string& key, const proto::Policy& policy,
                         proto::SetPolicyResponse* response) {
    grpc::ClientContext ctx;
    proto::SetPolicyRequest request;
    request.set_key(key);
    *request.mutable_policy() = policy;
    return stub_->SetPolicy(&ctx, request, response);
  }

  proto::Topology GetTopology() {
    grpc::ClientContext ctx;
    proto::Topology topology;
    EXPECT_TRUE(stub_->GetTopology(&ctx, proto::GetTopologyRequest(), &topology).ok());
    return topology;
  }

  // Registers servers 1..3 in zones a..c and heartbeats until the cluster is bootstrapped.
  void Bootstrap() {
    ASSERT_TRUE(WaitFor([&] {
      const replication::GroupState state = host_->state();
      return state.role == paxos::Role::kLeader && state.has_lease;
    }));
    for (int i = 0; i < 3; ++i) {
      uint64_t id = 0;
      ASSERT_TRUE(Register(std::string("zone-") + static_cast<char>('a' + i),
                           "127.0.0.1:" + std::to_string(7001 + i), 0, &id)
                      .ok());
    }
    ASSERT_TRUE(WaitFor([&] {
      proto::Topology topology;
      for (uint64_t id = 1; id <= 3; ++id) {
        proto::HeartbeatRequest request;
        request.set_server_id(id);
        EXPECT_TRUE(Heartbeat(request, &topology).ok());
      }
      return topology.bootstrapped();
    }));
  }

  replication::GroupHost& host() { return *host_; }
  proto::Placement::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }

 private:
  std::string dir_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::PaxosLog> paxos_log_;
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

// MoveRange and SplitRange through the RPCs, with the mover calling a FakeMovementClient: the
// errors of placement.proto, a move to a new group and a split carried to their end, and the
// phase of a move in progress in GetTopology.
TEST(PlacementServiceTest, MoveRangeAndSplitRange) {
  auto source = truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {});
  truetime::TrueTime truetime(std::move(*source), truetime::TrueTime::Options{});
  FakeMovementClient movement(&truetime);
  std::atomic<bool> hold{true};  // group 9 has no leader yet
  movement.before = [&](FakeMovementClient::Method method, uint64_t group) {
    return hold && group == 9 && method == FakeMovementClient::Method::kIngest
               ? absl::UnavailableError("group 9 has no leader yet")
               : absl::OkStatus();
  };
  PlacementFixture placement({1}, &movement);
  placement.Bootstrap();
  ASSERT_TRUE(movement.Write(4, "a", "1").ok());  // "a" (0x61) is in group 4: [0x60, 0x80)

  proto::MoveInfo move;
  EXPECT_EQ(placement.MoveRange("a", 99, &move).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(placement.MoveRange("a", 4, &move).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(placement.SplitRange("", &move).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(placement.SplitRange("\x60", &move).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(placement.GetTopology().groups_size(), 8);  // the refusals created nothing

  grpc::Status status = placement.MoveRange("a", 0, &move);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(move.id(), 1u);
  EXPECT_EQ(move.from_group(), 4u);
  EXPECT_EQ(move.to_group(), 9u);
  EXPECT_EQ(move.start(), "\x60");
  EXPECT_EQ(move.generation(), 2u);

  // In progress: shown with its phase; the same request answers it, another is refused.
  std::string phase;
  ASSERT_TRUE(WaitFor([&] {
    const proto::Topology topology = placement.GetTopology();
    phase = topology.moves_size() == 1 ? topology.moves(0).phase() : "";
    return absl::StrContains(phase, "group 9 has no leader yet");
  })) << phase;
  proto::MoveInfo again;
  ASSERT_TRUE(placement.MoveRange("b", 9, &again).ok());
  EXPECT_EQ(again.id(), 1u);
  EXPECT_EQ(placement.MoveRange("b", 0, &again).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(placement.SplitRange("b", &again).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  hold = false;
  ASSERT_TRUE(WaitFor([&] { return placement.GetTopology().moves_size() == 0; }));
  proto::Topology topology = placement.GetTopology();
  ASSERT_EQ(topology.groups_size(), 9);
  EXPECT_EQ(topology.groups(8).replicas_size(), 3);
  EXPECT_EQ(topology.ranges(3).group(), 9u);
  EXPECT_EQ(topology.ranges(3).generation(), 2u);
  EXPECT_EQ(movement.VersionsIn(9, "\x60", "\x80").size(), 1u);
  EXPECT_TRUE(movement.VersionsIn(4, "\x60", "\x80").empty());

  ASSERT_TRUE(placement.SplitRange("b", &move).ok());
  EXPECT_EQ(move.kind(), proto::MoveInfo::SPLIT);
  EXPECT_EQ(move.generation(), 3u);
  ASSERT_TRUE(WaitFor([&] { return placement.GetTopology().ranges_size() == 9; }));
  topology = placement.GetTopology();
  EXPECT_EQ(topology.ranges(3).end(), "b");
  EXPECT_EQ(topology.ranges(4).start(), "b");
  EXPECT_EQ(topology.ranges(4).group(), 9u);
  EXPECT_TRUE(movement.Violations().empty());
}

proto::Policy MakePolicy(uint32_t replicas, const std::vector<std::string>& zones,
                         const std::string& leader_zone) {
  proto::Policy policy;
  policy.set_replicas(replicas);
  for (const std::string& zone : zones) policy.add_zones(zone);
  policy.set_leader_zone(leader_zone);
  return policy;
}

// SetPolicy through the RPC: bad policies refused with their codes and nothing recorded; a good
// one recorded on the group holding the key and shown by GetTopology.
TEST(PlacementServiceTest, SetPolicy) {
  PlacementFixture placement({1});
  ASSERT_TRUE(WaitFor([&] {
    const replication::GroupState state = placement.host().state();
    return state.role == paxos::Role::kLeader && state.has_lease;
  }));
  proto::SetPolicyResponse response;
  EXPECT_EQ(placement.SetPolicy("a", MakePolicy(3, {}, ""), &response).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);  // not bootstrapped
  placement.Bootstrap();
  grpc::Status status = placement.SetPolicy("a", MakePolicy(4, {}, ""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "3 or 5 replicas"))
      << status.error_message();
  status = placement.SetPolicy("a", MakePolicy(5, {}, ""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(),
                                "policy of group 4 not changed: 5 replicas need 5 distinct zones"))
      << status.error_message();
  status = placement.SetPolicy("a", MakePolicy(3, {"zone-a", "zone-b", "zone-x"}, ""), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "zone zone-x")) << status.error_message();
  EXPECT_EQ(placement.SetPolicy("a", MakePolicy(3, {"zone-a"}, "zone-b"), &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  const proto::Topology unchanged = placement.GetTopology();
  for (const proto::GroupInfo& g : unchanged.groups()) {
    EXPECT_FALSE(g.has_policy()) << "group " << g.id();  // nothing was recorded
  }

  const proto::Policy policy = MakePolicy(3, {"zone-a", "zone-b", "zone-c"}, "zone-b");
  status = placement.SetPolicy("a", policy, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.group(), 4u);
  EXPECT_EQ(response.policy().SerializeAsString(), policy.SerializeAsString());
  EXPECT_EQ(placement.GetTopology().groups(3).policy().SerializeAsString(),
            policy.SerializeAsString());
  EXPECT_FALSE(placement.GetTopology().groups(2).has_policy());
}

// A leader's range sizes reach GetTopology; with the balancer on, a range over --split_range_mb
// is split at its split key without anyone asking.
TEST(PlacementServiceTest, SplitsARangeThatGrewTooLarge) {
  auto source = truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {});
  truetime::TrueTime truetime(std::move(*source), truetime::TrueTime::Options{});
  FakeMovementClient movement(&truetime);
  PlacementFixture placement({1}, &movement, [](PlacementServiceOptions& options) {
    options.balancer.interval_us = 10'000;
    options.balancer.split_range_bytes = 1 << 20;
    options.liveness_timeout_us = 300'000;  // the balancer waits this long after taking over
  });
  placement.Bootstrap();
  // Server 1 leads group 4, [0x60, 0x80), which holds 2 MiB with "b" in the middle of its data.
  auto heartbeat = [&] {
    proto::Topology topology;
    for (uint64_t id = 1; id <= 3; ++id) {
      proto::HeartbeatRequest request;
      request.set_server_id(id);
      if (id == 1) {
        proto::GroupReport* report = request.add_groups();
        report->set_group(4);
        report->set_is_leader(true);
        report->set_has_lease(true);
        proto::RangeStats* stats = report->add_ranges();
        stats->set_start("\x60");
        stats->set_approx_bytes(2 << 20);
        stats->set_split_key("b");
      }
      EXPECT_TRUE(placement.Heartbeat(request, &topology).ok());
    }
    return topology;
  };
  ASSERT_TRUE(WaitFor([&] {
    heartbeat();
    return placement.GetTopology().ranges_size() == 9;
  }));
  const proto::Topology topology = placement.GetTopology();
  EXPECT_EQ(topology.ranges(3).start(), "\x60");
  EXPECT_EQ(topology.ranges(3).end(), "b");
  EXPECT_EQ(topology.ranges(4).start(), "b");
  EXPECT_EQ(topology.ranges(4).group(), 4u);
  ASSERT_EQ(topology.groups(3).range_stats_size(), 1);
  EXPECT_EQ(topology.groups(3).range_stats(0).approx_bytes(), 2u << 20);
  EXPECT_TRUE(movement.Violations().empty());
}

}  // namespace
}  // namespace meridian::placement
