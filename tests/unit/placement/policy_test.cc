// PolicyRefusal and the policy helpers (placement/policy.h): what a valid policy is, with the
// status code each bad one gets.
#include "placement/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/placement/balance_test_util.h"

namespace meridian::placement {
namespace {

using testing::Group;
using ::testing::HasSubstr;
using testing::MakePolicy;
using testing::ServerOf;
using testing::Servers;

// Zones a, b, c with one live server each (1, 2, 3), a second one in a (4); group 1 on 1, 2, 3.
proto::Topology ThreeZones() {
  proto::Topology t = Servers({"a", "b", "c", "a"});
  Group(t, 1, {1, 2, 3});
  return t;
}

TEST(PolicyRefusalTest, AcceptsWhatTheServersCanMeet) {
  const proto::Topology t = ThreeZones();
  EXPECT_TRUE(PolicyRefusal(t, 1, proto::Policy(), true).ok());
  EXPECT_TRUE(PolicyRefusal(t, 1, MakePolicy(3), true).ok());
  EXPECT_TRUE(PolicyRefusal(t, 1, MakePolicy(3, {"c", "a", "b"}, "b"), true).ok());
  EXPECT_TRUE(PolicyRefusal(t, 1, MakePolicy(0, {}, "c"), true).ok());
}

TEST(PolicyRefusalTest, ReplicasOtherThan3Or5AreInvalid) {
  const proto::Topology t = ThreeZones();
  for (uint32_t n : {1u, 2u, 4u, 6u, 7u}) {
    const absl::Status s = PolicyRefusal(t, 1, MakePolicy(n), true);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(s.message(), HasSubstr("3 or 5 replicas"));
  }
}

TEST(PolicyRefusalTest, BadZoneListsAreInvalid) {
  const proto::Topology t = ThreeZones();
  absl::Status s = PolicyRefusal(t, 1, MakePolicy(3, {"a", "b", "a"}), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("zone a is listed twice"));
  s = PolicyRefusal(t, 1, MakePolicy(3, {"a", "", "b"}), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = PolicyRefusal(t, 1, MakePolicy(3, {"a", "b", "c"}, "d"), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("leader zone d is not one of the allowed zones a,b,c"));
}

TEST(PolicyRefusalTest, AnUnknownZoneIsAFailedPrecondition) {
  const proto::Topology t = ThreeZones();
  absl::Status s = PolicyRefusal(t, 1, MakePolicy(3, {"a", "b", "x"}), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("no server ever registered in zone x; the zones are a, b, c"));
  s = PolicyRefusal(t, 1, MakePolicy(0, {}, "y"), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("zone y"));
}

TEST(PolicyRefusalTest, NReplicasNeedNZonesWithALiveServer) {
  proto::Topology t = ThreeZones();
  absl::Status s = PolicyRefusal(t, 1, MakePolicy(5), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("5 replicas need 5 distinct zones with a live server that is "
                                     "not draining; 3 have one (a, b, c)"));
  // Two servers in zone a do not make two zones.
  s = PolicyRefusal(t, 1, MakePolicy(3, {"a", "b"}), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  // A dead or draining server does not count; without liveness (the state machine) a dead one
  // does.
  ServerOf(t, 3).set_alive(false);
  EXPECT_EQ(PolicyRefusal(t, 1, MakePolicy(3), true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PolicyRefusal(t, 1, proto::Policy(), true).code(),  // 3 replicas, as it has
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(PolicyRefusal(t, 1, MakePolicy(3), false).ok());
  ServerOf(t, 3).set_draining(true);
  EXPECT_EQ(PolicyRefusal(t, 1, MakePolicy(3), false).code(),
            absl::StatusCode::kFailedPrecondition);
  s = PolicyRefusal(t, 1, MakePolicy(0, {}, "c"), false);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

TEST(PolicyRefusalTest, TheLeaderZoneNeedsALiveServer) {
  proto::Topology t = Servers({"a", "b", "c", "d"});
  Group(t, 1, {1, 2, 3});
  ServerOf(t, 4).set_alive(false);
  const absl::Status s = PolicyRefusal(t, 1, MakePolicy(3, {}, "d"), true);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("the leader zone d has no live server that is not draining"));
}

TEST(PolicyRefusalTest, AnUnknownGroupIsNotFound) {
  EXPECT_EQ(PolicyRefusal(ThreeZones(), 7, MakePolicy(3), true).code(),
            absl::StatusCode::kNotFound);
}

TEST(PolicyTest, Helpers) {
  EXPECT_TRUE(IsDefaultPolicy(proto::Policy()));
  EXPECT_FALSE(IsDefaultPolicy(MakePolicy(0, {}, "a")));
  EXPECT_TRUE(ZoneAllowed(proto::Policy(), "z"));
  EXPECT_TRUE(ZoneAllowed(MakePolicy(3, {"a", "b"}), "b"));
  EXPECT_FALSE(ZoneAllowed(MakePolicy(3, {"a", "b"}), "c"));
  proto::Topology t = ThreeZones();
  EXPECT_EQ(WantedReplicas(t.groups(0)), 3);
  *t.mutable_groups(0)->mutable_policy() = MakePolicy(5);
  EXPECT_EQ(WantedReplicas(t.groups(0)), 5);
  EXPECT_EQ(DescribePolicy(proto::Policy()), "default");
  EXPECT_EQ(DescribePolicy(MakePolicy(5, {"a", "b", "c", "d", "e"}, "a")),
            "5 replicas; zones a,b,c,d,e; leader in a");
}

}  // namespace
}  // namespace meridian::placement
