#include "sql_lite/row_store.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

std::string Keys(const std::vector<KvPair>& pairs) {
  std::string out;
  for (const KvPair& p : pairs) out += p.key + "=" + p.value + " ";
  return out;
}

class RowStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kv_.RunTransaction([](KvTransaction& txn) {
                     for (const char* k : {"a", "c", "e", "g"}) txn.Put(k, "0");
                     return absl::OkStatus();
                   })
                    .ok());
  }
  MemoryKv kv_;
};

TEST_F(RowStoreTest, ReadsSeeBufferedWritesMergedInOrder) {
  ASSERT_TRUE(kv_.RunTransaction([](KvTransaction& txn) {
                   RowStore store(&txn, true);
                   EXPECT_TRUE(store.Put("b", "1").ok());
                   EXPECT_TRUE(store.Put("c", "1").ok());
                   EXPECT_TRUE(store.Delete("e").ok());
                   EXPECT_EQ(Keys(*store.Scan("", "", 0)), "a=0 b=1 c=1 g=0 ");
                   EXPECT_EQ(Keys(*store.Scan("b", "g", 0)), "b=1 c=1 ");
                   EXPECT_EQ(*store.Get("c"), "1");
                   EXPECT_EQ(*store.Get("e"), std::nullopt);
                   // The KV transaction itself does not see them (like the SDK's).
                   EXPECT_EQ(*txn.Get("c"), "0");
                   return absl::OkStatus();
                 })
                  .ok());
}

TEST_F(RowStoreTest, LimitedScansStayCorrectAroundDeletes) {
  ASSERT_TRUE(kv_.RunTransaction([](KvTransaction& txn) {
                   RowStore store(&txn, true);
                   EXPECT_TRUE(store.Delete("a").ok());
                   EXPECT_TRUE(store.Delete("c").ok());
                   EXPECT_TRUE(store.Put("z", "1").ok());
                   EXPECT_EQ(Keys(*store.Scan("", "", 1)), "e=0 ");
                   EXPECT_EQ(Keys(*store.Scan("", "", 2)), "e=0 g=0 ");
                   EXPECT_EQ(Keys(*store.Scan("", "", 3)), "e=0 g=0 z=1 ");
                   return absl::OkStatus();
                 })
                  .ok());
}

TEST_F(RowStoreTest, RollbackToUndoesOnlyLaterWrites) {
  ASSERT_TRUE(kv_.RunTransaction([](KvTransaction& txn) {
                   RowStore store(&txn, true);
                   EXPECT_TRUE(store.Put("a", "1").ok());
                   const size_t mark = store.Savepoint();
                   EXPECT_TRUE(store.Put("a", "2").ok());
                   EXPECT_TRUE(store.Delete("c").ok());
                   EXPECT_TRUE(store.Put("x", "2").ok());
                   store.RollbackTo(mark);
                   EXPECT_EQ(Keys(*store.Scan("", "", 0)), "a=1 c=0 e=0 g=0 ");
                   store.Flush(txn);
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(Keys(kv_.Dump()), "a=1 c=0 e=0 g=0 ");
}

TEST_F(RowStoreTest, ReadOnlyStoreRefusesWrites) {
  ASSERT_TRUE(kv_.RunReadOnly(ReadBound::Strong(),
                              [](KvSnapshot& snapshot) {
                                RowStore store(&snapshot, false);
                                EXPECT_TRUE(absl::IsFailedPrecondition(store.Put("a", "1")));
                                EXPECT_TRUE(store.HasWritesUnder("") == false);
                                return absl::OkStatus();
                              })
                  .ok());
}

// A transaction that records how it was read.
class RecordingTxn final : public KvTransaction {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    log.push_back("get " + std::string(key));
    return std::nullopt;
  }
  absl::StatusOr<std::optional<std::string>> GetForUpdate(std::string_view key) override {
    log.push_back("get-for-update " + std::string(key));
    return std::nullopt;
  }
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view, std::string_view, int64_t) override {
    log.push_back("scan");
    return std::vector<KvPair>{};
  }
  void Put(std::string_view, std::string_view) override {}
  void Delete(std::string_view) override {}
  std::vector<std::string> log;
};

TEST(RowStoreForUpdateTest, PointReadsLockForUpdateOnlyWhileAForUpdateLives) {
  RecordingTxn txn;
  RowStore store(&txn, true);
  ASSERT_TRUE(store.Put("b", "1").ok());
  ASSERT_TRUE(store.Get("a").ok());
  {
    RowStore::ForUpdate lock(store);
    ASSERT_TRUE(store.Get("a").ok());
    ASSERT_TRUE(store.Get("b").ok());  // buffered: no read
    ASSERT_TRUE(store.GetMany({"b", "c", "d"}).ok());
    ASSERT_TRUE(store.Scan("a", "z", 0).ok());  // scans stay shared
  }
  ASSERT_TRUE(store.Get("e").ok());
  EXPECT_EQ(txn.log, (std::vector<std::string>{"get a", "get-for-update a", "get-for-update c",
                                               "get-for-update d", "scan", "get e"}));

  RecordingTxn reader;
  RowStore read_only(&reader, false);
  RowStore::ForUpdate lock(read_only);
  ASSERT_TRUE(read_only.Get("a").ok());
  EXPECT_EQ(reader.log, (std::vector<std::string>{"get a"}));
}

}  // namespace
}  // namespace meridian::sql
