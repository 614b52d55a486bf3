#include "replication/config_step.h"

#include <gtest/gtest.h>

#include <set>

namespace meridian::replication {
namespace {

using paxos::Config;
using paxos::ReplicaId;

// Walks `current` toward `wanted` as the leader would, everyone caught up except `lagging`.
std::vector<ConfigStep> Walk(Config current, const std::vector<ReplicaId>& wanted, ReplicaId self,
                             std::set<ReplicaId> lagging = {}) {
  std::vector<ConfigStep> steps;
  for (int i = 0; i < 10; ++i) {
    ConfigStep step = NextConfigStep(current, false, wanted, self,
                                     [&](ReplicaId id) { return !lagging.contains(id); });
    if (step.kind != ConfigStep::Kind::kPropose) {
      if (step.kind != ConfigStep::Kind::kNone) steps.push_back(step);
      break;
    }
    current = step.config;
    steps.push_back(step);
  }
  return steps;
}

TEST(ConfigStepTest, AReplacementIsALearnerThenAVoterThenTheOldVoterLeaves) {
  const std::vector<ConfigStep> steps = Walk(Config{{1, 2, 3}, {}}, {4, 2, 3}, /*self=*/2);
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].config, (Config{{1, 2, 3}, {4}}));
  EXPECT_EQ(steps[1].config, (Config{{1, 2, 3, 4}, {}}));
  EXPECT_EQ(steps[2].config, (Config{{2, 3, 4}, {}}));
}

TEST(ConfigStepTest, ALaggingLearnerIsNotPromotedAndNoVoterLeavesMeanwhile) {
  const std::vector<ConfigStep> steps =
      Walk(Config{{1, 2, 3}, {}}, {4, 2, 3}, /*self=*/2, /*lagging=*/{4});
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].config, (Config{{1, 2, 3}, {4}}));
}

TEST(ConfigStepTest, ALeaderThatIsNoLongerWantedHandsOverFirst) {
  const std::vector<ConfigStep> steps = Walk(Config{{1, 2, 3, 4}, {}}, {4, 2, 3}, /*self=*/1);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, ConfigStep::Kind::kTransferLeadership);
  EXPECT_NE(steps[0].transfer_to, 1u);
}

TEST(ConfigStepTest, NothingWhileAChangeIsPendingOrWhenDone) {
  EXPECT_EQ(
      NextConfigStep(Config{{1, 2, 3}, {}}, true, {4, 2, 3}, 2, [](ReplicaId) { return true; })
          .kind,
      ConfigStep::Kind::kNone);
  EXPECT_EQ(
      NextConfigStep(Config{{1, 2, 3}, {}}, false, {3, 1, 2}, 2, [](ReplicaId) { return true; })
          .kind,
      ConfigStep::Kind::kNone);
}

TEST(ConfigStepTest, AnUnwantedLearnerIsDropped) {
  const std::vector<ConfigStep> steps = Walk(Config{{1, 2, 3}, {7}}, {1, 2, 3}, /*self=*/1);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].config, (Config{{1, 2, 3}, {}}));
}

}  // namespace
}  // namespace meridian::replication
