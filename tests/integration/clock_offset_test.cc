// Integration: a spanserver whose clock lies is fenced by its peers' clock probes, the cluster goes
// on without it, and no anomaly reaches a history (truetime/peer_clock_check.h).
//
// Cluster: placementd (1 replica) + 3 spanservers in 3 zones, 8 groups, lease 1 s, fixed
// epsilon 1 ms, clock probes every 100 ms.
// Fault: one spanserver (a group leader) is killed and restarted under libfaketime (Debian's
// faketime package) reading its offset from a file the test rewrites (FAKETIME_TIMESTAMP_FILE,
// re-read at most once a second; the monotonic clock is left alone, as a real clock step leaves
// it): 300 ms behind, 300 ms ahead, or honest and then stepped +1 s and -1 s in the middle of
// the workload.
// Workloads (the `meridian` binary as a child process): append — 8 keys, 4 clients, recorded to
// a history; bank — 20 accounts, 4 clients.
// Checkers: the lying server reports TrueTime unavailable (Status.clock.unavailable) within 10 s
// of the lie, and `meridian status` says so; the append history is strictly serializable
// (tools/history/append_checker.h) with transactions committed; the bank workload exits 0 (totals
// held); once the clock is honest again the server serves again. Without libfaketime the tests
// skip, saying so.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr char kFakeTimeLibrary[] = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

class ClockOffsetTest : public ClusterFixture {
 protected:
  void SetUp() override {
    if (access(kFakeTimeLibrary, R_OK) != 0) {
      GTEST_SKIP() << kFakeTimeLibrary << " is missing: apt-get install faketime";
    }
  }

  std::string Placement() { return absl::StrJoin(cluster_->placement_addresses(), ","); }
  std::string OffsetFile(const std::string& name) { return dir_ + "/faketime-" + name; }

  // Writes libfaketime's offset for `name` ("+0", "-0.3", "+1", ...).
  void SetOffset(const std::string& name, const std::string& offset) {
    const std::string tmp = OffsetFile(name) + ".tmp";
    {
      std::ofstream out(tmp);
      out << offset << "\n";
    }
    ASSERT_EQ(std::rename(tmp.c_str(), OffsetFile(name).c_str()), 0);
  }

  // Kills `name` and starts it again under libfaketime at `offset`.
  void RestartUnderFakeTime(const std::string& name, const std::string& offset) {
    SetOffset(name, offset);
    ASSERT_TRUE(cluster_->Kill(name).ok());
    ASSERT_TRUE(
        cluster_
            ->SetEnvironment(name, {absl::StrCat("LD_PRELOAD=", kFakeTimeLibrary),
                                    "FAKETIME_TIMESTAMP_FILE=" + OffsetFile(name),
                                    "FAKETIME_CACHE_DURATION=1", "FAKETIME_DONT_FAKE_MONOTONIC=1"})
            .ok());
    ASSERT_TRUE(cluster_->Restart(name).ok());
  }

