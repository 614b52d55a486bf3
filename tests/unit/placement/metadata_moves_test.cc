// MetadataStateMachine: CreateGroup, StartMove, FinishMove, MoveDropped (metadata_moves.cc),
// each refusal leaving the state exactly as it was.
#include <gtest/gtest.h>

#include <string>

#include "placement/metadata.h"
#include "placement/planner.h"
#include "tests/unit/placement/move_test_util.h"

namespace meridian::placement {
namespace {

using testing::CreateGroupCommand;
using testing::DroppedCommand;
using testing::FinishCommand;
using testing::MoveCommand;
using testing::RangesOf;
using testing::ResultOf;
using testing::SetUpTwoRanges;
using testing::SplitCommand;

class MetadataMovesTest : public ::testing::Test {
 protected:
  void SetUp() override { SetUpTwoRanges(sm_); }

  // Applies `command`, expects a refusal containing `reason`, and the state unchanged.
  void ExpectRefused(const proto::PlacementCommand& command, const std::string& reason) {
    const std::string before = sm_.Snapshot().SerializeAsString();
    const proto::PlacementResult result = ResultOf(sm_.ApplyCommand(command));
    EXPECT_NE(result.refusal().find(reason), std::string::npos) << result.refusal();
    EXPECT_EQ(sm_.Snapshot().SerializeAsString(), before) << "a refusal changed the state";
  }

