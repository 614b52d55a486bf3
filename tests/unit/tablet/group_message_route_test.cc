// RouteGroupMessage: which replicas a group message reaches, and which of them without an RPC.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "spanserver/server/txn_service.h"

namespace meridian::spanserver {
namespace {

using Servers = std::vector<uint64_t>;
const Servers kGroup = {1, 2, 3};

TEST(GroupMessageRouteTest, EveryReplicaWhenNotLeaderOnly) {
  // Hosted here (server 2), leader 3 known: still all three, this server's own without an RPC.
  GroupMessageRoute r = RouteGroupMessage(kGroup, /*leader_only=*/false, true, 3, 2);
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.remote, (Servers{1, 3}));
  // Not hosted here (server 7): all three by RPC.
  r = RouteGroupMessage(kGroup, false, false, 0, 7);
  EXPECT_FALSE(r.local);
  EXPECT_EQ(r.remote, kGroup);
}

TEST(GroupMessageRouteTest, LeaderOnlyGoesToTheBelievedLeaderAlone) {
  GroupMessageRoute r = RouteGroupMessage(kGroup, /*leader_only=*/true, true, 3, 2);
  EXPECT_FALSE(r.local);
  EXPECT_EQ(r.remote, (Servers{3}));
  // The leader is this server: no RPC at all.
  r = RouteGroupMessage(kGroup, true, true, 2, 2);
  EXPECT_TRUE(r.local);
  EXPECT_TRUE(r.remote.empty());
}

TEST(GroupMessageRouteTest, LeaderOnlyFallsBackToEveryReplicaWithoutABelief) {
  // No leader known here.
  GroupMessageRoute r = RouteGroupMessage(kGroup, true, true, 0, 2);
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.remote, (Servers{1, 3}));
  // A believed leader that is not a member of the latest topology (stale on one side or the
  // other): do not aim at it.
  r = RouteGroupMessage(kGroup, true, true, 9, 2);
  EXPECT_TRUE(r.local);
  EXPECT_EQ(r.remote, (Servers{1, 3}));
  // Not hosted here: no belief to use, whatever is passed.
  r = RouteGroupMessage(kGroup, true, false, 3, 7);
  EXPECT_FALSE(r.local);
  EXPECT_EQ(r.remote, kGroup);
}

TEST(GroupMessageRouteTest, UnknownGroupGoesNowhere) {
  GroupMessageRoute r = RouteGroupMessage({}, true, false, 0, 2);
  EXPECT_FALSE(r.local);
  EXPECT_TRUE(r.remote.empty());
}

}  // namespace
}  // namespace meridian::spanserver
