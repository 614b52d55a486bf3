// MetadataStateMachine's SetPolicy and SetReplicas: applied as metadata.h says, and a refused
// command leaves the state byte for byte as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "placement/metadata.h"
#include "tests/unit/placement/balance_test_util.h"
#include "tests/unit/placement/move_test_util.h"

namespace meridian::placement {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Ids;
using testing::MakePolicy;
using testing::ResultOf;

proto::PlacementCommand SetPolicyCommand(uint64_t group, const proto::Policy& policy) {
  proto::PlacementCommand command;
  command.mutable_set_policy()->set_group(group);
  *command.mutable_set_policy()->mutable_policy() = policy;
  return command;
}

proto::PlacementCommand SetReplicasCommand(uint64_t group, const std::vector<uint64_t>& replicas,
                                           const std::vector<uint64_t>& expected) {
  proto::PlacementCommand command;
  for (uint64_t id : replicas) command.mutable_set_replicas()->add_replicas(id);
  for (uint64_t id : expected) command.mutable_set_replicas()->add_expected(id);
  command.mutable_set_replicas()->set_group(group);
  return command;
}

// Applies `command`, expects it refused with `refusal` in the message, and the state unchanged.
void ExpectRefused(MetadataStateMachine& sm, const proto::PlacementCommand& command,
                   const std::string& refusal) {
  const std::string before = sm.Snapshot().SerializeAsString();
  const proto::PlacementResult result = ResultOf(sm.ApplyCommand(command));
  EXPECT_THAT(result.refusal(), HasSubstr(refusal)) << command.ShortDebugString();
  EXPECT_EQ(sm.Snapshot().SerializeAsString(), before) << command.ShortDebugString();
}

// Servers 1..4 in zones a, b, c, a; groups 1 and 2 on 1, 2, 3 (move_test_util.h).
class MetadataPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::SetUpTwoRanges(sm_); }
  MetadataStateMachine sm_;
};

TEST_F(MetadataPolicyTest, SetPolicyRecordsTheWholePolicy) {
  const proto::Policy policy = MakePolicy(3, {"a", "b", "c"}, "b");
  EXPECT_TRUE(ResultOf(sm_.ApplyCommand(SetPolicyCommand(2, policy))).refusal().empty());
  proto::Topology t = sm_.Snapshot();
  EXPECT_EQ(t.groups(1).policy().SerializeAsString(), policy.SerializeAsString());
  EXPECT_FALSE(t.groups(0).has_policy());
  // Again: harmless. Then back to the default.
  EXPECT_TRUE(ResultOf(sm_.ApplyCommand(SetPolicyCommand(2, policy))).refusal().empty());
  EXPECT_TRUE(ResultOf(sm_.ApplyCommand(SetPolicyCommand(2, proto::Policy()))).refusal().empty());
  t = sm_.Snapshot();
  EXPECT_EQ(t.groups(1).policy().ByteSizeLong(), 0u);
}

TEST_F(MetadataPolicyTest, SetPolicyRefusalsChangeNothing) {
  ASSERT_TRUE(
      ResultOf(sm_.ApplyCommand(SetPolicyCommand(1, MakePolicy(0, {}, "a")))).refusal().empty());
  ExpectRefused(sm_, SetPolicyCommand(1, MakePolicy(4)), "3 or 5 replicas");
  ExpectRefused(sm_, SetPolicyCommand(1, MakePolicy(5)), "5 replicas need 5 distinct zones");
  ExpectRefused(sm_, SetPolicyCommand(1, MakePolicy(3, {"a", "b", "x"})), "zone x");
  ExpectRefused(sm_, SetPolicyCommand(1, MakePolicy(3, {"a", "b"}, "c")), "leader zone c");
  ExpectRefused(sm_, SetPolicyCommand(9, MakePolicy(3)), "no group 9");
  EXPECT_EQ(sm_.Snapshot().groups(0).policy().leader_zone(), "a");  // the first one stands

  MetadataStateMachine fresh;
  const proto::PlacementResult early = ResultOf(fresh.ApplyCommand(SetPolicyCommand(1, {})));
  EXPECT_THAT(early.refusal(), HasSubstr("not bootstrapped"));
}

TEST_F(MetadataPolicyTest, SetReplicasAddsRemovesAndReorders) {
  EXPECT_TRUE(
      ResultOf(sm_.ApplyCommand(SetReplicasCommand(1, {1, 2, 3, 4}, {1, 2, 3}))).refusal().empty());
  EXPECT_THAT(Ids(sm_.Snapshot().groups(0).replicas()), ElementsAre(1, 2, 3, 4));
  EXPECT_TRUE(
      ResultOf(sm_.ApplyCommand(SetReplicasCommand(1, {4, 2, 3}, {1, 2, 3, 4}))).refusal().empty());
  EXPECT_THAT(Ids(sm_.Snapshot().groups(0).replicas()), ElementsAre(4, 2, 3));
  // The founders stay: they are the group's first configuration.
  EXPECT_THAT(Ids(sm_.Snapshot().groups(0).founders()), ElementsAre(1, 2, 3));
}

TEST_F(MetadataPolicyTest, SetReplicasRefusalsChangeNothing) {
  ExpectRefused(sm_, SetReplicasCommand(1, {2, 1, 3}, {1, 2}), "stale: group 1 has replicas 1,2,3");
  ExpectRefused(sm_, SetReplicasCommand(1, {}, {1, 2, 3}), "at least one replica");
  ExpectRefused(sm_, SetReplicasCommand(1, {1, 2, 2}, {1, 2, 3}), "server 2 is listed twice");
  ExpectRefused(sm_, SetReplicasCommand(1, {1, 2, 7}, {1, 2, 3}), "no server 7");
  ExpectRefused(sm_, SetReplicasCommand(7, {1, 2, 3}, {1, 2, 3}), "no group 7");
  proto::PlacementCommand drain;
  drain.mutable_drain_server()->set_server_id(4);
  ASSERT_TRUE(sm_.ApplyCommand(drain).ok());
  ExpectRefused(sm_, SetReplicasCommand(1, {1, 2, 3, 4}, {1, 2, 3}), "server 4 is draining");
  proto::PlacementCommand remove;
  remove.mutable_remove_server()->set_server_id(4);
  ASSERT_TRUE(sm_.ApplyCommand(remove).ok());
  ExpectRefused(sm_, SetReplicasCommand(1, {1, 2, 4}, {1, 2, 3}), "server 4 is removed");
  // A draining server already in the list may stay (it leaves through ReplaceReplica).
  drain.mutable_drain_server()->set_server_id(3);
  ASSERT_TRUE(sm_.ApplyCommand(drain).ok());
  EXPECT_TRUE(
      ResultOf(sm_.ApplyCommand(SetReplicasCommand(1, {3, 1, 2}, {1, 2, 3}))).refusal().empty());
}

}  // namespace
}  // namespace meridian::placement
