// A power cut of every server of a group at once (FaultInjectionEnv: each file keeps what was
// synced, plus a random part of the rest) loses nothing a proposer was told was applied: the
// Paxos log is synced every round, and what applying wrote to LevelDB without sync is applied
// again from it after the restart. The checker (every node applies exactly the acknowledged
// commands, in order, and finds their writes in LevelDB) is shown to catch a planted bug: a Paxos
// log that acknowledges sync without syncing.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "tests/unit/replication/group_host_harness.h"

namespace meridian::replication::group_host_test {
namespace {

class GroupHostPowerCutTest : public GroupHostTest {
 protected:
  // Proposes `count` commands, then cuts the power of every node and restarts them; returns
  // the acknowledged commands.
  std::vector<std::string> ProposeThenCutEverything(int count, uint64_t seed,
                                                    storage::PaxosLogOptions log_options) {
    std::vector<std::string> acked;
    for (int i = 0; i < count; ++i) {
      absl::StatusOr<std::string> r = ProposeOnLeader(absl::StrCat("cmd-", seed, "-", i));
      EXPECT_TRUE(r.ok()) << r.status();
      if (r.ok()) acked.push_back(absl::StrCat("cmd-", seed, "-", i));
    }
    // LevelDB holds writes that were never synced: the cut will take some of them.
    uint64_t unsynced = 0;
    for (auto& node : nodes_) unsynced += node->env->UnsyncedBytes();
    EXPECT_GT(unsynced, 0u);
    for (auto& node : nodes_) node->env->SetFilesystemActive(false);
    for (auto& node : nodes_) StopHost(*node);
    Random tear(seed);
    for (auto& node : nodes_) {
      node->writer.reset();
      node->log.reset();
      node->engine.reset();
      EXPECT_TRUE(node->env->PowerCut(&tear).ok());
      ReopenStorage(*node, log_options);
    }
    for (auto& node : nodes_) StartHost(*node);
    return acked;
  }
};

TEST_F(GroupHostPowerCutTest, ACutOfEveryServerLosesNothingAcknowledged) {
  batching_ = true;  // the commands' writes go to LevelDB, unsynced
  for (auto& node : nodes_) StopHost(*node);
  for (auto& node : nodes_) StartHost(*node);
  std::vector<std::string> want;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    std::vector<std::string> acked = ProposeThenCutEverything(20, seed, {});
    want.insert(want.end(), acked.begin(), acked.end());
    // A restarted node replays its log from the start (this state machine has no checkpoints).
    want.push_back(absl::StrCat("after-", seed));
    ASSERT_TRUE(ProposeOnLeader(want.back()).ok());
    ASSERT_TRUE(WaitAllApplied(want)) << "after cut " << seed;
    for (auto& node : nodes_) {
      EXPECT_EQ(node->applied->written_too_early.load(), 0) << "node " << node->id;
    }
  }
}

TEST_F(GroupHostPowerCutTest, TheCheckerCatchesALogThatDoesNotSync) {
  batching_ = true;
  storage::PaxosLogOptions planted;
  planted.testing_ignore_sync = true;
  for (auto& node : nodes_) StopHost(*node);
  for (auto& node : nodes_) ReopenStorage(*node, planted);
  for (auto& node : nodes_) StartHost(*node);
  std::vector<std::string> want = ProposeThenCutEverything(20, 1, planted);
  want.push_back("after-1");
  ASSERT_TRUE(ProposeOnLeader(want.back()).ok());
  // Acknowledged commands are gone: no node applies exactly what was acknowledged.
  bool someone_applied_all = false;
  for (auto& node : nodes_) someone_applied_all |= node->applied->Snapshot() == want;
  EXPECT_FALSE(someone_applied_all);
}

}  // namespace
}  // namespace meridian::replication::group_host_test
