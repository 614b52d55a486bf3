// Integration: the placement driver survives the loss of its leader and the leader's restart.
//
// Cluster: placementd with 3 replicas (its own Paxos group 0, --peers) + 3 spanservers in 3
// zones, 8 groups, lease 1 s.
// Workload: 40 keys over all 8 ranges written through the SDK; after the fault, a fresh client
// (empty location cache) reads them back and writes 20 more; at the end, reads and writes again.
// Fault: kill -9 of the placement leader (found from the replicas themselves: the leader answers
// GetTopology naming itself, the followers redirect to it with "meridian-leader"); later a restart
// of that replica with its same argv and data dir; finally kill -9 of a third replica, so that the
// restarted one is needed for a majority.
// Checker: a fresh client reads every acknowledged key and writes new ones within a few leases
// of the kill; the topology (`meridian status`, through the SDK and the CLI) is served by a new
// placement leader, with every server alive and every group led; the restarted replica rejoins
// (all three agree on one leader again, and with the third replica dead the pair of the leader and
// the restarted replica keeps serving topology, reads and writes for several leases).
#include <stdio.h>
#include <sys/wait.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/placement.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr int kKeys = 40;

std::string Key(const std::string& prefix, int i) {
  return KeyWithFirstByte(i * 256 / kKeys, absl::StrCat(prefix, 1000 + i));
}

// One raw GetTopology at one placement replica (no redirects followed).
struct Probe {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  std::string message = "";
  std::string leader_hint = "";   // trailing "meridian-leader", "" if absent
  proto::Topology topology = {};  // when code is OK
};

Probe ProbePlacement(const std::string& address) {
  std::unique_ptr<proto::Placement::Stub> stub =
      proto::Placement::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  Probe probe;
  const grpc::Status status =
      stub->GetTopology(&context, proto::GetTopologyRequest(), &probe.topology);
  probe.code = status.error_code();
  probe.message = status.error_message();
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find("meridian-leader"); it != trailers.end()) {
    probe.leader_hint.assign(it->second.data(), it->second.size());
  }
  return probe;
}

std::string Describe(const std::string& address, const Probe& probe) {
  if (probe.code == grpc::StatusCode::OK) {
    return absl::StrCat(address, ": OK, placement_leader ", probe.topology.placement_leader());
  }
  return absl::StrCat(address, ": code ", static_cast<int>(probe.code), " (", probe.message,
                      "), meridian-leader '", probe.leader_hint, "'");
}

// The address every replica in `addresses` agrees leads: it answers GetTopology itself naming
// itself as placement_leader, and every other one answers UNAVAILABLE naming it in
// "meridian-leader". "" when they do not agree right now; `views` says what each answered.
std::string AgreedLeader(const std::vector<std::string>& addresses, std::string* views) {
  std::map<std::string, Probe> probes;
  std::string leader;
  int serving = 0;
  for (const std::string& address : addresses) {
    probes[address] = ProbePlacement(address);
    if (probes[address].code == grpc::StatusCode::OK) {
      ++serving;
      leader = address;
    }
  }
  std::vector<std::string> lines;
  for (const auto& [address, probe] : probes) lines.push_back(Describe(address, probe));
  *views = absl::StrJoin(lines, "; ");
  if (serving != 1 || probes[leader].topology.placement_leader() != leader) return "";
  for (const auto& [address, probe] : probes) {
    if (address == leader) continue;
    if (probe.code != grpc::StatusCode::UNAVAILABLE || probe.leader_hint != leader) return "";
  }
  return leader;
}

// A complete, healthy topology: bootstrapped, 3 servers all alive, 8 groups each with a leader,
// 8 ranges.
bool Healthy(const Topology& topology) {
  if (!topology.bootstrapped || topology.servers.size() != 3 || topology.groups.size() != 8 ||
      topology.ranges.size() != 8) {
    return false;
  }
  for (const ServerInfo& server : topology.servers) {
    if (!server.alive) return false;
  }
  for (const GroupInfo& group : topology.groups) {
    if (group.leader == 0) return false;
  }
  return true;
}

