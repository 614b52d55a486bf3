#include "client/src/location_cache.h"

#include <string>

#include "gtest/gtest.h"

namespace meridian::client {
namespace {

Location Loc(std::string start, std::string end, uint64_t group, uint64_t generation,
             std::string leader = "") {
  return Location{std::move(start), std::move(end),        group,
                  generation,       {"a:1", "b:1", "c:1"}, std::move(leader)};
}

// Three ranges covering the key space: ["", "g") -> 1, ["g", "p") -> 2, ["p", inf) -> 3.
LocationCache Covering() {
  LocationCache cache;
  cache.ReplaceAll({Loc("", "g", 1, 1, "a:1"), Loc("g", "p", 2, 1, "b:1"), Loc("p", "", 3, 1)});
  return cache;
}

TEST(LocationCacheTest, EmptyCacheMisses) {
  LocationCache cache;
  EXPECT_FALSE(cache.Lookup("").has_value());
  EXPECT_FALSE(cache.Lookup("k").has_value());
}

TEST(LocationCacheTest, FindsTheRangeHoldingEachKey) {
  const LocationCache cache = Covering();
  EXPECT_EQ(cache.Lookup("")->group, 1u);
  EXPECT_EQ(cache.Lookup("a")->group, 1u);
  EXPECT_EQ(cache.Lookup("f\xff")->group, 1u);
  EXPECT_EQ(cache.Lookup("g")->group, 2u);  // start is inclusive
  EXPECT_EQ(cache.Lookup("o")->group, 2u);
  EXPECT_EQ(cache.Lookup("p")->group, 3u);  // end is exclusive
  EXPECT_EQ(cache.Lookup("\xff\xff\xff")->group, 3u);
  const Location g = *cache.Lookup("h");
  EXPECT_EQ(g.start, "g");
  EXPECT_EQ(g.end, "p");
  EXPECT_EQ(g.leader_address, "b:1");
  EXPECT_EQ(g.replica_addresses.size(), 3u);
}

TEST(LocationCacheTest, KeysInAHoleMiss) {
  LocationCache cache;
  cache.Update(Loc("g", "p", 2, 1));
  EXPECT_FALSE(cache.Lookup("a").has_value());
  EXPECT_FALSE(cache.Lookup("p").has_value());
  EXPECT_TRUE(cache.Lookup("g").has_value());
}

TEST(LocationCacheTest, InvalidateDropsOnlyThatRange) {
  LocationCache cache = Covering();
  cache.Invalidate("h");
  EXPECT_FALSE(cache.Lookup("h").has_value());
  EXPECT_FALSE(cache.Lookup("g").has_value());
  EXPECT_TRUE(cache.Lookup("a").has_value());
  EXPECT_TRUE(cache.Lookup("p").has_value());
  EXPECT_EQ(cache.range_count(), 2u);
  cache.Invalidate("h");  // a miss: no-op
  EXPECT_EQ(cache.range_count(), 2u);
}

TEST(LocationCacheTest, AnUpdateReplacesEveryRangeItOverlaps) {
  LocationCache cache = Covering();
  // A merge of the first two ranges into group 4.
  cache.Update(Loc("", "p", 4, 2));
  EXPECT_EQ(cache.DebugString(),
            "[, p) g=4 gen=2 leader= replicas=a:1,b:1,c:1\n"
            "[p, ) g=3 gen=1 leader= replicas=a:1,b:1,c:1\n");
  // A split of the last range.
  cache.Update(Loc("t", "", 5, 3));
  EXPECT_EQ(cache.Lookup("q").has_value(), false);
  EXPECT_EQ(cache.Lookup("u")->group, 5u);
  EXPECT_EQ(cache.range_count(), 2u);
}

TEST(LocationCacheTest, AnOlderGenerationDoesNotReplaceANewerOne) {
  LocationCache cache;
  cache.Update(Loc("g", "p", 2, 5));
  cache.Update(Loc("a", "h", 1, 4));  // a late answer overlapping the newer range
  EXPECT_EQ(cache.Lookup("g")->generation, 5u);
  EXPECT_FALSE(cache.Lookup("b").has_value());
}

TEST(LocationCacheTest, LeaderHintsAndForgetting) {
  LocationCache cache = Covering();
  cache.SetLeader(2, "c:1");
  EXPECT_EQ(cache.Lookup("h")->leader_address, "c:1");
  cache.ForgetLeader(2, "b:1");  // not the current leader: kept
  EXPECT_EQ(cache.Lookup("h")->leader_address, "c:1");
  cache.ForgetLeader(2, "c:1");
  EXPECT_EQ(cache.Lookup("h")->leader_address, "");
  cache.SetLeader(99, "x:1");  // unknown group: no-op
  EXPECT_EQ(cache.range_count(), 3u);
}

}  // namespace
}  // namespace meridian::client
