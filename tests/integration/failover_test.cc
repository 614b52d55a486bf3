// Integration: kill -9 of a group leader under a steady writer, then restart and catch-up.
//
// Cluster: placementd (1 replica) + 3 spanservers in 3 zones, 8 groups, lease 1 s.
// Workload: one writer thread putting fresh keys of one group, one at a time, through the SDK.
// Fault: kill -9 of that group's leader while the writer runs; later a restart of the killed
// server with the same argv and data dir.
// Checker: writes are acknowledged again within a few leases of the kill; every acknowledged
// write is readable afterwards with its value; the restarted server reports, for that group,
// applied == commit and commit >= the leader's commit at the end of the writes.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr uint64_t kGroup = 3;

class FailoverTest : public ClusterFixture {};

TEST_F(FailoverTest, KilledLeaderIsReplacedAndCatchesUpAfterRestart) {
  StartCluster(21300);
  absl::StatusOr<Topology> topology = client_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  const RangeInfo* range = nullptr;
  for (const RangeInfo& r : topology->ranges) {
    if (r.group == kGroup) range = &r;
  }
  ASSERT_NE(range, nullptr);
  ASSERT_FALSE(range->start.empty());
  // Keys of the group: its start byte followed by a suffix stay below the next split point.
  const std::string prefix = range->start + "failover-";

  absl::StatusOr<std::string> leader = cluster_->GroupLeader(kGroup);
  ASSERT_TRUE(leader.ok()) << leader.status();

  std::mutex mu;
  std::map<std::string, std::string> acked;  // guarded by mu
  std::vector<absl::Time> ack_times;         // guarded by mu
  int unknown = 0;                           // guarded by mu
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      const std::string key = absl::StrCat(prefix, 100000 + i);
      const std::string value = absl::StrCat("v", i);
      const absl::Status status = client_->Put(key, value);
      std::lock_guard<std::mutex> lock(mu);
      if (status.ok()) {
        acked[key] = value;
        ack_times.push_back(absl::Now());
      } else {
        ++unknown;
      }
    }
  });
  auto acks = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return ack_times.size();
  };
  ASSERT_TRUE(WaitFor(absl::Seconds(10), [&] { return acks() >= 30; }));

  const absl::Time killed_at = absl::Now();
  ASSERT_TRUE(cluster_->Kill(*leader).ok());
  const size_t acks_at_kill = acks();
  // Writes resume: 20 more acknowledgements within a few leases.
  const bool resumed =
      WaitFor(absl::Milliseconds(8 * kLeaseMs), [&] { return acks() >= acks_at_kill + 20; });
  stop = true;
  writer.join();
  ASSERT_TRUE(resumed) << "writes did not resume within " << 8 * kLeaseMs << " ms after killing "
                       << *leader;
  absl::Time first_ack_after_kill;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const absl::Time t : ack_times) {
      if (t > killed_at) {
        first_ack_after_kill = t;
        break;
      }
    }
    std::printf("killed %s; first write acknowledged %s later; %zu acknowledged, %d failed\n",
                leader->c_str(), absl::FormatDuration(first_ack_after_kill - killed_at).c_str(),
                acked.size(), unknown);
  }

  // Every acknowledged write survived the leader's death.
  for (const auto& [key, value] : acked) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(*got, value) << key;
  }

  // The new leader is another server.
  absl::StatusOr<std::string> new_leader = cluster_->GroupLeader(kGroup);
  ASSERT_TRUE(new_leader.ok()) << new_leader.status();
  EXPECT_NE(*new_leader, *leader);
  absl::StatusOr<proto::ServerStatusResponse> leader_status = cluster_->ServerStatus(*new_leader);
  ASSERT_TRUE(leader_status.ok()) << leader_status.status();
  uint64_t target_commit = 0;
  for (const proto::GroupStatus& g : leader_status->groups()) {
    if (g.group() == kGroup) target_commit = g.commit();
  }
  ASSERT_GT(target_commit, 0u);

  // Restart with the same argv and data dir: the server catches up on the group.
  ASSERT_TRUE(cluster_->Restart(*leader).ok());
  const absl::Time restarted_at = absl::Now();
  proto::GroupStatus last;
  const bool caught_up = WaitFor(absl::Seconds(30), [&] {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(*leader);
    if (!status.ok()) return false;
    for (const proto::GroupStatus& g : status->groups()) {
      if (g.group() == kGroup) last = g;
    }
    return last.group() == kGroup && last.commit() >= target_commit &&
           last.applied() == last.commit();
  });
  std::printf("restarted %s caught up on group %llu (commit %llu, applied %llu) after %s\n",
              leader->c_str(), static_cast<unsigned long long>(kGroup),
              static_cast<unsigned long long>(last.commit()),
              static_cast<unsigned long long>(last.applied()),
              absl::FormatDuration(absl::Now() - restarted_at).c_str());
  EXPECT_TRUE(caught_up) << "restarted " << *leader << " at commit " << last.commit() << " applied "
                         << last.applied() << ", leader's commit " << target_commit;
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

}  // namespace
}  // namespace meridian::integration
