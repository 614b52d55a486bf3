// Integration: a server's disk fills up under load.
//
// Cluster: placementd (1 replica) + 3 spanservers A, B, C in 3 zones, one range (one group whose
// replicas are A, B, C), lease 1 s. C's data directory is a 64 MiB tmpfs that the test mounts
// (it needs root, as CI has; elsewhere the test is skipped and says why).
// Fault: a file fills C's tmpfs, then 15 MiB of puts.
// Checkers: every put is acknowledged (A and B are a majority); C stays up, fences its group and
// says why in its status ("No space left on device"), and acknowledges nothing it could not
// write. After the file is removed and C restarted, C serves again and, with A down, B and C
// answer every acknowledged key with its value.
//
// PlacementReplacesAFencedReplica: the same fault with two servers per zone (six spanservers,
// --dead_server_timeout_s=600 so that only the fence can move a replica). Checkers: placement
// shows C's storage failure and, without an operator, moves C's fenced replica to the other
// server of C's zone, which becomes a voter; C stops its replica; with the leader A down, B and
// the newcomer answer every acknowledged key with its value.
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
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

namespace fs = std::filesystem;

class FullDiskTest : public ClusterFixture {
 protected:
  void TearDown() override {
    // The processes stop before their directory is unmounted, and it before it is removed.
    client_.reset();
    if (cluster_ != nullptr) cluster_->StopAll();
    if (!mounted_.empty()) ::umount2(mounted_.c_str(), MNT_DETACH);
    ClusterFixture::TearDown();
  }

  // Moves `dir`'s contents onto a new tmpfs of `bytes` mounted at `dir`. False (and why) when
  // this process may not mount.
  bool MountSmallDisk(const fs::path& dir, size_t bytes, std::string* why) {
    const fs::path saved = dir.string() + ".saved";
    fs::rename(dir, saved);
    fs::create_directories(dir);
    const std::string options = absl::StrCat("size=", bytes);
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
      *why = absl::StrCat("cannot mount a tmpfs at ", dir.string(), ": ", std::strerror(errno),
                          " (the test needs root)");
      fs::remove(dir);
      fs::rename(saved, dir);
      return false;
    }
    mounted_ = dir.string();
    fs::copy(saved, dir, fs::copy_options::recursive);
    fs::remove_all(saved);
    return true;
  }

  // Writes `path` in 1 MiB pieces until the file system is full; the bytes written.
  static size_t FillUp(const fs::path& path) {
    std::ofstream out(path, std::ios::binary);
    const std::string piece(1 << 20, 'f');
    size_t written = 0;
    while (out.write(piece.data(), piece.size()) && out.flush()) written += piece.size();
    return written;
  }

  // Group 1's state as `name` reports it; nullopt while it does not answer.
  std::optional<proto::GroupStatus> GroupOn(const std::string& name) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(name);
    if (!status.ok()) return std::nullopt;
    for (const proto::GroupStatus& g : status->groups()) {
      if (g.group() == 1) return g;
    }
    return std::nullopt;
  }

  std::string mounted_;
};

TEST_F(FullDiskTest, AFullDiskFencesTheServerAndLosesNoAcknowledgedWrite) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.ranges = 1;
  StartCluster(23700, options);
  absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
  ASSERT_TRUE(leader.ok()) << leader.status();
  std::vector<std::string> others;
  for (const std::string& name : cluster_->server_names()) {
    if (name != *leader) others.push_back(name);
  }
  ASSERT_EQ(others.size(), 2u);
  const std::string a = *leader, b = others[0], c = others[1];

  ASSERT_TRUE(cluster_->Kill(c).ok());
  std::string why;
  if (!MountSmallDisk(fs::path(dir_) / c, 64 << 20, &why)) GTEST_SKIP() << why;
  ASSERT_TRUE(cluster_->Restart(c).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30),
                      [&] {
                        std::optional<proto::GroupStatus> g = GroupOn(c);
                        return g.has_value() && g->applied() > 0;
                      }))
      << c << " did not come back on its small disk";

  std::map<std::string, std::string> expected;
  PutMany("full-", 40, 0, 40, &expected);
  const size_t filled = FillUp(fs::path(dir_) / c / "filler");
  std::printf("filled %s's disk with %zu MiB\n", c.c_str(), filled >> 20);
  // A and B acknowledge every put. C's writes fail once its LevelDB needs new space (its
  // write-ahead log overwrites space zeroed ahead of time at first): 15 MiB more than fill the
  // memtable, whose flush needs a new table file. Its group is fenced then.
  PutMany("big-", 20, 0, 60, &expected, 256 << 10);
  std::string fenced;
  ASSERT_TRUE(WaitFor(absl::Seconds(30),
                      [&] {
                        std::optional<proto::GroupStatus> g = GroupOn(c);
                        if (!g.has_value()) return false;
                        fenced = g->fenced();
                        return !fenced.empty();
                      }))
      << c << " never fenced its group";
  EXPECT_TRUE(absl::StrContains(fenced, "No space left on device")) << fenced;
  std::optional<proto::GroupStatus> on_c = GroupOn(c);
  ASSERT_TRUE(on_c.has_value()) << c << " stopped answering";
  EXPECT_NE(on_c->role(), "leader");
  EXPECT_FALSE(on_c->has_lease());
  PutMany("full-", 40, 240, 40, &expected);

  // The operator frees the disk and restarts C; it catches up.
  fs::remove(fs::path(dir_) / c / "filler");
  ASSERT_TRUE(cluster_->Kill(c).ok());
  ASSERT_TRUE(cluster_->Restart(c).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(60),
                      [&] {
                        std::optional<proto::GroupStatus> on = GroupOn(c);
                        std::optional<proto::GroupStatus> on_leader = GroupOn(a);
                        return on.has_value() && on_leader.has_value() && on->fenced().empty() &&
                               on->applied() >= on_leader->commit();
                      }))
      << c << " did not catch up after its restart";

  // Without A, B and C must answer everything acknowledged.
  ASSERT_TRUE(cluster_->Kill(a).ok());
  const absl::Time back_by = absl::Now() + absl::Seconds(60);
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    while (!got.ok() && absl::Now() < back_by) got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status();
    EXPECT_EQ(got->value_or("(not found)"), value) << key;
  }
}

