// Integration: Meridian transactions end to end — the SDK's RunTransaction / ReadOnly through
// `meridian workload` against a real cluster, with group leaders killed and restarted.
//
// Cluster: placementd (1 replica) + 3 spanservers in 3 zones, 8 groups, lease 1 s.
// Workloads (the `meridian` binary as a child process, seed 7, keys spread over three groups so
// that transfers and appends use two-phase commit):
//   bank   — 20 accounts, 4 clients, 10 s: transfers plus strong read-only checks.
//   append — 8 keys, 4 clients, 10 s: list-append transactions and read-only transactions,
//            recorded to a history file.
// Faults: while each workload runs, kill -9 the leader of a group holding workload keys, restart
// it 2 s later, then the same for another group's leader.
//   append --sql — the same list-append transactions as SQL statements on sql_lite, the table
//            split into three ranges in three groups (a first short run sets that up), 8 keys,
//            4 clients, 10 s, with the leaders of two of those groups killed and restarted.
//   tpcb   — pgbench's TPC-B-like transaction through SQL: scale 1 with 2,000 accounts per
//            branch (--accounts_per_branch, tests only; pgbench's 100,000 take too long to load
//            here), 4 clients, 5 s, no faults.
// Checkers: bank — exit status 0 (the total and non-negativity held in every check, and snapshot
// reads agreed with strong reads), some transfers committed, some checks ran; and the same
// checks fail (exit 1, "VIOLATION") on a planted bug (--testing_break_transfers). append — the
// history has no anomaly under tools/history/append_checker.h (strict serializability), and
// some transactions committed. append --sql — the same check; and it fails when the SQL layer's
// reads in read-write transactions are planted to take no locks (--testing_sql_unlocked_reads).
// tpcb — exit status 0 with --check after the load and after the run (sum of account, teller
// and branch balances and of history deltas all equal) and a positive tps; a second --load is
// refused; and --check fails (exit 1, "VIOLATION") on a planted bug: transactions that insert no
// history row (--testing_skip_history).
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"

namespace meridian::integration {
namespace {

class TxnWorkloadTest : public ClusterFixture {
 protected:
  // The groups of the first two spread prefixes ("0..." and "A..."), as the workload spreads.
  std::vector<uint64_t> WorkloadGroups() {
    absl::StatusOr<Topology> topology = client_->GetTopology();
    EXPECT_TRUE(topology.ok()) << topology.status();
    std::vector<uint64_t> groups;
    if (!topology.ok()) return groups;
    for (const std::string key : {"0", "A", "a"}) {
      for (const RangeInfo& range : topology->ranges) {
        if (range.start <= key && (range.end.empty() || key < range.end)) {
          groups.push_back(range.group);
          break;
        }
      }
    }
    return groups;
  }

  // Runs `command` in a thread while killing and restarting the leaders of `groups` one after
  // the other; returns its exit code and output.
  int RunWithLeaderKills(const std::string& command, const std::vector<uint64_t>& groups,
                         std::string* output) {
    int code = -1;
    std::thread runner([&] { code = RunCommand(command, output); });
    absl::SleepFor(absl::Seconds(2));
    for (const uint64_t group : groups) {
      absl::StatusOr<std::string> leader = cluster_->GroupLeader(group);
      if (!leader.ok()) {
        std::printf("no leader of group %llu to kill: %s\n", static_cast<unsigned long long>(group),
                    leader.status().ToString().c_str());
        absl::SleepFor(absl::Seconds(1));
        continue;
      }
      std::printf("killing %s (leader of group %llu)\n", leader->c_str(),
                  static_cast<unsigned long long>(group));
      EXPECT_TRUE(cluster_->Kill(*leader).ok());
      absl::SleepFor(absl::Seconds(2));
      std::printf("restarting %s\n", leader->c_str());
      EXPECT_TRUE(cluster_->Restart(*leader).ok());
      absl::SleepFor(absl::Seconds(2));
    }
    runner.join();
    return code;
  }

