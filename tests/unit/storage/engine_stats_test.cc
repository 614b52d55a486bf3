// Engine::MeasureRange: approximate range sizes and split points (engine_stats.cc), on a real
// LevelDB on disk with a small memtable so that the data lands in tables.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "spanserver/storage/engine.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

std::string Key(int i) { return absl::StrFormat("k%05d", i); }

class EngineStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.write_buffer_size = 64 << 10;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location_.path(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    // 4 MiB in tablet 7 (keys k00000..k04095, 1 KiB each, incompressible), a little in 8.
    Random random(7);
    for (int i = 0; i < 4096; ++i)
      ASSERT_TRUE(engine_->Put(7, Key(i), 10, random.Bytes(1024)).ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(engine_->Put(8, Key(i), 10, random.Bytes(1024)).ok());
  }

  testing::StoreLocation location_{testing::EnvKind::kDisk};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineStatsTest, ARangeSizeCountsItsTabletsKeysOnly) {
  absl::StatusOr<Engine::RangeSize> all = engine_->MeasureRange(7, "", "", 1 << 20);
  ASSERT_TRUE(all.ok()) << all.status();
  // The memtable's last part does not count: most of the 4 MiB does.
  EXPECT_GT(all->bytes, 3u << 20);
  EXPECT_LT(all->bytes, 6u << 20);
  absl::StatusOr<Engine::RangeSize> half = engine_->MeasureRange(7, Key(0), Key(2048), 1 << 30);
  ASSERT_TRUE(half.ok());
  EXPECT_GT(half->bytes, all->bytes / 3);
  EXPECT_LT(half->bytes, all->bytes * 2 / 3);
  EXPECT_FALSE(half->middle_key.has_value());  // below split_min_bytes
  absl::StatusOr<Engine::RangeSize> none = engine_->MeasureRange(7, "x", "", 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->bytes, 0u);
  EXPECT_FALSE(none->middle_key.has_value());
}

TEST_F(EngineStatsTest, TheSplitKeyHalvesTheRangesData) {
  absl::StatusOr<Engine::RangeSize> all = engine_->MeasureRange(7, "", "", 1 << 20);
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(all->middle_key.has_value());
  // Equal values: the middle key is near k02048 (tables are coarse: allow a quarter either way).
  EXPECT_GT(*all->middle_key, Key(1024));
  EXPECT_LT(*all->middle_key, Key(3072));
  // Strictly inside a narrower range too.
  absl::StatusOr<Engine::RangeSize> part = engine_->MeasureRange(7, Key(1000), Key(3000), 1);
  ASSERT_TRUE(part.ok());
  ASSERT_TRUE(part->middle_key.has_value());
  EXPECT_GT(*part->middle_key, Key(1000));
  EXPECT_LT(*part->middle_key, Key(3000));
}

}  // namespace
}  // namespace meridian::storage
