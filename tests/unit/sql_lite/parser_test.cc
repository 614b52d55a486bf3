// Every statement form: the parser reads it and ToSql writes the expected canonical text, and the
// canonical text reads back to itself (the round-trip property).
#include "sql_lite/parser.h"

#include <string>
#include <variant>

#include "gtest/gtest.h"

namespace meridian::sql {
namespace {

struct Case {
  std::string sql;
  std::string canonical;
};

std::string Render(const std::string& sql) {
  const absl::StatusOr<Statement> s = ParseStatement(sql);
  if (!s.ok()) return "ERROR: " + std::string(s.status().message());
  return ToSql(*s);
}

void ExpectRoundTrip(const Case& c) {
  SCOPED_TRACE(c.sql);
  const std::string first = Render(c.sql);
  EXPECT_EQ(first, c.canonical);
  EXPECT_EQ(Render(first), first) << "canonical text does not read back to itself";
}

TEST(ParserTest, Select) {
  const Case cases[] = {
      {"SELECT 1+1", "SELECT (1 + 1)"},
      {"select * from T", "SELECT * FROM t"},
      {"SELECT DISTINCT a, b AS x, c y FROM t", "SELECT DISTINCT a, b AS x, c AS y FROM t"},
      {"SELECT ALL a FROM t", "SELECT a FROM t"},
      {"SELECT t.*, u.c FROM t AS a", "SELECT t.*, u.c FROM t AS a"},
      {"SELECT a FROM t x INNER JOIN u ON x.id = u.id",
       "SELECT a FROM t AS x JOIN u ON (x.id = u.id)"},
      {"SELECT a FROM t JOIN u AS v ON t.id = v.id LEFT OUTER JOIN w ON w.k = v.k",
       "SELECT a FROM t JOIN u AS v ON (t.id = v.id) LEFT JOIN w ON (w.k = v.k)"},
      {"SELECT a FROM t LEFT JOIN u ON TRUE", "SELECT a FROM t LEFT JOIN u ON TRUE"},
      {"SELECT * FROM t, u CROSS JOIN v", "SELECT * FROM t CROSS JOIN u CROSS JOIN v"},
      {"SELECT a, COUNT(*) FROM t WHERE b > 1 GROUP BY a HAVING COUNT(*) > 2",
       "SELECT a, COUNT(*) FROM t WHERE (b > 1) GROUP BY a HAVING (COUNT(*) > 2)"},
      {"SELECT a FROM t ORDER BY a DESC, b ASC, c LIMIT 10 OFFSET 5",
       "SELECT a FROM t ORDER BY a DESC, b, c LIMIT 10 OFFSET 5"},
      {"SELECT a FROM t LIMIT @n OFFSET @skip", "SELECT a FROM t LIMIT @n OFFSET @skip"},
      {"SELECT count(DISTINCT x), sum(y), min(y), max(y), avg(y), my_fn(1, 'a'), now() FROM t",
       "SELECT COUNT(DISTINCT x), SUM(y), MIN(y), MAX(y), AVG(y), MY_FN(1, 'a'), NOW() FROM t"},
      {"SELECT (SELECT MAX(b) FROM u WHERE u.a = t.a) AS m FROM t",
       "SELECT (SELECT MAX(b) FROM u WHERE (u.a = t.a)) AS m FROM t"},
      {"SELECT a FROM t WHERE a IN (SELECT b FROM u) AND NOT EXISTS (SELECT 1 FROM v)",
       "SELECT a FROM t WHERE ((a IN (SELECT b FROM u)) AND (NOT EXISTS (SELECT 1 FROM v)))"},
      {"SELECT \"Weird Name\", `select`, \"lower\" FROM \"T\"",
       "SELECT `Weird Name`, `select`, lower FROM `T`"},
      {"SELECT `a``b` FROM t", "SELECT `a``b` FROM t"},
      {"SELECT CAST(a AS string), CAST('1' AS Int64) FROM t",
       "SELECT CAST(a AS STRING), CAST('1' AS INT64) FROM t"},
      {"SELECT 'x', b'y', x'7A', NULL, TRUE, false, 1.5, -2, @p",
       "SELECT 'x', x'79', x'7a', NULL, TRUE, FALSE, 1.5, -2, @p"},
      {"SELECT TIMESTAMP '2026-12-07 10:00:00+00', timestamp '2026-12-07T11:00:00.25+01'",
       "SELECT TIMESTAMP '2026-12-07 10:00:00+00', TIMESTAMP '2026-12-07 10:00:00.250000+00'"},
      {"SELECT timestamp FROM t", "SELECT timestamp FROM t"},
      {"SELECT a FROM t;", "SELECT a FROM t"},
  };
  for (const Case& c : cases) ExpectRoundTrip(c);
}

TEST(ParserTest, Dml) {
  const Case cases[] = {
      {"INSERT INTO t (a, b) VALUES (1, 'x')", "INSERT INTO t (a, b) VALUES (1, 'x')"},
      {"insert or update into T (A) values (1), (2), (@p)",
       "INSERT OR UPDATE INTO t (a) VALUES (1), (2), (@p)"},
      {"INSERT INTO t (a, b) VALUES (1 + 2, NULL), (-3, CAST(@x AS FLOAT64))",
       "INSERT INTO t (a, b) VALUES ((1 + 2), NULL), (-3, CAST(@x AS FLOAT64))"},
      {"UPDATE t SET a = a + 1, b = 'z' WHERE k = 3",
       "UPDATE t SET a = (a + 1), b = 'z' WHERE (k = 3)"},
      {"UPDATE t SET a = 1", "UPDATE t SET a = 1"},
      {"DELETE FROM t WHERE a IS NULL", "DELETE FROM t WHERE (a IS NULL)"},
      {"DELETE t", "DELETE FROM t"},
  };
  for (const Case& c : cases) ExpectRoundTrip(c);
}

TEST(ParserTest, Ddl) {
  const Case cases[] = {
      {"CREATE TABLE t (a INT64 NOT NULL, b STRING(MAX), c BYTES(16), d FLOAT64, e BOOL, "
       "f TIMESTAMP, PRIMARY KEY (a))",
       "CREATE TABLE t (a INT64 NOT NULL, b STRING, c BYTES(16), d FLOAT64, e BOOL, f TIMESTAMP) "
       "PRIMARY KEY (a)"},
      {"CREATE TABLE c (p INT64, id INT64, PRIMARY KEY (p, id DESC)) INTERLEAVE IN PARENT p ON "
       "DELETE CASCADE",
       "CREATE TABLE c (p INT64, id INT64) PRIMARY KEY (p, id DESC), INTERLEAVE IN PARENT p ON "
       "DELETE CASCADE"},
      {"CREATE TABLE c (p INT64, id INT64) PRIMARY KEY (p ASC, id), INTERLEAVE IN PARENT p",
       "CREATE TABLE c (p INT64, id INT64) PRIMARY KEY (p, id), INTERLEAVE IN PARENT p"},
      {"CREATE TABLE c (p INT64) PRIMARY KEY (p) INTERLEAVE IN PARENT p ON DELETE NO ACTION",
       "CREATE TABLE c (p INT64) PRIMARY KEY (p), INTERLEAVE IN PARENT p"},
      {"CREATE TABLE IF NOT EXISTS singleton (v STRING) PRIMARY KEY ()",
       "CREATE TABLE IF NOT EXISTS singleton (v STRING) PRIMARY KEY ()"},
      {"create unique index i on T (a DESC, b) storing (c, d)",
       "CREATE UNIQUE INDEX i ON t (a DESC, b) STORING (c, d)"},
      {"CREATE INDEX IF NOT EXISTS i ON t (a ASC)", "CREATE INDEX IF NOT EXISTS i ON t (a)"},
      {"DROP TABLE t", "DROP TABLE t"},
      {"DROP TABLE IF EXISTS \"T\"", "DROP TABLE IF EXISTS `T`"},
      {"drop index if exists i", "DROP INDEX IF EXISTS i"},
  };
  for (const Case& c : cases) ExpectRoundTrip(c);
}

TEST(ParserTest, TransactionsAndSession) {
  const Case cases[] = {
      {"BEGIN", "BEGIN"},
      {"begin transaction", "BEGIN"},
      {"BEGIN READ ONLY", "BEGIN READ ONLY"},
      {"BEGIN READ WRITE", "BEGIN"},
      {"COMMIT", "COMMIT"},
      {"commit transaction", "COMMIT"},
      {"ROLLBACK", "ROLLBACK"},
      {"SET READ_TIMESTAMP = TIMESTAMP '2026-12-07 10:00:00+00'",
       "SET READ_TIMESTAMP = TIMESTAMP '2026-12-07 10:00:00+00'"},
      {"set read_timestamp = 1796637600000000", "SET READ_TIMESTAMP = 1796637600000000"},
      {"SET READ_TIMESTAMP = @ts", "SET READ_TIMESTAMP = @ts"},
      {"SET READ_TIMESTAMP = DEFAULT", "SET READ_TIMESTAMP = DEFAULT"},
      {"SET STALENESS = 15000000", "SET STALENESS = 15000000"},
      {"SET STALENESS = default", "SET STALENESS = DEFAULT"},
      {"EXPLAIN SELECT a FROM t WHERE a = 1", "EXPLAIN SELECT a FROM t WHERE (a = 1)"},
      {"EXPLAIN DELETE FROM t", "EXPLAIN DELETE FROM t"},
  };
  for (const Case& c : cases) ExpectRoundTrip(c);
}

TEST(ParserTest, TreeShape) {
  const absl::StatusOr<Statement> s =
      ParseStatement("SELECT x.a AS b\nFROM t AS x LEFT JOIN u ON x.k = u.k WHERE x.a > @min");
  ASSERT_TRUE(s.ok()) << s.status();
  const auto* select = std::get_if<SelectStmt>(&s->node);
  ASSERT_NE(select, nullptr);
  ASSERT_EQ(select->items.size(), 1u);
  EXPECT_EQ(select->items[0].alias, "b");
  const auto* ref = std::get_if<ColumnRefExpr>(&select->items[0].expr->node);
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->table, "x");
  EXPECT_EQ(ref->column, "a");
  ASSERT_TRUE(select->from.has_value());
  EXPECT_EQ(select->from->table.name, "t");
  EXPECT_EQ(select->from->table.alias, "x");
  EXPECT_EQ(select->from->table.pos, (SourcePos{21, 2, 6}));
  ASSERT_EQ(select->from->joins.size(), 1u);
  EXPECT_EQ(select->from->joins[0].type, JoinType::kLeft);
  const auto* where = std::get_if<BinaryExpr>(&select->where->node);
  ASSERT_NE(where, nullptr);
  EXPECT_EQ(where->op, BinaryOp::kGt);
  EXPECT_EQ(select->where->pos, (SourcePos{59, 2, 44}));
  const auto* param = std::get_if<ParameterExpr>(&where->right->node);
  ASSERT_NE(param, nullptr);
  EXPECT_EQ(param->name, "min");
  EXPECT_EQ(s->pos(), (SourcePos{0, 1, 1}));
}

TEST(ParserTest, InsertRowsAndDdlFields) {
  const absl::StatusOr<Statement> ins =
      ParseStatement("INSERT INTO t (a, b) VALUES (1, 2), (3, 4)");
  ASSERT_TRUE(ins.ok());
  const auto& insert = std::get<InsertStmt>(ins->node);
  EXPECT_EQ(insert.columns, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(insert.rows.size(), 2u);
  EXPECT_EQ(std::get<LiteralExpr>(insert.rows[1][0]->node).value, Value::Int64(3));

  const absl::StatusOr<Statement> ct = ParseStatement(
      "CREATE TABLE c (p INT64 NOT NULL, s STRING(10)) PRIMARY KEY (p DESC), INTERLEAVE IN "
      "PARENT par ON DELETE CASCADE");
  ASSERT_TRUE(ct.ok()) << ct.status();
  const auto& table = std::get<CreateTableStmt>(ct->node);
  ASSERT_EQ(table.columns.size(), 2u);
  EXPECT_TRUE(table.columns[0].not_null);
  EXPECT_EQ(table.columns[1].type, Type::kString);
  EXPECT_EQ(table.columns[1].max_length, 10);
  ASSERT_EQ(table.primary_key.size(), 1u);
  EXPECT_TRUE(table.primary_key[0].descending);
  ASSERT_TRUE(table.interleave.has_value());
  EXPECT_EQ(table.interleave->parent, "par");
  EXPECT_EQ(table.interleave->on_delete, OnDelete::kCascade);
}

TEST(ParserTest, SetValueShapes) {
  const absl::StatusOr<Statement> def = ParseStatement("SET READ_TIMESTAMP = DEFAULT");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(std::get<SetStmt>(def->node).value, nullptr);
  const absl::StatusOr<Statement> stale = ParseStatement("SET STALENESS = 10");
  ASSERT_TRUE(stale.ok());
  const auto& set = std::get<SetStmt>(stale->node);
  EXPECT_EQ(set.variable, SetStmt::Variable::kStaleness);
  EXPECT_EQ(std::get<LiteralExpr>(set.value->node).value, Value::Int64(10));
}

TEST(ParserTest, Script) {
  const absl::StatusOr<std::vector<Statement>> script = ParseScript(
      "-- setup\nCREATE TABLE t (a INT64) PRIMARY KEY (a);;\n"
      "BEGIN; INSERT INTO t (a) VALUES (1); /* done */ COMMIT;\nSELECT * FROM t");
  ASSERT_TRUE(script.ok()) << script.status();
  ASSERT_EQ(script->size(), 5u);
  EXPECT_EQ(ToSql((*script)[1]), "BEGIN");
  EXPECT_EQ(ToSql((*script)[4]), "SELECT * FROM t");
  EXPECT_EQ((*script)[4].pos(), (SourcePos{108, 4, 1}));
  EXPECT_TRUE(ParseScript("").value().empty());
  EXPECT_TRUE(ParseScript(" ; ; -- nothing").value().empty());
}

TEST(ParserTest, NamesFoldCase) {
  const absl::StatusOr<Statement> s = ParseStatement("SELECT MyCol, \"MyCol\" FROM MyTable");
  ASSERT_TRUE(s.ok());
  const auto& select = std::get<SelectStmt>(s->node);
  EXPECT_EQ(std::get<ColumnRefExpr>(select.items[0].expr->node).column, "mycol");
  EXPECT_EQ(std::get<ColumnRefExpr>(select.items[1].expr->node).column, "MyCol");
  EXPECT_EQ(select.from->table.name, "mytable");
}

}  // namespace
}  // namespace meridian::sql
