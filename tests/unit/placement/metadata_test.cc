#include "placement/metadata.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "placement/planner.h"

namespace meridian::placement {
namespace {

constexpr uint64_t kIncarnation = 0x1111;

proto::PlacementCommand Register(const std::string& zone, const std::string& address,
                                 uint64_t id = 0, uint64_t incarnation = kIncarnation) {
  proto::PlacementCommand command;
  command.mutable_register_server()->set_zone(zone);
  command.mutable_register_server()->set_address(address);
  command.mutable_register_server()->set_server_id(id);
  command.mutable_register_server()->set_incarnation(incarnation);
  command.mutable_register_server()->set_peer_address(address + "-peer");
  return command;
}

proto::PlacementCommand Remove(uint64_t id) {
  proto::PlacementCommand command;
  command.mutable_remove_server()->set_server_id(id);
  return command;
}

proto::RegisterResponse Refused(const absl::StatusOr<std::string>& result) {
  EXPECT_TRUE(result.ok()) << result.status();
  proto::RegisterResponse response;
  EXPECT_TRUE(result.ok() && response.ParseFromString(*result));
  EXPECT_EQ(response.server_id(), 0u);
  EXPECT_FALSE(response.refusal().empty());
  return response;
}

paxos::Entry EntryOf(const proto::PlacementCommand& command, paxos::Index index) {
  paxos::Entry entry;
  entry.index = index;
  entry.command = command.SerializeAsString();
  return entry;
}

uint64_t AssignedId(const absl::StatusOr<std::string>& result) {
  EXPECT_TRUE(result.ok()) << result.status();
  proto::RegisterResponse response;
  EXPECT_TRUE(result.ok() && response.ParseFromString(*result));
  return response.server_id();
}

proto::PlacementCommand BootstrapOf(int num_ranges) {
  std::vector<proto::ServerInfo> servers;
  for (uint64_t id = 1; id <= 3; ++id) {
    proto::ServerInfo server;
    server.set_id(id);
    server.set_zone(std::string(1, static_cast<char>('a' + id - 1)));
    server.set_alive(true);
    servers.push_back(server);
  }
  absl::StatusOr<proto::PlacementCommand::Bootstrap> plan = PlanBootstrap(servers, 3, num_ranges);
  EXPECT_TRUE(plan.ok()) << plan.status();
  proto::PlacementCommand command;
  *command.mutable_bootstrap() = *plan;
  return command;
}

TEST(MetadataStateMachineTest, RegisterAssignsIdsFromOne) {
  MetadataStateMachine sm;
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1"))), 1u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("b", "h:2"))), 2u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:3"))), 3u);
  const proto::Topology topology = sm.Snapshot();
  ASSERT_EQ(topology.servers_size(), 3);
  EXPECT_EQ(topology.servers(2).zone(), "a");
  EXPECT_EQ(topology.servers(2).address(), "h:3");
  ASSERT_EQ(topology.zones_size(), 2);
  EXPECT_EQ(topology.zones(0), "a");
  EXPECT_EQ(topology.zones(1), "b");
  EXPECT_FALSE(topology.bootstrapped());
}

TEST(MetadataStateMachineTest, ReRegisterKeepsTheIdAndUpdatesTheAddress) {
  MetadataStateMachine sm;
  AssignedId(sm.ApplyCommand(Register("a", "h:1")));
  AssignedId(sm.ApplyCommand(Register("b", "h:2")));
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:9", 1))), 1u);
  ASSERT_EQ(sm.Snapshot().servers_size(), 2);
  EXPECT_EQ(sm.FindServer(1)->address(), "h:9");
  // The next new server still gets max + 1.
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("c", "h:3"))), 3u);
}

TEST(MetadataStateMachineTest, RegisterWithUnknownIdAddsThatId) {
  MetadataStateMachine sm;
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:7", 7))), 7u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1"))), 8u);
}

TEST(MetadataStateMachineTest, RetriedRegisterAtTheSameAddressKeepsItsId) {
  MetadataStateMachine sm;
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1"))), 1u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1"))), 1u);
  EXPECT_EQ(sm.Snapshot().servers_size(), 1);
}

