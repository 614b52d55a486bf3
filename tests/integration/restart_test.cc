// Integration: the whole cluster stops and starts again from the same directories.
//
// Cluster: placementd (1 replica) + 3 spanservers in 3 zones, 8 groups, lease 1 s.
// Workload: 100 acknowledged puts over every range, 10 of them overwritten and 5 deleted.
// Fault: SIGTERM to every process (a clean shutdown), then every process restarted with its
// exact argv (the same data dirs and ports).
// Checker: every process exited 0 on SIGTERM; after the restart the cluster becomes ready again
// and a full scan returns exactly the acknowledged state.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

class RestartTest : public ClusterFixture {};

TEST_F(RestartTest, AcknowledgedDataSurvivesAFullStopAndRestart) {
  StartCluster(21400);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < 100; ++i) {
    const std::string key = KeyWithFirstByte(i * 256 / 100, absl::StrCat("restart-", i));
    ASSERT_TRUE(client_->Put(key, absl::StrCat("v", i)).ok()) << i;
    expected[key] = absl::StrCat("v", i);
  }
  for (int i = 0; i < 10; ++i) {
    const std::string key = KeyWithFirstByte(i * 256 / 100, absl::StrCat("restart-", i));
    ASSERT_TRUE(client_->Put(key, "overwritten").ok());
    expected[key] = "overwritten";
  }
  for (int i = 10; i < 15; ++i) {
    const std::string key = KeyWithFirstByte(i * 256 / 100, absl::StrCat("restart-", i));
    ASSERT_TRUE(client_->Delete(key).ok());
    expected.erase(key);
  }

  client_.reset();
  cluster_->StopAll();
  for (const tools::ProcessState& p : cluster_->supervisor().Processes()) {
    EXPECT_EQ(p.pid, 0) << p.spec.name;
    EXPECT_EQ(p.last_exit, "exited with code 0") << p.spec.name << " on SIGTERM";
  }

  ASSERT_TRUE(cluster_->RestartAll().ok());
  const absl::Status ready = cluster_->WaitReady(absl::Seconds(60));
  ASSERT_TRUE(ready.ok()) << ready;
  Connect();
  auto all = client_->Scan("", "", 1000);
  ASSERT_TRUE(all.ok()) << all.status();
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows(expected.begin(), expected.end()), *all);
  // And the restarted cluster takes writes.
  ASSERT_TRUE(client_->Put("after-restart", "yes").ok());
  EXPECT_EQ(*client_->Get("after-restart"), std::optional<std::string>("yes"));
}

}  // namespace
}  // namespace meridian::integration