TEST_F(FullDiskTest, PlacementReplacesAFencedReplica) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.ranges = 1;
  options.servers_per_zone = 2;
  options.placement_flags = {"--dead_server_timeout_s=600"};
  StartCluster(23760, options);
  absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_EQ(topology->groups_size(), 1);
  const std::vector<uint64_t> original(topology->groups(0).replicas().begin(),
                                       topology->groups(0).replicas().end());
  ASSERT_EQ(original.size(), 3u);
  absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
  ASSERT_TRUE(leader.ok()) << leader.status();
  const std::string a = *leader;
  uint64_t c_id = 0;
  for (uint64_t id : original) {
    if (cluster_->ServerName(*topology, id) != a) c_id = id;
  }
  const std::string c = cluster_->ServerName(*topology, c_id);

  ASSERT_TRUE(cluster_->Kill(c).ok());
  std::string why;
  if (!MountSmallDisk(fs::path(dir_) / c, 64 << 20, &why)) GTEST_SKIP() << why;
  ASSERT_TRUE(cluster_->Restart(c).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30),
                      [&] {
                        std::optional<proto::GroupStatus> g = GroupOn(c);
                        return g.has_value() && g->applied() > 0;
                      }))
      << c << " did not come back on its small disk";
  std::map<std::string, std::string> expected;
  PutMany("full-", 40, 0, 40, &expected);
  FillUp(fs::path(dir_) / c / "filler");
  PutMany("big-", 20, 0, 60, &expected, 256 << 10);

  // Placement sees the failure and moves the replica within C's zone, with nobody asking.
  uint64_t newcomer = 0;
  std::string storage_failed;
  ASSERT_TRUE(WaitFor(absl::Seconds(60), [&] {
    absl::StatusOr<proto::Topology> t = cluster_->GetTopology();
    if (!t.ok() || t->groups_size() != 1) return false;
    for (const proto::ServerInfo& s : t->servers()) {
      if (s.id() == c_id && !s.storage_failed().empty()) storage_failed = s.storage_failed();
    }
    const auto& replicas = t->groups(0).replicas();
    if (std::find(replicas.begin(), replicas.end(), c_id) != replicas.end()) return false;
    for (uint64_t id : replicas) {
      if (std::find(original.begin(), original.end(), id) == original.end()) newcomer = id;
    }
    return newcomer != 0;
  })) << "placement did not replace the fenced replica";
  EXPECT_TRUE(absl::StrContains(storage_failed, "No space left on device")) << storage_failed;
  topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok());
  const std::string newcomer_name = cluster_->ServerName(*topology, newcomer);
  EXPECT_EQ(newcomer_name.substr(0, 6), c.substr(0, 6)) << "same zone first";

  // The newcomer votes (the leader's configuration lists it, not C), and C stopped its replica.
  std::vector<uint64_t> want;
  for (uint64_t id : original) want.push_back(id == c_id ? newcomer : id);
  std::sort(want.begin(), want.end());
  ASSERT_TRUE(WaitFor(absl::Seconds(40),
                      [&] {
                        absl::StatusOr<std::string> now_leader = cluster_->GroupLeader(1);
                        if (!now_leader.ok()) return false;
                        std::optional<proto::GroupStatus> g = GroupOn(*now_leader);
                        if (!g.has_value()) return false;
                        std::vector<uint64_t> voters(g->replicas().begin(), g->replicas().end());
                        std::sort(voters.begin(), voters.end());
                        return voters == want && !GroupOn(c).has_value();
                      }))
      << "the newcomer did not become a voter, or " << c << " kept its fenced replica";

  // Without A (the first leader), B and the newcomer must answer everything acknowledged.
  PutMany("full-", 40, 40, 40, &expected);
  ASSERT_TRUE(cluster_->Kill(a).ok());
  const absl::Time back_by = absl::Now() + absl::Seconds(60);
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    while (!got.ok() && absl::Now() < back_by) got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status();
    EXPECT_EQ(got->value_or("(not found)"), value) << key;
  }
}

}  // namespace
}  // namespace meridian::integration
