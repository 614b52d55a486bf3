// Integration: `meridian failover-demo` as a user runs it, as a black box.
//
// Cluster: whatever the command starts — placementd + 3 spanservers, 4 groups, lease 1 s.
// Workload: its kv workload, 4 clients over 200 keys (seed 1), 4 s of warm-up.
// Faults: --scenario=leader (kill -9 of the server leading the most groups), 6 s after; and
// --scenario=transfer (planned leader moves, 2 s of warm-up and 2 s after) with a planted bug:
// --testing_corrupt_ack records one acknowledged write with a value never written.
// Checkers: the run exits 0, reports a recovery time within one lease + 3 s (generous: the
// 2-core CI machine is shared) and lost=0; its CSV has a row per 100 ms with the fault marked,
// and its PNG exists when gnuplot is on PATH. The transfer fails no client call (a write refused
// by a leader handing over is retried, not reported as of unknown outcome), and with the planted
// bug the run exits 1 naming the key whose acknowledged value is missing — the lost-write check
// catches what it is there to catch.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/supervisor.h"

namespace meridian::integration {
namespace {

// The value of `name=` in the output's "summary:" line; "" if none.
std::string SummaryField(const std::string& output, const std::string& name) {
  const size_t line = output.rfind("summary:");
  if (line == std::string::npos) return "";
  const std::string summary = output.substr(line, output.find('\n', line) - line);
  for (absl::string_view word : absl::StrSplit(summary, ' ')) {
    if (absl::StartsWith(word, name + "=")) return std::string(word.substr(name.size() + 1));
  }
  return "";
}

bool GnuplotOnPath() {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  for (absl::string_view dir : absl::StrSplit(path, ':', absl::SkipEmpty())) {
    if (access(absl::StrCat(dir, "/gnuplot").c_str(), X_OK) == 0) return true;
  }
  return false;
}

class FailoverDemoTest : public ::testing::Test {
 protected:
  // Runs the command with `flags` on free ports in a fresh directory; returns its exit code.
  int RunDemo(int port_hint, const std::vector<std::string>& flags) {
    dir_ = MakeTempDir("meridian-failover-it");
    absl::StatusOr<int> base = tools::FindFreePorts(port_hint, 4);
    EXPECT_TRUE(base.ok()) << base.status();
    base_port_ = base.value_or(0);
    std::vector<std::string> argv = {MERIDIAN_CLI_PATH,
                                     "failover-demo",
                                     "--dir=" + dir_,
                                     absl::StrCat("--base_port=", base.value_or(0)),
                                     absl::StrCat("--paxos_lease_ms=", kLeaseMs),
                                     "--ranges=4",
                                     "--clients=4",
                                     "--keys=200",
                                     "--json=" + dir_ + "/summary.json"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return RunCommand(absl::StrJoin(argv, " "), &output_);
  }

  void TearDown() override {
    if (HasFailure()) {
      std::printf("output:\n%s\nfailover-demo directory kept: %s\n", output_.c_str(), dir_.c_str());
    } else if (!dir_.empty()) {
      std::error_code error;
      std::filesystem::remove_all(dir_, error);
    }
  }

  std::string dir_;
  std::string output_;
  int base_port_ = 0;
};

TEST_F(FailoverDemoTest, LeaderKillRecoversWithinALeaseAndLosesNothing) {
  ASSERT_EQ(RunDemo(21700, {"--scenario=leader", "--warmup_s=4", "--after_s=6"}), 0) << output_;
  double recovery_s = -1;
  ASSERT_TRUE(absl::SimpleAtod(SummaryField(output_, "recovery_s"), &recovery_s)) << output_;
  EXPECT_LE(recovery_s, kLeaseMs / 1000.0 + 3) << output_;
  EXPECT_EQ(SummaryField(output_, "lost"), "0") << output_;
  EXPECT_EQ(SummaryField(output_, "problems"), "0") << output_;

  const std::string csv = ReadFile(dir_ + "/failover-leader.csv");
  const std::vector<std::string> rows = absl::StrSplit(csv, '\n', absl::SkipEmpty());
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], "time_s,ops_in_interval,ops_per_s,errors,longest_gap_ms,event");
  EXPECT_GE(rows.size(), 90u) << "10 s of 100 ms samples";
  int faults = 0;
  for (const std::string& row : rows) faults += absl::StrContains(row, "\"fault: kill -9 ") ? 1 : 0;
  EXPECT_EQ(faults, 1) << csv;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/failover-leader.gp"));
  if (GnuplotOnPath()) {
    EXPECT_GT(std::filesystem::file_size(dir_ + "/failover-leader.png"), 1000u) << output_;
  } else {
    std::printf("gnuplot is not on PATH: the PNG is not checked\n");
  }
  const std::string json = ReadFile(dir_ + "/summary.json");
  EXPECT_TRUE(absl::StrContains(json, "\"scenario\": \"leader\"")) << json;
  EXPECT_TRUE(absl::StrContains(json, "\"lost\": 0")) << json;
  // Every process it started is gone: their ports are free again.
  const absl::Status free = tools::CheckPortsFree(base_port_, 4);
  EXPECT_TRUE(free.ok()) << free;
}

TEST_F(FailoverDemoTest, TransferFailsNoCallAndACorruptedAckRecordIsReportedLost) {
  EXPECT_EQ(RunDemo(21800, {"--scenario=transfer", "--warmup_s=2", "--after_s=2",
                            "--testing_corrupt_ack"}),
            1)
      << output_;
  EXPECT_TRUE(absl::StrContains(output_, "LOST acknowledged value 'never-written'")) << output_;
  EXPECT_EQ(SummaryField(output_, "lost"), "1") << output_;
  EXPECT_EQ(SummaryField(output_, "errors"), "0") << output_;
}

}  // namespace
}  // namespace meridian::integration
