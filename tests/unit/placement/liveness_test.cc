#include "placement/liveness.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

namespace meridian::placement {
namespace {

proto::HeartbeatRequest Heartbeat(uint64_t server,
                                  std::vector<std::tuple<uint64_t, bool, bool>> groups = {}) {
  proto::HeartbeatRequest request;
  request.set_server_id(server);
  for (const auto& [group, is_leader, has_lease] : groups) {
    proto::GroupReport* report = request.add_groups();
    report->set_group(group);
    report->set_is_leader(is_leader);
    report->set_has_lease(has_lease);
  }
  return request;
}

TEST(LivenessTest, AliveWithinTimeout) {
  Liveness liveness(3'000'000);
  EXPECT_FALSE(liveness.IsAlive(1, 0));
  liveness.RecordHeartbeat(Heartbeat(1), 10'000'000);
  EXPECT_TRUE(liveness.IsAlive(1, 10'000'000));
  EXPECT_TRUE(liveness.IsAlive(1, 13'000'000));
  EXPECT_FALSE(liveness.IsAlive(1, 13'000'001));
  // An older heartbeat delivered late does not move the time back.
  liveness.RecordHeartbeat(Heartbeat(1), 9'000'000);
  EXPECT_TRUE(liveness.IsAlive(1, 13'000'000));
}

TEST(LivenessTest, DeadForCountsFromWhenThisLeaderStartedWatching) {
  Liveness liveness(3'000'000);
  EXPECT_EQ(liveness.DeadFor(2, 50'000'000), 0) << "nothing watched yet";
  EXPECT_EQ(liveness.WatchingFor(50'000'000), 0);
  liveness.RecordHeartbeat(Heartbeat(1), 10'000'000);
  // Server 2 never heartbeated here: silent since the watch began, not since time zero.
  EXPECT_EQ(liveness.DeadFor(2, 14'000'000), 4'000'000);
  liveness.RecordHeartbeat(Heartbeat(2), 12'000'000);
  EXPECT_EQ(liveness.DeadFor(2, 14'000'000), 2'000'000);
  EXPECT_EQ(liveness.WatchingFor(14'000'000), 4'000'000);
  // A gap longer than the liveness timeout (this replica was not leading): a new watch begins.
  liveness.RecordHeartbeat(Heartbeat(1), 40'000'000);
  EXPECT_EQ(liveness.DeadFor(2, 41'000'000), 1'000'000);
  EXPECT_EQ(liveness.WatchingFor(41'000'000), 1'000'000);
}

TEST(LivenessTest, LeaderRules) {
  Liveness liveness(3'000'000);
  liveness.RecordHeartbeat(Heartbeat(1, {{7, true, true}}), 1'000'000);
  EXPECT_EQ(liveness.LeaderOf(7, 1'000'000), 1u);
  // A deposed leader without a lease does not override a live leaseholder...
  liveness.RecordHeartbeat(Heartbeat(2, {{7, true, false}}), 1'100'000);
  EXPECT_EQ(liveness.LeaderOf(7, 1'100'000), 1u);
  // ...but a new leaseholder does.
  liveness.RecordHeartbeat(Heartbeat(2, {{7, true, true}}), 1'200'000);
  EXPECT_EQ(liveness.LeaderOf(7, 1'200'000), 2u);
  // The old leader now says it is a follower: no change.
  liveness.RecordHeartbeat(Heartbeat(1, {{7, false, false}}), 1'300'000);
  EXPECT_EQ(liveness.LeaderOf(7, 1'300'000), 2u);
  // The leader steps down: unknown.
  liveness.RecordHeartbeat(Heartbeat(2, {{7, false, false}}), 1'400'000);
  EXPECT_EQ(liveness.LeaderOf(7, 1'400'000), 0u);
}

TEST(LivenessTest, DeadLeaderIsReportedAsNone) {
  Liveness liveness(3'000'000);
  liveness.RecordHeartbeat(Heartbeat(1, {{7, true, true}}), 1'000'000);
  EXPECT_EQ(liveness.LeaderOf(7, 5'000'000), 0u);
  // A stale leaseholder that died does not block a new leader without a lease yet.
  liveness.RecordHeartbeat(Heartbeat(2, {{7, true, false}}), 5'000'000);
  EXPECT_EQ(liveness.LeaderOf(7, 5'000'000), 2u);
}

TEST(LivenessTest, Annotate) {
  Liveness liveness(3'000'000);
  liveness.RecordHeartbeat(Heartbeat(2, {{1, true, true}}), 1'000'000);
  proto::Topology topology;
  topology.add_servers()->set_id(1);
  topology.add_servers()->set_id(2);
  topology.add_groups()->set_id(1);
  topology.add_groups()->set_id(2);
  liveness.Annotate(&topology, 2'000'000);
  EXPECT_FALSE(topology.servers(0).alive());
  EXPECT_TRUE(topology.servers(1).alive());
  EXPECT_EQ(topology.groups(0).leader(), 2u);
  EXPECT_EQ(topology.groups(1).leader(), 0u);
}

TEST(LivenessTest, RefusalsFollowTheLatestHeartbeatOfALiveServer) {
  Liveness liveness(3'000'000);
  proto::HeartbeatRequest refusing = Heartbeat(3, {{1, false, false}, {2, false, false}});
  refusing.mutable_groups(1)->set_refusal("disk holds none");
  liveness.RecordHeartbeat(refusing, 1'000'000);
  proto::Topology topology;
  for (uint64_t id : {1, 2}) {
    proto::GroupInfo* group = topology.add_groups();
    group->set_id(id);
    for (uint64_t server : {1, 2, 3}) group->add_replicas(server);
  }
  topology.add_servers()->set_id(3);
  proto::ServerInfo* removed = topology.add_servers();
  removed->set_id(4);
  removed->set_removed(true);
  liveness.RecordHeartbeat(Heartbeat(4), 1'000'000);

  proto::Topology now = topology;
  liveness.Annotate(&now, 1'500'000);
  EXPECT_EQ(now.groups(0).refusals_size(), 0);
  ASSERT_EQ(now.groups(1).refusals_size(), 1);
  EXPECT_EQ(now.groups(1).refusals(0).server(), 3u);
  EXPECT_EQ(now.groups(1).refusals(0).reason(), "disk holds none");
  EXPECT_TRUE(now.servers(0).alive());
  EXPECT_FALSE(now.servers(1).alive()) << "a removed server is never alive";

  // Once the server dies, its refusals are not shown; a later heartbeat without them clears them.
  now = topology;
  liveness.Annotate(&now, 9'000'000);
  EXPECT_EQ(now.groups(1).refusals_size(), 0);
  liveness.RecordHeartbeat(Heartbeat(3, {{2, false, false}}), 9'000'000);
  now = topology;
  liveness.Annotate(&now, 9'000'000);
  EXPECT_EQ(now.groups(1).refusals_size(), 0);
}

// A heartbeat from `server` reporting `group` with one range of `bytes` starting at `start`.
proto::HeartbeatRequest SizeReport(uint64_t server, uint64_t group, bool is_leader,
                                   const std::string& start, uint64_t bytes) {
  proto::HeartbeatRequest request = Heartbeat(server, {{group, is_leader, is_leader}});
  proto::RangeStats* stats = request.mutable_groups(0)->add_ranges();
  stats->set_start(start);
  stats->set_approx_bytes(bytes);
  stats->set_split_key(start + "k");
  return request;
}

// The range sizes Annotate puts on `group` ("start=bytes ...").
std::string SizesOf(const Liveness& liveness, uint64_t group, int64_t now_us) {
  proto::Topology topology;
  topology.add_groups()->set_id(group);
  topology.mutable_groups(0)->add_replicas(1);
  topology.mutable_groups(0)->add_replicas(2);
  liveness.Annotate(&topology, now_us);
  std::string out;
  for (const proto::RangeStats& s : topology.groups(0).range_stats()) {
    out += s.start() + "=" + std::to_string(s.approx_bytes()) + " ";
  }
  return out;
}

// A fenced replica is listed in its group (GroupInfo.fenced) while its server lives and keeps
// reporting it; a restarted server reports it unfenced, and the fence is gone. A server's failed
// storage is carried the same way (ServerInfo.storage_failed).
TEST(LivenessTest, FencedReplicasAndFailedStorageFollowTheLatestHeartbeatOfALiveServer) {
  Liveness liveness(3'000'000);
  proto::HeartbeatRequest fenced = Heartbeat(3, {{1, false, false}, {2, false, false}});
  fenced.mutable_groups(0)->set_fenced("this server's storage failed: No space left on device");
  fenced.set_storage_failed("No space left on device");
  liveness.RecordHeartbeat(fenced, 1'000'000);
  proto::Topology topology;
  for (uint64_t id : {1, 2}) {
    proto::GroupInfo* group = topology.add_groups();
    group->set_id(id);
    for (uint64_t server : {1, 2, 3}) group->add_replicas(server);
  }
  topology.add_servers()->set_id(3);

  proto::Topology now = topology;
  liveness.Annotate(&now, 1'500'000);
  ASSERT_EQ(now.groups(0).fenced_size(), 1);
  EXPECT_EQ(now.groups(0).fenced(0).server(), 3u);
  EXPECT_EQ(now.groups(0).fenced(0).reason(),
            "this server's storage failed: No space left on device");
  EXPECT_EQ(now.groups(1).fenced_size(), 0);
  EXPECT_EQ(now.servers(0).storage_failed(), "No space left on device");

  // Silent past the timeout: dead, and its reports no longer count.
  now = topology;
  liveness.Annotate(&now, 5'000'000);
  EXPECT_EQ(now.groups(0).fenced_size(), 0);
  EXPECT_EQ(now.servers(0).storage_failed(), "");

  // Restarted: it reports its replicas unfenced.
  liveness.RecordHeartbeat(Heartbeat(3, {{1, false, false}, {2, false, false}}), 6'000'000);
  now = topology;
  liveness.Annotate(&now, 6'000'000);
  EXPECT_EQ(now.groups(0).fenced_size(), 0);
  EXPECT_EQ(now.servers(0).storage_failed(), "");
}

TEST(LivenessTest, RangeSizesComeFromTheGroupsLiveLeader) {
  Liveness liveness(3'000'000);
  liveness.RecordHeartbeat(SizeReport(1, 7, true, "a", 100), 1'000'000);
  EXPECT_EQ(SizesOf(liveness, 7, 1'000'000), "a=100 ");
  // A report without ranges (not measured since) keeps them; a follower's are ignored.
  liveness.RecordHeartbeat(Heartbeat(1, {{7, true, true}}), 1'100'000);
  liveness.RecordHeartbeat(SizeReport(2, 7, false, "a", 5), 1'100'000);
  EXPECT_EQ(SizesOf(liveness, 7, 1'100'000), "a=100 ");
  // A deposed leader without a lease is not the leader: its sizes are not taken.
  liveness.RecordHeartbeat(SizeReport(2, 7, true, "a", 6), 1'200'000);
  proto::HeartbeatRequest no_lease = SizeReport(2, 7, true, "a", 6);
  no_lease.mutable_groups(0)->set_has_lease(false);
  liveness.RecordHeartbeat(SizeReport(1, 7, true, "a", 101), 1'300'000);
  liveness.RecordHeartbeat(no_lease, 1'400'000);
  EXPECT_EQ(SizesOf(liveness, 7, 1'400'000), "a=101 ");
  // The leader dies: no sizes until the next one reports.
  EXPECT_EQ(SizesOf(liveness, 7, 5'000'000), "");
  liveness.RecordHeartbeat(SizeReport(2, 7, true, "b", 7), 5'000'000);
  EXPECT_EQ(SizesOf(liveness, 7, 5'000'000), "b=7 ");
}

}  // namespace
}  // namespace meridian::placement
