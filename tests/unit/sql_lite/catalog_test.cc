#include "sql_lite/catalog.h"

#include "gtest/gtest.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

TableSchema Sample() {
  TableSchema t;
  t.name = "albums";
  t.id = 7;
  t.parent = "singers";
  t.on_delete = OnDelete::kCascade;
  t.columns = {{"sid", 1, Type::kInt64, 0, true}, {"title", 2, Type::kString, 40, false}};
  t.primary_key = {{0, false}};
  t.indexes = {{.name = "by_title",
                .id = 8,
                .unique = true,
                .columns = {{1, true}},
                .storing = {0},
                .state = IndexState::kWriteOnly}};
  t.next_column_id = 3;
  return t;
}

TEST(CatalogTest, TableDefRoundTrips) {
  const TableSchema t = Sample();
  absl::StatusOr<TableSchema> back = DecodeTableDef(EncodeTableDef(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeTableDef(*back), EncodeTableDef(t));
  EXPECT_EQ(back->indexes[0].columns[0].descending, true);
  EXPECT_EQ(back->indexes[0].state, IndexState::kWriteOnly);
  EXPECT_EQ(back->columns[1].max_length, 40);
  EXPECT_FALSE(DecodeTableDef(EncodeTableDef(t) + "x").ok());
  EXPECT_FALSE(DecodeTableDef(EncodeTableDef(t).substr(0, 20)).ok());
}

TEST(CatalogTest, SchemaDefRoundTrips) {
  Schema schema;
  schema.version = 3;
  schema.effective_ts = 12345;
  schema.next_id = 9;
  schema.tables.emplace("albums", Sample());
  absl::StatusOr<Schema> back = DecodeSchemaDef(EncodeSchemaDef(schema));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeSchemaDef(*back), EncodeSchemaDef(schema));
  EXPECT_EQ(back->effective_ts, 12345);
  EXPECT_FALSE(DecodeSchemaDef(EncodeSchemaDef(schema) + "x").ok());
}

// Versions written directly (as schema_change.h does), read back as statements read them.
class CatalogVersionsTest : public ::testing::Test {
 protected:
  // Registers version `v` (a table named "t<v>") taking effect at `effective_ts`; returns the
  // commit timestamp.
  int64_t Register(int64_t v, int64_t effective_ts) {
    Schema schema;
    schema.version = v;
    schema.effective_ts = effective_ts;
    TableSchema t = Sample();
    t.name = "t" + std::to_string(v);
    schema.tables.emplace(t.name, t);
    absl::StatusOr<int64_t> ts = kv_.RunTransaction([&](KvTransaction& txn) {
      RowStore store(&txn, true);
      EXPECT_TRUE(WriteSchemaVersion(store, schema).ok());
      store.Flush(txn);
      return absl::OkStatus();
    });
    EXPECT_TRUE(ts.ok()) << ts.status();
    return *ts;
  }
  // The version a snapshot at `ts` uses.
  int64_t VersionAt(int64_t ts) {
    int64_t version = -1;
    EXPECT_TRUE(kv_.RunReadOnly(ReadBound::Exact(ts),
                                [&](KvSnapshot& s) {
                                  RowStore store(&s, false);
                                  absl::StatusOr<std::shared_ptr<const Schema>> schema =
                                      cache_.Load(store);
                                  EXPECT_TRUE(schema.ok()) << schema.status();
                                  if (schema.ok()) version = (*schema)->version;
                                  return absl::OkStatus();
                                })
                    .ok());
    return version;
  }

  int64_t now_ = 1000;
  MemoryKv kv_{MemoryKvOptions{
      .now_us = [this] { return now_; }, .max_attempts = 10, .abort_every_first_attempt = false}};
  SchemaCache cache_{&kv_};
};

TEST_F(CatalogVersionsTest, SnapshotsUseTheVersionInEffectAtTheirTimestamp) {
  const int64_t c1 = Register(1, 1000);  // commits at 1000: in effect from then on
  now_ = 2000;
  const int64_t c2 = Register(2, 5000);  // commits at 2000, takes effect at 5000
  EXPECT_EQ(c1, 1000);
  EXPECT_EQ(c2, 2000);
  EXPECT_EQ(VersionAt(999), 0);
  EXPECT_EQ(VersionAt(1500), 1);
  EXPECT_EQ(VersionAt(2000), 1);  // registered, not yet in effect
  EXPECT_EQ(VersionAt(4999), 1);
  EXPECT_EQ(VersionAt(5000), 2);
}

TEST_F(CatalogVersionsTest, ReadWriteStatementsWaitForAPendingVersion) {
  Register(1, 1000);
  now_ = 2000;
  Register(2, 5000);
  int64_t used = 0;
  absl::StatusOr<int64_t> commit = kv_.RunTransaction([&](KvTransaction& txn) {
    RowStore store(&txn, true);
    absl::StatusOr<std::shared_ptr<const Schema>> schema = cache_.Load(store);
    if (!schema.ok()) return schema.status();
    used = (*schema)->version;
    EXPECT_TRUE(store.Put("x", "y").ok());
    store.Flush(txn);
    return absl::OkStatus();
  });
  ASSERT_TRUE(commit.ok()) << commit.status();
  EXPECT_EQ(used, 2);
  EXPECT_GT(*commit, 5000);  // it uses version 2, so it commits after version 2 took effect
}

// Version v - 2's row is deleted when v is registered, yet a snapshot from its time still reads
// it (multi-versioning), and the cache serves repeated reads without decoding again.
TEST_F(CatalogVersionsTest, OldVersionsStayReadableAtTheirTimestamps) {
  for (int64_t v = 1; v <= 4; ++v) {
    now_ = v * 1000;
    Register(v, now_);
  }
  ASSERT_TRUE(kv_.RunReadOnly(ReadBound::Strong(),
                              [&](KvSnapshot& s) {
                                RowStore store(&s, false);
                                EXPECT_FALSE(ReadSchemaVersion(store, 1).ok());
                                EXPECT_FALSE(ReadSchemaVersion(store, 2).ok());
                                EXPECT_TRUE(ReadSchemaVersion(store, 3).ok());
                                return absl::OkStatus();
                              })
                  .ok());
  SchemaCache fresh(&kv_);
  ASSERT_TRUE(kv_.RunReadOnly(ReadBound::Exact(1500),
                              [&](KvSnapshot& s) {
                                RowStore store(&s, false);
                                absl::StatusOr<std::shared_ptr<const Schema>> schema =
                                    fresh.Load(store);
                                EXPECT_TRUE(schema.ok() && (*schema)->FindTable("t1") != nullptr);
                                return absl::OkStatus();
                              })
                  .ok());
  std::shared_ptr<const Schema> first, second;
  for (std::shared_ptr<const Schema>* out : {&first, &second}) {
    ASSERT_TRUE(kv_.RunReadOnly(ReadBound::Strong(),
                                [&](KvSnapshot& s) {
                                  RowStore store(&s, false);
                                  *out = *cache_.Load(store);
                                  return absl::OkStatus();
                                })
                    .ok());
  }
  EXPECT_EQ(first.get(), second.get());
  EXPECT_EQ(first->version, 4);
}

}  // namespace
}  // namespace meridian::sql
