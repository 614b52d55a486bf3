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
  t.indexes = {
      {.name = "by_title", .id = 8, .unique = true, .columns = {{1, true}}, .storing = {0}}};
  t.next_column_id = 3;
  return t;
}

TEST(CatalogTest, TableDefRoundTrips) {
  const TableSchema t = Sample();
  absl::StatusOr<TableSchema> back = DecodeTableDef(EncodeTableDef(t));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeTableDef(*back), EncodeTableDef(t));
  EXPECT_EQ(back->indexes[0].columns[0].descending, true);
  EXPECT_EQ(back->columns[1].max_length, 40);
  EXPECT_FALSE(DecodeTableDef(EncodeTableDef(t) + "x").ok());
  EXPECT_FALSE(DecodeTableDef(EncodeTableDef(t).substr(0, 20)).ok());
}

TEST(CatalogTest, SchemaIsStoredAndCachedByVersion) {
  MemoryKv kv;
  SchemaCache cache;
  Schema schema;
  schema.version = 1;
  schema.next_id = 9;
  schema.tables.emplace("albums", Sample());
  ASSERT_TRUE(kv.RunTransaction([&](KvTransaction& txn) {
                  RowStore store(&txn, true);
                  EXPECT_TRUE(WriteSchema(store, schema, {}).ok());
                  // Buffered DDL is seen, and not cached.
                  auto seen = cache.Load(store);
                  EXPECT_TRUE(seen.ok() && (*seen)->FindTable("albums") != nullptr);
                  store.Flush(txn);
                  return absl::OkStatus();
                }).ok());
  std::shared_ptr<const Schema> first, second;
  for (std::shared_ptr<const Schema>* out : {&first, &second}) {
    ASSERT_TRUE(kv.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& s) {
                    RowStore store(&s, false);
                    *out = *cache.Load(store);
                    return absl::OkStatus();
                  }).ok());
  }
  EXPECT_EQ(first.get(), second.get());  // the second read hit the cache
  EXPECT_EQ(first->version, 1);
  EXPECT_EQ(first->next_id, 9u);
  const IndexSchema* index = nullptr;
  EXPECT_EQ(first->FindIndex("by_title", &index), first->FindTable("albums"));
}

}  // namespace
}  // namespace meridian::sql