class PlacementFailoverTest : public ClusterFixture {
 protected:
  std::unique_ptr<Client> FreshClient() {
    ClientOptions options;
    options.deadline = std::chrono::milliseconds(10'000);
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect(cluster_->placement_addresses(), options);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? *std::move(client) : nullptr;
  }

  // "placement-N" for the N-th placement address.
  std::string PlacementName(const std::string& address) const {
    const std::vector<std::string>& addresses = cluster_->placement_addresses();
    for (size_t i = 0; i < addresses.size(); ++i) {
      if (addresses[i] == address) return absl::StrCat("placement-", i + 1);
    }
    return "";
  }
};

TEST_F(PlacementFailoverTest, PlacementLeaderKilledAndRestarted) {
  const absl::Time test_start = absl::Now();
  tools::LocalClusterOptions options = DefaultOptions();
  options.placement_replicas = 3;
  StartCluster(21500, options);
  const std::vector<std::string> all = cluster_->placement_addresses();
  ASSERT_EQ(all.size(), 3u);
  std::printf("cluster ready after %s\n", absl::FormatDuration(absl::Now() - test_start).c_str());

  std::map<std::string, std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_TRUE(client_->Put(Key("before-", i), absl::StrCat("v", i)).ok()) << i;
    expected[Key("before-", i)] = absl::StrCat("v", i);
  }

  // The placement leader, as the replicas themselves see it.
  std::string views;
  std::string leader;
  ASSERT_TRUE(
      WaitFor(absl::Seconds(5), [&] { return !(leader = AgreedLeader(all, &views)).empty(); }))
      << "placement replicas do not agree on a leader: " << views;
  const std::string killed = PlacementName(leader);
  ASSERT_FALSE(killed.empty()) << leader;
  std::vector<std::string> survivors;
  for (const std::string& address : all) {
    if (address != leader) survivors.push_back(address);
  }

  // kill -9 of the placement leader.
  const absl::Time killed_at = absl::Now();
  ASSERT_TRUE(cluster_->Kill(killed).ok());

