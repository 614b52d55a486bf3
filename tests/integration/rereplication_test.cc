// Integration: a server that dies for good has its replicas replaced on a live server, which
// catches up and votes, so the group survives the loss of a second original replica.
//
// Cluster: placementd (1 replica, --dead_server_timeout_s=3) + 6 spanservers, two in each of 3
// zones; one range (group 1, three replicas, one per zone); lease 1 s; small logs
// (--max_log_mb=1) so that the newcomer may have to start from a snapshot.
// Workload: 1 KiB puts, before and while the replacement runs.
// Faults: kill -9 of the group's first replica (its preferred leader), never restarted; a drain
// of a second original replica; kill -9 of the third.
// Checks: placement replaces the dead replica by the other server of its zone; that server
// becomes a voter of group 1 and (being placement's first replica now) its leader; every
// acknowledged write reads back from it. Draining it is refused (the last live server of its
// zone); draining the second original moves that replica to its zone's other server and stops
// it on the drained one. With the third original dead too, the group still commits on the two
// newcomers (their votes are real) and every write still reads back.
#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

class ReReplicationTest : public ClusterFixture {
 protected:
  void ExpectAll(const std::map<std::string, std::string>& expected) {
    for (const auto& [key, value] : expected) {
      absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
      ASSERT_TRUE(got.ok()) << key << ": " << got.status();
      ASSERT_EQ(got->value_or("<missing>"), value) << key;
    }
  }

  // Group 1's voters as server `name` reports them, empty when it cannot say.
  std::vector<uint64_t> VotersSeenBy(const std::string& name) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(name);
    if (!status.ok()) return {};
    for (const proto::GroupStatus& g : status->groups()) {
      if (g.group() == 1) return {g.replicas().begin(), g.replicas().end()};
    }
    return {};
  }
};

TEST_F(ReReplicationTest, DeadAndDrainedReplicasMoveAndTheGroupOutlivesItsOriginalServers) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.ranges = 1;
  options.servers_per_zone = 2;
  options.placement_flags = {"--dead_server_timeout_s=3"};
  options.spanserver_flags = {"--max_log_mb=1"};
  StartCluster(21800, options);
  std::map<std::string, std::string> expected;
  PutMany("r", 400, 0, 1500, &expected);

  absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->groups_size(), 1);
  const std::vector<uint64_t> original(topology->groups(0).replicas().begin(),
                                       topology->groups(0).replicas().end());
  ASSERT_EQ(original.size(), 3u);
  const std::string victim = cluster_->ServerName(*topology, original[0]);
  ASSERT_TRUE(cluster_->Kill(victim).ok());
  PutMany("r", 400, 1500, 300,
          &expected);  // after a failover, while placement waits out the timeout

  // Placement moves the replica to the other server of the victim's zone.
  uint64_t newcomer = 0;
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    absl::StatusOr<proto::Topology> t = cluster_->GetTopology();
    if (!t.ok() || t->groups_size() != 1) return false;
    newcomer = t->groups(0).replicas(0);
    return newcomer != original[0];
  })) << "placement did not replace the dead replica";
  topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok());
  const std::string newcomer_name = cluster_->ServerName(*topology, newcomer);
  ASSERT_EQ(newcomer_name.substr(0, 6), victim.substr(0, 6)) << "same zone first";

  // It joins the group's configuration as a voter and, as placement's first replica, leads.
  ASSERT_TRUE(WaitFor(absl::Seconds(40), [&] {
    absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
    if (!leader.ok() || *leader != newcomer_name) return false;
    std::vector<uint64_t> voters = VotersSeenBy(newcomer_name);
    std::sort(voters.begin(), voters.end());
    std::vector<uint64_t> want = {newcomer, original[1], original[2]};
    std::sort(want.begin(), want.end());
    return voters == want;
  })) << "the newcomer did not become a voter and the leader";
  Connect();
  ExpectAll(expected);

  // Draining the newcomer is refused: it is the last live server of its zone.
  EXPECT_EQ(client_->DrainServer(newcomer).code(), absl::StatusCode::kFailedPrecondition);
  // Draining a second original replica moves it to the other server of its zone, while writes go
  // on, and the drained server stops its replica.
  const std::string drained = cluster_->ServerName(*topology, original[1]);
  ASSERT_TRUE(client_->DrainServer(original[1]).ok());
  PutMany("r", 400, 1800, 100, &expected);
  uint64_t heir = 0;
  ASSERT_TRUE(WaitFor(absl::Seconds(40), [&] {
    absl::StatusOr<proto::Topology> t = cluster_->GetTopology();
    if (!t.ok() || t->groups_size() != 1) return false;
    heir = t->groups(0).replicas(1);
    if (heir == original[1]) return false;
    std::vector<uint64_t> voters = VotersSeenBy(newcomer_name);
    std::sort(voters.begin(), voters.end());
    std::vector<uint64_t> want = {newcomer, heir, original[2]};
    std::sort(want.begin(), want.end());
    return voters == want && VotersSeenBy(drained).empty();
  })) << "the drained replica did not move";

  // The third original replica dies: the two newcomers' votes keep a majority.
  ASSERT_TRUE(cluster_->Kill(cluster_->ServerName(*topology, original[2])).ok());
  PutMany("r", 400, 1900, 100, &expected);
  ExpectAll(expected);
}

}  // namespace
}  // namespace meridian::integration
