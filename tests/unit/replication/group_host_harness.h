// The harness of the GroupHost tests: three replicas of one group in one process, each with its
// own io_context thread, LevelDB Engine in a temp dir (through a FaultInjectionEnv, so a test can
// fail its disk), GroupCommitWriter, TrueTime (fixed source, epsilon 1 ms) and gRPC server on
// 127.0.0.1 (GrpcTransport). Lease 500 ms.
//
// Waits are bounded polls of GroupHost::state() or bounded waits on futures: the hosts run on
// real threads and real time, so there is no seam to step them.
#ifndef MERIDIAN_TESTS_UNIT_REPLICATION_GROUP_HOST_HARNESS_H_
#define MERIDIAN_TESTS_UNIT_REPLICATION_GROUP_HOST_HARNESS_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <leveldb/env.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "replication/group_host.h"
#include "replication/grpc_transport.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/paxos_log.h"
#include "spanserver/storage/write_batch.h"
#include "tests/unit/storage/fault_injection_env.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::replication::group_host_test {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

inline constexpr paxos::GroupId kGroup = 1;
inline constexpr int64_t kLeaseUs = 500'000;
inline constexpr milliseconds kWait{5'000};

// What a replica applied, shared with the test (which reads it from its own thread).
struct AppliedLog {
  std::mutex mu;
  std::vector<std::string> commands;
  // The state machine hooks (strand only; read after the host stopped or through atomics).
  std::atomic<bool> bound{false};
  std::atomic<bool> applied_before_bind{false};
  std::atomic<int> ticks{0};
  std::atomic<bool> stopped{false};
  // BatchingStateMachine: Written() calls that followed batch writes, and keys it found missing.
  std::atomic<int> written_calls{0};
  std::atomic<int> written_too_early{0};

  std::vector<std::string> Snapshot() {
    std::lock_guard<std::mutex> lock(mu);
    return commands;
  }
};

class RecordingStateMachine : public StateMachine {
 public:
  explicit RecordingStateMachine(std::shared_ptr<AppliedLog> log) : log_(std::move(log)) {}

  void Bind(paxos::Replica* replica) override { log_->bound = replica != nullptr; }
  void Tick(paxos::Replica&, truetime::Interval) override { ++log_->ticks; }
  void Stopped() override { log_->stopped = true; }

  // A command starting with "poison" cannot be applied (as a record a newer binary wrote, or one
  // a bad peer forged, would not be).
  absl::StatusOr<std::string> Apply(const paxos::Entry& entry) override {
    if (!log_->bound) log_->applied_before_bind = true;
    if (entry.type != paxos::EntryType::kNormal) return std::string();
    if (entry.command.rfind("poison", 0) == 0) {
      return absl::DataLossError("cannot apply command " + entry.command);
    }
    std::lock_guard<std::mutex> lock(log_->mu);
    log_->commands.push_back(entry.command);
    return "applied:" + entry.command;
  }

 private:
  std::shared_ptr<AppliedLog> log_;
};

// Records like RecordingStateMachine and also writes each normal entry's command as a key of the
// engine (tablet kGroup, version = the slot) through the round's batch, as TxnTablet does for
// single-key writes.
// Written() checks that every key it put into batches since the last call is in the engine.
class BatchingStateMachine : public RecordingStateMachine {
 public:
  BatchingStateMachine(std::shared_ptr<AppliedLog> log, storage::Engine* engine)
      : RecordingStateMachine(log), log_(std::move(log)), engine_(engine) {}

  absl::StatusOr<std::string> ApplyToBatch(const paxos::Entry& entry, storage::WriteBatch* batch,
                                           truetime::Interval /*now*/) override {
    if (entry.type == paxos::EntryType::kNormal) {
      batch->Put(kGroup, entry.command, static_cast<storage::Timestamp>(entry.index), "v");
      unwritten_.push_back(entry.command);
    }
    return Apply(entry);
  }

  void Written() override {
    for (const std::string& key : unwritten_) {
      absl::StatusOr<std::optional<std::string>> value =
          engine_->Get(kGroup, key, storage::Timestamp{1} << 60);
      if (!value.ok() || !value->has_value()) ++log_->written_too_early;
    }
    log_->written_calls += unwritten_.empty() ? 0 : 1;
    unwritten_.clear();
  }

 private:
  std::shared_ptr<AppliedLog> log_;
  storage::Engine* const engine_;
  std::vector<std::string> unwritten_;
};

inline bool WaitUntil(const std::function<bool()>& pred, milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

// One server: everything a spanserver would own for this group.
struct Node {
  paxos::ReplicaId id = 0;
  std::string dir;
  // Over leveldb::Env::Default(); FailWrites() makes the node's disk fail.
  std::unique_ptr<storage::testing::FaultInjectionEnv> env;
  std::unique_ptr<storage::Engine> engine;
  std::unique_ptr<storage::PaxosLog> log;
  std::unique_ptr<storage::GroupCommitWriter> writer;
  std::unique_ptr<truetime::TrueTime> truetime;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::thread io_thread;
  std::unique_ptr<GrpcTransport> transport;
  std::unique_ptr<grpc::Server> server;
  int port = 0;

  std::mutex host_mu;
  std::unique_ptr<GroupHost> host;  // guarded by host_mu (replaced on restart)
  std::shared_ptr<AppliedLog> applied;

  GroupHost* Host() {
    std::lock_guard<std::mutex> lock(host_mu);
    return host.get();
  }
};

class GroupHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (paxos::ReplicaId id = 1; id <= 3; ++id) {
      auto node = std::make_unique<Node>();
      node->id = id;
      node->dir = absl::StrCat(::testing::TempDir(), "meridian_group_host_test_", getpid(), "_",
                               reinterpret_cast<uintptr_t>(this), "_", id);
      std::filesystem::remove_all(node->dir);
      node->env = std::make_unique<storage::testing::FaultInjectionEnv>(leveldb::Env::Default());
      auto engine = storage::Engine::Open(node->dir, {.env = node->env.get()});
      ASSERT_TRUE(engine.ok()) << engine.status();
      node->engine = *std::move(engine);
      auto log = storage::PaxosLog::Open(node->dir + "/paxos_log", {.env = node->env.get()});
      ASSERT_TRUE(log.ok()) << log.status();
      node->log = *std::move(log);
      node->writer =
          std::make_unique<storage::GroupCommitWriter>(node->engine.get(), node->log.get());
      auto source =
          truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {.fixed_epsilon_us = 1000});
      ASSERT_TRUE(source.ok()) << source.status();
      node->truetime =
          std::make_unique<truetime::TrueTime>(*std::move(source), truetime::TrueTime::Options{});
      node->work.emplace(asio::make_work_guard(node->io));
      node->io_thread = std::thread([n = node.get()] { n->io.run(); });
      Node* n = node.get();
      node->transport = std::make_unique<GrpcTransport>(id, [n](paxos::Message m) {
        std::lock_guard<std::mutex> lock(n->host_mu);
        if (n->host != nullptr) n->host->Deliver(std::move(m));
      });
      grpc::ServerBuilder builder;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &node->port);
      node->transport->RegisterService(&builder);
      node->server = builder.BuildAndStart();
      ASSERT_NE(node->server, nullptr);
      ASSERT_GT(node->port, 0);
      nodes_.push_back(std::move(node));
    }
    for (auto& from : nodes_) {
      for (auto& to : nodes_) {
        if (from != to)
          from->transport->SetPeerAddress(to->id, absl::StrCat("127.0.0.1:", to->port));
      }
    }
    for (auto& node : nodes_) StartHost(*node);
  }

  void TearDown() override {
    for (auto& node : nodes_) StopHost(*node);
    for (auto& node : nodes_)
      node->server->Shutdown(std::chrono::system_clock::now() + milliseconds(500));
    for (auto& node : nodes_) {
      node->transport.reset();
      node->work.reset();
      node->io.stop();
      node->io_thread.join();
      node->writer.reset();
      node->log.reset();
      node->engine.reset();
      std::filesystem::remove_all(node->dir);
    }
  }

  static GroupHostOptions Options(paxos::ReplicaId id) {
    GroupHostOptions options;
    options.paxos.group = kGroup;
    options.paxos.id = id;
    options.paxos.members = {1, 2, 3};
    options.paxos.seed = id;
    options.paxos.lease_us = kLeaseUs;
    options.paxos.heartbeat_interval_us = 100'000;
    options.paxos.election_timeout_us = 300'000;
    options.paxos.campaign_retry_us = 200'000;
    options.tick_interval_us = 10'000;
    return options;
  }

  // A new GroupHost (and state machine) over the node's Engine.
  void StartHost(Node& node) {
    node.applied = std::make_shared<AppliedLog>();
    auto host = std::make_unique<GroupHost>(
        node.io, node.engine.get(), node.writer.get(), node.truetime.get(), node.transport.get(),
        Options(node.id),
        batching_ ? std::make_unique<BatchingStateMachine>(node.applied, node.engine.get())
                  : std::make_unique<RecordingStateMachine>(node.applied));
    GroupHost* raw = host.get();
    {
      std::lock_guard<std::mutex> lock(node.host_mu);
      node.host = std::move(host);
    }
    ASSERT_TRUE(raw->Start().ok());
  }

  void StopHost(Node& node) {
    std::unique_ptr<GroupHost> host;
    {
      std::lock_guard<std::mutex> lock(node.host_mu);
      host = std::move(node.host);
    }
    if (host != nullptr) host->Stop();
  }

  // The node whose host leads with a lease, among those with a host; nullptr when none.
  Node* Leader() {
    for (auto& node : nodes_) {
      GroupHost* host = node->Host();
      if (host == nullptr) continue;
      GroupState s = host->state();
      if (s.role == paxos::Role::kLeader && s.has_lease) return node.get();
    }
    return nullptr;
  }

  Node* WaitForLeader(milliseconds timeout = kWait) {
    Node* leader = nullptr;
    WaitUntil([&] { return (leader = Leader()) != nullptr; }, timeout);
    return leader;
  }

  static std::future<absl::StatusOr<std::string>> ProposeAsync(GroupHost* host,
                                                               std::string command) {
    auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
    auto future = promise->get_future();
    host->Propose(
        [command](paxos::Replica&) -> absl::StatusOr<std::string> { return command; },
        [promise](absl::StatusOr<std::string> result) { promise->set_value(std::move(result)); });
    return future;
  }

  static absl::StatusOr<std::string> Await(std::future<absl::StatusOr<std::string>>& f) {
    if (f.wait_for(kWait) != std::future_status::ready) {
      return absl::DeadlineExceededError("no answer from the group host");
    }
    return f.get();
  }

  static absl::StatusOr<std::string> Propose(GroupHost* host, std::string command) {
    auto f = ProposeAsync(host, std::move(command));
    return Await(f);
  }

  // Proposes until a leader accepts it (leadership may be settling).
  absl::StatusOr<std::string> ProposeOnLeader(const std::string& command) {
    absl::StatusOr<std::string> result = absl::UnavailableError("no leader");
    WaitUntil([&] {
      Node* leader = Leader();
      if (leader == nullptr) return false;
      result = Propose(leader->Host(), command);
      return result.ok();
    });
    return result;
  }

  // Waits until every node with a host applied exactly `want`.
  bool WaitAllApplied(const std::vector<std::string>& want) {
    return WaitUntil([&] {
      for (auto& node : nodes_) {
        if (node->Host() != nullptr && node->applied->Snapshot() != want) return false;
      }
      return true;
    });
  }

  // What a restart of the node's server does to its storage: a new engine, Paxos log and writer
  // over the same files (a writer that saw a failed write refuses every later one).
  void ReopenStorage(Node& node, storage::PaxosLogOptions log_options = {}) {
    node.writer.reset();
    node.log.reset();
    node.engine.reset();
    absl::StatusOr<std::unique_ptr<storage::Engine>> engine =
        storage::Engine::Open(node.dir, {.env = node.env.get()});
    ASSERT_TRUE(engine.ok()) << engine.status();
    node.engine = *std::move(engine);
    log_options.env = node.env.get();
    absl::StatusOr<std::unique_ptr<storage::PaxosLog>> log =
        storage::PaxosLog::Open(node.dir + "/paxos_log", log_options);
    ASSERT_TRUE(log.ok()) << log.status();
    node.log = *std::move(log);
    node.writer = std::make_unique<storage::GroupCommitWriter>(node.engine.get(), node.log.get());
  }

  // Whether StartHost builds BatchingStateMachines.
  bool batching_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;
};

}  // namespace meridian::replication::group_host_test

#endif  // MERIDIAN_TESTS_UNIT_REPLICATION_GROUP_HOST_HARNESS_H_
