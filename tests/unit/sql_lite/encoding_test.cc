#include "sql_lite/encoding.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/random.h"
#include "gtest/gtest.h"

namespace meridian::sql {
namespace {

Value RandomValue(Random& rng, Type type) {
  if (rng.Bernoulli(0.1)) return Value::Null();
  switch (type) {
    case Type::kInt64:
      return Value::Int64(rng.Bernoulli(0.2) ? static_cast<int64_t>(rng.Next()) : rng.Range(-3, 3));
    case Type::kFloat64: {
      const double specials[] = {0.0,
                                 -0.0,
                                 1.5,
                                 -1.5,
                                 std::numeric_limits<double>::infinity(),
                                 -std::numeric_limits<double>::infinity(),
                                 NAN,
                                 1e300,
                                 -1e-300};
      return Value::Float64(rng.Bernoulli(0.5) ? specials[rng.Uniform(9)]
                                               : (rng.NextDouble() - 0.5) * 1e6);
    }
    case Type::kBool:
      return Value::Bool(rng.Bernoulli(0.5));
    case Type::kString:
      return Value::String(rng.Bytes(rng.Uniform(4)));
    case Type::kBytes:
      return Value::Bytes(std::string(rng.Uniform(3), '\0') + rng.Bytes(rng.Uniform(3)));
    default:
      return Value::Timestamp(rng.Range(-1000, 1000));
  }
}

int Sign(int x) { return (x > 0) - (x < 0); }

TEST(EncodingTest, KeyPartsPreserveOrderAndRoundTrip) {
  Random rng(7);
  for (Type type :
       {Type::kInt64, Type::kFloat64, Type::kBool, Type::kString, Type::kBytes, Type::kTimestamp}) {
    for (bool desc : {false, true}) {
      for (int i = 0; i < 2000; ++i) {
        const Value a = RandomValue(rng, type), b = RandomValue(rng, type);
        std::string ea, eb;
        ASSERT_TRUE(AppendKeyPart(&ea, a, type, desc).ok());
        ASSERT_TRUE(AppendKeyPart(&eb, b, type, desc).ok());
        const int want = Sign(OrderCompare(a, b)) * (desc ? -1 : 1);
        EXPECT_EQ(Sign(ea.compare(eb)), want) << a.ToSqlLiteral() << " vs " << b.ToSqlLiteral();
        std::string_view in = ea;
        Value back;
        ASSERT_TRUE(ConsumeKeyPart(&in, type, desc, &back).ok());
        EXPECT_TRUE(in.empty());
        EXPECT_EQ(OrderCompare(back, a), 0) << a.ToSqlLiteral();
      }
    }
  }
}

TEST(EncodingTest, KeyPartRefusesAnotherType) {
  std::string out;
  EXPECT_FALSE(AppendKeyPart(&out, Value::String("x"), Type::kInt64, false).ok());
}

TableSchema MakeTable(std::string name, uint64_t id, std::vector<Type> key, std::string parent) {
  TableSchema t;
  t.name = std::move(name);
  t.id = id;
  t.parent = std::move(parent);
  for (size_t i = 0; i < key.size(); ++i) {
    t.columns.push_back({.name = "k" + std::to_string(i),
                         .id = static_cast<uint32_t>(i + 1),
                         .type = key[i],
                         .max_length = 0,
                         .not_null = false});
    t.primary_key.push_back({.column = static_cast<int>(i), .descending = i == 1});
  }
  t.columns.push_back(
      {.name = "v", .id = 99, .type = Type::kString, .max_length = 0, .not_null = false});
  return t;
}

TEST(EncodingTest, InterleavedChildSitsInsideItsParentsKey) {
  const TableSchema parent = MakeTable("p", 5, {Type::kInt64}, "");
  const TableSchema child = MakeTable("c", 9, {Type::kInt64, Type::kString}, "p");
  const std::vector<const TableSchema*> pa = {&parent}, ca = {&parent, &child};
  auto pk = EncodeRowKey(pa, {Value::Int64(1)});
  auto ck = EncodeRowKey(ca, {Value::Int64(1), Value::String("z")});
  auto next_parent = EncodeRowKey(pa, {Value::Int64(2)});
  ASSERT_TRUE(pk.ok() && ck.ok() && next_parent.ok());
  EXPECT_EQ(ck->substr(0, pk->size()), *pk);
  EXPECT_LT(*pk, *ck);
  EXPECT_LT(*ck, *next_parent);
  std::vector<Value> key;
  EXPECT_TRUE(*DecodeRowKey(ca, *ck, &key));
  EXPECT_EQ(key[1], Value::String("z"));
  EXPECT_FALSE(*DecodeRowKey(pa, *ck, &key));  // a descendant's row
  EXPECT_FALSE(*DecodeRowKey(ca, *pk, &key));  // an ancestor's row
  auto prefix = EncodeKeyPrefix(ca, {Value::Int64(1)});
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(ck->substr(0, prefix->size()), *prefix);
  EXPECT_EQ(prefix->size(), pk->size() + 8);  // the parent's key and the child's id
}

TEST(EncodingTest, RowValuesSurviveAddedAndDroppedColumns) {
  TableSchema t = MakeTable("t", 3, {Type::kInt64}, "");
  const Row row = {Value::Int64(1), Value::String("hello")};
  const std::string raw = EncodeRowValue(t, row);
  t.columns.push_back(
      {.name = "added", .id = 100, .type = Type::kInt64, .max_length = 0, .not_null = false});
  Row back(t.columns.size());
  ASSERT_TRUE(DecodeRowValue(t, raw, &back).ok());
  EXPECT_EQ(back[1], Value::String("hello"));
  EXPECT_TRUE(back[2].is_null());
  t.columns.erase(t.columns.begin() + 1);  // "v" dropped: its bytes are skipped
  Row fewer(t.columns.size());
  ASSERT_TRUE(DecodeRowValue(t, raw, &fewer).ok());
  EXPECT_TRUE(fewer[1].is_null());
  EXPECT_FALSE(DecodeRowValue(t, "\x02", &fewer).ok());
}

TEST(EncodingTest, IndexEntriesPointAtTheirRow) {
  TableSchema t = MakeTable("t", 3, {Type::kInt64}, "");
  for (bool unique : {false, true}) {
    IndexSchema index{
        .name = "i", .id = 4, .unique = unique, .columns = {{1, true}}, .storing = {}};
    const Row row = {Value::Int64(42), Value::String("x")};
    auto entry = EncodeIndexEntry(t, index, row);
    ASSERT_TRUE(entry.ok());
    auto prefix = EncodeIndexPrefix(t, index, {Value::String("x")});
    ASSERT_TRUE(prefix.ok());
    EXPECT_EQ(entry->key.substr(0, prefix->size()), *prefix);
    EXPECT_EQ(entry->key.size() == prefix->size(), unique);
    std::vector<Value> key;
    ASSERT_TRUE(DecodeIndexEntry(t, index, *entry, &key).ok());
    EXPECT_EQ(key, std::vector<Value>{Value::Int64(42)});
  }
}

}  // namespace
}  // namespace meridian::sql
