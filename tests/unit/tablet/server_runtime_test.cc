// ServerRuntime::Start against fake placement replicas on loopback gRPC: the follower replica
// redirects with "meridian-leader", the leader assigns server id 7, and its heartbeat replies
// carry a topology that gives the server group 1 alone. Checks: the id and the directory's
// incarnation are persisted in DATA_DIR/identity and sent again on restart; the heartbeat reports
// the group; the group recovers from its log after a restart and still serves what was written
// before; with its database wiped (identity kept) the server refuses to start the replica and
// reports why in its heartbeat.
// Waits are bounded polls (the fakes record requests under a mutex).
#include "spanserver/server/server_runtime.h"

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "proto/txn.grpc.pb.h"

namespace meridian::spanserver {
namespace {

// A placement replica: the leader answers, a follower redirects to `leader_address`.
class FakePlacement final : public proto::Placement::CallbackService {
 public:
  explicit FakePlacement(std::string leader_address) : leader_address_(std::move(leader_address)) {}

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const proto::RegisterRequest* request,
                                     proto::RegisterResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!leader_address_.empty()) {
      ctx->AddTrailingMetadata("meridian-leader", leader_address_);
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader"));
      return reactor;
    }
    absl::MutexLock lock(&mu_);
    last_register_ = *request;
    address_ = request->address();
    ++registrations_;
    response->set_server_id(7);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const proto::HeartbeatRequest* request,
                                      proto::HeartbeatResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    absl::MutexLock lock(&mu_);
    last_heartbeat_ = *request;
    proto::Topology* topology = response->mutable_topology();
    topology->set_bootstrapped(true);
    proto::ServerInfo* server = topology->add_servers();
    server->set_id(7);
    server->set_zone("z1");
    server->set_address(address_);
    proto::GroupInfo* group = topology->add_groups();
    group->set_id(1);
    group->add_replicas(7);
    proto::RangeInfo* range = topology->add_ranges();
    range->set_group(1);
    range->set_generation(1);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  absl::Mutex mu_;
  proto::RegisterRequest last_register_ ABSL_GUARDED_BY(mu_);
  proto::HeartbeatRequest last_heartbeat_ ABSL_GUARDED_BY(mu_);
  std::string address_ ABSL_GUARDED_BY(mu_);
  int registrations_ ABSL_GUARDED_BY(mu_) = 0;

 private:
  const std::string leader_address_;
};

struct FakeServer {
  explicit FakeServer(std::string leader_address) : service(std::move(leader_address)) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
  }
  ~FakeServer() { server->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }

