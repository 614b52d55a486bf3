// Integration: range moves and splits (Spanner's movedir; placement/mover.h drives them, the
// spanservers serve proto/movement.proto) with real processes, while transactions run.
//
// Cluster: 3 placement replicas + 3 spanservers in 3 zones, 8 ranges, lease 1 s.
// Workloads (the `meridian` binary as a child process, seed 7; their keys spread over the groups
// of "0", "A" and "a"):
//   bank   — 20 accounts, 4 clients: transfers plus strong read-only checks.
//   append — 8 keys, 4 clients: list-append and read-only transactions, recorded to a history.
// Plus 200 acknowledged puts under "mv" (the range of "a") before the moves.
// Faults and changes while a workload runs: a split of the range of "mv" at "mv5"; a move of the
// range of "A" to another group; a move of the range of "mv5" to a new group with the new
// group's leader killed (kill -9) and restarted mid-move; a move of the range of "0" with the
// placement leader killed and restarted mid-move (another placement replica resumes the move).
// Checkers: every workload check (bank: exit 0, no violation; append: the history is strictly
// serializable, tools/history/append_checker.h); every acknowledged put reads back; every
// move and split finished, and the map names each range's new group at a new generation.
// Bad input: a move to an unknown group, a split at a range boundary and a move of a range to
// its own group are refused, and the map is unchanged.
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"

namespace meridian::integration {
namespace {

class RangeMoveTest : public ClusterFixture {
 protected:
  void Start(int port_hint) {
    tools::LocalClusterOptions options = DefaultOptions();
    options.placement_replicas = 3;
    StartCluster(port_hint, options);
  }

  Topology GetTopology() {
    absl::StatusOr<Topology> topology = client_->GetTopology();
    for (int i = 0; i < 100 && !topology.ok(); ++i) {
      absl::SleepFor(absl::Milliseconds(100));
      topology = client_->GetTopology();
    }
    EXPECT_TRUE(topology.ok()) << topology.status();
    return topology.ok() ? *topology : Topology{};
  }

  static RangeInfo RangeOf(const Topology& topology, const std::string& key) {
    for (const RangeInfo& range : topology.ranges) {
      if (range.start <= key && (range.end.empty() || key < range.end)) return range;
    }
    return RangeInfo{};
  }

  // A group other than `not_this` that serves a range.
  static uint64_t OtherGroup(const Topology& topology, uint64_t not_this) {
    for (const GroupInfo& group : topology.groups) {
      if (group.id != not_this) return group.id;
    }
    return 0;
  }

  // Waits (up to 60 s) until placement lists no move in progress.
  void WaitMovesDone() {
    const bool done = WaitFor(absl::Seconds(60), [&] {
      absl::StatusOr<Topology> topology = client_->GetTopology();
      return topology.ok() && topology->moves.empty();
    });
    EXPECT_TRUE(done) << "moves still in progress after 60 s";
  }

  // The process name of the placement leader.
  std::string PlacementLeaderName() {
    const std::string address = GetTopology().placement_leader;
    for (int i = 1; i <= cluster_->options().placement_replicas; ++i) {
      const std::string name = absl::StrCat("placement-", i);
      if (cluster_->address(name) == address) return name;
    }
    return "";
  }

  // Kills the process `name` and restarts it 2 s later.
  void KillAndRestart(const std::string& name) {
    std::printf("killing %s\n", name.c_str());
    ASSERT_TRUE(cluster_->Kill(name).ok());
    absl::SleepFor(absl::Seconds(2));
    std::printf("restarting %s\n", name.c_str());
    ASSERT_TRUE(cluster_->Restart(name).ok());
  }

