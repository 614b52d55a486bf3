// GroupHost with GrpcTransport: three replicas of one group in one process, each with its own
// io_context thread, LevelDB Engine in a temp dir, GroupCommitWriter, TrueTime (fixed source,
// epsilon 1 ms) and gRPC server on 127.0.0.1. Lease 500 ms.
//
// Waits are bounded polls of GroupHost::state() or bounded waits on futures: the hosts run on
// real threads and real time, so there is no seam to step them.
#include "replication/group_host.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
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
#include "replication/grpc_transport.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/write_batch.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr paxos::GroupId kGroup = 1;
constexpr int64_t kLeaseUs = 500'000;
constexpr milliseconds kWait{5'000};

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

  absl::StatusOr<std::string> Apply(const paxos::Entry& entry) override {
    if (!log_->bound) log_->applied_before_bind = true;
    if (entry.type != paxos::EntryType::kNormal) return std::string();
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

  absl::StatusOr<std::string> ApplyToBatch(const paxos::Entry& entry,
                                           storage::WriteBatch* batch) override {
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

bool WaitUntil(const std::function<bool()>& pred, milliseconds timeout = kWait) {
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
  std::unique_ptr<storage::Engine> engine;
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
      auto engine = storage::Engine::Open(node->dir);
      ASSERT_TRUE(engine.ok()) << engine.status();
      node->engine = *std::move(engine);
      node->writer = std::make_unique<storage::GroupCommitWriter>(node->engine.get());
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

  // Whether StartHost builds BatchingStateMachines.
  bool batching_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;
};

// On a loaded machine a leader may lose its 500 ms lease mid-test; a proposal may then fail
// with UNAVAILABLE (outcome unknown) and is retried under a new name, so every command that was
// acknowledged must appear exactly once, at the same position, on every replica.
TEST_F(GroupHostTest, ElectsLeaderAndAppliesProposalsInOrderEverywhere) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);

  std::mutex acked_mu;
  std::vector<std::string> acked;
  // Proposes `cmd` on the given host; on UNAVAILABLE retries on whoever leads, renamed.
  auto settle = [&](std::string cmd, absl::StatusOr<std::string> r) {
    for (int attempt = 1; !r.ok() && attempt < 20; ++attempt) {
      ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
      cmd = absl::StrCat(cmd, "/retry", attempt);
      r = ProposeOnLeader(cmd);
    }
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, "applied:" + cmd);
    std::lock_guard<std::mutex> lock(acked_mu);
    acked.push_back(cmd);
  };

  for (int i = 0; i < 50; ++i) {
    const std::string cmd = absl::StrCat("seq", i);
    settle(cmd, Propose(leader->Host(), cmd));
  }
  // 150 more, all in flight at once, from three threads.
  std::vector<std::thread> proposers;
  for (int t = 0; t < 3; ++t) {
    proposers.emplace_back([&, t] {
      Node* l = Leader();
      GroupHost* host = (l != nullptr ? l : leader)->Host();
      std::vector<std::pair<std::string, std::future<absl::StatusOr<std::string>>>> futures;
      for (int i = 0; i < 50; ++i) {
        std::string cmd = absl::StrCat("t", t, "-", i);
        futures.emplace_back(cmd, ProposeAsync(host, cmd));
      }
      for (auto& [cmd, f] : futures) settle(cmd, Await(f));
    });
  }
  for (auto& t : proposers) t.join();
  ASSERT_EQ(acked.size(), 200u);

  Node* now_leader = WaitForLeader();
  ASSERT_NE(now_leader, nullptr);
  const std::vector<std::string> order = now_leader->applied->Snapshot();
  EXPECT_TRUE(WaitAllApplied(order));
  for (auto& node : nodes_) EXPECT_EQ(node->applied->Snapshot(), order) << "replica " << node->id;
  for (const std::string& cmd : acked) {
    EXPECT_EQ(std::count(order.begin(), order.end(), cmd), 1) << cmd;
  }

  GroupState s = now_leader->Host()->state();
  EXPECT_EQ(s.self, now_leader->id);
  EXPECT_EQ(s.leader, now_leader->id);
  EXPECT_EQ(s.members, (std::vector<paxos::ReplicaId>{1, 2, 3}));
  EXPECT_GE(s.applied, order.size() + 1);  // the commands and at least one leader's no-op
  EXPECT_GE(s.commit, s.applied);
}

TEST_F(GroupHostTest, ReadOnLeaderSeesEarlierWrites) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  GroupHost* host = leader->Host();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Propose(host, absl::StrCat("w", i)).ok());

  auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
  auto future = promise->get_future();
  std::shared_ptr<AppliedLog> applied = leader->applied;
  host->Read(
      [applied]() -> absl::StatusOr<std::string> {
        auto commands = applied->Snapshot();
        return absl::StrCat(commands.size(), ":", commands.back());
      },
      [promise](absl::StatusOr<std::string> r) { promise->set_value(std::move(r)); });
  absl::StatusOr<std::string> r = Await(future);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "5:w4");
}