  MetadataStateMachine sm_;
};

TEST_F(MetadataMovesTest, BootstrapSetsTheNextGenerationAboveEveryRange) {
  EXPECT_EQ(sm_.Snapshot().next_generation(), kInitialGeneration + 1);
  EXPECT_EQ(sm_.Snapshot().last_move_id(), 0u);
}

TEST_F(MetadataMovesTest, CreateGroupTakesTheNextIdAndItsReplicasFound) {
  const proto::PlacementResult created = ResultOf(sm_.ApplyCommand(CreateGroupCommand({4, 2, 3})));
  ASSERT_TRUE(created.refusal().empty()) << created.refusal();
  EXPECT_EQ(created.group(), 3u);
  const proto::Topology topology = sm_.Snapshot();
  ASSERT_EQ(topology.groups_size(), 3);
  const proto::GroupInfo& group = topology.groups(2);
  EXPECT_EQ(group.id(), 3u);
  EXPECT_EQ(std::vector<uint64_t>(group.replicas().begin(), group.replicas().end()),
            (std::vector<uint64_t>{4, 2, 3}));
  EXPECT_EQ(std::vector<uint64_t>(group.founders().begin(), group.founders().end()),
            (std::vector<uint64_t>{4, 2, 3}));
  EXPECT_EQ(ResultOf(sm_.ApplyCommand(CreateGroupCommand({1}))).group(), 4u);
}

TEST_F(MetadataMovesTest, CreateGroupRefusals) {
  ExpectRefused(CreateGroupCommand({}), "at least one replica");
  ExpectRefused(CreateGroupCommand({1, 1}), "listed twice");
  ExpectRefused(CreateGroupCommand({1, 9}), "no server 9");
  proto::PlacementCommand drain;
  drain.mutable_drain_server()->set_server_id(4);
  ASSERT_TRUE(sm_.ApplyCommand(drain).ok());
  ExpectRefused(CreateGroupCommand({4}), "draining");

  MetadataStateMachine fresh;
  const proto::PlacementResult result = ResultOf(fresh.ApplyCommand(CreateGroupCommand({1})));
  EXPECT_NE(result.refusal().find("not bootstrapped"), std::string::npos);
}

TEST_F(MetadataMovesTest, MoveIsRecordedThenSwitchedThenForgotten) {
  ResultOf(sm_.ApplyCommand(CreateGroupCommand({1, 2, 3})));
  const proto::PlacementResult started = ResultOf(sm_.ApplyCommand(MoveCommand("", "m", 1, 3)));
  ASSERT_TRUE(started.refusal().empty()) << started.refusal();
  EXPECT_EQ(started.move().id(), 1u);
  EXPECT_EQ(started.move().generation(), kInitialGeneration + 1);
  EXPECT_EQ(started.move().to_group(), 3u);
  proto::Topology topology = sm_.Snapshot();
  ASSERT_EQ(topology.moves_size(), 1);
  EXPECT_EQ(topology.next_generation(), kInitialGeneration + 2);
  EXPECT_EQ(topology.last_move_id(), 1u);
  EXPECT_EQ(RangesOf(topology), "[,m)->1@1 [m,)->2@1 ");  // the map changes at FinishMove only

  EXPECT_EQ(*sm_.ApplyCommand(FinishCommand(1)),
            "move 1: [\"\", \"m\") is group 3's at generation 2");
  topology = sm_.Snapshot();
  EXPECT_EQ(RangesOf(topology), "[,m)->3@2 [m,)->2@1 ");
  ASSERT_EQ(topology.moves_size(), 1);
  EXPECT_TRUE(topology.moves(0).switched());

  // A repeated FinishMove (a new leader's, or a retry) changes nothing.
  const std::string switched = sm_.Snapshot().SerializeAsString();
  EXPECT_NE(sm_.ApplyCommand(FinishCommand(1))->find("ignored"), std::string::npos);
  EXPECT_EQ(sm_.Snapshot().SerializeAsString(), switched);

  EXPECT_NE(sm_.ApplyCommand(DroppedCommand(1))->find("done"), std::string::npos);
  EXPECT_EQ(sm_.Snapshot().moves_size(), 0);
  EXPECT_NE(sm_.ApplyCommand(DroppedCommand(1))->find("ignored"), std::string::npos);
  EXPECT_NE(sm_.ApplyCommand(FinishCommand(1))->find("ignored"), std::string::npos);
  EXPECT_EQ(RangesOf(sm_.Snapshot()), "[,m)->3@2 [m,)->2@1 ");
}

TEST_F(MetadataMovesTest, MoveDroppedBeforeTheSwitchIsIgnored) {
  ResultOf(sm_.ApplyCommand(MoveCommand("m", "", 2, 1)));
  const std::string before = sm_.Snapshot().SerializeAsString();
  EXPECT_NE(sm_.ApplyCommand(DroppedCommand(1))->find("ignored"), std::string::npos);
  EXPECT_EQ(sm_.Snapshot().SerializeAsString(), before);
}

TEST_F(MetadataMovesTest, SplitMakesTwoRangesAtTheNewGeneration) {
  const proto::PlacementResult started = ResultOf(sm_.ApplyCommand(SplitCommand("m", "", 2, "t")));
  ASSERT_TRUE(started.refusal().empty()) << started.refusal();
  EXPECT_EQ(started.move().split_key(), "t");
  EXPECT_EQ(started.move().to_group(), 0u);
  EXPECT_NE(sm_.ApplyCommand(FinishCommand(1))->find("split 1"), std::string::npos);
  const proto::Topology topology = sm_.Snapshot();
  EXPECT_EQ(RangesOf(topology), "[,m)->1@1 [m,t)->2@2 [t,)->2@2 ");
  EXPECT_EQ(topology.moves_size(), 0);

  // A lower range splits too, and its halves land in key order.
  ResultOf(sm_.ApplyCommand(SplitCommand("", "m", 1, "c")));
  ASSERT_TRUE(sm_.ApplyCommand(FinishCommand(2)).ok());
  EXPECT_EQ(RangesOf(sm_.Snapshot()), "[,c)->1@3 [c,m)->1@3 [m,t)->2@2 [t,)->2@2 ");
}

TEST_F(MetadataMovesTest, IdsAndGenerationsAreNeverReused) {
  ResultOf(sm_.ApplyCommand(SplitCommand("m", "", 2, "t")));
  ASSERT_TRUE(sm_.ApplyCommand(FinishCommand(1)).ok());  // forgets split 1
  const proto::PlacementResult next = ResultOf(sm_.ApplyCommand(SplitCommand("m", "t", 2, "p")));
  EXPECT_EQ(next.move().id(), 2u);
  EXPECT_EQ(next.move().generation(), 3u);
  // A FinishMove of the forgotten id, applied late, does not touch move 2.
  const std::string before = sm_.Snapshot().SerializeAsString();
  EXPECT_NE(sm_.ApplyCommand(FinishCommand(1))->find("ignored"), std::string::npos);
  EXPECT_EQ(sm_.Snapshot().SerializeAsString(), before);
}

TEST_F(MetadataMovesTest, StartMoveRefusals) {
  ResultOf(sm_.ApplyCommand(CreateGroupCommand({1, 2, 3})));  // group 3
  ExpectRefused(MoveCommand("", "m", 1, 9), "no group 9");
  ExpectRefused(MoveCommand("", "m", 1, 1), "group 1's already");
  ExpectRefused(MoveCommand("", "n", 1, 3), "is not a range");
  ExpectRefused(MoveCommand("a", "m", 1, 3), "is not a range");
  ExpectRefused(MoveCommand("", "m", 2, 3), "belongs to group 1");
  ExpectRefused(SplitCommand("", "m", 1, "m"), "not strictly inside");
  ExpectRefused(SplitCommand("", "m", 1, ""), "not strictly inside");
  ExpectRefused(SplitCommand("m", "", 2, "m"), "not strictly inside");
  ExpectRefused(SplitCommand("m", "", 2, "a"), "not strictly inside");

  ASSERT_TRUE(ResultOf(sm_.ApplyCommand(MoveCommand("", "m", 1, 3))).refusal().empty());
  ExpectRefused(MoveCommand("", "m", 1, 2), "busy: move 1");
  ExpectRefused(SplitCommand("", "m", 1, "c"), "busy: move 1");
  // Switched but not yet dropped at group 1: still busy.
  ASSERT_TRUE(sm_.ApplyCommand(FinishCommand(1)).ok());
  ExpectRefused(MoveCommand("", "m", 3, 1), "group 1 is still erasing");
  // The other range is free.
  EXPECT_TRUE(ResultOf(sm_.ApplyCommand(MoveCommand("m", "", 2, 1))).refusal().empty());

  MetadataStateMachine fresh;
  EXPECT_NE(ResultOf(fresh.ApplyCommand(MoveCommand("", "", 1, 2))).refusal().find("bootstrapped"),
            std::string::npos);
}

TEST_F(MetadataMovesTest, ReplayingTheLogGivesTheSameState) {
  std::vector<proto::PlacementCommand> log = {CreateGroupCommand({4, 2, 3}),
                                              MoveCommand("", "m", 1, 3),
                                              SplitCommand("m", "", 2, "t"),
                                              FinishCommand(2),
                                              FinishCommand(1),
                                              DroppedCommand(1)};
  MetadataStateMachine replay;
  SetUpTwoRanges(replay);
  for (const proto::PlacementCommand& command : log) {
    ASSERT_TRUE(sm_.ApplyCommand(command).ok());
    ASSERT_TRUE(replay.ApplyCommand(command).ok());
  }
  EXPECT_EQ(sm_.Snapshot().SerializeAsString(), replay.Snapshot().SerializeAsString());
  EXPECT_EQ(RangesOf(sm_.Snapshot()), "[,m)->3@2 [m,t)->2@3 [t,)->2@3 ");
}

}  // namespace
}  // namespace meridian::placement