TEST(MetadataStateMachineTest, ANewDataDirectoryCannotTakeOverAKnownServersAddress) {
  MetadataStateMachine sm;
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/1))), 1u);
  // The same address from a directory that is not server 1's (wiped and restarted).
  const proto::RegisterResponse refused =
      Refused(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/2)));
  EXPECT_EQ(refused.bound_server(), 1u);
  EXPECT_NE(refused.refusal().find("meridian server remove 1"), std::string::npos)
      << refused.refusal();
  EXPECT_EQ(sm.Snapshot().servers_size(), 1);
  EXPECT_EQ(sm.FindServer(1)->incarnation(), 1u);
  // Nor may a directory without an incarnation pass for it.
  Refused(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/0)));
}

TEST(MetadataStateMachineTest, AKnownIdIsHandedOnlyToItsOwnDataDirectory) {
  MetadataStateMachine sm;
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/1))), 1u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("b", "h:2", 0, /*incarnation=*/2))), 2u);
  EXPECT_EQ(Refused(sm.ApplyCommand(Register("a", "h:1", 1, /*incarnation=*/9))).bound_server(),
            1u);
  // Its own directory at another server's address: refused too.
  EXPECT_EQ(Refused(sm.ApplyCommand(Register("a", "h:2", 1, /*incarnation=*/1))).bound_server(),
            2u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1", 1, /*incarnation=*/1))), 1u);
}

TEST(MetadataStateMachineTest, AnotherServersPeerAddressIsRefused) {
  MetadataStateMachine sm;
  AssignedId(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/1)));
  proto::PlacementCommand taken = Register("b", "h:2", 0, /*incarnation=*/2);
  taken.mutable_register_server()->set_peer_address("h:1-peer");
  const proto::RegisterResponse refused = Refused(sm.ApplyCommand(taken));
  EXPECT_EQ(refused.bound_server(), 1u);
  EXPECT_NE(refused.refusal().find("peer address h:1-peer belongs to server 1"), std::string::npos)
      << refused.refusal();
  EXPECT_FALSE(sm.FindServer(2).has_value());
  // Server 1 itself may register again at it, and the other server elsewhere.
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("a", "h:1", 1, /*incarnation=*/1))), 1u);
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("b", "h:2", 0, /*incarnation=*/2))), 2u);
}

TEST(MetadataStateMachineTest, RemovedServerFreesItsAddressButNotItsId) {
  MetadataStateMachine sm;
  AssignedId(sm.ApplyCommand(Register("a", "h:1", 0, /*incarnation=*/1)));
  AssignedId(sm.ApplyCommand(Register("b", "h:2", 0, /*incarnation=*/2)));
  ASSERT_EQ(*sm.ApplyCommand(Remove(2)), "");
  ASSERT_EQ(*sm.ApplyCommand(Remove(2)), "");  // idempotent
  EXPECT_EQ(*sm.ApplyCommand(Remove(7)), kUnknownServer);
  EXPECT_TRUE(sm.FindServer(2)->removed());
  EXPECT_EQ(sm.FindServer(2)->peer_address(), "");
  // The wiped directory now joins as a new server, never as 2.
  EXPECT_EQ(AssignedId(sm.ApplyCommand(Register("b", "h:2", 0, /*incarnation=*/3))), 3u);
  // The removed server's old directory is refused for good.
  EXPECT_EQ(Refused(sm.ApplyCommand(Register("b", "h:9", 2, /*incarnation=*/2))).bound_server(),
            2u);
  EXPECT_EQ(sm.Snapshot().servers_size(), 3);
}

TEST(MetadataStateMachineTest, BootstrapOnceThenIgnored) {
  MetadataStateMachine sm;
  absl::StatusOr<std::string> first = sm.ApplyCommand(BootstrapOf(8));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, kBootstrapApplied);
  absl::StatusOr<std::string> second = sm.ApplyCommand(BootstrapOf(4));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, kBootstrapIgnored);
  const proto::Topology topology = sm.Snapshot();
  EXPECT_TRUE(topology.bootstrapped());
  EXPECT_EQ(topology.ranges_size(), 8);
  EXPECT_EQ(topology.groups_size(), 8);
}

TEST(MetadataStateMachineTest, NoopsAndGarbage) {
  MetadataStateMachine sm;
  paxos::Entry noop;
  noop.index = 1;
  noop.type = paxos::EntryType::kNoop;
  absl::StatusOr<std::string> result = sm.Apply(noop);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, "");
  paxos::Entry garbage;
  garbage.index = 2;
  garbage.command = "\xff\xff\xff";
  EXPECT_EQ(sm.Apply(garbage).status().code(), absl::StatusCode::kInternal);
  paxos::Entry empty;  // parses, but carries no operation
  empty.index = 3;
  EXPECT_EQ(sm.Apply(empty).status().code(), absl::StatusCode::kInternal);
}

