// RouteGroupMessage: which replicas a group message reaches, and which of them without an RPC.
// GroupMessageGate: which incoming group messages reach the tablets (the sending server must host
// a replica of the sending group).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "spanserver/server/group_message_gate.h"
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

using Members = std::map<uint64_t, Servers>;
using Gate = GroupMessageGate;

// Group 2 on servers 1, 2, 3; group 5 on servers 4, 5, 6.
const Members kMembers = {{2, {1, 2, 3}}, {5, {4, 5, 6}}};

Gate::Verdict Admit(Gate& gate, uint64_t server, uint64_t group, int64_t now_ms,
                    std::string wire = "m") {
  Gate::Arrival a{server, group, std::move(wire)};
  return gate.Admit(a, now_ms);
}

TEST(GroupMessageGateTest, AMemberOfTheSendingGroupIsDeliveredAtOnce) {
  Gate gate;
  gate.SetMembers(kMembers, 0);
  EXPECT_EQ(Admit(gate, 2, 2, 1), Gate::Verdict::kDeliver);
  EXPECT_EQ(Admit(gate, 5, 5, 1), Gate::Verdict::kDeliver);
  EXPECT_EQ(gate.held(), 0u);
  EXPECT_EQ(gate.dropped(), 0u);
}

// The attack: server 5 (a valid node, a member of group 5) claims to speak for group 2, e.g. an
// OUTCOME telling group 2's participants to commit. Held once for a fresh view, then dropped and
// counted; nothing is delivered.
TEST(GroupMessageGateTest, ASenderOutsideTheClaimedGroupIsDroppedAfterOneMoreTopology) {
  Gate gate;
  gate.SetMembers(kMembers, 0);
  EXPECT_EQ(Admit(gate, 5, 2, 1, "forged outcome"), Gate::Verdict::kHeld);
  EXPECT_EQ(Admit(gate, 9, 2, 1, "unknown server"), Gate::Verdict::kHeld);
  EXPECT_EQ(Admit(gate, 1, 7, 1, "unknown group"), Gate::Verdict::kHeld);
  EXPECT_EQ(gate.dropped(), 0u);
  const Gate::Released released = gate.SetMembers(kMembers, 500);
  EXPECT_TRUE(released.deliver.empty());
  EXPECT_EQ(released.dropped, 3u);
  EXPECT_EQ(gate.dropped(), 3u);
  EXPECT_EQ(gate.held(), 0u);
}

// A stale view here: server 7 was just added to group 2, and this server's topology does not
// list it yet. Its message waits for the next topology instead of being lost.
TEST(GroupMessageGateTest, ANewMemberGetsThroughWithTheNextTopology) {
  Gate gate;
  gate.SetMembers(kMembers, 0);
  EXPECT_EQ(Admit(gate, 7, 2, 1, "from the new replica"), Gate::Verdict::kHeld);
  Members moved = kMembers;
  moved[2] = {1, 2, 7};
  const Gate::Released released = gate.SetMembers(moved, 500);
  EXPECT_EQ(released.deliver, std::vector<std::string>{"from the new replica"});
  EXPECT_EQ(released.dropped, 0u);
  EXPECT_EQ(Admit(gate, 7, 2, 501), Gate::Verdict::kDeliver);
}

// Server 3 just left group 2 (its replica moved to 7): it may still lead the group until it
// hands over, so its messages pass for the grace period, and not after.
TEST(GroupMessageGateTest, ADepartedMemberPassesOnlyWithinTheGracePeriod) {
  Gate gate(/*departed_grace_ms=*/1'000);
  gate.SetMembers(kMembers, 0);
  Members moved = kMembers;
  moved[2] = {1, 2, 7};
  gate.SetMembers(moved, 100);
  EXPECT_EQ(Admit(gate, 3, 2, 1'099), Gate::Verdict::kDeliver);
  EXPECT_EQ(Admit(gate, 3, 2, 1'100), Gate::Verdict::kHeld);
  gate.SetMembers(moved, 1'200);
  EXPECT_EQ(gate.dropped(), 1u);
  // A later topology does not restart the period.
  gate.SetMembers(moved, 1'300);
  EXPECT_EQ(Admit(gate, 3, 2, 1'301), Gate::Verdict::kHeld);
  // Listed again: a member as before.
  gate.SetMembers(kMembers, 1'400);
  EXPECT_EQ(Admit(gate, 3, 2, 1'401), Gate::Verdict::kDeliver);
}

TEST(GroupMessageGateTest, NothingPassesBeforeTheFirstTopology) {
  Gate gate;
  EXPECT_EQ(Admit(gate, 2, 2, 0, "early"), Gate::Verdict::kHeld);
  EXPECT_EQ(Admit(gate, 9, 2, 0, "forged"), Gate::Verdict::kHeld);
  const Gate::Released released = gate.SetMembers(kMembers, 10);
  EXPECT_EQ(released.deliver, std::vector<std::string>{"early"});
  EXPECT_EQ(released.dropped, 1u);
}

// Forged messages cannot pin more than the hold's bounds: past them they are dropped at once.
TEST(GroupMessageGateTest, TheHoldIsBounded) {
  Gate gate;
  gate.SetMembers(kMembers, 0);
  for (size_t i = 0; i < Gate::kMaxHeld; ++i) ASSERT_EQ(Admit(gate, 9, 2, 1), Gate::Verdict::kHeld);
  EXPECT_EQ(Admit(gate, 9, 2, 1), Gate::Verdict::kDropped);
  EXPECT_EQ(gate.dropped(), 1u);
  gate.SetMembers(kMembers, 2);
  EXPECT_EQ(gate.dropped(), 1u + Gate::kMaxHeld);
  EXPECT_EQ(Admit(gate, 9, 2, 3, std::string(Gate::kMaxHeldBytes + 1, 'x')),
            Gate::Verdict::kDropped);
  // A member's message is never held, however large.
  EXPECT_EQ(Admit(gate, 1, 2, 3, std::string(Gate::kMaxHeldBytes + 1, 'x')),
            Gate::Verdict::kDeliver);
}

}  // namespace
}  // namespace meridian::spanserver
