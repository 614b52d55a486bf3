// Session::ListTables, Session::DescribeTable and Session::KeyPrefix on the in-memory KV.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

// "name:TYPE|..." then one line per row, values joined by '|'.
std::string Text(const ResultSet& r) {
  std::string out;
  for (size_t i = 0; i < r.column_names.size(); ++i) {
    out += (i ? "|" : "") + r.column_names[i] + ":" + std::string(TypeName(r.column_types[i]));
  }
  out += "\n";
  for (const std::vector<Value>& row : r.rows) {
    for (size_t i = 0; i < row.size(); ++i) out += (i ? "|" : "") + row[i].ToString();
    out += "\n";
  }
  return out;
}

class DescribeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* ddl : {
             "CREATE TABLE singers (sid INT64 NOT NULL, name STRING(40), photo BYTES(MAX)) "
             "PRIMARY KEY (sid)",
             "CREATE TABLE albums (sid INT64 NOT NULL, aid INT64 NOT NULL, title STRING, "
             "`Year` INT64) PRIMARY KEY (sid, aid DESC), INTERLEAVE IN PARENT singers ON DELETE "
             "CASCADE",
             "CREATE UNIQUE INDEX by_title ON albums (title DESC, sid) STORING (`Year`)",
             "CREATE INDEX by_year ON albums (`Year`)",
         }) {
      absl::StatusOr<ResultSet> r = session_.Execute(ddl);
      ASSERT_TRUE(r.ok()) << ddl << ": " << r.status();
    }
  }
  int64_t now_ = 1000;
  MemoryKv kv_{MemoryKvOptions{
      .now_us = [this] { return now_; }, .max_attempts = 10, .abort_every_first_attempt = false}};
  // No schema change delay: the test pins timestamps around its DDL.
  static SessionOptions NoDelay() {
    SessionOptions options;
    options.schema_change_delay_us = 0;
    return options;
  }
  Session session_{&kv_, NoDelay()};
};

TEST_F(DescribeTest, ListTablesGivesParentKeyAndIndexCount) {
  absl::StatusOr<ResultSet> r = session_.ListTables();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Text(*r),
            "table:STRING|parent:STRING|primary_key:STRING|indexes:INT64\n"
            "albums|singers|sid, aid DESC|2\n"
            "singers|NULL|sid|0\n");
}

TEST_F(DescribeTest, DescribeTableGivesColumnsKeyInterleaveAndIndexes) {
  absl::StatusOr<TableDescription> d = session_.DescribeTable("albums");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "albums");
  EXPECT_EQ(Text(d->columns),
            "column:STRING|type:STRING|not_null:BOOL\n"
            "sid|INT64|true\n"
            "aid|INT64|true\n"
            "title|STRING(MAX)|false\n"
            "Year|INT64|false\n");
  EXPECT_EQ(d->primary_key, "PRIMARY KEY (sid, aid DESC)");
  EXPECT_EQ(d->interleave, "INTERLEAVE IN PARENT singers ON DELETE CASCADE");
  EXPECT_EQ(Text(d->indexes),
            "index:STRING|unique:BOOL|columns:STRING|storing:STRING|state:STRING\n"
            "by_title|true|title DESC, sid|`Year`|PUBLIC\n"
            "by_year|false|`Year`||PUBLIC\n");
  d = session_.DescribeTable("singers");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->interleave, "");
  EXPECT_EQ(d->columns.rows[1][1], Value::String("STRING(40)"));
  EXPECT_EQ(d->columns.rows[2][1], Value::String("BYTES(MAX)"));
  EXPECT_TRUE(d->indexes.rows.empty());
}

TEST_F(DescribeTest, AnUnknownTableIsNotFoundByName) {
  absl::StatusOr<TableDescription> d = session_.DescribeTable("nosuch");
  EXPECT_TRUE(absl::IsNotFound(d.status())) << d.status();
  EXPECT_EQ(d.status().message(), "table nosuch does not exist");
}

