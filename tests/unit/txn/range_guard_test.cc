// txn::RangeGuard (txn/range_guard.h): the per-key refusals against the server's map and the
// group's ownership, the release fence and when it ends, and the planted bug that serves a key
// whose adoption is not applied.
#include "txn/range_guard.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "txn/ownership.h"

namespace meridian::txn {
namespace {

class RangeGuardTest : public testing::Test {
 protected:
  // The server's map: key -> generation at which it is this group's (absent: another group's).
  RangeGuard::MapGeneration Map() {
    return [this](std::string_view key) -> uint64_t {
      auto it = map_.find(std::string(key));
      return it == map_.end() ? 0 : it->second;
    };
  }
  absl::Status Check(RangeGuard& guard, std::vector<std::string_view> keys, bool locking,
                     int64_t now_us = 100) {
    return guard.CheckKeys(ownership_, now_us, keys, locking);
  }

  std::map<std::string, uint64_t> map_ = {{"a", 1}, {"b", 1}, {"m", 1}};
  Ownership ownership_;
};

TEST_F(RangeGuardTest, KeysTheMapPutsElsewhereAreAStaleMap) {
  RangeGuard guard(7, Map());
  EXPECT_TRUE(Check(guard, {"a", "b"}, true).ok());
  const absl::Status status = Check(guard, {"a", "z"}, false);
  EXPECT_TRUE(IsStaleMap(status)) << status;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(RangeGuardTest, AReleasedRangeIsAStaleMapAndAnUnadoptedOneIsNotAppliedYet) {
  RangeGuard guard(7, Map());
  ownership_.Set("m", Ownership::Claim{"n", 4, false, 10});  // released at generation 4
  EXPECT_TRUE(IsStaleMap(Check(guard, {"m"}, false)));
  map_["a"] = 5;  // the map gave [a, ..) to this group anew: the adoption is not applied here
  const absl::Status behind = Check(guard, {"a"}, false);
  EXPECT_EQ(behind.code(), absl::StatusCode::kUnavailable);
  EXPECT_FALSE(IsStaleMap(behind)) << behind;
  ownership_.Set("a", Ownership::Claim{"b", 5, true, 11});
  EXPECT_TRUE(Check(guard, {"a"}, false).ok());
}

TEST_F(RangeGuardTest, ThePlantServesAKeyWhoseAdoptionIsNotApplied) {
  RangeGuard guard(7, Map(), RangeGuardOptions{.testing_serve_before_adopt = true});
  map_["a"] = 5;
  EXPECT_TRUE(Check(guard, {"a"}, false).ok());
  ownership_.Set("m", Ownership::Claim{"n", 4, false, 10});
  EXPECT_TRUE(IsStaleMap(Check(guard, {"m"}, false)));  // released stays refused
}

TEST_F(RangeGuardTest, AFenceRefusesLockingRequestsUntilItsReleaseOrItsEnd) {
  RangeGuard guard(7, Map());
  guard.Fence(RangeClaim{"a", "c", 2}, /*until_us=*/1'000);
  EXPECT_EQ(Check(guard, {"m", "b"}, true).code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(Check(guard, {"b"}, false).ok());  // snapshot reads pass
  EXPECT_TRUE(Check(guard, {"m"}, true).ok());
  EXPECT_TRUE(Check(guard, {"b"}, true, /*now_us=*/1'001).ok());  // expired

  guard.Fence(RangeClaim{"a", "c", 2}, 1'000'000);
  EXPECT_FALSE(Check(guard, {"b"}, true).ok());
  // The release applied, and the range later came back at generation 3: the fence is over.
  ownership_.Set("a", Ownership::Claim{"c", 3, true, 20});
  map_["b"] = 3;
  EXPECT_TRUE(Check(guard, {"b"}, true).ok());
}

TEST_F(RangeGuardTest, AScanIsServedOnlyWhenOneClaimCoversIt) {
  RangeGuard guard(7, Map());
  EXPECT_TRUE(guard.CheckServed(ownership_, "a", "c").ok());
  ownership_.Set("b", Ownership::Claim{"c", 2, true, 10});  // a split under way
  EXPECT_TRUE(IsStaleMap(guard.CheckServed(ownership_, "a", "c")));
}

}  // namespace
}  // namespace meridian::txn