  // The server's TrueTime state: "" while it serves, else why not; "down: ..." when it does not
  // answer.
  std::string ClockState(const std::string& name) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(name);
    if (!status.ok()) return "down: " + status.status().ToString();
    return status->clock().unavailable();
  }

  // Waits up to `timeout` for `name` to report TrueTime unavailable (`fenced`) or serving (not
  // `fenced`); returns how long it took, or a negative duration on timeout.
  absl::Duration AwaitClockState(const std::string& name, bool fenced, absl::Duration timeout) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout) {
      const std::string state = ClockState(name);
      const bool down = state.rfind("down: ", 0) == 0;
      if (!down && fenced == !state.empty()) {
        std::printf("%s: %s after %s%s%s\n", name.c_str(), fenced ? "fenced" : "serving",
                    absl::FormatDuration(absl::Now() - start).c_str(), fenced ? ": " : "",
                    state.c_str());
        return absl::Now() - start;
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
    std::printf("%s: still %s after %s\n", name.c_str(), ClockState(name).c_str(),
                absl::FormatDuration(timeout).c_str());
    return -absl::Seconds(1);
  }

  // Waits until the restarted `name` answers at all: how soon a restarted server is reachable is
  // not what these tests measure (a channel that saw the old process die may take seconds to
  // connect again), how soon it fences itself once it runs is.
  void AwaitAnswers(const std::string& name, absl::Duration timeout) {
    const absl::Time start = absl::Now();
    while (absl::Now() - start < timeout && ClockState(name).rfind("down: ", 0) == 0) {
      absl::SleepFor(absl::Milliseconds(100));
    }
    std::printf("%s answers after %s\n", name.c_str(),
                absl::FormatDuration(absl::Now() - start).c_str());
  }

  // A server that leads some group: its lying clock matters most.
  std::string SomeLeader() {
    absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
    return leader.ok() ? *leader : cluster_->server_names().front();
  }

  // Runs the append workload for `seconds`, calling `during` from the test's thread meanwhile,
  // and checks its history.
  void RunAppend(int seconds, const std::string& history, const std::function<void()>& during) {
    std::string output;
    int code = -1;
    std::thread runner([&] {
      code =
          RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " workload append --placement=", Placement(),
                                  " --keys=8 --clients=4 --duration=", seconds,
                                  " --seed=7 --history=", history),
                     &output);
    });
    if (during) during();
    runner.join();
    std::printf("%s", output.c_str());
    ASSERT_EQ(code, 0) << "the append workload failed:\n" << output;
    ExpectStrictlySerializable(history);
  }

  void RunBank(int seconds) {
    std::string output;
    const int code =
        RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " workload bank --placement=", Placement(),
                                " --accounts=20 --clients=4 --duration=", seconds, " --seed=9"),
                   &output);
    std::printf("%s", output.c_str());
    EXPECT_EQ(code, 0) << output;
    EXPECT_GT(SummaryCount(output, "transfers committed="), 0) << output;
    EXPECT_EQ(SummaryCount(output, "violations="), 0) << output;
  }

  // The scenario for a server whose clock is `offset` (libfaketime's syntax) off from the start.
  void RunLyingServer(int port_hint, const std::string& offset) {
    StartCluster(port_hint);
    const std::string liar = SomeLeader();
    std::printf("restarting %s with its clock %s s off\n", liar.c_str(), offset.c_str());
    RestartUnderFakeTime(liar, offset);
    AwaitAnswers(liar, absl::Seconds(30));
    EXPECT_GE(AwaitClockState(liar, /*fenced=*/true, absl::Seconds(10)), absl::ZeroDuration());
    RunAppend(10, dir_ + "/append.jsonl", [&] {
      absl::SleepFor(absl::Seconds(5));
      EXPECT_FALSE(ClockState(liar).empty()) << liar << " serves with a lying clock";
    });
    RunBank(5);
    EXPECT_FALSE(ClockState(liar).empty()) << liar << " serves with a lying clock";
    // `meridian status` shows it, with the offsets its peers measured.
    std::string status;
    EXPECT_EQ(
        RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " status --placement=", Placement()), &status),
        0)
        << status;
    std::printf("%s", status.c_str());
    EXPECT_NE(status.find("UNAVAILABLE"), std::string::npos) << status;
    EXPECT_NE(status.find("TrueTime unavailable: "), std::string::npos) << status;
    // Honest again: it serves again.
    SetOffset(liar, "+0");
    EXPECT_GE(AwaitClockState(liar, /*fenced=*/false, absl::Seconds(15)), absl::ZeroDuration());
    EXPECT_TRUE(cluster_->ReapUnexpected().empty());
  }
};

TEST_F(ClockOffsetTest, AServer300msBehindIsFencedAndTheHistoryStaysClean) {
  RunLyingServer(22300, "-0.3");
}

TEST_F(ClockOffsetTest, AServer300msAheadIsFencedAndTheHistoryStaysClean) {
  RunLyingServer(22400, "+0.3");
}

TEST_F(ClockOffsetTest, StepsOfOneSecondMidRunAreFencedAndHealed) {
  StartCluster(22500);
  const std::string name = SomeLeader();
  RestartUnderFakeTime(name, "+0");
  ASSERT_GE(AwaitClockState(name, /*fenced=*/false, absl::Seconds(20)), absl::ZeroDuration());
  RunAppend(16, dir_ + "/append-steps.jsonl", [&] {
    for (const char* step : {"+1", "-1"}) {
      absl::SleepFor(absl::Seconds(2));
      std::printf("stepping %s's clock %s s\n", name.c_str(), step);
      SetOffset(name, step);
      EXPECT_GE(AwaitClockState(name, /*fenced=*/true, absl::Seconds(5)), absl::ZeroDuration());
      SetOffset(name, "+0");
      EXPECT_GE(AwaitClockState(name, /*fenced=*/false, absl::Seconds(5)), absl::ZeroDuration());
    }
  });
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

}  // namespace
}  // namespace meridian::integration
