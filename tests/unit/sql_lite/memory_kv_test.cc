#include "sql_lite/memory_kv.h"

#include "gtest/gtest.h"

namespace meridian::sql {
namespace {

MemoryKvOptions ManualClock(int64_t* now) {
  MemoryKvOptions options;
  options.now_us = [now] { return *now; };
  return options;
}

// Commits "k" = v; the commit timestamp.
absl::StatusOr<int64_t> PutK(MemoryKv& kv, std::string v) {
  return kv.RunTransaction([v](KvTransaction& txn) {
    txn.Put("k", v);
    return absl::OkStatus();
  });
}

TEST(MemoryKvTest, SnapshotsReadTheirTimestamp) {
  int64_t now = 100;
  MemoryKv kv(ManualClock(&now));
  auto put = [&](std::string v) { return PutK(kv, std::move(v)); };
  ASSERT_EQ(*put("one"), 100);
  now = 200;
  ASSERT_EQ(*put("two"), 200);
  for (auto [ts, want] : std::vector<std::pair<int64_t, std::optional<std::string>>>{
           {50, std::nullopt}, {150, "one"}, {250, "two"}}) {
    std::optional<std::string> got;
    ASSERT_TRUE(kv.RunReadOnly(ReadBound::Exact(ts), [&](KvSnapshot& s) {
                    got = *s.Get("k");
                    return absl::OkStatus();
                  }).ok());
    EXPECT_EQ(got, want) << ts;
  }
  // A snapshot read at 250 pins it: the next commit goes above it.
  EXPECT_GT(*put("three"), 250);
  now = 1000;
  std::optional<std::string> stale;
  ASSERT_TRUE(kv.RunReadOnly(ReadBound::MaxStaleness(850), [&](KvSnapshot& s) {
                  EXPECT_EQ(s.read_timestamp(), 150);
                  stale = *s.Get("k");
                  return absl::OkStatus();
                }).ok());
  EXPECT_EQ(stale, "one");
  kv.SetGcHorizon(180);
  EXPECT_TRUE(absl::IsFailedPrecondition(kv.RunReadOnly(ReadBound::Exact(150), [](KvSnapshot&) {
                                             return absl::OkStatus();
                                           }).status()));
}

// A snapshot at a future timestamp moves the store's time there, as waiting for TrueTime to pass
// it does on a cluster: what it read stays the truth at that timestamp.
TEST(MemoryKvTest, AFutureSnapshotMovesTimeForward) {
  int64_t now = 100;
  MemoryKv kv(ManualClock(&now));
  auto put = [&](std::string v) { return PutK(kv, std::move(v)); };
  ASSERT_EQ(*put("one"), 100);
  ASSERT_EQ(*kv.RunReadOnly(ReadBound::Exact(5000),
                            [](KvSnapshot& s) {
                              EXPECT_EQ(*s.Get("k"), "one");
                              return absl::OkStatus();
                            }),
            5000);
  EXPECT_EQ(*put("two"), 5001);  // the clock still says 100
  int64_t strong = 0;
  ASSERT_TRUE(kv.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& s) {
                  strong = s.read_timestamp();
                  EXPECT_EQ(*s.Get("k"), "two");
                  return absl::OkStatus();
                }).ok());
  EXPECT_EQ(strong, 5001);
  // Staleness counts back from the store's time, not from the clock behind it.
  ASSERT_TRUE(kv.RunReadOnly(ReadBound::MaxStaleness(0), [&](KvSnapshot& s) {
                  EXPECT_EQ(s.read_timestamp(), 5001);
                  return absl::OkStatus();
                }).ok());
  ASSERT_TRUE(kv.RunReadOnly(ReadBound::Exact(5000), [&](KvSnapshot& s) {
                  EXPECT_EQ(*s.Get("k"), "one");
                  return absl::OkStatus();
                }).ok());
}

TEST(MemoryKvTest, AbortedAttemptsRunAgainAndDropTheirWrites) {
  MemoryKv kv;
  kv.InjectAborts(2);
  int calls = 0;
  ASSERT_TRUE(kv.RunTransaction([&](KvTransaction& txn) {
                  ++calls;
                  txn.Put("attempt", std::to_string(calls));
                  return absl::OkStatus();
                }).ok());
  EXPECT_EQ(calls, 3);
  ASSERT_EQ(kv.Dump().size(), 1u);
  EXPECT_EQ(kv.Dump()[0].value, "3");
  // An error from fn is returned at once and writes nothing.
  EXPECT_TRUE(absl::IsNotFound(kv.RunTransaction([](KvTransaction& txn) {
                                   txn.Put("x", "y");
                                   return absl::NotFoundError("no");
                                 }).status()));
  EXPECT_EQ(kv.Dump().size(), 1u);
}

TEST(MemoryKvTest, ScansAreOrderedBoundedAndLimited) {
  MemoryKv kv;
  ASSERT_TRUE(kv.RunTransaction([](KvTransaction& txn) {
                  for (const char* k : {"b", "a", "d", "c"}) txn.Put(k, k);
                  return absl::OkStatus();
                }).ok());
  ASSERT_TRUE(kv.RunReadOnly(ReadBound::Strong(), [](KvSnapshot& s) {
                  auto all = *s.Scan("", "", 0);
                  EXPECT_EQ(all.size(), 4u);
                  EXPECT_EQ(all[0].key, "a");
                  auto some = *s.Scan("b", "d", 0);
                  EXPECT_EQ(some.size(), 2u);
                  EXPECT_EQ(s.Scan("a", "", 3)->size(), 3u);
                  return absl::OkStatus();
                }).ok());
}

}  // namespace
}  // namespace meridian::sql