  std::string Placement() { return absl::StrJoin(cluster_->placement_addresses(), ","); }
};

TEST_F(TxnWorkloadTest, BankInvariantHoldsWhileLeadersAreKilled) {
  StartCluster(21700);
  std::vector<uint64_t> groups = WorkloadGroups();
  ASSERT_EQ(groups.size(), 3u);
  groups.resize(2);
  std::string output;
  const int code =
      RunWithLeaderKills(absl::StrCat(MERIDIAN_CLI_PATH, " workload bank --placement=", Placement(),
                                      " --accounts=20 --clients=4 --duration=10 --seed=7"),
                         groups, &output);
  std::printf("%s", output.c_str());
  EXPECT_EQ(code, 0) << "the bank workload failed:\n" << output;
  EXPECT_GT(SummaryCount(output, "transfers committed="), 0) << output;
  EXPECT_GT(SummaryCount(output, "checks ok="), 0) << output;
  EXPECT_EQ(SummaryCount(output, "violations="), 0) << output;
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());

  // The checks catch a planted bug: transfers that credit without debiting.
  std::string broken;
  EXPECT_EQ(RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " workload bank --placement=", Placement(),
                                    " --accounts=20 --clients=2 --duration=2 --seed=8"
                                    " --testing_break_transfers"),
                       &broken),
            1)
      << broken;
  EXPECT_NE(broken.find("VIOLATION: total "), std::string::npos) << broken;
}

TEST_F(TxnWorkloadTest, AppendHistoryIsStrictlySerializableWhileLeadersAreKilled) {
  StartCluster(21800);
  std::vector<uint64_t> groups = WorkloadGroups();
  ASSERT_EQ(groups.size(), 3u);
  groups.erase(groups.begin());
  const std::string history_path = dir_ + "/append-history.jsonl";
  std::string output;
  const int code = RunWithLeaderKills(
      absl::StrCat(MERIDIAN_CLI_PATH, " workload append --placement=", Placement(),
                   " --keys=8 --clients=4 --duration=10 --seed=7 --history=", history_path),
      groups, &output);
  std::printf("%s", output.c_str());
  ASSERT_EQ(code, 0) << "the append workload failed:\n" << output;
  EXPECT_GT(SummaryCount(output, "txns ok="), 0) << output;

  ExpectStrictlySerializable(history_path);
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

// The groups that hold rows of the SQL append workload's table (under sql/append/).
std::vector<uint64_t> SqlAppendGroups(Client& client) {
  std::vector<uint64_t> groups;
  absl::StatusOr<Topology> topology = client.GetTopology();
  EXPECT_TRUE(topology.ok()) << topology.status();
  if (!topology.ok()) return groups;
  for (const RangeInfo& range : topology->ranges) {
    const bool overlaps =
        range.start < "sql/append0" && (range.end.empty() || range.end > "sql/append/");
    if (overlaps && std::find(groups.begin(), groups.end(), range.group) == groups.end()) {
      groups.push_back(range.group);
    }
  }
  return groups;
}

TEST_F(TxnWorkloadTest, SqlAppendHistoryIsStrictlySerializableWhileLeadersAreKilled) {
  StartCluster(21900);
  const std::string command =
      absl::StrCat(MERIDIAN_CLI_PATH, " workload append --sql --placement=", Placement(),
                   " --keys=8 --clients=4 --seed=7");
  // A first short run creates the table and spreads it over three groups.
  std::string setup;
  ASSERT_EQ(
      RunCommand(absl::StrCat(command, " --duration=1 --history=", dir_, "/setup.jsonl"), &setup),
      0)
      << setup;
  std::vector<uint64_t> groups = SqlAppendGroups(*client_);
  ASSERT_EQ(groups.size(), 3u) << setup;
  groups.resize(2);

  const std::string history_path = dir_ + "/sql-append-history.jsonl";
  std::string output;
  const int code = RunWithLeaderKills(
      absl::StrCat(command, " --duration=10 --history=", history_path), groups, &output);
  std::printf("%s", output.c_str());
  ASSERT_EQ(code, 0) << "the append --sql workload failed:\n" << output;
  EXPECT_GT(SummaryCount(output, "txns ok="), 0) << output;
  ExpectStrictlySerializable(history_path);

  // The same check catches reads that take no locks (lost appends).
  const std::string broken_path = dir_ + "/sql-append-broken.jsonl";
  std::string broken;
  ASSERT_EQ(
      RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " workload append --sql --placement=", Placement(),
                              " --keys=2 --clients=4 --seed=8 --duration=4"
                              " --testing_sql_unlocked_reads --history=",
                              broken_path),
                 &broken),
      0)
      << broken;
  absl::StatusOr<history::History> events = history::ReadHistoryFile(broken_path);
  ASSERT_TRUE(events.ok()) << events.status();
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(*events);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf("%s", result->report.c_str());
  EXPECT_FALSE(result->ok) << "unlocked reads went unnoticed:\n" << result->report;
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

