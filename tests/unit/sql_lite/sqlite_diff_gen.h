// The statement generator of the SQLite differential test (sqlite_diff.cc): from a seed, a schema
// of 2-3 tables (INT64, STRING and FLOAT64 columns, single or composite keys, sometimes a
// secondary index), rows, and a stream of SELECTs (filters with NULLs, IN, BETWEEN, LIKE,
// arithmetic, DISTINCT, GROUP BY / HAVING with every aggregate, inner and left joins,
// uncorrelated and correlated subqueries, ORDER BY with LIMIT/OFFSET) and DML (INSERT, UPDATE,
// DELETE). Every statement is text that both sql_lite and SQLite accept with the same meaning:
// no division, no booleans in results, lower-case strings (SQLite's LIKE ignores case), small
// integers (no overflow), scalar subqueries that aggregate (one row), LIMIT only under an ORDER
// BY of every output column.
//
// A seed gives the same statements in every run of one binary; a build by another compiler may
// order the generator's draws differently (C++ leaves argument evaluation order open).
//
// Thread safety: a Generator is used by one thread.
#ifndef MERIDIAN_TESTS_UNIT_SQL_LITE_SQLITE_DIFF_GEN_H_
#define MERIDIAN_TESTS_UNIT_SQL_LITE_SQLITE_DIFF_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/random.h"

namespace meridian::sql::difftest {

enum class Kind { kInt, kStr, kReal };

struct Column {
  std::string name;
  Kind kind;
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // the key columns first
  int key_columns = 1;
  int64_t next_key = 0;
};

struct GenStatement {
  std::string meridian_sql;  // for sql_lite
  std::string sqlite_sql;    // for SQLite (differs only in DDL)
  bool is_query = false;
  // Queries: the rows come in a defined order (ORDER BY covers every output column).
  bool ordered = false;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  // CREATE TABLE / CREATE INDEX statements, then INSERTs of the initial rows.
  std::vector<GenStatement> Setup();
  // One query (most of the time) or DML statement.
  GenStatement Next();
  // SELECT * ... ORDER BY the key: the whole table, to compare at the end.
  std::vector<GenStatement> Dumps() const;

 private:
  // Expression text of one kind over the columns of `tables` (qualified by alias).
  std::string Expr(Kind kind, int depth);
  std::string Literal(Kind kind);
  std::string ColumnOf(Kind kind);
  // A column of any kind (never a literal: a GROUP BY literal would be an ordinal).
  std::string AnyColumn();
  std::string Predicate(int depth);
  std::string Comparison();
  std::string Subquery();
  std::string Where();
  GenStatement Query();
  GenStatement SimpleSelect();
  GenStatement AggregateSelect();
  GenStatement JoinSelect();
  GenStatement Dml();
  std::string InsertRow(Table& t, bool fresh_key);
  // ORDER BY 1..n, maybe DESC, and maybe LIMIT/OFFSET.
  std::string OrderAll(int n, bool* ordered);
  // Sets the visible tables (alias, table) for expressions.
  void Use(std::vector<std::pair<std::string, const Table*>> scope) { scope_ = std::move(scope); }

  Random rng_;
  bool allow_subqueries_ = true;  // off for DML: SQLite may evaluate them mid-update
  int subquery_depth_ = 0;        // names nested subqueries sq1, sq2, ...
  std::vector<Table> tables_;
  std::vector<std::pair<std::string, const Table*>> scope_;
};

}  // namespace meridian::sql::difftest

#endif  // MERIDIAN_TESTS_UNIT_SQL_LITE_SQLITE_DIFF_GEN_H_
