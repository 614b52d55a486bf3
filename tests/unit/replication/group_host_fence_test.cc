// GroupHost fences a group, instead of stopping the process, when a committed entry cannot be
// applied or the server's disk fails; nothing acknowledged is lost, and a restart recovers
// (the harness: group_host_harness.h).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "tests/unit/replication/group_host_harness.h"

namespace meridian::replication::group_host_test {
namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class GroupHostFenceTest : public GroupHostTest {
 protected:
  int CountFenced() {
    int fenced = 0;
    for (auto& node : nodes_) {
      if (node->Host() != nullptr && !node->Host()->state().fenced.empty()) ++fenced;
    }
    return fenced;
  }
};

// Each replica that learns the entry is chosen fences the group; that is a majority at least
// (a leader fences before it tells the others, and the next leader re-proposes the entry), and
// the last one cannot win an election without them. The process and its hosts stay up, requests
// get a clear error, and a restart of every replica (which replays the log) fences the group
// again instead of crash-looping.
TEST_F(GroupHostFenceTest, AnEntryThatCannotBeAppliedFencesTheGroupAndNotTheProcess) {
  ASSERT_TRUE(ProposeOnLeader("a").ok());
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  absl::StatusOr<std::string> poisoned = Propose(leader->Host(), "poison-1");
  ASSERT_FALSE(poisoned.ok());
  EXPECT_EQ(poisoned.status().code(), absl::StatusCode::kUnavailable) << poisoned.status();
  EXPECT_TRUE(Contains(poisoned.status().ToString(), "fenced")) << poisoned.status();

  ASSERT_TRUE(WaitUntil([&] { return CountFenced() >= 2; }));
  Node* fenced = nullptr;
  for (auto& node : nodes_) {
    const GroupState s = node->Host()->state();
    EXPECT_FALSE(s.has_lease) << "replica " << node->id;
    EXPECT_EQ(node->applied->Snapshot(), std::vector<std::string>{"a"}) << "replica " << node->id;
    if (s.fenced.empty()) continue;
    fenced = node.get();
    EXPECT_TRUE(Contains(s.fenced, "cannot be applied")) << s.fenced;
    EXPECT_TRUE(Contains(s.fenced, "cannot apply command poison-1")) << s.fenced;
    EXPECT_NE(s.role, paxos::Role::kLeader);
    EXPECT_TRUE(node->applied->stopped.load()) << "the state machine was not told";
  }
  ASSERT_NE(fenced, nullptr);
  absl::StatusOr<std::string> refused = Propose(fenced->Host(), "b");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Contains(refused.status().ToString(), "group 1 is fenced on this server"))
      << refused.status();

  for (auto& node : nodes_) StopHost(*node);
  for (auto& node : nodes_) StartHost(*node);
  ASSERT_TRUE(WaitUntil([&] { return CountFenced() >= 2; }));
  for (auto& node : nodes_) {
    if (node->Host()->state().fenced.empty()) continue;  // it may not have learned of slot 3
    EXPECT_EQ(node->applied->Snapshot(), std::vector<std::string>{"a"}) << "replica " << node->id;
  }
}

// The leader's disk fills up: its group fences there (nothing it had not written is
// acknowledged), the other two elect a leader and go on, and once the disk has room a restart
// of the server brings the replica back with every acknowledged entry.
TEST_F(GroupHostFenceTest, AFailedDiskFencesTheReplicaAndTheOthersGoOn) {
  for (auto& node : nodes_) StopHost(*node);
  batching_ = true;  // entries are written to the engine, through the failing disk
  for (auto& node : nodes_) StartHost(*node);
  std::vector<std::string> acked;
  for (int i = 0; i < 5; ++i) {
    const std::string cmd = absl::StrCat("before", i);
    ASSERT_TRUE(ProposeOnLeader(cmd).ok());
    acked.push_back(cmd);
  }
  Node* failing = WaitForLeader();
  ASSERT_NE(failing, nullptr);
  failing->env->FailWrites(leveldb::Status::IOError("000003.log", "No space left on device"));

  absl::StatusOr<std::string> lost = Propose(failing->Host(), "during");
  ASSERT_FALSE(lost.ok()) << "acknowledged a write its disk refused";
  ASSERT_TRUE(WaitUntil([&] { return !failing->Host()->state().fenced.empty(); }));
  const GroupState fenced = failing->Host()->state();
  EXPECT_TRUE(Contains(fenced.fenced, "No space left on device")) << fenced.fenced;
  EXPECT_FALSE(fenced.has_lease);
  EXPECT_GT(failing->env->FailedWrites(), 0u);

  // The other two elect a leader (once the fenced one's lease ran out) and commit.
  for (int i = 0; i < 5; ++i) {
    const std::string cmd = absl::StrCat("after", i);
    absl::StatusOr<std::string> r = ProposeOnLeader(cmd);
    ASSERT_TRUE(r.ok()) << r.status();
    acked.push_back(cmd);
  }
  EXPECT_NE(WaitForLeader(), failing);

  failing->env->FailWrites(leveldb::Status::OK());
  StopHost(*failing);
  ReopenStorage(*failing);
  StartHost(*failing);
  Node* leader = WaitForLeader();
  ASSERT_NE(leader, nullptr);
  ASSERT_TRUE(ProposeOnLeader("healed").ok());
  acked.push_back("healed");
  const std::vector<std::string> order = leader->applied->Snapshot();
  ASSERT_TRUE(WaitUntil([&] { return failing->applied->Snapshot().size() >= order.size(); }));
  for (const std::string& cmd : acked) {
    EXPECT_EQ(std::count(order.begin(), order.end(), cmd), 1) << cmd;
  }
  EXPECT_TRUE(failing->Host()->state().fenced.empty());
  // The state machine records a command when it adds its write to the round, before the round
  // is written: wait for the writes too.
  for (const std::string& key : acked) {
    absl::StatusOr<std::optional<std::string>> v;
    WaitUntil([&] {
      v = failing->engine->Get(kGroup, key, storage::Timestamp{1} << 60);
      return !v.ok() || v->has_value();
    });
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->has_value()) << key << " is missing on the healed replica";
  }
}

}  // namespace
}  // namespace meridian::replication::group_host_test
