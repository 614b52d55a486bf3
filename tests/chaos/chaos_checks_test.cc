// The chaos suite's pure checks (chaos_checks.h), each shown to catch a planted bug, and the
// history checker shown to judge the final read that the suite adds to a history.
#include "tests/chaos/chaos_checks.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"

namespace meridian::chaos {
namespace {

using history::Append;
using history::Read;

// Process 0 appends 1 then 2 to "0append/k0" (both ok); process 1 appends 3 (fail) and 4 (info);
// process 2 reads [1 2].
history::History SmallHistory() {
  history::HistoryBuilder b;
  EXPECT_TRUE(b.Invoke(0, 10, {Append("0append/k0", 1)}).ok());
  EXPECT_TRUE(b.Ok(0, 20, {Append("0append/k0", 1)}).ok());
  EXPECT_TRUE(b.Invoke(0, 30, {Append("0append/k0", 2)}).ok());
  EXPECT_TRUE(b.Ok(0, 40, {Append("0append/k0", 2)}).ok());
  EXPECT_TRUE(b.Invoke(1, 50, {Append("0append/k0", 3)}).ok());
  EXPECT_TRUE(b.Fail(1, 60).ok());
  EXPECT_TRUE(b.Invoke(1, 70, {Append("1append/k1", 4)}).ok());
  EXPECT_TRUE(b.Info(1, 80).ok());
  EXPECT_TRUE(b.Invoke(2, 90, {Read("0append/k0")}).ok());
  EXPECT_TRUE(b.Ok(2, 100, {Read("0append/k0", {1, 2})}).ok());
  return std::move(b).Take();
}

bool Checks(history::History events) {
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(events);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && result->ok;
}

TEST(ChaosChecksTest, ParsesListsAsTheWorkloadStoresThem) {
  EXPECT_EQ(ParseAppendList(""), std::vector<int64_t>{});
  EXPECT_EQ(ParseAppendList(",7,8"), (std::vector<int64_t>{7, 8}));
  EXPECT_EQ(ParseAppendList("7,x"), std::nullopt);
  absl::StatusOr<FinalLists> lists =
      AppendListsFromRows({{"0append/k0", "1,2"}, {"0bank/acct/0000", "100"}});
  ASSERT_TRUE(lists.ok());
  EXPECT_EQ(lists->size(), 1u);
  EXPECT_FALSE(AppendListsFromRows({{"0append/k0", "1;2"}}).ok());
}

TEST(ChaosChecksTest, NothingLostWhenEveryAcknowledgedAppendIsRead) {
  // 4's outcome was unknown: it may be there or not.
  EXPECT_TRUE(FindLostAppends(SmallHistory(), {{"0append/k0", {1, 2}}}).empty());
  EXPECT_TRUE(
      FindLostAppends(SmallHistory(), {{"0append/k0", {1, 2}}, {"1append/k1", {4}}}).empty());
}

TEST(ChaosChecksTest, PlantedLostAppendIsCaught) {
  FinalLists lists = {{"0append/k0", {1, 2}}};
  const std::string planted = PlantLoseAcknowledgedAppend(SmallHistory(), &lists);
  EXPECT_TRUE(absl::StrContains(planted, "value 2")) << planted;
  const std::vector<std::string> lost = FindLostAppends(SmallHistory(), lists);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_TRUE(absl::StrContains(lost[0], "value 2 was appended by process 0")) << lost[0];
  // A missing key is an empty list: both acknowledged appends are lost.
  EXPECT_EQ(FindLostAppends(SmallHistory(), {}).size(), 2u);
}

TEST(ChaosChecksTest, TheHistoryCheckerJudgesTheAddedFinalRead) {
  history::History clean = SmallHistory();
  AppendFinalRead({{"0append/k0", {1, 2}}}, 200, 210, &clean);
  ASSERT_TRUE(history::ValidateHistory(clean).ok());
  EXPECT_TRUE(Checks(clean));

  FinalLists reordered = {{"0append/k0", {1, 2}}};
  EXPECT_FALSE(PlantReorderFinalRead(&reordered).empty());
  history::History bad = SmallHistory();
  AppendFinalRead(reordered, 200, 210, &bad);
  EXPECT_FALSE(Checks(bad)) << "a final read of [2 1] after a read of [1 2] must be an anomaly";

  // The failed append showing up in the final state is an aborted read (G1a).
  history::History aborted = SmallHistory();
  AppendFinalRead({{"0append/k0", {1, 2, 3}}}, 200, 210, &aborted);
  EXPECT_FALSE(Checks(aborted));
}

TEST(ChaosChecksTest, BankTotalHoldsAndPlantedLossesAreCaught) {
  const Rows good = {{"0bank/acct/0000", "150"}, {"1bank/acct/0001", "50"}, {"0append/k0", "1"}};
  EXPECT_EQ(CheckBankRows(good, 2), "");
  // A transfer that credited without debiting (workload bank --testing_break_transfers).
  EXPECT_NE(CheckBankRows({{"0bank/acct/0000", "150"}, {"1bank/acct/0001", "100"}}, 2), "");
  EXPECT_NE(CheckBankRows({{"0bank/acct/0000", "200"}}, 2), "") << "a lost account";
  EXPECT_NE(CheckBankRows({{"0bank/acct/0000", "250"}, {"1bank/acct/0001", "-50"}}, 2), "");
  EXPECT_NE(CheckBankRows({{"0bank/acct/0000", "x"}, {"1bank/acct/0001", "100"}}, 2), "");
}

}  // namespace
}  // namespace meridian::chaos
