// GroupHost with GrpcTransport: election, ordered application, reads, restarts, and the state
// machine hooks (the harness: group_host_harness.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/unit/replication/group_host_harness.h"

namespace meridian::replication::group_host_test {
namespace {

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
}  // namespace meridian::replication::group_host_test
