// Engine::Open and the checks around a store's bytes: the format version it records and refuses
// when newer, and reads that verify block checksums (a flipped byte in a table file is
// DATA_LOSS, not a wrong value).
#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <leveldb/options.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using testing::EnvKind;
using testing::StoreLocation;
using fs_path = std::filesystem::path;

// Opens the store's LevelDB directly, as another program would.
std::unique_ptr<leveldb::DB> OpenRaw(const std::string& path) {
  leveldb::DB* db = nullptr;
  leveldb::Status s = leveldb::DB::Open(leveldb::Options(), path, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<leveldb::DB>(db);
}

TEST(EngineOpenTest, ANewStoreRecordsItsFormatVersion) {
  StoreLocation location(EnvKind::kDisk);
  ASSERT_TRUE(location.Open().ok());
  std::unique_ptr<leveldb::DB> db = OpenRaw(location.path());
  ASSERT_NE(db, nullptr);
  std::string value;
  ASSERT_TRUE(db->Get(leveldb::ReadOptions(), format::FormatKey(), &value).ok());
  uint64_t version = 0;
  ASSERT_TRUE(format::ParseFormatValue(value, &version).ok());
  EXPECT_EQ(version, format::kFormatVersion);
}

TEST(EngineOpenTest, AStoreOfANewerFormatIsRefusedWithAClearErrorAndLeftAsItWas) {
  StoreLocation location(EnvKind::kDisk);
  {
    absl::StatusOr<std::unique_ptr<Engine>> engine = location.Open();
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_TRUE((*engine)->Put(1, "k", 5, "v", /*sync=*/true).ok());
  }
  const uint64_t newer = format::kFormatVersion + 1;
  {
    std::unique_ptr<leveldb::DB> db = OpenRaw(location.path());
    ASSERT_NE(db, nullptr);
    ASSERT_TRUE(
        db->Put(leveldb::WriteOptions(), format::FormatKey(), format::FormatValue(newer)).ok());
  }
  absl::StatusOr<std::unique_ptr<Engine>> refused = location.Open();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(refused.status().message());
  EXPECT_NE(message.find(absl::StrCat("format version ", newer, ", newer than this binary's")),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(location.path()), std::string::npos) << message;

  std::unique_ptr<leveldb::DB> db = OpenRaw(location.path());
  ASSERT_NE(db, nullptr);
  std::string value;
  ASSERT_TRUE(db->Get(leveldb::ReadOptions(), format::FormatKey(), &value).ok());
  EXPECT_EQ(value, format::FormatValue(newer));
}

TEST(EngineOpenTest, AFlippedByteInATableFileIsDataLossNotAWrongValue) {
  StoreLocation location(EnvKind::kDisk);
  // A value that compression leaves as it is, so its bytes can be found in the table file.
  std::string marker = "MARKER:";
  uint32_t lcg = 12345;
  while (marker.size() < 200) {
    lcg = lcg * 1103515245 + 12345;
    marker += static_cast<char>('a' + (lcg >> 16) % 26);
  }
  {
    EngineOptions options;
    options.write_buffer_size = 64 << 10;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location.path(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    ASSERT_TRUE((*engine)->Put(1, "marked", 5, marker).ok());
    // Enough after it that the memtable holding it is written to a table file.
    for (int i = 0; i < 2'000; ++i) {
      ASSERT_TRUE((*engine)->Put(2, absl::StrCat("filler", i), 5, std::string(100, 'f')).ok());
    }
  }
  bool flipped = false;
  for (const auto& entry : std::filesystem::directory_iterator(location.path())) {
    if (entry.path().extension() != ".ldb") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = bytes.find(marker);
    if (at == std::string::npos) continue;
    bytes[at + marker.size() / 2] ^= 0x20;
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
    flipped = true;
  }
  ASSERT_TRUE(flipped) << "the value was not found in any table file";

  absl::StatusOr<std::unique_ptr<Engine>> engine = location.Open();
  ASSERT_TRUE(engine.ok()) << engine.status();
  absl::StatusOr<std::optional<std::string>> read = (*engine)->Get(1, "marked", 10);
  ASSERT_FALSE(read.ok()) << "read a damaged value: " << read->value_or("<none>");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
}

// A crash can leave the write-ahead log's last record damaged (a write cut short, never
// acknowledged). LevelDB's paranoid recovery refuses such a log; the engine then drops the record
// and opens, and everything before it is there.
TEST(EngineOpenTest, ADamagedLastLogRecordIsDroppedAndTheStoreOpens) {
  StoreLocation location(EnvKind::kDisk);
  {
    absl::StatusOr<std::unique_ptr<Engine>> engine = location.Open();
    ASSERT_TRUE(engine.ok()) << engine.status();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE((*engine)->Put(1, absl::StrCat("k", i), 5, "v", /*sync=*/true).ok());
    }
    ASSERT_TRUE((*engine)->Put(1, "last", 5, std::string(500, 'z'), /*sync=*/true).ok());
  }
  // The newest log file's last record is the put of "last": damage its value.
  fs_path newest;
  for (const auto& entry : std::filesystem::directory_iterator(location.path())) {
    if (entry.path().extension() == ".log" && entry.path() > newest) newest = entry.path();
  }
  ASSERT_FALSE(newest.empty());
  std::string bytes;
  {
    std::ifstream in(newest, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const size_t at = bytes.rfind(std::string(500, 'z'));
  ASSERT_NE(at, std::string::npos);
  bytes[at + 250] = 'y';
  std::ofstream(newest, std::ios::binary | std::ios::trunc) << bytes;

  absl::StatusOr<std::unique_ptr<Engine>> engine = location.Open();
  ASSERT_TRUE(engine.ok()) << engine.status();
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<std::optional<std::string>> v = (*engine)->Get(1, absl::StrCat("k", i), 10);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->value_or("<missing>"), "v") << i;
  }
  absl::StatusOr<std::optional<std::string>> last = (*engine)->Get(1, "last", 10);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_FALSE(last->has_value()) << "the damaged record was applied";
}

}  // namespace
}  // namespace meridian::storage
