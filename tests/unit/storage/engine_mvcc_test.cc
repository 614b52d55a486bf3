// Engine MVCC: versions, tombstones, snapshot reads, scans, tablet isolation, GC and its horizon.
// Every test runs on LevelDB's in-memory env and on disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spanserver/storage/engine.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using ::testing::ElementsAre;
using testing::EnvKind;
using ::testing::HasSubstr;
using testing::StoreLocation;

class EngineMvccTest : public ::testing::TestWithParam<EnvKind> {
 protected:
  EngineMvccTest() : location_(GetParam()) { Reopen(); }

  void Reopen() {
    engine_.reset();
    absl::StatusOr<std::unique_ptr<Engine>> engine = location_.Open();
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  // "value", "<none>" or the error, for compact expectations.
  std::string Read(uint64_t tablet, std::string_view key, Timestamp ts) {
    absl::StatusOr<std::optional<std::string>> got = engine_->Get(tablet, key, ts);
    if (!got.ok()) return got.status().ToString();
    return got->has_value() ? **got : "<none>";
  }

  // "k=v k=v ..." of a scan, or the error.
  std::string ScanString(uint64_t tablet, std::string_view start, std::string_view end,
                         Timestamp ts, size_t limit = 0) {
    absl::StatusOr<std::vector<KeyValue>> got = engine_->Scan(tablet, start, end, ts, limit);
    if (!got.ok()) return got.status().ToString();
    std::string out;
    for (const KeyValue& kv : *got) out += (out.empty() ? "" : " ") + kv.key + "=" + kv.value;
    return out;
  }

  void Put(uint64_t tablet, std::string_view key, Timestamp ts, std::string_view value) {
    ASSERT_TRUE(engine_->Put(tablet, key, ts, value).ok());
  }
  void Delete(uint64_t tablet, std::string_view key, Timestamp ts) {
    ASSERT_TRUE(engine_->Delete(tablet, key, ts).ok());
  }

  StoreLocation location_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineMvccTest, GetReturnsNewestVersionAtOrBelowReadTimestamp) {
  Put(1, "k", 10, "v10");
  Put(1, "k", 20, "v20");
  Put(1, "k", 30, "v30");
  EXPECT_EQ(Read(1, "k", 9), "<none>");
  EXPECT_EQ(Read(1, "k", 10), "v10");
  EXPECT_EQ(Read(1, "k", 19), "v10");
  EXPECT_EQ(Read(1, "k", 20), "v20");
  EXPECT_EQ(Read(1, "k", 1000), "v30");
  EXPECT_EQ(Read(1, "other", 1000), "<none>");
}

TEST_P(EngineMvccTest, VersionsWrittenOutOfOrderAreOrderedByTimestamp) {
  Put(1, "k", 30, "v30");
  Put(1, "k", 10, "v10");
  EXPECT_EQ(Read(1, "k", 15), "v10");
  EXPECT_EQ(Read(1, "k", 35), "v30");
}

TEST_P(EngineMvccTest, TombstoneHidesOlderVersionsOnlyFromItsTimestamp) {
  Put(1, "k", 10, "v10");
  Delete(1, "k", 20);
  Put(1, "k", 30, "v30");
  EXPECT_EQ(Read(1, "k", 15), "v10");
  EXPECT_EQ(Read(1, "k", 20), "<none>");
  EXPECT_EQ(Read(1, "k", 25), "<none>");
  EXPECT_EQ(Read(1, "k", 30), "v30");
}

TEST_P(EngineMvccTest, KeysWithZeroBytesAndPrefixesAreDistinct) {
  const std::string a0("a\0", 2);
  Put(1, "a", 10, "plain");
  Put(1, a0, 10, "zero");
  Put(1, "ab", 10, "ab");
  Put(1, "", 10, "empty");
  EXPECT_EQ(Read(1, "a", 10), "plain");
  EXPECT_EQ(Read(1, a0, 10), "zero");
  EXPECT_EQ(Read(1, "", 10), "empty");
  absl::StatusOr<std::vector<KeyValue>> all = engine_->Scan(1, "", "", 10);
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(*all, ElementsAre(KeyValue{"", "empty"}, KeyValue{"a", "plain"}, KeyValue{a0, "zero"},
                                KeyValue{"ab", "ab"}));
}

TEST_P(EngineMvccTest, ScanReturnsEachVisibleKeyOnceInOrder) {
  Put(1, "a", 10, "a10");
  Put(1, "a", 20, "a20");
  Put(1, "b", 30, "b30");
  Put(1, "c", 10, "c10");
  Delete(1, "c", 15);
  Put(1, "d", 5, "d5");
  EXPECT_EQ(ScanString(1, "", "", 9), "d=d5");
  EXPECT_EQ(ScanString(1, "", "", 12), "a=a10 c=c10 d=d5");
  EXPECT_EQ(ScanString(1, "", "", 20), "a=a20 d=d5");
  EXPECT_EQ(ScanString(1, "", "", 100), "a=a20 b=b30 d=d5");
}

TEST_P(EngineMvccTest, ScanHonoursBoundsAndLimit) {
  for (char c = 'a'; c <= 'j'; ++c) Put(1, std::string(1, c), 10, std::string(1, c));
  EXPECT_EQ(ScanString(1, "c", "f", 10), "c=c d=d e=e");
  EXPECT_EQ(ScanString(1, "c", "", 10), "c=c d=d e=e f=f g=g h=h i=i j=j");
  EXPECT_EQ(ScanString(1, "bb", "cc", 10), "c=c");
  EXPECT_EQ(ScanString(1, "", "", 10, 3), "a=a b=b c=c");
  EXPECT_EQ(ScanString(1, std::string("c\0", 2), "", 10, 2), "d=d e=e");
  EXPECT_EQ(ScanString(1, "f", "f", 10), "");
  EXPECT_EQ(ScanString(1, "x", "", 10), "");
}

TEST_P(EngineMvccTest, TabletsAreIsolated) {
  Put(1, "k", 10, "one");
  Put(2, "k", 10, "two");
  Put(3, "z", 10, "three");
  Delete(2, "k", 20);
  EXPECT_EQ(Read(1, "k", 30), "one");
  EXPECT_EQ(Read(2, "k", 30), "<none>");
  EXPECT_EQ(ScanString(1, "", "", 30), "k=one");
  EXPECT_EQ(ScanString(2, "", "", 30), "");
  EXPECT_EQ(ScanString(3, "", "", 30), "z=three");
  EXPECT_EQ(ScanString(4, "", "", 30), "");
  ASSERT_TRUE(engine_->CollectGarbage(2, 25).ok());
  EXPECT_EQ(Read(1, "k", 10), "one");
}

TEST_P(EngineMvccTest, DataSurvivesReopen) {
  Put(1, "k", 10, "v");
  Delete(1, "gone", 10);
  Reopen();
  EXPECT_EQ(Read(1, "k", 10), "v");
  EXPECT_EQ(ScanString(1, "", "", 10), "k=v");
}

TEST_P(EngineMvccTest, GarbageCollectionKeepsWhatReadsAtOrAboveHorizonSee) {
  Put(1, "a", 10, "a10");
  Put(1, "a", 20, "a20");
  Put(1, "a", 40, "a40");
  Put(1, "b", 10, "b10");
  Delete(1, "b", 20);
  Put(1, "c", 10, "c10");
  Delete(1, "c", 40);
  Put(1, "d", 35, "d35");
  absl::StatusOr<uint64_t> removed = engine_->CollectGarbage(1, 30);
  ASSERT_TRUE(removed.ok()) << removed.status();
  // a10 (shadowed by a20), b10 and b's tombstone; c10 stays (c's tombstone is above the horizon).
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(engine_->GcHorizon(1), 30);
  EXPECT_EQ(Read(1, "a", 30), "a20");
  EXPECT_EQ(Read(1, "a", 40), "a40");
  EXPECT_EQ(Read(1, "b", 30), "<none>");
  EXPECT_EQ(Read(1, "c", 30), "c10");
  EXPECT_EQ(Read(1, "c", 40), "<none>");
  EXPECT_EQ(Read(1, "d", 30), "<none>");
  EXPECT_EQ(ScanString(1, "", "", 30), "a=a20 c=c10");
  EXPECT_EQ(ScanString(1, "", "", 40), "a=a40 d=d35");
  // A second pass at the same horizon finds nothing more.
  removed = engine_->CollectGarbage(1, 30);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 0u);
}

