// Every kind of parse error: the message says what was expected, what was found and where, and
// the position travels as a payload.
#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "sql_lite/parser.h"

namespace meridian::sql {
namespace {

struct ErrorCase {
  std::string sql;
  std::string message;
};

void ExpectError(const ErrorCase& c, const ParserOptions& options = {}) {
  SCOPED_TRACE(c.sql.substr(0, 200));
  const absl::StatusOr<std::vector<Statement>> s = ParseScript(c.sql, options);
  ASSERT_FALSE(s.ok()) << ToSql(s->front());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(s.status().message()), c.message);
  EXPECT_TRUE(ErrorPosition(s.status()).has_value());
}

TEST(ParserErrorTest, Messages) {
  const ErrorCase cases[] = {
      {"SELECT (a\nFROM t", "expected ')' but found 'FROM' at line 2, column 1"},
      {"SELECT a FROM t WHERE (b = 1\n  ORDER BY a",
       "expected ')' but found 'ORDER' at line 2, column 3"},
      {"SELEC a", "expected a statement but found 'SELEC' at line 1, column 1"},
      {"SELECT", "expected an expression but found end of input at line 1, column 7"},
      {"SELECT a FROM", "expected a table name but found end of input at line 1, column 14"},
      {"SELECT a FROM select",
       "expected a table name but found reserved word 'select' (quote it to use it as a name) at "
       "line 1, column 15"},
      {"SELECT a, FROM t", "expected an expression but found 'FROM' at line 1, column 11"},
      {"SELECT a FROM t WHERE",
       "expected an expression but found end of input at line 1, column 22"},
      {"SELECT a FROM t GROUP a", "expected BY but found 'a' at line 1, column 23"},
      {"SELECT a FROM t LIMIT -1",
       "expected an integer or a parameter after LIMIT but found '-' at line 1, column 23"},
      {"SELECT a FROM t LIMIT 1 OFFSET x",
       "expected an integer or a parameter after OFFSET but found 'x' at line 1, column 32"},
      {"SELECT a FROM t JOIN u", "expected ON but found end of input at line 1, column 23"},
      {"SELECT a FROM t RIGHT JOIN u ON TRUE",
       "RIGHT and FULL joins are not supported at line 1, column 17"},
      {"SELECT a FROM t LEFT u", "expected JOIN but found 'u' at line 1, column 22"},
      {"SELECT a FROM t t2 t3", "expected ';' or end of input but found 't3' at line 1, column 20"},
      {"SELECT 1 2", "expected ';' or end of input but found '2' at line 1, column 10"},
      {"SELECT a IS 1", "expected NULL but found '1' at line 1, column 13"},
      {"SELECT a NOT NULL", "expected ';' or end of input but found 'NOT' at line 1, column 10"},
      {"SELECT a IN 1", "expected '(' but found '1' at line 1, column 13"},
      {"SELECT a IN ()", "expected an expression but found ')' at line 1, column 14"},
      {"SELECT a BETWEEN 1 OR 2", "expected AND but found 'OR' at line 1, column 20"},
      {"SELECT CAST(a AS INT)",
       "expected a type (INT64, FLOAT64, BOOL, STRING, BYTES or TIMESTAMP) but found 'INT' at "
       "line 1, column 18"},
      {"SELECT CAST(a, INT64)", "expected AS but found ',' at line 1, column 14"},
      {"SELECT SUM(*)", "expected an expression but found '*' at line 1, column 12"},
      {"SELECT f(a", "expected ')' but found end of input at line 1, column 11"},
      {"SELECT EXISTS (1)", "expected '(SELECT' after EXISTS but found '(' at line 1, column 15"},
      {"SELECT t.", "expected a column name but found end of input at line 1, column 10"},
      {"SELECT 9223372036854775808",
       "integer literal 9223372036854775808 is out of range at line 1, column 8"},
      {"SELECT -9223372036854775809",
       "integer literal -9223372036854775809 is out of range at line 1, column 8"},
      {"SELECT 1e999", "float literal 1e999 is out of range at line 1, column 8"},
      {"SELECT TIMESTAMP '2026-02-30'",
       "invalid timestamp '2026-02-30': no such date at line 1, column 18"},
      {"SELECT 'abc", "unterminated string at line 1, column 8"},
      {"INSERT t (a) VALUES (1)", "expected INTO but found 't' at line 1, column 8"},
      {"INSERT INTO t VALUES (1)", "expected '(' but found 'VALUES' at line 1, column 15"},
      {"INSERT INTO t (a, b) VALUES (1)",
       "row has 1 values but 2 columns are listed at line 1, column 29"},
      {"INSERT INTO t (a) VALUES (1), (2, 3)",
       "row has 2 values but 1 columns are listed at line 1, column 31"},
      {"INSERT OR IGNORE INTO t (a) VALUES (1)",
       "expected UPDATE but found 'IGNORE' at line 1, column 11"},
      {"UPDATE t a = 1", "expected SET but found 'a' at line 1, column 10"},
      {"UPDATE t SET a 1", "expected '=' but found '1' at line 1, column 16"},
      {"DELETE FROM t WHERE", "expected an expression but found end of input at line 1, column 20"},
      {"CREATE TABLE t (a INT64)",
       "expected PRIMARY KEY but found end of input at line 1, column 25"},
      {"CREATE TABLE t (a INT64, PRIMARY KEY (a)) PRIMARY KEY (a)",
       "a table has only one PRIMARY KEY at line 1, column 43"},
      {"CREATE TABLE t (PRIMARY KEY (a))",
       "a table needs at least one column at line 1, column 32"},
      {"CREATE TABLE t (a INT)",
       "expected a type (INT64, FLOAT64, BOOL, STRING, BYTES or TIMESTAMP) but found 'INT' at "
       "line 1, column 19"},
      {"CREATE TABLE t (a INT64(10)) PRIMARY KEY (a)",
       "only STRING and BYTES columns take a length at line 1, column 24"},
      {"CREATE TABLE t (a STRING(0)) PRIMARY KEY (a)",
       "length 0 is not a positive INT64 at line 1, column 26"},
      {"CREATE TABLE t (a STRING(x)) PRIMARY KEY (a)",
       "expected MAX or a length but found 'x' at line 1, column 26"},
      {"CREATE TABLE t (a INT64 NOT) PRIMARY KEY (a)",
       "expected NULL but found ')' at line 1, column 28"},
      {"CREATE TABLE t (a INT64) PRIMARY KEY (a), INTERLEAVE p",
       "expected IN but found 'p' at line 1, column 54"},
      {"CREATE TABLE t (a INT64) PRIMARY KEY (a), INTERLEAVE IN PARENT p ON DELETE RESTRICT",
       "expected CASCADE or NO ACTION but found 'RESTRICT' at line 1, column 76"},
      {"CREATE TABLE t (a INT64) PRIMARY KEY (a),",
       "expected INTERLEAVE but found end of input at line 1, column 42"},
      {"CREATE UNIQUE TABLE t", "expected INDEX but found 'TABLE' at line 1, column 15"},
      {"CREATE VIEW v", "expected TABLE or INDEX but found 'VIEW' at line 1, column 8"},
      {"CREATE INDEX i ON t ()", "expected a column name but found ')' at line 1, column 22"},
      {"CREATE INDEX IF EXISTS i ON t (a)", "expected NOT but found 'EXISTS' at line 1, column 17"},
      {"DROP VIEW v", "expected TABLE or INDEX but found 'VIEW' at line 1, column 6"},
      {"DROP TABLE IF NOT EXISTS t", "expected EXISTS but found 'NOT' at line 1, column 15"},
      {"BEGIN READ", "expected ONLY or WRITE but found end of input at line 1, column 11"},
      {"SET x = 1", "expected READ_TIMESTAMP or STALENESS but found 'x' at line 1, column 5"},
      {"SET STALENESS 1", "expected '=' but found '1' at line 1, column 15"},
      {"SET STALENESS = TIMESTAMP '2026-01-01'",
       "expected microseconds, a parameter or DEFAULT but found 'TIMESTAMP' at line 1, column 17"},
      {"SET READ_TIMESTAMP = 'x'",
       "expected TIMESTAMP '...', microseconds, a parameter or DEFAULT but found ''x'' at line 1, "
       "column 22"},
      {"EXPLAIN EXPLAIN SELECT 1", "EXPLAIN cannot be nested at line 1, column 9"},
      {"SELECT 1; SELEC", "expected a statement but found 'SELEC' at line 1, column 11"},
      {"SELECT 1 SELECT 2", "expected ';' or end of input but found 'SELECT' at line 1, column 10"},
      {"SELECT 'a very long string literal that goes on and on' x y",
       "expected ';' or end of input but found 'y' at line 1, column 59"},
      {"SELECT a FROM t WHERE a = 'a very long string literal that goes on and on and on' 1",
       "expected ';' or end of input but found '1' at line 1, column 83"},
      {"SELECT 1 +", "expected an expression but found end of input at line 1, column 11"},
  };
  for (const ErrorCase& c : cases) ExpectError(c);
}

TEST(ParserErrorTest, LongTokensAreShortenedInMessages) {
  const std::string sql = "SELECT 1 '" + std::string(100, 'z') + "'";
  const absl::StatusOr<Statement> s = ParseStatement(sql);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "expected end of statement but found ''" + std::string(39, 'z') +
                                      "...' at line 1, column 10");
}