TEST_F(TxnWorkloadTest, TpcbBalancesAgreeAfterLoadAndRun) {
  StartCluster(22000);
  const std::string command =
      absl::StrCat(MERIDIAN_CLI_PATH, " workload tpcb --placement=", Placement(),
                   " --scale=1 --accounts_per_branch=2000 --seed=7");
  std::string output;
  const int code =
      RunCommand(absl::StrCat(command, " --load --check --clients=4 --duration=5"), &output);
  std::printf("%s", output.c_str());
  ASSERT_EQ(code, 0) << "the tpcb workload failed:\n" << output;
  EXPECT_GT(SummaryCount(output, "tps="), 0) << output;
  EXPECT_NE(output.find("check: ok"), std::string::npos) << output;

  std::string reload;
  EXPECT_EQ(RunCommand(absl::StrCat(command, " --load"), &reload), 1) << reload;
  EXPECT_NE(reload.find("already holds data"), std::string::npos) << reload;

  // The check catches a planted bug: transactions that write no history row.
  std::string broken;
  EXPECT_EQ(RunCommand(absl::StrCat(command,
                                    " --check --clients=2 --duration=2"
                                    " --testing_skip_history"),
                       &broken),
            1)
      << broken;
  EXPECT_NE(broken.find("VIOLATION: "), std::string::npos) << broken;
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

// A small TPC-C (1 warehouse with a tenth of the spec's items and customers, so the load takes
// seconds): loaded, checked, run for 30 s with every transaction type, checked again; then the
// check shown catching a planted bug (New-Orders that write no NEW-ORDER row).
TEST_F(TxnWorkloadTest, TpccConsistencyHoldsAfterLoadAndRun) {
  StartCluster(22100);
  const std::string command =
      absl::StrCat(MERIDIAN_CLI_PATH, " workload tpcc --placement=", Placement(),
                   " --warehouses=1 --items=10000 --customers=300 --seed=7");
  std::string output;
  const int code =
      RunCommand(absl::StrCat(command, " --load --check --clients=4 --duration=30"), &output);
  std::printf("%s", output.c_str());
  ASSERT_EQ(code, 0) << "the tpcc workload failed:\n" << output;
  EXPECT_EQ(output.find("VIOLATION"), std::string::npos) << output;
  EXPECT_NE(output.find("check (after the load):\ncheck: ok"), std::string::npos) << output;
  EXPECT_NE(output.find("check (after the run):\ncheck: ok"), std::string::npos) << output;
  EXPECT_NE(output.find("closed loop"), std::string::npos) << output;
  EXPECT_GT(SummaryCount(output, "tpmC="), 0) << output;
  for (const char* type : {"new_order", "payment", "order_status", "delivery", "stock_level"}) {
    EXPECT_NE(output.find(absl::StrCat(type, "=")), std::string::npos) << type;
  }

  std::string broken;
  EXPECT_EQ(RunCommand(absl::StrCat(command,
                                    " --check --clients=2 --duration=3"
                                    " --testing_skip_new_order_row"),
                       &broken),
            1)
      << broken;
  EXPECT_NE(broken.find("VIOLATION: warehouse 1: district"), std::string::npos) << broken;
  EXPECT_NE(broken.find("(3.3.2.2)"), std::string::npos) << broken;
  EXPECT_TRUE(cluster_->ReapUnexpected().empty());
}

}  // namespace
}  // namespace meridian::integration
