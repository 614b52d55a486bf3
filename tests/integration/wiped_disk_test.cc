// Integration: a server whose disk was wiped must not rejoin under its old identity.
//
// Cluster: placementd (1 replica) + 3 spanservers A, B, C in 3 zones, one range (one group whose
// replicas are A, B, C; A leads), lease 1 s.
// Workload and faults, as an operator replacing a failed disk would see them: kill -9 C; 20
// acknowledged puts (so they are chosen on A and B only); kill -9 A and B; empty B's data
// directory; start B and C again with their original command lines.
// Checkers: no read ever answers "not found" for an acknowledged key: with only C and a blank B
// the group is unavailable (B is refused registration, and status says how to proceed). Then the
// operator's way out: removing a live server is refused; removing B's old id lets the blank B join
// as a new server; A comes back and every acknowledged key is read with its value; placement
// moves the removed server's replica to a live server.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

class WipedDiskTest : public ClusterFixture {
 protected:
  // The server ids of group 1's replicas with its leader (as the servers report it) first.
  std::vector<uint64_t> ReplicasLeaderFirst() {
    absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
    absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
    EXPECT_TRUE(leader.ok() && topology.ok());
    if (!leader.ok() || !topology.ok() || topology->groups_size() != 1) return {};
    std::vector<uint64_t> ids;
    for (uint64_t id : topology->groups(0).replicas()) {
      if (cluster_->ServerName(*topology, id) == *leader) {
        ids.insert(ids.begin(), id);
      } else {
        ids.push_back(id);
      }
    }
    return ids;
  }

  std::string NameOf(uint64_t id) {
    absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
    return topology.ok() ? cluster_->ServerName(*topology, id) : "";
  }

  std::unique_ptr<Client> ShortDeadlineClient() {
    ClientOptions options;
    options.deadline = std::chrono::milliseconds(2'000);
    options.attempt_timeout = std::chrono::milliseconds(1'000);
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect(cluster_->placement_addresses(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }
};

std::string Key(int i) { return absl::StrCat("wiped-", i); }

TEST_F(WipedDiskTest, AWipedReplicaNeverLosesAcknowledgedWrites) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.ranges = 1;
  StartCluster(23400, options);
  const std::vector<uint64_t> ids = ReplicasLeaderFirst();
  ASSERT_EQ(ids.size(), 3u);
  const std::string a = NameOf(ids[0]), b = NameOf(ids[1]), c = NameOf(ids[2]);
  ASSERT_FALSE(a.empty() || b.empty() || c.empty());

  ASSERT_TRUE(cluster_->Kill(c).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(client_->Put(Key(i), absl::StrCat("v", i)).ok()) << i;
  }
  ASSERT_TRUE(cluster_->Kill(a).ok());
  ASSERT_TRUE(cluster_->Kill(b).ok());
  const std::filesystem::path b_dir = std::filesystem::path(dir_) / b;
  std::filesystem::remove_all(b_dir);
  std::filesystem::create_directories(b_dir);
  ASSERT_TRUE(cluster_->Restart(b).ok());
  ASSERT_TRUE(cluster_->Restart(c).ok());

  // For 10 s (long enough for B and C to elect a leader, were B let in): with C alone the group
  // has no majority, so reads fail; they never say "not found".
  std::unique_ptr<Client> impatient = ShortDeadlineClient();
  ASSERT_NE(impatient, nullptr);
  const absl::Time reads_end = absl::Now() + absl::Seconds(10);
  for (int i = 0; absl::Now() < reads_end; i = (i + 7) % 20) {
    absl::StatusOr<std::optional<std::string>> got = impatient->Get(Key(i));
    ASSERT_FALSE(got.ok() && !got->has_value()) << Key(i) << " read as not found";
    if (got.ok()) {
      EXPECT_EQ(**got, absl::StrCat("v", i));
    }
  }
  auto rows = impatient->Scan("", "", 100);
  EXPECT_TRUE(!rows.ok() || rows->size() == 20) << rows->size() << " rows";

  // Placement refuses the blank directory at B's address, and says what to do.
  std::optional<Topology> seen;
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    absl::StatusOr<Topology> topology = client_->GetTopology();
    if (!topology.ok() || topology->refused_registrations.empty()) return false;
    seen = *topology;
    return true;
  }));
  EXPECT_EQ(seen->refused_registrations[0].bound_server, ids[1]);
  const std::string status = FormatTopology(*seen);
  EXPECT_TRUE(absl::StrContains(status, absl::StrCat("meridian server remove ", ids[1]))) << status;

  // The operator's way out. A live server cannot be removed.
  EXPECT_EQ(client_->RemoveServer(ids[2]).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(client_->RemoveServer(ids[1]).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(20), [&] {
    absl::StatusOr<Topology> topology = client_->GetTopology();
    if (!topology.ok()) return false;
    for (const ServerInfo& s : topology->servers) {
      if (s.id > ids[0] && s.id > ids[1] && s.id > ids[2] && s.alive) return true;
    }
    return false;
  })) << "the blank B did not join as a new server";

  ASSERT_TRUE(cluster_->Restart(a).ok());
  // A and C elect a leader while placement replaces B's replica (a membership change that needs
  // every live voter); on a loaded machine that can take longer than one call's deadline, so each
  // key is read until it answers, for at most 60 s in all. An answer must be the acknowledged
  // value.
  const absl::Time back_by = absl::Now() + absl::Seconds(60);
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(Key(i));
    while (!got.ok() && absl::Now() < back_by) got = client_->Get(Key(i));
    ASSERT_TRUE(got.ok()) << Key(i) << ": " << got.status();
    EXPECT_EQ(got->value_or("(not found)"), absl::StrCat("v", i)) << Key(i);
  }
  // Placement moves the removed server's replica to a live server (the blank B, now a new
  // server, is the one in B's zone), and the group is whole again.
  std::string last_status;
  EXPECT_TRUE(WaitFor(absl::Seconds(30), [&] {
    absl::StatusOr<Topology> topology = client_->GetTopology();
    if (!topology.ok() || topology->groups.size() != 1) return false;
    last_status = FormatTopology(*topology);
    const std::vector<uint64_t>& replicas = topology->groups[0].replicas;
    return std::find(replicas.begin(), replicas.end(), ids[1]) == replicas.end() &&
           !absl::StrContains(last_status, "runs on 2 of its 3 replicas");
  })) << last_status;
}

}  // namespace
}  // namespace meridian::integration
