// Engine Paxos log and hard state for many groups, atomic mixed batches, and error mapping. Every
// test runs on LevelDB's in-memory env and on disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spanserver/storage/engine.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using ::testing::ElementsAre;
using testing::EnvKind;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::StoreLocation;

class EngineLogTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  EngineLogTest() : location_(GetParam()) { Reopen(); }

  void Reopen() {
    engine_.reset();
    absl::StatusOr<std::unique_ptr<Engine>> engine = location_.Open();
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  void Append(uint64_t group, std::vector<uint64_t> indexes) {
    WriteBatch batch;
    for (uint64_t i : indexes) batch.AppendLog(group, i, "e" + std::to_string(i));
    ASSERT_TRUE(engine_->Write(batch, /*sync=*/true).ok());
  }

  // "1:e1 3:e3" of ReadLog, or the error.
  std::string Log(uint64_t group, uint64_t lo, uint64_t hi,
                  size_t max_bytes = std::numeric_limits<size_t>::max()) {
    absl::StatusOr<std::vector<LogEntry>> got = engine_->ReadLog(group, lo, hi, max_bytes);
    if (!got.ok()) return got.status().ToString();
    std::string out;
    for (const LogEntry& e : *got) {
      out += (out.empty() ? "" : " ") + std::to_string(e.index) + ":" + e.data;
    }
    return out;
  }

  std::string Bounds(uint64_t group) {
    absl::StatusOr<std::optional<uint64_t>> first = engine_->FirstLogIndex(group);
    absl::StatusOr<std::optional<uint64_t>> last = engine_->LastLogIndex(group);
    if (!first.ok() || !last.ok()) return "error";
    auto str = [](std::optional<uint64_t> v) { return v ? std::to_string(*v) : "none"; };
    return str(*first) + ".." + str(*last);
  }

  StoreLocation location_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineLogTest, ReadLogReturnsEntriesWithTheirIndexesAcrossHoles) {
  Append(5, {1, 2, 4, 7});
  EXPECT_EQ(Log(5, 1, 100), "1:e1 2:e2 4:e4 7:e7");
  EXPECT_EQ(Log(5, 3, 7), "4:e4");
  EXPECT_EQ(Log(5, 8, 100), "");
  EXPECT_EQ(Log(5, 7, 7), "");
  EXPECT_EQ(Bounds(5), "1..7");
  absl::StatusOr<std::optional<std::string>> hole = engine_->ReadLogEntry(5, 3);
  ASSERT_TRUE(hole.ok());
  EXPECT_FALSE(hole->has_value());
  absl::StatusOr<std::optional<std::string>> four = engine_->ReadLogEntry(5, 4);
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->value_or(""), "e4");
}

TEST_P(EngineLogTest, ReadLogStopsAtMaxBytesButReturnsAtLeastOneEntry) {
  Append(1, {1, 2, 3, 4});
  EXPECT_EQ(Log(1, 1, 10, 0), "1:e1");
  EXPECT_EQ(Log(1, 1, 10, 4), "1:e1 2:e2");
  EXPECT_EQ(Log(1, 1, 10, 5), "1:e1 2:e2");
  EXPECT_EQ(Log(1, 1, 10, 6), "1:e1 2:e2 3:e3");
}

TEST_P(EngineLogTest, GroupsAreIsolatedIncludingTheLargestId) {
  const uint64_t max_group = ~uint64_t{0};
  Append(1, {1, 2});
  Append(2, {1});
  Append(max_group, {9});
  EXPECT_EQ(Log(1, 0, ~uint64_t{0}), "1:e1 2:e2");
  EXPECT_EQ(Log(2, 0, ~uint64_t{0}), "1:e1");
  EXPECT_EQ(Bounds(3), "none..none");
  EXPECT_EQ(Bounds(max_group), "9..9");
  EXPECT_EQ(Bounds(1), "1..2");
}

TEST_P(EngineLogTest, TruncatePrefixAndSuffix) {
  Append(3, {1, 2, 3, 5, 6, 8});
  Append(4, {1, 2, 3});
  ASSERT_TRUE(engine_->TruncateLogPrefix(3, 3).ok());
  EXPECT_EQ(Log(3, 0, 100), "3:e3 5:e5 6:e6 8:e8");
  ASSERT_TRUE(engine_->TruncateLogSuffix(3, 6).ok());
  EXPECT_EQ(Log(3, 0, 100), "3:e3 5:e5");
  EXPECT_EQ(Bounds(3), "3..5");
  // Neighbouring groups are untouched.
  EXPECT_EQ(Log(4, 0, 100), "1:e1 2:e2 3:e3");
  // Truncating everything leaves an empty log; truncating an empty log is fine.
  ASSERT_TRUE(engine_->TruncateLogSuffix(3, 0).ok());
  EXPECT_EQ(Bounds(3), "none..none");
  EXPECT_TRUE(engine_->TruncateLogPrefix(3, 100).ok());
}

TEST_P(EngineLogTest, TruncationIntoABatchIsAtomicWithNewEntries) {
  Append(1, {1, 2, 3, 4});
  WriteBatch batch;
  ASSERT_TRUE(engine_->TruncateLogSuffix(1, 3, &batch).ok());
  batch.AppendLog(1, 3, "new3");
  batch.SaveHardState(1, "hs");
  EXPECT_EQ(Log(1, 0, 100), "1:e1 2:e2 3:e3 4:e4");  // nothing until written
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  EXPECT_EQ(Log(1, 0, 100), "1:e1 2:e2 3:new3");
}

