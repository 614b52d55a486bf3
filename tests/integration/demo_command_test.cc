// Integration: `meridian demo --no_shell` as a user runs it, as a black box.
//
// Cluster: whatever the demo starts (placementd + 3 spanservers, 8 groups), lease 1 s, a 0.5 s
// workload. No faults inside the cluster; the demo itself gets SIGTERM in the second test.
// Checker: the demo becomes ready, runs its workload, exits 0 (after --duration, or on SIGTERM),
// and every PID it listed in cluster.json while running is gone afterwards; it warns when
// insecure, and with --secure every process runs with --tls_dir.
#include <errno.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/supervisor.h"

namespace meridian::integration {
namespace {

// The PIDs in cluster.json; empty unless every listed process is running (pid != 0).
std::vector<pid_t> RunningPids(const std::string& manifest) {
  const std::string json = ReadFile(manifest);
  std::vector<pid_t> pids;
  const std::regex pid_re("\"pid\": ([0-9]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pid_re);
       it != std::sregex_iterator(); ++it) {
    const pid_t pid = std::stoi((*it)[1]);
    if (pid == 0) return {};
    pids.push_back(pid);
  }
  return pids;
}

class DemoCommandTest : public ::testing::Test {
 protected:
  // Starts `meridian demo --no_shell` with `extra` flags; waits until it is ready and returns
  // the PIDs of its cluster.
  std::vector<pid_t> StartDemo(int port_hint, const std::vector<std::string>& extra) {
    dir_ = MakeTempDir("meridian-demo-it");
    output_ = dir_ + "/demo.out";
    const std::string manifest = dir_ + "/cluster/cluster.json";
    absl::StatusOr<int> base = tools::FindFreePorts(port_hint, 4);
    EXPECT_TRUE(base.ok()) << base.status();
    tools::ProcessSpec spec{.name = "demo", .role = "cli", .log = output_};
    spec.argv = {MERIDIAN_CLI_PATH,
                 "demo",
                 "--no_shell",
                 "--dir=" + dir_ + "/cluster",
                 absl::StrCat("--base_port=", base.value_or(0)),
                 absl::StrCat("--paxos_lease_ms=", kLeaseMs),
                 "--workload_ms=500"};
    spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
    absl::Status started = supervisor_.Start(spec);
    EXPECT_TRUE(started.ok()) << started;
    std::vector<pid_t> pids;
    const bool ready = WaitFor(absl::Seconds(60), [&] {
      if (!supervisor_.Running("demo")) return true;
      pids = RunningPids(manifest);
      return !pids.empty() && absl::StrContains(ReadFile(output_), "Ready in");
    });
    EXPECT_TRUE(ready && supervisor_.Running("demo")) << "the demo did not become ready:\n"
                                                      << ReadFile(output_);
    EXPECT_EQ(pids.size(), 4u);
    return pids;
  }

  // Waits for the demo to exit and returns how it exited.
  std::string AwaitExit(absl::Duration timeout) {
    WaitFor(timeout, [&] {
      supervisor_.ReapUnexpected();
      return !supervisor_.Running("demo");
    });
    absl::StatusOr<tools::ProcessState> state = supervisor_.State("demo");
    return state.ok() ? state->last_exit : "unknown";
  }

  void ExpectGone(const std::vector<pid_t>& pids) {
    for (const pid_t pid : pids) {
      EXPECT_EQ(kill(pid, 0), -1) << "pid " << pid << " is still there";
      EXPECT_EQ(errno, ESRCH) << "pid " << pid;
    }
  }

  void TearDown() override {
    supervisor_.StopAll(absl::Seconds(20));
    if (HasFailure()) {
      std::printf("demo directory kept: %s\n", dir_.c_str());
    } else if (!dir_.empty()) {
      std::error_code error;
      std::filesystem::remove_all(dir_, error);
    }
  }

  std::string dir_;
  std::string output_;
  tools::Supervisor supervisor_;
};

TEST_F(DemoCommandTest, RunsForItsDurationExitsZeroAndLeavesNoProcess) {
  const std::vector<pid_t> pids = StartDemo(21500, {"--duration=8"});
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(AwaitExit(absl::Seconds(60)), "exited with code 0") << ReadFile(output_);
  ExpectGone(pids);
  const std::string out = ReadFile(output_);
  EXPECT_TRUE(absl::StrContains(out, "ops/s")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Topology")) << out;
  EXPECT_TRUE(absl::StrContains(out, "Stopped 4 processes")) << out;
  EXPECT_TRUE(absl::StrContains(out, "WARNING: INSECURE")) << out;
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_ + "/cluster/logs/span-a1.log"), "runs INSECURE"));
  EXPECT_TRUE(RunningPids(dir_ + "/cluster/cluster.json").empty());
}

// The insecure demo says so; --secure runs every process with its certificate, and the demo's
// workload (through the SDK with the admin certificate) still runs.
TEST_F(DemoCommandTest, SecureRunsWithMutualTlsAndInsecureWarns) {
  const std::vector<pid_t> pids = StartDemo(21700, {"--duration=4", "--secure"});
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(AwaitExit(absl::Seconds(60)), "exited with code 0") << ReadFile(output_);
  const std::string out = ReadFile(output_);
  EXPECT_TRUE(absl::StrContains(out, "mutual TLS everywhere")) << out;
  EXPECT_FALSE(absl::StrContains(out, "INSECURE")) << out;
  EXPECT_TRUE(absl::StrContains(out, "ops/s")) << out;
  const std::string manifest = ReadFile(dir_ + "/cluster/cluster.json");
  EXPECT_TRUE(absl::StrContains(manifest, "--tls_dir=")) << manifest;
  EXPECT_FALSE(absl::StrContains(manifest, "--insecure")) << manifest;
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_ + "/cluster/logs/span-a1.log"), "mutual TLS"));
}

TEST_F(DemoCommandTest, SigtermStopsEverythingAndExitsZero) {
  const std::vector<pid_t> pids = StartDemo(21600, {});
  ASSERT_FALSE(pids.empty());
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    return absl::StrContains(ReadFile(output_), "Running until");
  })) << ReadFile(output_);
  ASSERT_TRUE(supervisor_.Signal("demo", SIGTERM).ok());
  EXPECT_EQ(AwaitExit(absl::Seconds(60)), "exited with code 0") << ReadFile(output_);
  ExpectGone(pids);
}

}  // namespace
}  // namespace meridian::integration
