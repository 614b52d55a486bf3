#include "tools/sql_print.h"

#include <string>

#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/error.h"
#include "sql_lite/memory_kv.h"

namespace meridian::tools {
namespace {

TEST(SqlPrintTest, ACaretPointsAtTheErrorsColumnOnItsLine) {
  const std::string statement = "SELECT k\nFROM t WHERE nope = 1";
  sql::MemoryKv kv;
  sql::Session session(&kv);
  ASSERT_TRUE(session.Execute("CREATE TABLE t (k INT64) PRIMARY KEY (k)").ok());
  const absl::StatusOr<sql::ResultSet> r = session.Execute(statement);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(FormatError(r.status(), statement),
            "ERROR: INVALID_ARGUMENT: unknown column nope at line 2, column 14\n"
            "LINE 2: FROM t WHERE nope = 1\n"
            "                     ^\n");
  // The statement started on line 10 of a file: the prefix names the error's line there.
  EXPECT_EQ(FormatError(r.status(), statement, "f.sql", 10).substr(0, 17), "f.sql:11: ERROR: ");
}

TEST(SqlPrintTest, TheCaretLinesUpPastTabsAndMultibyteCharacters) {
  const std::string statement = "SELECT\t'\xc3\xa9t\xc3\xa9', $";  // 'été'
  const absl::Status error = sql::SyntaxError(sql::SourcePos{.offset = 16, .line = 1, .column = 17},
                                              "unexpected character '$'");
  EXPECT_EQ(FormatError(error, statement),
            "ERROR: INVALID_ARGUMENT: unexpected character '$' at line 1, column 17\n"
            "LINE 1: SELECT\t'\xc3\xa9t\xc3\xa9', $\n"
            "              \t       ^\n");
}

TEST(SqlPrintTest, ErrorsWithoutAPositionAreOneLine) {
  EXPECT_EQ(FormatError(absl::NotFoundError("table x does not exist"), "", "<stdin>", 3),
            "<stdin>:3: ERROR: NOT_FOUND: table x does not exist\n");
  // A position past the statement's last line shows no source line.
  const absl::Status error = sql::SyntaxError(sql::SourcePos{.offset = 9, .line = 3, .column = 1},
                                              "unexpected end of input");
  EXPECT_EQ(FormatError(error, "SELECT 1"),
            "ERROR: INVALID_ARGUMENT: unexpected end of input at line 3, column 1\n");
}

TEST(SqlPrintTest, ResultsAreAlignedTables) {
  sql::ResultSet r;
  r.column_names = {"k", "name"};
  r.column_types = {sql::Type::kInt64, sql::Type::kString};
  r.rows = {{sql::Value::Int64(1), sql::Value::String("ann")},
            {sql::Value::Int64(22), sql::Value::Null()},
            {sql::Value::Int64(3), sql::Value::String("a\nb")}};
  EXPECT_EQ(FormatResult(r, 1.25),
            "k  | name\n"
            "---+-----\n"
            "1  | ann\n"
            "22 | NULL\n"
            "3  | a\\nb\n"
            "(3 rows, 1.2 ms)\n");
  sql::ResultSet dml;
  dml.rows_affected = 1;
  EXPECT_EQ(FormatResult(dml, 0.5), "OK, 1 row affected (0.5 ms)\n");
}

TEST(SqlPrintTest, ATableIsDescribedWithItsKeyInterleavingAndIndexes) {
  sql::MemoryKv kv;
  sql::Session session(&kv);
  for (const char* ddl :
       {"CREATE TABLE p (a INT64 NOT NULL) PRIMARY KEY (a)",
        "CREATE TABLE c (a INT64 NOT NULL, b STRING(8), v INT64) PRIMARY KEY (a, b DESC), "
        "INTERLEAVE IN PARENT p",
        "CREATE INDEX c_by_b ON c (b) STORING (v)"}) {
    ASSERT_TRUE(session.Execute(ddl).ok()) << ddl;
  }
  absl::StatusOr<sql::TableDescription> c = session.DescribeTable("c");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(FormatDescription(*c),
            "Table c\n"
            "column | type      | not_null\n"
            "-------+-----------+---------\n"
            "a      | INT64     | true\n"
            "b      | STRING(8) | false\n"
            "v      | INT64     | false\n"
            "PRIMARY KEY (a, b DESC)\n"
            "INTERLEAVE IN PARENT p ON DELETE NO ACTION\n"
            "Indexes:\n"
            "index  | unique | columns | storing | state\n"
            "-------+--------+---------+---------+-------\n"
            "c_by_b | false  | b       | v       | PUBLIC\n");
  absl::StatusOr<sql::TableDescription> p = session.DescribeTable("p");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(FormatDescription(*p),
            "Table p\n"
            "column | type  | not_null\n"
            "-------+-------+---------\n"
            "a      | INT64 | true\n"
            "PRIMARY KEY (a)\n"
            "(no indexes)\n");
}

}  // namespace
}  // namespace meridian::tools