TEST_P(EngineMvccTest, ReadsBelowHorizonFailInsteadOfReturningWrongData) {
  Put(7, "a", 10, "a10");
  Put(7, "a", 20, "a20");
  ASSERT_TRUE(engine_->CollectGarbage(7, 25).ok());
  absl::StatusOr<std::optional<std::string>> got = engine_->Get(7, "a", 15);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(
      got.status().message(),
      HasSubstr("read timestamp 15 is below the garbage-collection horizon 25 of tablet 7"));
  absl::StatusOr<std::vector<KeyValue>> scanned = engine_->Scan(7, "", "", 24);
  EXPECT_EQ(scanned.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Read(7, "a", 25), "a20");
  // Other tablets keep their own horizon.
  EXPECT_EQ(engine_->GcHorizon(8), truetime::kMinTimestamp);
  EXPECT_TRUE(engine_->Get(8, "a", 15).ok());
}

TEST_P(EngineMvccTest, HorizonIsDurableAndNeverMovesDown) {
  Put(1, "a", 10, "a10");
  ASSERT_TRUE(engine_->CollectGarbage(1, 50).ok());
  ASSERT_TRUE(engine_->CollectGarbage(1, 20).ok());
  EXPECT_EQ(engine_->GcHorizon(1), 50);
  Reopen();
  EXPECT_EQ(engine_->GcHorizon(1), 50);
  EXPECT_EQ(engine_->Get(1, "a", 49).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Read(1, "a", 50), "a10");
}

TEST_P(EngineMvccTest, GarbageCollectionOfManyKeysWritesInChunks) {
  WriteBatch batch;
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "key" + std::to_string(i);
    batch.Put(1, key, 10, "old");
    batch.Put(1, key, 20, "new");
  }
  ASSERT_TRUE(engine_->Write(batch, false).ok());
  absl::StatusOr<uint64_t> removed = engine_->CollectGarbage(1, 20);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 3000u);
  absl::StatusOr<std::vector<KeyValue>> all = engine_->Scan(1, "", "", 20);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3000u);
}

INSTANTIATE_TEST_SUITE_P(Envs, EngineMvccTest, ::testing::Values(EnvKind::kMemory, EnvKind::kDisk),
                         [](const auto& info) { return testing::EnvKindName(info.param); });

}  // namespace
}  // namespace meridian::storage