  // The four changes of the header, in order, each waited for; checks the map after each.
  void SplitAndMoveUnderFaults() {
    const Topology before = GetTopology();
    // 1. Split the range of "mv" at "mv5".
    absl::StatusOr<RangeMove> split = client_->SplitRange("mv5");
    ASSERT_TRUE(split.ok()) << split.status();
    WaitMovesDone();
    Topology t = GetTopology();
    EXPECT_EQ(RangeOf(t, "mv5").start, "mv5");
    EXPECT_EQ(RangeOf(t, "mv4").end, "mv5");
    EXPECT_EQ(RangeOf(t, "mv5").group, RangeOf(before, "mv5").group);
    EXPECT_GT(RangeOf(t, "mv5").generation, RangeOf(before, "mv5").generation);

    // 2. Move the range of "A" to another group.
    const uint64_t a_to = OtherGroup(t, RangeOf(t, "A").group);
    absl::StatusOr<RangeMove> move = client_->MoveRange("A", a_to);
    ASSERT_TRUE(move.ok()) << move.status();
    WaitMovesDone();
    t = GetTopology();
    EXPECT_EQ(RangeOf(t, "A").group, a_to);

    // 3. Move the range of "mv5" to a new group; kill the new group's leader mid-move.
    move = client_->MoveRange("mv5", kNewGroup);
    ASSERT_TRUE(move.ok()) << move.status();
    const uint64_t new_group = move->to_group;
    std::string leader;
    WaitFor(absl::Seconds(20), [&] {
      absl::StatusOr<std::string> l = cluster_->GroupLeader(new_group);
      if (l.ok()) leader = *l;
      return l.ok();
    });
    if (!leader.empty()) KillAndRestart(leader);
    WaitMovesDone();
    t = GetTopology();
    EXPECT_EQ(RangeOf(t, "mv5").group, new_group);
    EXPECT_EQ(RangeOf(t, "mv5").start, "mv5");

    // 4. Move the range of "0"; kill the placement leader mid-move.
    const uint64_t zero_to = OtherGroup(t, RangeOf(t, "0").group);
    move = client_->MoveRange("0", zero_to);
    ASSERT_TRUE(move.ok()) << move.status();
    KillAndRestart(PlacementLeaderName());
    WaitMovesDone();
    EXPECT_EQ(RangeOf(GetTopology(), "0").group, zero_to);
  }
};

TEST_F(RangeMoveTest, MovesAndSplitsLoseNothingWhileTheBankRuns) {
  Start(22300);
  std::map<std::string, std::string> expected;
  PutMany("mv", 100, 0, 200, &expected);

  std::string output;
  int code = -1;
  std::thread bank([&] {
    code = RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " workload bank --placement=",
                                   absl::StrJoin(cluster_->placement_addresses(), ","),
                                   " --accounts=20 --clients=4 --duration=40 --seed=7"),
                      &output);
  });
  absl::SleepFor(absl::Seconds(2));
  SplitAndMoveUnderFaults();
  bank.join();
  std::printf("%s", output.c_str());
  EXPECT_EQ(code, 0) << "the bank workload failed:\n" << output;
  EXPECT_GT(SummaryCount(output, "transfers committed="), 0) << output;
  EXPECT_EQ(SummaryCount(output, "violations="), 0) << output;

  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << key << ": " << got.status();
    ASSERT_TRUE(got->has_value()) << key << " was lost";
    EXPECT_EQ(**got, value) << key;
  }
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

TEST_F(RangeMoveTest, AppendHistoryStaysStrictlySerializableAcrossMoves) {
  Start(22400);
  const std::string history_path = dir_ + "/append-history.jsonl";
  std::string output;
  int code = -1;
  std::thread append([&] {
    code = RunCommand(
        absl::StrCat(MERIDIAN_CLI_PATH, " workload append --placement=",
                     absl::StrJoin(cluster_->placement_addresses(), ","),
                     " --keys=8 --clients=4 --duration=40 --seed=7 --history=", history_path),
        &output);
  });
  absl::SleepFor(absl::Seconds(2));
  SplitAndMoveUnderFaults();
  append.join();
  std::printf("%s", output.c_str());
  ASSERT_EQ(code, 0) << "the append workload failed:\n" << output;
  ExpectStrictlySerializable(history_path);
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

TEST_F(RangeMoveTest, BadMovesAndSplitsAreRefusedAndChangeNothing) {
  Start(22500);
  const Topology before = GetTopology();
  const RangeInfo a = RangeOf(before, "a");
  absl::StatusOr<RangeMove> r = client_->MoveRange("a", 999);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  r = client_->MoveRange("a", a.group);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  r = client_->SplitRange(a.start);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  r = client_->SplitRange("");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  const Topology after = GetTopology();
  ASSERT_EQ(after.ranges.size(), before.ranges.size());
  for (size_t i = 0; i < after.ranges.size(); ++i) {
    EXPECT_EQ(after.ranges[i].start, before.ranges[i].start);
    EXPECT_EQ(after.ranges[i].group, before.ranges[i].group);
    EXPECT_EQ(after.ranges[i].generation, before.ranges[i].generation);
  }
  EXPECT_TRUE(after.moves.empty());
}

}  // namespace
}  // namespace meridian::integration