TEST_P(EngineLogTest, HardStateIsPerGroupAndSurvivesReopen) {
  absl::StatusOr<std::optional<std::string>> none = engine_->LoadHardState(9);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  WriteBatch batch;
  batch.SaveHardState(9, "first");
  batch.SaveHardState(9, "second");
  batch.SaveHardState(10, std::string("\0bin", 4));
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  Reopen();
  EXPECT_EQ(engine_->LoadHardState(9)->value_or(""), "second");
  EXPECT_EQ(engine_->LoadHardState(10)->value_or(""), std::string("\0bin", 4));
}

TEST_P(EngineLogTest, ReplicaMarkersArePerGroupApartFromLogsAndSurviveReopen) {
  absl::StatusOr<std::optional<std::string>> none = engine_->LoadReplicaMarker(4);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  WriteBatch batch;
  batch.SaveReplicaMarker(4, "marker-4");
  batch.SaveReplicaMarker(~uint64_t{0}, "marker-max");
  batch.SaveHardState(5, "hs");
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  Reopen();
  EXPECT_EQ(engine_->LoadReplicaMarker(4)->value_or(""), "marker-4");
  EXPECT_FALSE(engine_->LoadReplicaMarker(5)->has_value());
  EXPECT_THAT(*engine_->ListMarkedGroups(), ElementsAre(4, ~uint64_t{0}));
  // A marker alone is not Paxos state: recovery lists only groups with a log or hard state.
  EXPECT_THAT(*engine_->ListGroups(), ElementsAre(5));
}

TEST_P(EngineLogTest, ListGroupsFindsGroupsWithALogOrAHardState) {
  absl::StatusOr<std::vector<uint64_t>> groups = engine_->ListGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_THAT(*groups, IsEmpty());
  Append(7, {1, 2, 3});
  Append(3, {10});
  WriteBatch batch;
  batch.SaveHardState(3, "hs");
  batch.SaveHardState(12, "hs");
  batch.SaveHardState(~uint64_t{0}, "hs");
  batch.Put(99, "data", 1, "not a group");
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  Reopen();
  groups = engine_->ListGroups();
  ASSERT_TRUE(groups.ok());
  EXPECT_THAT(*groups, ElementsAre(3, 7, 12, ~uint64_t{0}));
}

TEST_P(EngineLogTest, MixedBatchAppliesAllOrNothingAndLaterWritesWin) {
  WriteBatch batch;
  batch.Put(1, "k", 10, "v1");
  batch.Put(1, "k", 10, "v2");
  batch.AppendLog(2, 1, "entry");
  batch.SaveHardState(2, "hs");
  batch.Delete(1, "x", 10);
  EXPECT_EQ(batch.Count(), 5u);
  WriteBatch other;
  other.AppendLog(2, 2, "entry2");
  batch.Append(other);
  EXPECT_EQ(batch.Count(), 6u);
  EXPECT_GT(batch.ApproximateBytes(), 0u);
  // Nothing is visible before Write.
  EXPECT_FALSE(engine_->Get(1, "k", 10)->has_value());
  ASSERT_TRUE(engine_->Write(batch, false).ok());
  EXPECT_EQ(engine_->Get(1, "k", 10)->value_or(""), "v2");
  EXPECT_EQ(Log(2, 0, 10), "1:entry 2:entry2");
  EXPECT_EQ(engine_->LoadHardState(2)->value_or(""), "hs");
}

TEST_P(EngineLogTest, MovedFromBatchIsEmptyAndReusable) {
  WriteBatch a;
  a.AppendLog(1, 1, "x");
  WriteBatch b = std::move(a);
  EXPECT_EQ(b.Count(), 1u);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  ASSERT_TRUE(engine_->Write(a, true).ok());
  a.AppendLog(1, 2, "y");
  ASSERT_TRUE(engine_->Write(a, true).ok());
  ASSERT_TRUE(engine_->Write(b, true).ok());
  EXPECT_EQ(Log(1, 0, 10), "1:x 2:y");
}

INSTANTIATE_TEST_SUITE_P(Envs, EngineLogTest, ::testing::Values(EnvKind::kMemory, EnvKind::kDisk),
                         [](const auto& info) { return testing::EnvKindName(info.param); });

TEST(EngineOpenTest, MissingStoreWithoutCreateIsAnErrorWithLevelDbsMessage) {
  StoreLocation location(EnvKind::kMemory);
  EngineOptions options;
  options.env = location.base_env();
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location.path(), options);
  ASSERT_FALSE(engine.ok());
  EXPECT_THAT(engine.status().message(), HasSubstr("leveldb: "));
  EXPECT_THAT(engine.status().message(), HasSubstr(location.path()));
}

TEST(EngineOpenTest, SecondOpenOfALockedStoreIsUnavailable) {
  StoreLocation location(EnvKind::kDisk);
  absl::StatusOr<std::unique_ptr<Engine>> first = location.Open();
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::unique_ptr<Engine>> second = location.Open();
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable) << second.status();
}

TEST(EngineOpenTest, ErrorIfExists) {
  StoreLocation location(EnvKind::kMemory);
  ASSERT_TRUE(location.Open().ok());
  EngineOptions options;
  options.env = location.base_env();
  options.error_if_exists = true;
  EXPECT_EQ(Engine::Open(location.path(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian::storage
