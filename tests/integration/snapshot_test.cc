// Integration: the Paxos logs of a group are compacted under a write load, and a replica that was
// down while more than its log could hold went by catches up from a snapshot.
//
// Cluster: placementd (1 replica) + 3 spanservers in 3 zones, one range (group 1), lease 1 s,
// --max_log_mb=1 (a checkpoint and compaction about every 0.5 MB applied, 1,000 entries kept).
// Workload: 1 KiB puts over 300 keys, overwriting; 1,500 while all run, then 3,000 with the
// group's preferred leader stopped (SIGTERM), then 200 more after it restarts.
// Checks: every replica's log was compacted and holds far fewer entries than were written; the
// restarted replica installed a snapshot (its log says so) and applied everything; once the
// leadership is back with it, every key reads its last acknowledged value; restarted once more,
// it starts from its checkpoint rather than from the log's first entry.
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr int kKeys = 300;

class SnapshotTest : public ClusterFixture {
 protected:
  absl::StatusOr<proto::GroupStatus> Group1(const std::string& server) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(server);
    if (!status.ok()) return status.status();
    for (const proto::GroupStatus& g : status->groups()) {
      if (g.group() == 1) return g;
    }
    return absl::NotFoundError("no group 1 on " + server);
  }

  std::string LogOf(const std::string& server) {
    std::ifstream in(dir_ + "/logs/" + server + ".log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
};

TEST_F(SnapshotTest, ALaggingReplicaCatchesUpFromASnapshotAndLogsStaySmall) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.ranges = 1;
  options.spanserver_flags = {"--max_log_mb=1"};
  StartCluster(21700, options);
  std::map<std::string, std::string> expected;
  PutMany("k", kKeys, 0, 1500, &expected);

  // The group's preferred leader (placement's first replica) falls behind: once it is back and
  // caught up, leadership returns to it, and the reads below are served from its snapshot.
  absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->groups_size(), 1);
  const std::string lagging = cluster_->ServerName(*topology, topology->groups(0).replicas(0));
  ASSERT_FALSE(lagging.empty());
  ASSERT_TRUE(cluster_->Stop(lagging).ok());
  PutMany("k", kKeys, 1500, 3000, &expected);
  ASSERT_TRUE(cluster_->Restart(lagging).ok());
  PutMany("k", kKeys, 4500, 200, &expected);

  // It catches up (the leader's log no longer holds what it missed) and applies everything.
  absl::StatusOr<std::string> leader;
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return (leader = cluster_->GroupLeader(1)).ok(); }))
      << leader.status();
  absl::StatusOr<proto::GroupStatus> on_leader = Group1(*leader);
  ASSERT_TRUE(on_leader.ok()) << on_leader.status();
  const uint64_t target = on_leader->commit();
  bool caught_up = WaitFor(absl::Seconds(30), [&] {
    absl::StatusOr<proto::GroupStatus> g = Group1(lagging);
    return g.ok() && g->applied() >= target && !g->installing_snapshot();
  });
  ASSERT_TRUE(caught_up) << "the restarted replica did not catch up to " << target;
  EXPECT_NE(LogOf(lagging).find("installed a snapshot through"), std::string::npos);

  // Every replica compacted: 4,700 entries of 1 KiB went through a log limited to about 1 MB.
  for (const std::string& name : cluster_->server_names()) {
    absl::StatusOr<proto::GroupStatus> g = Group1(name);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_GT(g->compacted(), 0u) << name;
    EXPECT_LT(g->last_index() - g->compacted(), 2500u) << name;
  }

  // The snapshot's data is complete: read everything with the caught-up replica leading.
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    absl::StatusOr<std::string> now_leading = cluster_->GroupLeader(1);
    return now_leading.ok() && *now_leading == lagging;
  })) << "leadership did not return to the preferred replica";
  Connect();
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status();
    ASSERT_EQ(got->value_or("<missing>"), value) << key;
  }

  // A restart starts from the checkpoint, not from the log's first entry.
  ASSERT_TRUE(cluster_->Stop(lagging).ok());
  ASSERT_TRUE(cluster_->Restart(lagging).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] { return Group1(lagging).ok(); }));
  const std::string log = LogOf(lagging);
  const std::string marker = "started; checkpoint at ";
  const size_t at = log.rfind(marker);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stoull(log.substr(at + marker.size())), 0u)
      << "the restarted replica had no checkpoint: " << log.substr(at, 120);
}

}  // namespace
}  // namespace meridian::integration