  FakePlacement service;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

// A port that was free a moment ago, for the spanserver, which must register a real one.
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "no free port";
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

template <typename Predicate>
bool PollUntil(Predicate predicate) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

// Puts k=v into group 1 (generation 1, the whole key space); true once it committed.
bool PutK(proto::Kv::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  proto::PutRequest put;
  put.mutable_range()->set_group(1);
  put.mutable_range()->set_generation(1);
  put.set_key("k");
  put.set_value("v");
  proto::PutResponse response;
  return stub.Put(&ctx, put, &response).ok();
}

TEST(ServerRuntimeTest, RegistersHeartbeatsAndRecoversGroupsAfterRestart) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("server_runtime_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  FakeServer leader("");
  FakeServer follower(leader.address());

  ServerOptions options;
  options.zone = "z1";
  options.listen = "127.0.0.1:" + std::to_string(FreePort());
  options.data_dir = dir.string();
  options.placement = {follower.address(), leader.address()};
  options.paxos_lease_ms = 400;
  options.heartbeat_interval_ms = 50;

  auto put_and_check = [&](bool write) {
    auto stub =
        proto::Kv::NewStub(grpc::CreateChannel(options.listen, grpc::InsecureChannelCredentials()));
    // The group elects itself within about a lease; until then writes fail UNAVAILABLE.
    bool done = PollUntil([&] {
      if (write) return PutK(*stub);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
      proto::GetRequest get;
      get.mutable_range()->set_group(1);
      get.mutable_range()->set_generation(1);
      get.set_key("k");
      proto::GetResponse response;
      return stub->Get(&ctx, get, &response).ok() && response.found() && response.value() == "v";
    });
    EXPECT_TRUE(done);
  };

  {
    auto runtime = ServerRuntime::Open(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    ASSERT_TRUE((*runtime)->Start().ok());
    EXPECT_EQ((*runtime)->server_id(), 7u);
    std::ifstream id_file(dir / "identity");
    std::string header, id;
    std::getline(id_file, header);
    std::getline(id_file, id);
    EXPECT_EQ(id, "server_id 7");
    put_and_check(true);
    EXPECT_TRUE(PollUntil([&] {
      absl::MutexLock lock(&leader.service.mu_);
      const proto::HeartbeatRequest& hb = leader.service.last_heartbeat_;
      return hb.server_id() == 7 && hb.groups_size() == 1 && hb.groups(0).group() == 1 &&
             hb.groups(0).is_leader() && hb.groups(0).has_lease();
    }));
  }
  {
    auto runtime = ServerRuntime::Open(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    ASSERT_TRUE((*runtime)->Start().ok());
    {
      absl::MutexLock lock(&leader.service.mu_);
      EXPECT_EQ(leader.service.last_register_.server_id(), 7u);
      EXPECT_NE(leader.service.last_register_.incarnation(), 0u);
      EXPECT_EQ(leader.service.registrations_, 2);
    }
    put_and_check(false);
  }
  // The database is lost, the identity is not: the replica of group 1 must not come back empty.
  std::filesystem::remove_all(dir / "db");
  {
    auto runtime = ServerRuntime::Open(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    ASSERT_TRUE((*runtime)->Start().ok());
    EXPECT_TRUE(PollUntil([&] {
      absl::MutexLock lock(&leader.service.mu_);
      const proto::HeartbeatRequest& hb = leader.service.last_heartbeat_;
      return hb.server_id() == 7 && hb.groups_size() == 1 && hb.groups(0).group() == 1 &&
             hb.groups(0).refusal().find("holds none") != std::string::npos;
    }));
    auto stub =
        proto::Kv::NewStub(grpc::CreateChannel(options.listen, grpc::InsecureChannelCredentials()));
    EXPECT_FALSE(PutK(*stub)) << "a replica that lost its state served a write";
  }
  std::filesystem::remove_all(dir);
}

// PrepareBatch answers each item as Prepare would, in request order: a good prepare, its
// duplicate (the same prepare timestamp), and items refused for a stale map (unknown group, old
// generation) or a malformed key, which change nothing; an empty batch is refused as a whole.
TEST(ServerRuntimeTest, PrepareBatchAnswersEachItemLikePrepare) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("server_runtime_batch_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  FakeServer placement("");
  ServerOptions options;
  options.zone = "z1";
  options.listen = "127.0.0.1:" + std::to_string(FreePort());
  options.data_dir = dir.string();
  options.placement = {placement.address()};
  options.paxos_lease_ms = 400;
  options.heartbeat_interval_ms = 50;
  auto runtime = ServerRuntime::Open(options);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  ASSERT_TRUE((*runtime)->Start().ok());
  auto channel = grpc::CreateChannel(options.listen, grpc::InsecureChannelCredentials());
  auto kv = proto::Kv::NewStub(channel);
  auto txn = proto::Txn::NewStub(channel);
  ASSERT_TRUE(PollUntil([&] { return PutK(*kv); }));  // the group has elected itself

  auto prepare = [](uint64_t group, uint64_t generation, const std::string& key) {
    proto::TxnPrepareRequest p;
    p.mutable_range()->set_group(group);
    p.mutable_range()->set_generation(generation);
    p.mutable_txn()->set_id(42);
    p.mutable_txn()->set_start_ts(1);
    p.set_coordinator(2);  // another group (the coordinator commits, not prepares)
    proto::Mutation* m = p.add_writes();
    m->set_key(key);
    m->set_value("x");
    return p;
  };
  proto::TxnPrepareBatchRequest batch;
  *batch.add_prepares() = prepare(1, 1, "a");
  *batch.add_prepares() = prepare(99, 1, "a");  // not hosted here
  *batch.add_prepares() = prepare(1, 2, "a");   // not the range's generation
  *batch.add_prepares() = prepare(1, 1, "");    // an empty key
  *batch.add_prepares() = prepare(1, 1, "a");   // the first again
  proto::TxnPrepareBatchResponse response;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status = txn->PrepareBatch(&ctx, batch, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.results_size(), 5);
  const proto::TxnPrepareResult& first = response.results(0);
  EXPECT_EQ(first.code(), 0) << first.message();
  EXPECT_GT(first.prepare_ts(), 0);
  EXPECT_FALSE(first.stale_map());
  EXPECT_FALSE(first.has_leader_hint());
  for (int i : {1, 2}) {
    const proto::TxnPrepareResult& r = response.results(i);
    EXPECT_EQ(r.code(), grpc::StatusCode::UNAVAILABLE) << i;
    EXPECT_TRUE(r.stale_map()) << i;
    EXPECT_EQ(r.prepare_ts(), 0) << i;
    EXPECT_NE(r.message().find("stale map"), std::string::npos) << r.message();
  }
  EXPECT_EQ(response.results(3).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_FALSE(response.results(3).stale_map());
  EXPECT_NE(response.results(3).message().find("key is empty"), std::string::npos);
  EXPECT_EQ(response.results(4).code(), 0) << response.results(4).message();
  EXPECT_EQ(response.results(4).prepare_ts(), first.prepare_ts());

  {
    grpc::ClientContext ctx;
    proto::TxnPrepareBatchRequest empty;
    proto::TxnPrepareBatchResponse none;
    EXPECT_EQ(txn->PrepareBatch(&ctx, empty, &none).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  runtime->reset();
  std::filesystem::remove_all(dir);
}

TEST(ServerRuntimeTest, RequestStopCancelsRegistration) {
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) /
                                    ("server_runtime_stop_" + std::to_string(::getpid()));
  ServerOptions options;
  options.zone = "z1";
  options.listen = "127.0.0.1:" + std::to_string(FreePort());
  options.data_dir = dir.string();
  options.placement = {"127.0.0.1:" + std::to_string(FreePort())};  // nobody listens
  auto runtime = ServerRuntime::Open(options);
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  std::thread stopper([&] { (*runtime)->RequestStop(); });
  EXPECT_EQ((*runtime)->Start().code(), absl::StatusCode::kCancelled);
  stopper.join();
  runtime->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meridian::spanserver
