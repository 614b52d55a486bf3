// Differential test of sql_lite against SQLite.
//
// Seed: --seed (default 1); each of --cases cases uses seed + case number; --fresh takes the seed
// from the clock and prints it. Workload (sqlite_diff_gen.h): a random schema of 2-3 tables with
// rows, then --statements statements, most of them queries (filters, joins, grouping, subqueries,
// ordering), the rest INSERT/UPDATE/DELETE; finally every table is read whole.
// Faults: none in the KV layer; --plant=null_eq or --plant=limit turns on a bug in sql_lite
// (testing_plants.h) that the checker must catch.
// Checker: every statement runs on sql_lite (Session over MemoryKv) and on SQLite (in memory).
// Both must fail, or both succeed with the same rows: in order when the query orders by every
// output column, else as multisets; numbers compare numerically (INT64 equal to FLOAT64 is equal;
// floats within a relative 1e-9), DML by the number of rows changed. The first difference prints
// the seed, the script that reproduces it and both results, and fails the run.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"
#include "sql_lite/testing_plants.h"
#include "tests/unit/sql_lite/sqlite_diff_gen.h"

namespace meridian::sql::difftest {
namespace {

using Rows = std::vector<std::vector<Value>>;

struct Outcome {
  bool ok = false;
  std::string error;
  Rows rows;
  int64_t changes = 0;
};

Outcome RunSqlite(sqlite3* db, const std::string& sql) {
  Outcome out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    out.error = sqlite3_errmsg(db);
    return out;
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<Value> row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_INTEGER:
          row.push_back(Value::Int64(sqlite3_column_int64(stmt, i)));
          break;
        case SQLITE_FLOAT:
          row.push_back(Value::Float64(sqlite3_column_double(stmt, i)));
          break;
        case SQLITE_TEXT:
          row.push_back(Value::String(reinterpret_cast<const char*>(sqlite3_column_text(stmt, i))));
          break;
        default:
          row.push_back(Value::Null());
          break;
      }
    }
    out.rows.push_back(std::move(row));
  }
  out.ok = rc == SQLITE_DONE;
  if (!out.ok) out.error = sqlite3_errmsg(db);
  out.changes = sqlite3_changes(db);
  sqlite3_finalize(stmt);
  return out;
}

Outcome RunOurs(Session& session, const std::string& sql) {
  Outcome out;
  absl::StatusOr<ResultSet> r = session.Execute(sql);
  out.ok = r.ok();
  if (!r.ok()) {
    out.error = r.status().ToString();
    return out;
  }
  out.rows = r->rows;
  out.changes = r->rows_affected;
  return out;
}

bool IsNumber(const Value& v) { return v.type() == Type::kInt64 || v.type() == Type::kFloat64; }
double AsDouble(const Value& v) {
  return v.type() == Type::kInt64 ? static_cast<double>(v.int64_value()) : v.float64_value();
}

bool SameValue(const Value& a, const Value& b) {
  if (IsNumber(a) && IsNumber(b)) {
    if (a.type() == Type::kInt64 && b.type() == Type::kInt64) return a == b;
    const double x = AsDouble(a), y = AsDouble(b);
    return x == y || std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y));
  }
  return a == b;
}

bool SameRows(Rows a, Rows b, bool ordered) {
  if (a.size() != b.size()) return false;
  if (!ordered) {
    const auto less = [](const std::vector<Value>& x, const std::vector<Value>& y) {
      for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
        const int c = OrderCompare(x[i], y[i]);
        if (c != 0) return c < 0;
      }
      return x.size() < y.size();
    };
    std::sort(a.begin(), a.end(), less);
    std::sort(b.begin(), b.end(), less);
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].size() != b[i].size()) return false;
    for (size_t j = 0; j < a[i].size(); ++j) {
      if (!SameValue(a[i][j], b[i][j])) return false;
    }
  }
  return true;
}

std::string Show(const Outcome& o) {
  if (!o.ok) return "  error: " + o.error + "\n";
  std::string out =
      "  " + std::to_string(o.rows.size()) + " rows, " + std::to_string(o.changes) + " changes\n";
  for (const auto& row : o.rows) {
    out += "   ";
    for (const Value& v : row) out += " " + v.ToSqlLiteral();
    out += "\n";
  }
  return out;
}

struct Stats {
  int64_t statements = 0, queries = 0, both_failed = 0, rows = 0;
};

// False (after printing the reproduction) on the first difference.
bool RunCase(uint64_t seed, int statements, Stats* stats) {
  Generator gen(seed);
  MemoryKv kv;
  Session session(&kv);
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  std::vector<GenStatement> script = gen.Setup();
  const size_t setup = script.size();
  for (int i = 0; i < statements; ++i) script.push_back(gen.Next());
  bool ok = true;
  for (size_t i = 0; i < script.size() + gen.Dumps().size() && ok; ++i) {
    const GenStatement s = i < script.size() ? script[i] : gen.Dumps()[i - script.size()];
    const Outcome ours = RunOurs(session, s.meridian_sql);
    const Outcome theirs = RunSqlite(db, s.sqlite_sql);
    ++stats->statements;
    stats->queries += s.is_query ? 1 : 0;
    stats->rows += static_cast<int64_t>(ours.rows.size());
    if (!ours.ok && !theirs.ok) {
      ++stats->both_failed;
      continue;
    }
    ok = ours.ok == theirs.ok && (s.is_query ? SameRows(ours.rows, theirs.rows, s.ordered)
                                             : ours.changes == theirs.changes);
    if (ok) continue;
    std::cerr << "MISMATCH seed=" << seed << " statement " << i << " (setup has " << setup
              << ")\nscript (sql_lite dialect):\n";
    for (size_t j = 0; j < i && j < script.size(); ++j) {
      std::cerr << "  " << script[j].meridian_sql << ";\n";
    }
    std::cerr << "statement:\n  " << s.meridian_sql << "\nsql_lite:\n"
              << Show(ours) << "sqlite:\n"
              << Show(theirs);
  }
  sqlite3_close(db);
  return ok;
}

}  // namespace
}  // namespace meridian::sql::difftest

int main(int argc, char** argv) {
  uint64_t seed = 1;
  int cases = 50, statements = 60;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* flag) -> const char* {
      const std::string f = flag;
      return arg.rfind(f, 0) == 0 ? arg.c_str() + f.size() : nullptr;
    };
    if (const char* v = value("--seed=")) {
      seed = std::strtoull(v, nullptr, 10);
    } else if (const char* v = value("--cases=")) {
      cases = std::atoi(v);
    } else if (const char* v = value("--statements=")) {
      statements = std::atoi(v);
    } else if (arg == "--fresh") {
      seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    } else if (arg == "--plant=null_eq") {
      meridian::sql::MutableTestingPlants().null_equals_null = true;
    } else if (arg == "--plant=limit") {
      meridian::sql::MutableTestingPlants().limit_off_by_one = true;
    } else {
      std::cerr << "unknown flag " << arg << "\n";
      return 2;
    }
  }
  meridian::sql::difftest::Stats stats;
  for (int c = 0; c < cases; ++c) {
    if (!meridian::sql::difftest::RunCase(seed + c, statements, &stats)) return 1;
  }
  std::cout << "seeds " << seed << ".." << seed + cases - 1 << ": " << stats.statements
            << " statements (" << stats.queries << " queries, " << stats.rows
            << " rows from sql_lite, " << stats.both_failed << " failed on both), no difference\n";
  return 0;
}
