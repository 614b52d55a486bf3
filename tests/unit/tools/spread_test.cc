// tools/spread.h's pure part: the order in which pieces take groups.
#include "tools/spread.h"

#include <vector>

#include "gtest/gtest.h"

namespace meridian::tools {
namespace {

// Groups 1..n with the given leaders (0: none known).
Topology WithLeaders(const std::vector<uint64_t>& leaders) {
  Topology topology;
  for (size_t i = 0; i < leaders.size(); ++i) {
    GroupInfo group;
    group.id = i + 1;
    group.leader = leaders[i];
    topology.groups.push_back(group);
  }
  return topology;
}

TEST(GroupsByLeaderTest, TakesTurnsOverTheLeadingServers) {
  // Server 1 leads groups 1, 4, 7; server 2 leads 2, 5; server 3 leads 3, 6; 8 has no leader.
  const Topology topology = WithLeaders({1, 2, 3, 1, 2, 3, 1, 0});
  EXPECT_EQ(GroupsByLeader(topology), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8}));
  // Unbalanced leaders: consecutive groups still go to distinct servers while they can.
  EXPECT_EQ(GroupsByLeader(WithLeaders({1, 1, 1, 2})), (std::vector<uint64_t>{1, 4, 2, 3}));
}

TEST(GroupsByLeaderTest, TheFirstGroupLeadsAndItsServerTakesTheFirstTurn) {
  const Topology topology = WithLeaders({1, 2, 3, 1, 2, 3, 1, 0});
  EXPECT_EQ(GroupsByLeader(topology, 5), (std::vector<uint64_t>{5, 1, 3, 2, 4, 6, 7, 8}));
  EXPECT_EQ(GroupsByLeader(topology, 8), (std::vector<uint64_t>{8, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(GroupsByLeader(topology, 99), GroupsByLeader(topology));  // not a group: ignored
}

}  // namespace
}  // namespace meridian::tools