// The writes a state machine adds to the round's batch are in the engine before the proposer
// is answered and before a read that waited for the entry runs.
TEST_F(GroupHostTest, BatchedApplyIsWrittenBeforeProposersAndReadsAreAnswered) {
  for (auto& node : nodes_) StopHost(*node);
  batching_ = true;
  for (auto& node : nodes_) StartHost(*node);
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  GroupHost* host = leader->Host();
  storage::Engine* engine = leader->engine.get();
  constexpr storage::Timestamp kLatest = storage::Timestamp{1} << 60;
  auto visible = [engine](const std::string& key) {
    absl::StatusOr<std::optional<std::string>> value = engine->Get(kGroup, key, kLatest);
    return value.ok() && value->has_value();
  };
  // Several proposals in flight at once, so that rounds carry more than one entry.
  std::vector<std::future<absl::StatusOr<std::string>>> futures;
  for (int i = 0; i < 20; ++i) {
    const std::string key = absl::StrCat("k", i);
    auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
    futures.push_back(promise->get_future());
    host->Propose([key](paxos::Replica&) -> absl::StatusOr<std::string> { return key; },
                  [promise, key, visible](absl::StatusOr<std::string> result) {
                    if (result.ok() && !visible(key)) {
                      result = absl::InternalError("answered before its write reached the engine");
                    }
                    promise->set_value(std::move(result));
                  });
  }
  int acknowledged = 0;
  for (auto& f : futures) {
    absl::StatusOr<std::string> r = Await(f);
    // A lost lease on a loaded machine may fail a proposal with UNAVAILABLE; never INTERNAL.
    EXPECT_NE(r.status().code(), absl::StatusCode::kInternal) << r.status();
    EXPECT_NE(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
    if (r.ok()) ++acknowledged;
  }
  EXPECT_GT(acknowledged, 0);

  ASSERT_TRUE(ProposeOnLeader("last").ok());
  leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
  auto future = promise->get_future();
  storage::Engine* leader_engine = leader->engine.get();
  leader->Host()->Read(
      [leader_engine]() -> absl::StatusOr<std::string> {
        absl::StatusOr<std::optional<std::string>> value =
            leader_engine->Get(kGroup, "last", storage::Timestamp{1} << 60);
        if (!value.ok()) return value.status();
        return value->has_value() ? "seen" : "missing";
      },
      [promise](absl::StatusOr<std::string> r) { promise->set_value(std::move(r)); });
  absl::StatusOr<std::string> r = Await(future);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "seen");
  // The leader was told when its batches were in the engine, and no replica before that
  // (followers may not have applied yet: they learn the commit point with the next Accept).
  EXPECT_GT(leader->applied->written_calls.load(), 0);
  for (auto& node : nodes_) {
    EXPECT_EQ(node->applied->written_too_early.load(), 0) << "replica " << node->id;
  }
}

TEST_F(GroupHostTest, FollowersRefuseProposalsAndReads) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  for (auto& node : nodes_) {
    if (node.get() == leader) continue;
    // It knows the leader once the leader's heartbeats arrive.
    ASSERT_TRUE(WaitUntil([&] { return node->Host()->state().leader == leader->id; }));
    bool made = false;
    auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
    auto future = promise->get_future();
    node->Host()->Propose(
        [&made](paxos::Replica&) -> absl::StatusOr<std::string> {
          made = true;
          return std::string("x");
        },
        [promise](absl::StatusOr<std::string> r) { promise->set_value(std::move(r)); });
    absl::StatusOr<std::string> r = Await(future);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
    EXPECT_FALSE(made);

    auto read_promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
    auto read_future = read_promise->get_future();
    node->Host()->Read(
        []() -> absl::StatusOr<std::string> { return std::string("read"); },
        [read_promise](absl::StatusOr<std::string> r) { read_promise->set_value(std::move(r)); });
    EXPECT_EQ(Await(read_future).status().code(), absl::StatusCode::kUnavailable);
  }
}

