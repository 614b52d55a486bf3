// The on-disk format: keys sort as format.h promises, and every encoding parses back.
#include "spanserver/storage/format.h"

#include <gtest/gtest.h>

#include <limits>

namespace meridian::storage::format {
namespace {

TEST(FormatTest, VersionsOfOneKeySortNewestFirst) {
  EXPECT_LT(DataKey(1, "k", 30), DataKey(1, "k", 20));
  EXPECT_LT(DataKey(1, "k", 0), DataKey(1, "k", -1));
  EXPECT_LT(DataKey(1, "k", std::numeric_limits<int64_t>::max()),
            DataKey(1, "k", std::numeric_limits<int64_t>::min()));
}

TEST(FormatTest, KeysSortByTabletThenUserKeyThenVersion) {
  // "a" < "a\0" < "ab" must hold whatever the timestamps are: bytes() is prefix-free.
  EXPECT_LT(DataKey(1, "a", -100), DataKey(1, std::string("a\0", 2), 100));
  EXPECT_LT(DataKey(1, std::string("a\0", 2), -100), DataKey(1, "ab", 100));
  EXPECT_LT(DataKey(1, "zzz", -100), DataKey(2, "", 100));
  EXPECT_LT(DataKey(1, "", 5), UserKeyPrefix(1, "a"));
}

TEST(FormatTest, SpacesDoNotInterleave) {
  EXPECT_LT(DataKey(~uint64_t{0}, "\xff\xff", 0), HorizonKey(0));
  EXPECT_LT(HorizonKey(~uint64_t{0}), HardStateKey(0));
  EXPECT_LT(HardStateKey(~uint64_t{0}), LogKey(0, 0));
}

TEST(FormatTest, LogKeysSortByGroupThenIndex) {
  EXPECT_LT(LogKey(1, 2), LogKey(1, 10));
  EXPECT_LT(LogKey(1, ~uint64_t{0}), LogKey(2, 0));
}

TEST(FormatTest, DataKeyRoundTrips) {
  const std::string user_key("a\0b\xff", 4);
  DataKeyParts parts;
  ASSERT_TRUE(ParseDataKey(DataKey(7, user_key, -42), &parts).ok());
  EXPECT_EQ(parts.tablet, 7u);
  EXPECT_EQ(parts.user_key, user_key);
  EXPECT_EQ(parts.ts, -42);
}

TEST(FormatTest, OtherKeysAndValuesRoundTrip) {
  uint64_t group = 0, index = 0, tablet = 0;
  ASSERT_TRUE(ParseLogKey(LogKey(3, 99), &group, &index).ok());
  EXPECT_EQ(group, 3u);
  EXPECT_EQ(index, 99u);
  ASSERT_TRUE(ParseHardStateKey(HardStateKey(5), &group).ok());
  EXPECT_EQ(group, 5u);
  ASSERT_TRUE(ParseHorizonKey(HorizonKey(6), &tablet).ok());
  EXPECT_EQ(tablet, 6u);
  truetime::Timestamp horizon = 0;
  ASSERT_TRUE(ParseHorizonValue(HorizonValue(-7), &horizon).ok());
  EXPECT_EQ(horizon, -7);

  bool tombstone = true;
  std::string_view value;
  const std::string put = PutValue(std::string("v\0", 2));
  ASSERT_TRUE(ParseDataValue(put, &tombstone, &value).ok());
  EXPECT_FALSE(tombstone);
  EXPECT_EQ(value, std::string_view("v\0", 2));
  ASSERT_TRUE(ParseDataValue(TombstoneValue(), &tombstone, &value).ok());
  EXPECT_TRUE(tombstone);
}

TEST(FormatTest, MalformedInputIsDataLoss) {
  DataKeyParts parts;
  EXPECT_EQ(ParseDataKey(LogKey(1, 1), &parts).code(), absl::StatusCode::kDataLoss);
  std::string truncated = DataKey(1, "k", 5);
  truncated.pop_back();
  EXPECT_EQ(ParseDataKey(truncated, &parts).code(), absl::StatusCode::kDataLoss);
  bool tombstone = false;
  std::string_view value;
  EXPECT_EQ(ParseDataValue("", &tombstone, &value).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseDataValue("\x02x", &tombstone, &value).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ParseDataValue("\x07", &tombstone, &value).code(), absl::StatusCode::kDataLoss);
  uint64_t group = 0, index = 0;
  EXPECT_EQ(ParseLogKey(HardStateKey(1), &group, &index).code(), absl::StatusCode::kDataLoss);
  truetime::Timestamp horizon = 0;
  EXPECT_EQ(ParseHorizonValue("abc", &horizon).code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace meridian::storage::format
