// KvService inside a ServerRuntime started without placement (the StartWithoutPlacement seam),
// talking real gRPC on loopback. Topology: server 1 hosts group 1 alone (range ["", "m") at
// generation 1, the bootstrap one); group 2 (["m", +inf)) lives on server 2, which does not exist.
// Checks: malformed requests → INVALID_ARGUMENT; unhosted group, another generation, key outside
// the range → UNAVAILABLE + "meridian-stale-map"; then, once the one-replica group has elected
// itself, put/get/scan/delete work and a put is acknowledged only after its commit wait.
// Waits are bounded polls on the server's Status (the election takes about one lease).
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/metrics.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "proto/rpc.h"
#include "proto/txn.grpc.pb.h"
#include "replication/grpc_server_limits.h"
#include "replication/tcp_transport.h"
#include "spanserver/server/server_runtime.h"

namespace meridian::spanserver {
namespace {

using std::string_literals::operator""s;

constexpr int64_t kEpsilonUs = 1000;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Trailer(const grpc::ClientContext& ctx, const std::string& key) {
  const auto& trailers = ctx.GetServerTrailingMetadata();
  auto it = trailers.find(key);
  return it == trailers.end() ? "" : std::string(it->second.data(), it->second.length());
}

class KvServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("kv_service_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ServerOptions options;
    options.zone = "z1";
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.string();
    options.truetime_epsilon_us = kEpsilonUs;
    options.paxos_lease_ms = 400;
    // Garbage collection only when a test asks (CollectGarbageNow), behind a short window.
    options.mvcc_retention_us = kRetentionUs;
    options.gc_interval_ms = 0;
    auto runtime = ServerRuntime::Open(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status();
    runtime_ = std::move(*runtime);
    ASSERT_TRUE(runtime_->StartWithoutPlacement(1).ok());

    topology_.set_bootstrapped(true);
    topology_.add_zones("z1");
    proto::ServerInfo* server = topology_.add_servers();
    server->set_id(1);
    server->set_zone("z1");
    server->set_address(runtime_->address());
    proto::GroupInfo* group1 = topology_.add_groups();
    group1->set_id(1);
    group1->add_replicas(1);
    proto::GroupInfo* group2 = topology_.add_groups();
    group2->set_id(2);
    group2->add_replicas(2);
    proto::RangeInfo* range1 = topology_.add_ranges();
    range1->set_end("m");
    range1->set_group(1);
    range1->set_generation(1);  // the bootstrap generation: the group adopted nothing
    proto::RangeInfo* range2 = topology_.add_ranges();
    range2->set_start("m");
    range2->set_group(2);
    range2->set_generation(1);
    runtime_->ApplyTopology(topology_);

    stub_ = proto::Kv::NewStub(
        grpc::CreateChannel(runtime_->address(), grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    runtime_.reset();
    std::filesystem::remove_all(dir_);
  }

  static proto::RangeRef Ref(uint64_t group, uint64_t generation) {
    proto::RangeRef ref;
    ref.set_group(group);
    ref.set_generation(generation);
    return ref;
  }

  grpc::Status Put(grpc::ClientContext* ctx, proto::RangeRef ref, const std::string& key,
                   const std::string& value, proto::PutResponse* response) {
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::PutRequest request;
    *request.mutable_range() = ref;
    request.set_key(key);
    request.set_value(value);
    return stub_->Put(ctx, request, response);
  }

  // Polls Status until group 1 has a leader with a lease that applied its log (bounded).
  void WaitForLeader() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      grpc::ClientContext ctx;
      proto::ServerStatusResponse status;
      ASSERT_TRUE(stub_->Status(&ctx, proto::ServerStatusRequest(), &status).ok());
      ASSERT_EQ(status.groups_size(), 1);
      // Serving also takes the new leader's first entry applied (TransactionManager refuses
      // with "still applying its log" until then).
      const proto::GroupStatus& g = status.groups(0);
      if (g.role() == std::string("leader") && g.has_lease() && g.commit() > 0 &&
          g.applied() >= g.commit()) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "group 1 elected no leader";
  }

  static constexpr int64_t kRetentionUs = 50'000;

  std::filesystem::path dir_;
  proto::Topology topology_;  // group 1 on server 1 (here), group 2 on server 2
  std::unique_ptr<ServerRuntime> runtime_;
  std::unique_ptr<proto::Kv::Stub> stub_;
};

// Garbage collection keeps each key's newest version at or below the horizon (now - 50 ms here)
// and drops the rest, tombstoned keys entirely; a snapshot read below the horizon is refused with
// FAILED_PRECONDITION instead of answering without the versions it needs.
TEST_F(KvServiceTest, GarbageCollectionKeepsTheNewestVersionsAndRefusesOlderReads) {
  WaitForLeader();
  int64_t first_ts = 0;
  int64_t last_ts = 0;
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"k", "v1"}, {"k", "v2"}, {"j", "w"}}) {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    ASSERT_TRUE(Put(&ctx, Ref(1, 1), key, value, &response).ok());
    if (first_ts == 0) first_ts = response.commit_ts();
    last_ts = response.commit_ts();
  }
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::DeleteRequest request;
    *request.mutable_range() = Ref(1, 1);
    request.set_key("j");
    proto::DeleteResponse response;
    ASSERT_TRUE(stub_->Delete(&ctx, request, &response).ok());
    last_ts = response.commit_ts();
  }
  // Until the window has passed every write (bounded: about 50 ms and epsilon).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (NowMicros() - kEpsilonUs - kRetentionUs <= last_ts) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // A write after the window, as a busy group has: strong reads read at the group's last
  // timestamp, which must stay above the horizon (idle leaders refresh it every second, which
  // is why a server's retention is at least 10 s).
  {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    ASSERT_TRUE(Put(&ctx, Ref(1, 1), "l", "later", &response).ok());
  }
  absl::StatusOr<uint64_t> removed = runtime_->CollectGarbageNow();
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, 3u);  // k=v1, and j's put and tombstone

  for (const auto& [key, found, value] : std::vector<std::tuple<std::string, bool, std::string>>{
           {"k", true, "v2"}, {"j", false, ""}}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::GetRequest get;
    *get.mutable_range() = Ref(1, 1);
    get.set_key(key);
    proto::GetResponse response;
    ASSERT_TRUE(stub_->Get(&ctx, get, &response).ok());
    EXPECT_EQ(response.found(), found) << key;
    EXPECT_EQ(response.value(), value) << key;
  }
  auto txn_stub = proto::Txn::NewStub(
      grpc::CreateChannel(runtime_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  proto::SnapshotReadRequest read;
  *read.mutable_range() = Ref(1, 1);
  read.add_keys("k");
  read.set_read_ts(first_ts);
  proto::SnapshotReadResponse response;
  const grpc::Status status = txn_stub->SnapshotRead(&ctx, read, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << status.error_message();
  // Nothing is left to collect.
  EXPECT_EQ(*runtime_->CollectGarbageNow(), 0u);
}

TEST_F(KvServiceTest, MalformedRequestsAreInvalidArgument) {
  const struct {
    std::string key;
    std::string value;
  } cases[] = {{"", "v"}, {std::string(4097, 'a'), "v"}, {"a", std::string((1 << 20) + 1, 'v')}};
  for (const auto& c : cases) {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    EXPECT_EQ(Put(&ctx, Ref(1, 1), c.key, c.value, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  grpc::ClientContext ctx;
  proto::GetRequest get;
  *get.mutable_range() = Ref(1, 1);
  proto::GetResponse response;
  EXPECT_EQ(stub_->Get(&ctx, get, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// A caller of another protocol version is refused before anything is looked at, naming both
// versions; one that names this version, or none (a tool), is served.
TEST_F(KvServiceTest, CallersOfAnotherProtocolVersionAreRefused) {
  for (const char* version : {"0", "3", "5", "x"}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("meridian-protocol", version);
    proto::PutResponse response;
    const grpc::Status status = Put(&ctx, Ref(1, 1), "a", "v", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << version;
    EXPECT_NE(status.error_message().find(std::string("version ") + version +
                                          ", this server version " + rpc::kProtocolVersionText),
              std::string::npos)
        << status.error_message();
  }
  grpc::ClientContext ctx;
  ctx.AddMetadata("meridian-protocol", rpc::kProtocolVersionText);
  proto::PutResponse response;
  // Routed and refused for its range: past the protocol check.
  EXPECT_EQ(Put(&ctx, Ref(2, 1), "p", "v", &response).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(KvServiceTest, StaleRoutesAreUnavailableWithStaleMapMetadata) {
  const struct {
    proto::RangeRef ref;
    std::string key;
  } cases[] = {
      {Ref(2, 1), "p"},  // group 2 is not hosted here
      {Ref(9, 1), "a"},  // no such group
      {Ref(1, 2), "a"},  // another generation than the map's
      {Ref(1, 1), "p"},  // key outside group 1's range
  };
  for (const auto& c : cases) {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    EXPECT_EQ(Put(&ctx, c.ref, c.key, "v", &response).error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Trailer(ctx, "meridian-stale-map"), "1");

    grpc::ClientContext get_ctx;
    proto::GetRequest get;
    *get.mutable_range() = c.ref;
    get.set_key(c.key);
    proto::GetResponse get_response;
    EXPECT_EQ(stub_->Get(&get_ctx, get, &get_response).error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(Trailer(get_ctx, "meridian-stale-map"), "1");
  }
  grpc::ClientContext ctx;
  proto::ScanRequest scan;
  *scan.mutable_range() = Ref(1, 1);
  scan.set_start("x");
  proto::ScanResponse response;
  EXPECT_EQ(stub_->Scan(&ctx, scan, &response).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Trailer(ctx, "meridian-stale-map"), "1");
}

TEST_F(KvServiceTest, PutGetScanDeleteWithCommitWait) {
  WaitForLeader();
  for (const char* key : {"a", "b", "c"}) {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    const grpc::Status status = Put(&ctx, Ref(1, 1), key, std::string("v") + key, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    // Commit wait: the reply left only once TT.after(commit_ts), i.e. real time passed
    // commit_ts + epsilon (the fixed source's epsilon, with the system clock as truth).
    EXPECT_GT(NowMicros(), response.commit_ts() + kEpsilonUs);
  }
  {
    grpc::ClientContext ctx;
    proto::GetRequest get;
    *get.mutable_range() = Ref(1, 1);
    get.set_key("b");
    proto::GetResponse response;
    ASSERT_TRUE(stub_->Get(&ctx, get, &response).ok());
    EXPECT_TRUE(response.found());
    EXPECT_EQ(response.value(), "vb");
  }
  {
    grpc::ClientContext ctx;
    proto::DeleteRequest del;
    *del.mutable_range() = Ref(1, 1);
    del.set_key("b");
    proto::DeleteResponse response;
    ASSERT_TRUE(stub_->Delete(&ctx, del, &response).ok());
  }
  {
    grpc::ClientContext ctx;
    proto::ScanRequest scan;
    *scan.mutable_range() = Ref(1, 1);
    scan.set_limit(1);
    proto::ScanResponse response;
    ASSERT_TRUE(stub_->Scan(&ctx, scan, &response).ok());
    ASSERT_EQ(response.rows_size(), 1);
    EXPECT_EQ(response.rows(0).key(), "a");
    EXPECT_TRUE(response.more());
  }
  {
    grpc::ClientContext ctx;
    proto::ScanRequest scan;
    *scan.mutable_range() = Ref(1, 1);
    scan.set_start("a\0"s);
    proto::ScanResponse response;
    ASSERT_TRUE(stub_->Scan(&ctx, scan, &response).ok());
    ASSERT_EQ(response.rows_size(), 1);
    EXPECT_EQ(response.rows(0).key(), "c");
    EXPECT_FALSE(response.more());
  }
}

// A Kv put is a transaction of one write: it waits for the lock of a transaction that read its
// key and commits after it. Without the lock the put would commit while the transaction still
// holds its read, below the transaction's commit timestamp, and the transaction's snapshot would
// no longer hold what it read.
TEST_F(KvServiceTest, PutsAreSerializedWithTransactionsOnTheirKey) {
  WaitForLeader();
  {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    ASSERT_TRUE(Put(&ctx, Ref(1, 1), "a", "old", &response).ok());
  }
  auto txn_stub = proto::Txn::NewStub(
      grpc::CreateChannel(runtime_->address(), grpc::InsecureChannelCredentials()));
  proto::TxnRef txn;
  txn.set_id(77);
  txn.set_start_ts(NowMicros() - 1'000'000);  // older than the put: the put waits, never wounds
  {
    grpc::ClientContext ctx;
    proto::TxnReadRequest read;
    *read.mutable_range() = Ref(1, 1);
    *read.mutable_txn() = txn;
    read.add_keys("a");
    proto::TxnReadResponse response;
    const grpc::Status status = txn_stub->Read(&ctx, read, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_EQ(response.values_size(), 1);
    EXPECT_EQ(response.values(0).value(), "old");
  }
  std::future<std::pair<grpc::Status, int64_t>> put = std::async(std::launch::async, [&] {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    grpc::Status status = Put(&ctx, Ref(1, 1), "a", "new", &response);
    return std::make_pair(status, response.commit_ts());
  });
  // Give an unlocked put every chance to finish first (it takes a few milliseconds).
  const bool put_finished_first =
      put.wait_for(std::chrono::milliseconds(500)) == std::future_status::ready;
  int64_t txn_commit_ts = 0;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    proto::TxnCommitRequest commit;
    *commit.mutable_range() = Ref(1, 1);
    *commit.mutable_txn() = txn;
    commit.add_reads("a");
    proto::Mutation* m = commit.add_writes();
    m->set_key("b");
    m->set_value("saw old");
    proto::TxnCommitResponse response;
    const grpc::Status status = txn_stub->Commit(&ctx, commit, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    txn_commit_ts = response.commit_ts();
  }
  const auto [put_status, put_ts] = put.get();
  ASSERT_TRUE(put_status.ok()) << put_status.error_message();
  EXPECT_FALSE(put_finished_first);
  EXPECT_GT(put_ts, txn_commit_ts);
}

// A Get waits for a transaction prepared on its key. Here the transaction's coordinator (group 2,
// played by the test) decided to commit at s and finished its commit wait before the Get starts,
// but group 1 hears the outcome only afterwards: a Get that read the engine at once would return
// "not found" at a read timestamp above s, and miss a commit that completed before it began.
TEST_F(KvServiceTest, GetWaitsForATransactionPreparedOnItsKey) {
  WaitForLeader();
  auto txn_stub = proto::Txn::NewStub(
      grpc::CreateChannel(runtime_->address(), grpc::InsecureChannelCredentials()));
  proto::TxnRef txn;
  txn.set_id(88);
  txn.set_start_ts(NowMicros());
  {
    grpc::ClientContext ctx;
    proto::TxnPrepareRequest prepare;
    *prepare.mutable_range() = Ref(1, 1);
    *prepare.mutable_txn() = txn;
    prepare.set_coordinator(2);
    proto::Mutation* m = prepare.add_writes();
    m->set_key("g");
    m->set_value("txn");
    proto::TxnPrepareResponse response;
    const grpc::Status status = txn_stub->Prepare(&ctx, prepare, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  }
  // The coordinator's decision: s above TT.now().latest, then its commit wait.
  const int64_t s = NowMicros() + kEpsilonUs + 1;
  while (NowMicros() <= s + kEpsilonUs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::future<std::pair<grpc::Status, proto::GetResponse>> get =
      std::async(std::launch::async, [&] {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        proto::GetRequest request;
        *request.mutable_range() = Ref(1, 1);
        request.set_key("g");
        proto::GetResponse response;
        grpc::Status status = stub_->Get(&ctx, request, &response);
        return std::make_pair(status, response);
      });
  get.wait_for(std::chrono::milliseconds(100));
  {
    // The outcome arrives as coordinator group 2's servers send it: an attachment on the peer
    // transport, from server 2.
    proto::GroupMessageRequest outcome;
    outcome.set_type(proto::GroupMessageRequest::OUTCOME);
    outcome.set_from(2);
    outcome.set_to(1);
    outcome.set_txn(txn.id());
    outcome.set_committed(true);
    outcome.set_commit_ts(s);
    boost::asio::io_context io;
    auto work = boost::asio::make_work_guard(io);
    std::thread io_thread([&io] { io.run(); });
    {
      replication::TcpTransport peer(
          io, [](paxos::Message) {}, [](uint64_t, std::string) {});
      peer.Start(2);
      peer.SetPeerAddress(1, runtime_->peer_address());
      peer.SendAttachment(1, outcome.SerializeAsString());
      get.wait_for(std::chrono::seconds(2));
      peer.Shutdown();
    }
    work.reset();
    io_thread.join();
  }
  const auto [status, response] = get.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  if (response.found()) {
    EXPECT_EQ(response.value(), "txn");
    EXPECT_GE(response.read_ts(), s);
  } else {
    EXPECT_LT(response.read_ts(), s) << "the Get missed a commit below its read timestamp";
  }
}

// The count of meridian_group_messages_refused_total in this process's registry.
uint64_t RefusedGroupMessages() {
  const std::string text = metrics::DefaultRegistry().Render();
  const std::string name = "\nmeridian_group_messages_refused_total ";
  const size_t at = text.find(name);
  return at == std::string::npos ? 0 : std::stoull(text.substr(at + name.size()));
}

// Sends `wire` to server 1's peer transport as an attachment from server `from_server`, and keeps
// the sending transport up until `done()` holds (polled; false after 10 s).
bool SendAttachmentFrom(uint64_t from_server, const std::string& peer_address,
                        const std::string& wire, const std::function<bool()>& done) {
  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::thread io_thread([&io] { io.run(); });
  bool ok = false;
  {
    replication::TcpTransport peer(
        io, [](paxos::Message) {}, [](uint64_t, std::string) {});
    peer.Start(from_server);
    peer.SetPeerAddress(1, peer_address);
    peer.SendAttachment(1, wire);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!(ok = done()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    peer.Shutdown();
  }
  work.reset();
  io_thread.join();
  return ok;
}

// The attack: server 3, a peer that hosts no replica of coordinator group 2, tells group 1 (a
// participant) that group 2 committed its prepared transaction. The message is held for one
// more topology, then dropped and counted, and the transaction stays prepared (a read of its key
// still waits); the same outcome from server 2, group 2's replica, commits it.
TEST_F(KvServiceTest, AGroupMessageFromOutsideItsSendingGroupIsRefused) {
  WaitForLeader();
  auto txn_stub = proto::Txn::NewStub(
      grpc::CreateChannel(runtime_->address(), grpc::InsecureChannelCredentials()));
  proto::TxnRef txn;
  txn.set_id(89);
  txn.set_start_ts(NowMicros());
  {
    grpc::ClientContext ctx;
    proto::TxnPrepareRequest prepare;
    *prepare.mutable_range() = Ref(1, 1);
    *prepare.mutable_txn() = txn;
    prepare.set_coordinator(2);
    proto::Mutation* m = prepare.add_writes();
    m->set_key("h");
    m->set_value("txn");
    proto::TxnPrepareResponse response;
    const grpc::Status status = txn_stub->Prepare(&ctx, prepare, &response);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
  }
  proto::GroupMessageRequest outcome;
  outcome.set_type(proto::GroupMessageRequest::OUTCOME);
  outcome.set_from(2);
  outcome.set_to(1);
  outcome.set_txn(txn.id());
  outcome.set_committed(true);
  outcome.set_commit_ts(NowMicros() + kEpsilonUs + 1);
  auto get = [&](int timeout_ms, proto::GetResponse* response) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
    proto::GetRequest request;
    *request.mutable_range() = Ref(1, 1);
    request.set_key("h");
    return stub_->Get(&ctx, request, response);
  };

  const uint64_t refused_before = RefusedGroupMessages();
  ASSERT_TRUE(SendAttachmentFrom(3, runtime_->peer_address(), outcome.SerializeAsString(), [&] {
    runtime_->ApplyTopology(topology_);  // the fresh view that decides a held message
    return RefusedGroupMessages() > refused_before;
  })) << "the forged outcome was not refused";
  EXPECT_EQ(RefusedGroupMessages(), refused_before + 1);
  proto::GetResponse response;
  EXPECT_EQ(get(300, &response).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << "the read did not wait for the prepared transaction: found=" << response.found();

  ASSERT_TRUE(SendAttachmentFrom(2, runtime_->peer_address(), outcome.SerializeAsString(), [&] {
    proto::GetResponse r;
    return get(200, &r).ok() && r.found();
  })) << "the coordinator's own outcome did not commit the transaction";
  ASSERT_TRUE(get(5'000, &response).ok());
  EXPECT_EQ(response.value(), "txn");
  EXPECT_EQ(RefusedGroupMessages(), refused_before + 1);
}

// The server is built with replication/grpc_server_limits.h: a request over the receive limit
// is refused by gRPC with RESOURCE_EXHAUSTED before the service sees it (Put's own check would say
// INVALID_ARGUMENT), and the server goes on serving.
TEST_F(KvServiceTest, ARequestOverTheReceiveLimitIsRefusedAndTheServerGoesOn) {
  WaitForLeader();
  grpc::ClientContext ctx;
  proto::PutResponse response;
  const grpc::Status status =
      Put(&ctx, Ref(1, 1), "huge",
          std::string(replication::kDefaultGrpcMaxReceiveMessageBytes + 1, 'x'), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  grpc::ClientContext ctx2;
  EXPECT_TRUE(Put(&ctx2, Ref(1, 1), "a-small", "v", &response).ok());
}

// A WriteBatch answers each item as a Put or Delete of its own would have been answered: refused
// items get their error and change nothing, the others commit in request order (two writes of
// one key commit in that order, each after its commit wait); the RPC fails only for an empty or
// oversized batch.
TEST_F(KvServiceTest, WriteBatchAnswersEachItemLikeAPutOrDelete) {
  WaitForLeader();
  auto write = [](proto::RangeRef ref, std::string key, std::string value, bool is_delete) {
    proto::KvWrite w;
    *w.mutable_range() = ref;
    w.set_key(std::move(key));
    w.set_value(std::move(value));
    w.set_is_delete(is_delete);
    return w;
  };
  {
    grpc::ClientContext ctx;
    proto::PutResponse response;
    ASSERT_TRUE(Put(&ctx, Ref(1, 1), "d", "old", &response).ok());
  }
  proto::WriteBatchRequest request;
  *request.add_writes() = write(Ref(1, 1), "a", "first", false);  // 0 ok
  *request.add_writes() = write(Ref(1, 1), "", "v", false);       // 1 empty key
  *request.add_writes() = write(Ref(1, 1), "b", std::string((1 << 20) + 1, 'v'), false);  // 2
  *request.add_writes() = write(Ref(2, 1), "p", "v", false);       // 3 not hosted
  *request.add_writes() = write(Ref(1, 2), "c", "v", false);       // 4 another generation
  *request.add_writes() = write(Ref(1, 1), "d", "v", true);        // 5 delete with a value
  *request.add_writes() = write(Ref(1, 1), "a", "second", false);  // 6 ok, after 0
  *request.add_writes() = write(Ref(1, 1), "d", "", true);         // 7 ok
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  proto::WriteBatchResponse response;
  const grpc::Status status = stub_->WriteBatch(&ctx, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const int64_t answered = NowMicros();
  ASSERT_EQ(response.results_size(), request.writes_size());
  const int kOk = 0, kInvalid = 3, kUnavailable = 14;
  const int expected[] = {kOk, kInvalid, kInvalid, kUnavailable, kUnavailable, kInvalid, kOk, kOk};
  for (int i = 0; i < response.results_size(); ++i) {
    const proto::KvWriteResult& r = response.results(i);
    EXPECT_EQ(r.code(), expected[i]) << "item " << i << ": " << r.message();
    EXPECT_EQ(r.stale_map(), i == 3 || i == 4) << "item " << i;
    EXPECT_FALSE(r.has_leader_hint()) << "item " << i;
    if (r.code() == kOk) {
      EXPECT_GT(answered, r.commit_ts() + kEpsilonUs) << "item " << i << " skipped commit wait";
    } else {
      EXPECT_EQ(r.commit_ts(), 0) << "item " << i;
      EXPECT_FALSE(r.message().empty()) << "item " << i;
    }
  }
  EXPECT_LT(response.results(0).commit_ts(), response.results(6).commit_ts());
  auto get = [&](const std::string& key) -> std::optional<std::string> {
    grpc::ClientContext get_ctx;
    proto::GetRequest get_request;
    *get_request.mutable_range() = Ref(1, 1);
    get_request.set_key(key);
    proto::GetResponse get_response;
    EXPECT_TRUE(stub_->Get(&get_ctx, get_request, &get_response).ok());
    if (!get_response.found()) return std::nullopt;
    return get_response.value();
  };
  EXPECT_EQ(get("a"), std::optional<std::string>("second"));
  EXPECT_EQ(get("b"), std::nullopt);
  EXPECT_EQ(get("c"), std::nullopt);
  EXPECT_EQ(get("d"), std::nullopt);

  for (const int n : {0, 1001}) {
    proto::WriteBatchRequest bad;
    for (int i = 0; i < n; ++i) *bad.add_writes() = write(Ref(1, 1), "e", "v", false);
    grpc::ClientContext bad_ctx;
    proto::WriteBatchResponse bad_response;
    EXPECT_EQ(stub_->WriteBatch(&bad_ctx, bad, &bad_response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << n << " writes";
  }
  EXPECT_EQ(get("e"), std::nullopt);
}

}  // namespace
}  // namespace meridian::spanserver