  // A fresh client (empty location cache, placement target the first address) reads every key
  // back and writes new ones.
  std::unique_ptr<Client> fresh = FreshClient();
  ASSERT_NE(fresh, nullptr);
  absl::Time first_read_at;
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = fresh->Get(key);
    ASSERT_TRUE(got.ok()) << EscapeBytes(key) << ": " << got.status();
    ASSERT_EQ(*got, value) << EscapeBytes(key);
    if (first_read_at == absl::Time()) first_read_at = absl::Now();
  }
  const absl::Time reads_done_at = absl::Now();
  for (int i = 0; i < kKeys / 2; ++i) {
    const absl::Status put = fresh->Put(Key("after-", i), absl::StrCat("w", i));
    ASSERT_TRUE(put.ok()) << i << ": " << put;
    expected[Key("after-", i)] = absl::StrCat("w", i);
  }
  const absl::Time writes_done_at = absl::Now();
  std::printf(
      "killed %s (%s); first read %s later, all %d reads %s later, %d new writes done %s later\n",
      killed.c_str(), leader.c_str(), absl::FormatDuration(first_read_at - killed_at).c_str(),
      kKeys, absl::FormatDuration(reads_done_at - killed_at).c_str(), kKeys / 2,
      absl::FormatDuration(writes_done_at - killed_at).c_str());
  EXPECT_LT(first_read_at - killed_at, absl::Milliseconds(6 * kLeaseMs));
  EXPECT_LT(writes_done_at - killed_at, absl::Milliseconds(10 * kLeaseMs));

  // `meridian status`: served by a new placement leader, among the survivors, that the surviving
  // follower redirects to; every server alive again and every group led (soft state the new
  // leader rebuilds from heartbeats).
  std::string new_leader;
  ASSERT_TRUE(WaitFor(absl::Seconds(5),
                      [&] { return !(new_leader = AgreedLeader(survivors, &views)).empty(); }))
      << "survivors do not agree on a leader: " << views;
  EXPECT_NE(new_leader, leader);
  Topology topology;
  ASSERT_TRUE(WaitFor(absl::Seconds(5), [&] {
    absl::StatusOr<Topology> t = FreshClient()->GetTopology();
    if (!t.ok()) return false;
    topology = *std::move(t);
    return Healthy(topology);
  })) << FormatTopology(topology);
  EXPECT_EQ(topology.placement_leader, new_leader);
  std::string status_output;
  const int status_code =
      RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " status --placement=", absl::StrJoin(all, ","),
                              " --deadline_ms=10000"),
                 &status_output);
  EXPECT_EQ(status_code, 0) << status_output;
  EXPECT_TRUE(absl::StrContains(status_output, "Placement leader: " + new_leader)) << status_output;
  EXPECT_TRUE(absl::StrContains(status_output, "Servers (3)")) << status_output;
  EXPECT_TRUE(absl::StrContains(status_output, "Groups (8)")) << status_output;
  EXPECT_TRUE(absl::StrContains(status_output, "Ranges (8)")) << status_output;
  std::printf("new placement leader %s; healthy topology %s after the kill\n", new_leader.c_str(),
              absl::FormatDuration(absl::Now() - killed_at).c_str());

  // The old client, whose placement target was the dead leader, carries on too.
  ASSERT_TRUE(client_->Put("old-client", "still-works").ok());
  EXPECT_EQ(*client_->Get("old-client"), std::optional<std::string>("still-works"));
  expected["old-client"] = "still-works";

  // Restart the killed replica with its same argv and data dir: it rejoins, and all three agree
  // on one leader again.
  ASSERT_TRUE(cluster_->Restart(killed).ok());
  const absl::Time restarted_at = absl::Now();
  std::string rejoined_leader;
  ASSERT_TRUE(WaitFor(absl::Seconds(10),
                      [&] { return !(rejoined_leader = AgreedLeader(all, &views)).empty(); }))
      << "placement replicas do not agree on a leader after the restart: " << views;
  std::printf("restarted %s agrees on leader %s after %s (it is %s)\n", killed.c_str(),
              rejoined_leader.c_str(), absl::FormatDuration(absl::Now() - restarted_at).c_str(),
              rejoined_leader == leader ? "the leader again" : "a follower");

  // The restarted replica counts toward the majority: with the third replica dead, the pair keeps
  // the lease (renewals need the restarted replica's votes) for several leases.
  std::string third;
  for (const std::string& address : all) {
    if (address != leader && address != rejoined_leader) third = address;
  }
  ASSERT_FALSE(third.empty());
  ASSERT_TRUE(cluster_->Kill(PlacementName(third)).ok());
  const absl::Time third_killed_at = absl::Now();
  std::unique_ptr<Client> last = FreshClient();
  ASSERT_NE(last, nullptr);
  int round = 0;
  while (absl::Now() - third_killed_at < absl::Milliseconds(4 * kLeaseMs)) {
    absl::StatusOr<Topology> t = last->GetTopology();
    ASSERT_TRUE(t.ok()) << "round " << round << ": " << t.status();
    EXPECT_EQ(t->placement_leader, rejoined_leader);
    const std::string key = Key("pair-", round % kKeys);
    ASSERT_TRUE(last->Put(key, absl::StrCat("p", round)).ok()) << round;
    expected[key] = absl::StrCat("p", round);
    ++round;
  }
  // Everything acknowledged is there, read by yet another fresh client.
  std::unique_ptr<Client> reader = FreshClient();
  ASSERT_NE(reader, nullptr);
  auto rows = reader->Scan("", "", 1000);
  ASSERT_TRUE(rows.ok()) << rows.status();
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows(expected.begin(), expected.end()), *rows);
  std::printf(
      "killed %s: %d rounds of topology + put in %s with only the other two; test took %s\n",
      PlacementName(third).c_str(), round,
      absl::FormatDuration(absl::Now() - third_killed_at).c_str(),
      absl::FormatDuration(absl::Now() - test_start).c_str());
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

}  // namespace
}  // namespace meridian::integration