TEST_F(DescribeTest, TheSchemaIsReadAtTheSessionsReadBound) {
  now_ = 5000;
  ASSERT_TRUE(session_.Execute("DROP TABLE albums").ok());  // commits at 5000
  absl::StatusOr<ResultSet> r = session_.ListTables();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows.size(), 1u);
  ASSERT_TRUE(session_.Execute("SET READ_TIMESTAMP = 4999").ok());
  r = session_.ListTables();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows.size(), 2u);
  EXPECT_TRUE(session_.DescribeTable("albums").ok());
}

// The keys in the database that start with `prefix`.
int KeysUnder(KvDatabase& db, const std::string& prefix) {
  int n = 0;
  absl::StatusOr<int64_t> ts = db.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& snapshot) {
    absl::StatusOr<std::vector<KvPair>> pairs = snapshot.Scan("", "", 0);
    if (!pairs.ok()) return pairs.status();
    for (const KvPair& pair : *pairs) n += absl::StartsWith(pair.key, prefix) ? 1 : 0;
    return absl::OkStatus();
  });
  EXPECT_TRUE(ts.ok()) << ts.status();
  return n;
}

TEST_F(DescribeTest, KeyPrefixesBoundARowsDirectory) {
  for (const char* dml : {"INSERT INTO singers (sid) VALUES (1), (2), (3)",
                          "INSERT INTO albums (sid, aid, title) VALUES (1, 10, 'a'), (1, 11, 'b'), "
                          "(2, 10, 'c'), (3, 5, 'd')"}) {
    ASSERT_TRUE(session_.Execute(dml).ok()) << dml;
  }
  absl::StatusOr<std::string> one = session_.KeyPrefix("singers", {Value::Int64(1)});
  absl::StatusOr<std::string> two = session_.KeyPrefix("singers", {Value::Int64(2)});
  absl::StatusOr<std::string> albums_of_one = session_.KeyPrefix("albums", {Value::Int64(1)});
  absl::StatusOr<std::string> album =
      session_.KeyPrefix("albums", {Value::Int64(1), Value::Int64(11)});
  ASSERT_TRUE(one.ok() && two.ok() && albums_of_one.ok() && album.ok()) << one.status();
  EXPECT_LT(*one, *two);
  EXPECT_EQ(KeysUnder(kv_, *one), 3);  // singer 1 and its two albums
  EXPECT_EQ(KeysUnder(kv_, *albums_of_one), 2);
  EXPECT_EQ(KeysUnder(kv_, *album), 1);
  EXPECT_TRUE(absl::StartsWith(*album, *albums_of_one));
  EXPECT_TRUE(absl::StartsWith(*albums_of_one, *one));
  // Every key between two consecutive singers' prefixes is the first singer's.
  int between = 0;
  ASSERT_TRUE(kv_.RunReadOnly(ReadBound::Strong(),
                              [&](KvSnapshot& snapshot) {
                                absl::StatusOr<std::vector<KvPair>> pairs =
                                    snapshot.Scan(*one, *two, 0);
                                if (!pairs.ok()) return pairs.status();
                                between = static_cast<int>(pairs->size());
                                return absl::OkStatus();
                              })
                  .ok());
  EXPECT_EQ(between, 3);
}

TEST_F(DescribeTest, KeyPrefixRefusesUnknownTablesAndKeysTheTableCannotHold) {
  EXPECT_TRUE(absl::IsNotFound(session_.KeyPrefix("nosuch", {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      session_.KeyPrefix("singers", {Value::Int64(1), Value::Int64(2)}).status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(session_.KeyPrefix("singers", {Value::String("x")}).status()));
  absl::StatusOr<std::string> table = session_.KeyPrefix("singers", {});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(KeysUnder(kv_, *table), 0);
}

}  // namespace
}  // namespace meridian::sql