TEST(ParserErrorTest, StatementExpectsOneStatement) {
  const absl::StatusOr<Statement> s = ParseStatement("SELECT 1; SELECT 2");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "expected end of statement but found 'SELECT' at line 1, column 11");
  EXPECT_EQ(ErrorPosition(s.status()), (SourcePos{10, 1, 11}));
}

TEST(ParserErrorTest, DepthLimit) {
  ParserOptions options;
  options.max_depth = 50;
  const std::string ok = std::string(49, '(') + "1" + std::string(49, ')');
  EXPECT_TRUE(ParseExpression(ok, options).ok());
  const std::string deep = std::string(60, '(') + "1" + std::string(60, ')');
  const absl::StatusOr<ExprPtr> e = ParseExpression(deep, options);
  EXPECT_EQ(std::string(e.status().message()),
            "nesting deeper than the limit of 50 levels at line 1, column 51");

  // Default limits, input far deeper than any stack would survive unchecked.
  const int n = 100000;
  for (const std::string& prefix :
       {std::string("("), std::string("NOT "), std::string("- "), std::string("f("),
        std::string("(SELECT "), std::string("a IN (")}) {
    std::string sql;
    for (int i = 0; i < n; ++i) sql += prefix;
    sql += "1";
    const absl::StatusOr<Statement> s = ParseStatement("SELECT " + sql);
    EXPECT_FALSE(s.ok()) << prefix;
    EXPECT_TRUE(absl::StartsWith(s.status().message(), "nesting deeper than the limit of 200"))
        << prefix << ": " << s.status().message();
  }
  // A chain of binary operators builds a tree as tall as the chain.
  for (const std::string& suffix :
       {std::string(" + 1"), std::string(" * 2"), std::string(" AND a"), std::string(" OR a"),
        std::string(" = 1"), std::string(" IS NULL"), std::string(" || 'x'")}) {
    std::string sql = "SELECT a";
    for (int i = 0; i < n; ++i) sql += suffix;
    const absl::StatusOr<Statement> s = ParseStatement(sql);
    EXPECT_FALSE(s.ok()) << suffix;
    EXPECT_TRUE(absl::StartsWith(s.status().message(), "nesting deeper than the limit of 200"))
        << suffix << ": " << s.status().message();
  }
}

TEST(ParserErrorTest, LengthLimit) {
  ParserOptions options;
  options.max_sql_bytes = 20;
  EXPECT_TRUE(ParseStatement("SELECT 12345678901", options).ok());
  const absl::StatusOr<Statement> s = ParseStatement("SELECT 123456789012345", options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(),
            "SQL text of 22 bytes is longer than the limit of 20 at line 1, column 1");
  EXPECT_FALSE(ParseScript(std::string(2 << 20, ' ')).ok());
}

}  // namespace
}  // namespace meridian::sql