TEST(MetadataStateMachineTest, SameCommandsGiveTheSameState) {
  const std::vector<proto::PlacementCommand> log = {
      Register("a", "h:1"), Register("b", "h:2"), Register("c", "h:3"), Register("a", "h:4", 1),
      BootstrapOf(8),       Register("b", "h:5"), BootstrapOf(2),       Register("c", "h:3")};
  MetadataStateMachine one;
  MetadataStateMachine two;
  std::vector<std::string> results_one;
  std::vector<std::string> results_two;
  for (size_t i = 0; i < log.size(); ++i) {
    results_one.push_back(*one.Apply(EntryOf(log[i], i + 1)));
    results_two.push_back(*two.Apply(EntryOf(log[i], i + 1)));
  }
  EXPECT_EQ(results_one, results_two);
  EXPECT_EQ(one.Snapshot().SerializeAsString(), two.Snapshot().SerializeAsString());
  // Replaying the log into a fresh machine (a restart) rebuilds the same state too.
  MetadataStateMachine replay;
  for (size_t i = 0; i < log.size(); ++i) ASSERT_TRUE(replay.Apply(EntryOf(log[i], i + 1)).ok());
  EXPECT_EQ(replay.Snapshot().DebugString(), one.Snapshot().DebugString());
  EXPECT_EQ(one.Snapshot().servers_size(), 4);
}

proto::PlacementCommand Replace(uint64_t group, uint64_t old_server, uint64_t new_server) {
  proto::PlacementCommand command;
  command.mutable_replace_replica()->set_group(group);
  command.mutable_replace_replica()->set_old_server(old_server);
  command.mutable_replace_replica()->set_new_server(new_server);
  return command;
}

TEST(MetadataStateMachineTest, ReplaceReplicaKeepsThePositionAndIgnoresStaleOnes) {
  MetadataStateMachine sm;
  for (const char* zone : {"a", "b", "c", "a"}) {
    AssignedId(sm.ApplyCommand(
        Register(zone, std::string("h:") + zone + std::to_string(sm.Snapshot().servers_size()))));
  }
  ASSERT_TRUE(sm.ApplyCommand(BootstrapOf(1)).ok());
  const proto::GroupInfo before = sm.Snapshot().groups(0);
  const uint64_t first = before.replicas(0);
  absl::StatusOr<std::string> result = sm.ApplyCommand(Replace(1, first, 4));
  ASSERT_TRUE(result.ok());
  EXPECT_NE(result->find("replaced by server 4"), std::string::npos) << *result;
  EXPECT_EQ(sm.Snapshot().groups(0).replicas(0), 4u);
  EXPECT_EQ(sm.Snapshot().groups(0).replicas(1), before.replicas(1));
  // Applied again (a retried proposal), or naming an unknown server: nothing changes.
  EXPECT_NE(sm.ApplyCommand(Replace(1, first, 4))->find("not replaced"), std::string::npos);
  EXPECT_NE(sm.ApplyCommand(Replace(1, before.replicas(1), 9))->find("not replaced"),
            std::string::npos);
  EXPECT_EQ(sm.Snapshot().groups(0).replicas(0), 4u);
}

TEST(MetadataStateMachineTest, DrainSetsAndClearsTheFlagAndBlocksReplacementsOntoIt) {
  MetadataStateMachine sm;
  for (const char* zone : {"a", "b", "c", "a"}) {
    AssignedId(sm.ApplyCommand(
        Register(zone, std::string("h:d") + zone + std::to_string(sm.Snapshot().servers_size()))));
  }
  ASSERT_TRUE(sm.ApplyCommand(BootstrapOf(1)).ok());
  proto::PlacementCommand drain;
  drain.mutable_drain_server()->set_server_id(4);
  EXPECT_EQ(*sm.ApplyCommand(drain), "");
  EXPECT_TRUE(sm.FindServer(4)->draining());
  const uint64_t first = sm.Snapshot().groups(0).replicas(0);
  EXPECT_NE(sm.ApplyCommand(Replace(1, first, 4))->find("draining"), std::string::npos);
  drain.mutable_drain_server()->set_cancel(true);
  EXPECT_EQ(*sm.ApplyCommand(drain), "");
  EXPECT_FALSE(sm.FindServer(4)->draining());
  drain.mutable_drain_server()->set_server_id(99);
  EXPECT_EQ(*sm.ApplyCommand(drain), kUnknownServer);
}

}  // namespace
}  // namespace meridian::placement
