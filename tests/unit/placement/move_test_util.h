// Helpers of the move and split tests: a small bootstrapped cluster in a MetadataStateMachine and
// the commands that move, split and create groups.
//
// The cluster: servers 1..4 (zones a, b, c, a), ranges ["", "m") in group 1 and ["m", +inf) in
// group 2, both on servers 1, 2, 3 at kInitialGeneration.
#ifndef MERIDIAN_TESTS_UNIT_PLACEMENT_MOVE_TEST_UTIL_H_
#define MERIDIAN_TESTS_UNIT_PLACEMENT_MOVE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "placement/metadata.h"
#include "placement/planner.h"

namespace meridian::placement::testing {

inline void SetUpTwoRanges(MetadataStateMachine& sm) {
  const char* zones[] = {"a", "b", "c", "a"};
  for (int i = 0; i < 4; ++i) {
    proto::PlacementCommand command;
    auto* op = command.mutable_register_server();
    op->set_zone(zones[i]);
    op->set_address("h:" + std::to_string(i + 1));
    op->set_incarnation(100 + i);
    ASSERT_TRUE(sm.ApplyCommand(command).ok());
  }
  proto::PlacementCommand command;
  auto* bootstrap = command.mutable_bootstrap();
  for (uint64_t id : {1, 2}) {
    proto::GroupInfo* group = bootstrap->add_groups();
    group->set_id(id);
    for (uint64_t server : {1, 2, 3}) group->add_replicas(server);
  }
  proto::RangeInfo* low = bootstrap->add_ranges();
  low->set_end("m");
  low->set_group(1);
  low->set_generation(kInitialGeneration);
  proto::RangeInfo* high = bootstrap->add_ranges();
  high->set_start("m");
  high->set_group(2);
  high->set_generation(kInitialGeneration);
  ASSERT_EQ(*sm.ApplyCommand(command), kBootstrapApplied);
}

inline proto::PlacementCommand MoveCommand(const std::string& start, const std::string& end,
                                           uint64_t from, uint64_t to) {
  proto::PlacementCommand command;
  proto::MoveInfo* move = command.mutable_start_move()->mutable_move();
  move->set_kind(proto::MoveInfo::MOVE);
  move->set_start(start);
  move->set_end(end);
  move->set_from_group(from);
  move->set_to_group(to);
  return command;
}

inline proto::PlacementCommand SplitCommand(const std::string& start, const std::string& end,
                                            uint64_t group, const std::string& key) {
  proto::PlacementCommand command;
  proto::MoveInfo* move = command.mutable_start_move()->mutable_move();
  move->set_kind(proto::MoveInfo::SPLIT);
  move->set_start(start);
  move->set_end(end);
  move->set_from_group(group);
  move->set_split_key(key);
  return command;
}

inline proto::PlacementCommand CreateGroupCommand(const std::vector<uint64_t>& replicas) {
  proto::PlacementCommand command;
  proto::PlacementCommand::CreateGroup* op = command.mutable_create_group();
  for (uint64_t id : replicas) op->add_replicas(id);
  return command;
}

inline proto::PlacementCommand FinishCommand(uint64_t id) {
  proto::PlacementCommand command;
  command.mutable_finish_move()->set_id(id);
  return command;
}

inline proto::PlacementCommand DroppedCommand(uint64_t id) {
  proto::PlacementCommand command;
  command.mutable_move_dropped()->set_id(id);
  return command;
}

// The PlacementResult an Apply returned.
inline proto::PlacementResult ResultOf(const absl::StatusOr<std::string>& applied) {
  EXPECT_TRUE(applied.ok()) << applied.status();
  proto::PlacementResult result;
  EXPECT_TRUE(applied.ok() && result.ParseFromString(*applied));
  return result;
}

// "[start,end)->group@generation ..." of every range, in key order.
inline std::string RangesOf(const proto::Topology& topology) {
  std::string out;
  for (const proto::RangeInfo& r : topology.ranges()) {
    out += "[" + r.start() + "," + r.end() + ")->" + std::to_string(r.group()) + "@" +
           std::to_string(r.generation()) + " ";
  }
  return out;
}

}  // namespace meridian::placement::testing

#endif  // MERIDIAN_TESTS_UNIT_PLACEMENT_MOVE_TEST_UTIL_H_