TEST_F(GroupHostTest, MakeCommandErrorsReachTheCallback) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  auto promise = std::make_shared<std::promise<absl::StatusOr<std::string>>>();
  auto future = promise->get_future();
  leader->Host()->Propose(
      [](paxos::Replica&) -> absl::StatusOr<std::string> {
        return absl::FailedPreconditionError("no timestamp");
      },
      [promise](absl::StatusOr<std::string> r) { promise->set_value(std::move(r)); });
  EXPECT_EQ(Await(future).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(GroupHostTest, AnotherReplicaLeadsAfterTheLeaderStops) {
  Node* old_leader = WaitForLeader();
  ASSERT_NE(old_leader, nullptr);
  ASSERT_TRUE(Propose(old_leader->Host(), "before").ok());

  const auto stopped_at = Clock::now();
  StopHost(*old_leader);
  Node* leader = WaitForLeader(milliseconds(6 * kLeaseUs / 1000));
  ASSERT_NE(leader, nullptr);
  ASSERT_NE(leader, old_leader);
  const auto failover = std::chrono::duration_cast<milliseconds>(Clock::now() - stopped_at).count();
  EXPECT_LT(failover, 6 * kLeaseUs / 1000);

  absl::StatusOr<std::string> r = ProposeOnLeader("after");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, "applied:after");
  EXPECT_TRUE(WaitAllApplied({"before", "after"}));
}

TEST_F(GroupHostTest, RestartedHostCatchesUp) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  std::vector<std::string> want;
  for (int i = 0; i < 10; ++i) {
    want.push_back(absl::StrCat("a", i));
    ASSERT_TRUE(Propose(leader->Host(), want.back()).ok());
  }
  Node* follower = nodes_[0].get() == leader ? nodes_[1].get() : nodes_[0].get();
  ASSERT_TRUE(WaitAllApplied(want));

  StopHost(*follower);
  for (int i = 0; i < 10; ++i) {
    want.push_back(absl::StrCat("b", i));
    ASSERT_TRUE(Propose(leader->Host(), want.back()).ok());
  }
  StartHost(*follower);  // a new GroupHost and an empty state machine over the same Engine
  EXPECT_TRUE(WaitAllApplied(want));
  EXPECT_EQ(follower->applied->Snapshot(), want);

  want.push_back("c");
  ASSERT_TRUE(ProposeOnLeader("c").ok());
  EXPECT_TRUE(WaitAllApplied(want));
}

TEST_F(GroupHostTest, StopFailsWaitersAndIsIdempotent) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  GroupHost* host = leader->Host();
  host->Stop();
  host->Stop();
  EXPECT_EQ(Propose(host, "late").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(host->state().role, paxos::Role::kLeader);
}

TEST_F(GroupHostTest, StateMachineHooksAndWithReplicaFollowTheHostsLife) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  EXPECT_TRUE(leader->applied->bound);
  EXPECT_FALSE(leader->applied->applied_before_bind);
  EXPECT_TRUE(WaitUntil([&] { return leader->applied->ticks.load() > 2; }));
  GroupHost* host = leader->Host();
  auto run = [host](int64_t delay_us) {
    auto seen = std::make_shared<std::promise<bool>>();
    host->WithReplica(
        [seen](paxos::Replica* replica, truetime::Interval now) {
          seen->set_value(replica != nullptr && now.latest >= now.earliest && now.earliest > 0);
        },
        delay_us);
    return seen->get_future();
  };
  std::future<bool> now = run(0);
  std::future<bool> later = run(20'000);
  ASSERT_EQ(now.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(now.get());
  ASSERT_EQ(later.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(later.get());
  EXPECT_FALSE(leader->applied->stopped);
  host->Stop();
  EXPECT_TRUE(leader->applied->stopped);
  std::future<bool> stopped = run(0);
  ASSERT_EQ(stopped.wait_for(kWait), std::future_status::ready);
  EXPECT_FALSE(stopped.get()) << "a stopped host must hand fn no replica";
}

TEST_F(GroupHostTest, WithReplicasRunsEveryFnInOrderAndTheirProposalsApply) {
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  // Not owned here: the node keeps the host, and this test outlives the batch.
  std::shared_ptr<GroupHost> host(leader->Host(), [](GroupHost*) {});
  auto order = std::make_shared<std::vector<int>>();  // the host's strand only
  auto done = std::make_shared<std::promise<void>>();
  std::vector<GroupHost::Work> work;
  std::vector<std::string> want;
  for (int i = 0; i < 5; ++i) {
    want.push_back(absl::StrCat("batched-", i));
    work.push_back({host, [i, order, done](paxos::Replica* replica, truetime::Interval now) {
                      ASSERT_NE(replica, nullptr);
                      ASSERT_TRUE(replica->Propose(absl::StrCat("batched-", i), now).ok());
                      order->push_back(i);
                      if (i == 4) done->set_value();
                    }});
  }
  GroupHost::WithReplicas(std::move(work));
  ASSERT_EQ(done->get_future().wait_for(kWait), std::future_status::ready);
  EXPECT_EQ(*order, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_TRUE(WaitAllApplied(want));
  GroupHost::WithReplicas({});  // nothing to do, and no host to find the io_context through
}

}  // namespace
}  // namespace meridian::replication
