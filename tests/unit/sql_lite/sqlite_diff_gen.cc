#include "tests/unit/sql_lite/sqlite_diff_gen.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::sql::difftest {
namespace {

const char* const kStrings[] = {"a", "b", "ab", "ba", "abc", "", "b_a", "ca"};
const char* const kPatterns[] = {"a%", "%b", "_", "%a_%", "ab", "%", "b\\_%", "_a"};
const char* const kCompare[] = {"=", "<>", "!=", "<", "<=", ">", ">="};

std::string MeridianType(Kind k) {
  return k == Kind::kInt ? "INT64" : k == Kind::kStr ? "STRING(MAX)" : "FLOAT64";
}
std::string SqliteType(Kind k) {
  return k == Kind::kInt ? "INTEGER" : k == Kind::kStr ? "TEXT" : "REAL";
}

}  // namespace

std::string Generator::Literal(Kind kind) {
  if (rng_.Bernoulli(0.08)) return "NULL";
  switch (kind) {
    case Kind::kInt:
      return absl::StrCat(rng_.Range(-3, 12));
    case Kind::kStr:
      return absl::StrCat("'", kStrings[rng_.Uniform(8)], "'");
    case Kind::kReal:
      return absl::StrCat(rng_.Range(-4, 12) / 2, rng_.Bernoulli(0.5) ? ".5" : ".0");
  }
  return "NULL";
}

std::string Generator::ColumnOf(Kind kind) {
  std::vector<std::string> options;
  for (const auto& [alias, table] : scope_) {
    for (const Column& c : table->columns) {
      if (c.kind == kind) options.push_back(alias + "." + c.name);
    }
  }
  if (options.empty()) return Literal(kind);
  return options[rng_.Uniform(options.size())];
}

std::string Generator::AnyColumn() {
  std::vector<std::string> options;
  for (const auto& [alias, table] : scope_) {
    for (const Column& c : table->columns) options.push_back(alias + "." + c.name);
  }
  return options[rng_.Uniform(options.size())];
}

std::string Generator::Expr(Kind kind, int depth) {
  const uint64_t pick = depth <= 0 ? rng_.Uniform(3) : rng_.Uniform(9);
  if (pick < 2) return ColumnOf(kind);
  if (pick == 2) return Literal(kind);
  switch (kind) {
    case Kind::kInt:
      switch (pick) {
        case 3:
          return absl::StrCat("(", Expr(kind, depth - 1), " + ", Expr(kind, depth - 1), ")");
        case 4:
          return absl::StrCat("(", Expr(kind, depth - 1), " - ", Expr(kind, depth - 1), ")");
        case 5:
          return absl::StrCat("(", Expr(kind, depth - 1), " * ", rng_.Range(-2, 3), ")");
        case 6:
          return absl::StrCat("ABS(", Expr(kind, depth - 1), ")");
        case 7:
          return absl::StrCat("COALESCE(", ColumnOf(kind), ", ", rng_.Range(0, 5), ")");
        default:
          return absl::StrCat("LENGTH(", Expr(Kind::kStr, depth - 1), ")");
      }
    case Kind::kStr:
      if (pick < 6) return absl::StrCat("(", Expr(kind, depth - 1), " || ", Literal(kind), ")");
      if (pick == 6) return absl::StrCat("LOWER(", Expr(kind, depth - 1), ")");
      return absl::StrCat("COALESCE(", ColumnOf(kind), ", '", kStrings[rng_.Uniform(8)], "')");
    case Kind::kReal:
      if (pick < 6)
        return absl::StrCat("(", Expr(kind, depth - 1), " + ", Expr(Kind::kInt, 0), ")");
      return absl::StrCat("(", Expr(kind, depth - 1), " * 2)");
  }
  return "NULL";
}

std::string Generator::Comparison() {
  const Kind kind = static_cast<Kind>(rng_.Uniform(3));
  const Kind other = kind == Kind::kStr ? kind : static_cast<Kind>(rng_.Uniform(2) * 2);
  return absl::StrCat("(", Expr(kind, 1), " ", kCompare[rng_.Uniform(7)], " ", Expr(other, 1), ")");
}

std::string Generator::Subquery() {
  // The subquery's own table; outer columns stay visible for correlation.
  const Table& t = tables_[rng_.Uniform(tables_.size())];
  auto saved = scope_;
  const uint64_t form = rng_.Uniform(3);
  std::string outer_int = ColumnOf(Kind::kInt);
  const std::string alias = absl::StrCat("sq", ++subquery_depth_);
  scope_.push_back({alias, &t});
  std::string inner_int = absl::StrCat(alias, ".", t.columns[0].name);
  const std::string from = absl::StrCat(" FROM ", t.name, " ", alias, " WHERE ");
  std::string out;
  if (form == 0) {
    out = absl::StrCat("(", outer_int, " IN (SELECT ", inner_int, from, Predicate(1), "))");
  } else if (form == 1) {
    out = absl::StrCat("(EXISTS (SELECT 1", from, "(", inner_int, " = ", outer_int, ") AND ",
                       Predicate(1), "))");
  } else {
    out = absl::StrCat("(", outer_int, rng_.Bernoulli(0.5) ? " >= " : " < ", "(SELECT ",
                       rng_.Bernoulli(0.5) ? "MAX(" : "MIN(", inner_int, ")", from, Predicate(0),
                       "))");
  }
  --subquery_depth_;
  scope_ = std::move(saved);
  return out;
}

std::string Generator::Predicate(int depth) {
  const uint64_t pick = rng_.Uniform(depth > 0 ? (allow_subqueries_ ? 12 : 11) : 8);
  const Kind kind = static_cast<Kind>(rng_.Uniform(3));
  const std::string neg = rng_.Bernoulli(0.3) ? "NOT " : "";
  switch (pick) {
    case 0:
    case 1:
    case 2:
      return Comparison();
    case 3:
      return absl::StrCat("(", Expr(kind, 1), " IS ", neg, "NULL)");
    case 4: {
      std::vector<std::string> list;
      for (int i = 0, n = static_cast<int>(rng_.Range(1, 4)); i < n; ++i) {
        list.push_back(Literal(kind));
      }
      return absl::StrCat("(", Expr(kind, 1), " ", neg, "IN (", absl::StrJoin(list, ", "), "))");
    }
    case 5:
      return absl::StrCat("(", Expr(kind, 1), " ", neg, "BETWEEN ", Literal(kind), " AND ",
                          Literal(kind), ")");
    case 6:
      return absl::StrCat("(", Expr(Kind::kStr, 1), " ", neg, "LIKE '", kPatterns[rng_.Uniform(6)],
                          "')");
    case 7:
      return Comparison();
    case 8:
      return absl::StrCat("(NOT ", Predicate(depth - 1), ")");
    case 9:
      return absl::StrCat("(", Predicate(depth - 1), " AND ", Predicate(depth - 1), ")");
    case 10:
      return absl::StrCat("(", Predicate(depth - 1), " OR ", Predicate(depth - 1), ")");
    default:
      return Subquery();
  }
}

std::string Generator::Where() {
  if (rng_.Bernoulli(0.15)) return "";
  // Key equalities now and then, so the planner's point and range paths run.
  const auto [alias, table] = scope_[0];  // a copy: Predicate may grow scope_
  if (rng_.Bernoulli(0.25)) {
    return absl::StrCat(" WHERE (", alias, ".", table->columns[0].name, " = ",
                        rng_.Range(0, table->next_key), ") AND ", Predicate(1));
  }
  if (rng_.Bernoulli(0.15)) {
    return absl::StrCat(" WHERE (", alias, ".", table->columns[0].name,
                        rng_.Bernoulli(0.5) ? " > " : " <= ", rng_.Range(0, table->next_key), ")");
  }
  return " WHERE " + Predicate(2);
}

std::string Generator::OrderAll(int n, bool* ordered) {
  *ordered = rng_.Bernoulli(0.6);
  if (!*ordered) return "";
  std::vector<std::string> keys;
  for (int i = 1; i <= n; ++i) keys.push_back(absl::StrCat(i, rng_.Bernoulli(0.3) ? " DESC" : ""));
  std::string out = " ORDER BY " + absl::StrJoin(keys, ", ");
  if (rng_.Bernoulli(0.5)) {
    absl::StrAppend(&out, " LIMIT ", rng_.Range(0, 6));
    if (rng_.Bernoulli(0.5)) absl::StrAppend(&out, " OFFSET ", rng_.Range(0, 4));
  }
  return out;
}

GenStatement Generator::SimpleSelect() {
  const Table& t = tables_[rng_.Uniform(tables_.size())];
  Use({{"a", &t}});
  std::vector<std::string> items;
  for (int i = 0, n = static_cast<int>(rng_.Range(1, 3)); i < n; ++i) {
    items.push_back(Expr(static_cast<Kind>(rng_.Uniform(3)), 1));
  }
  GenStatement s;
  s.is_query = true;
  const std::string distinct = rng_.Bernoulli(0.2) ? "DISTINCT " : "";
  s.meridian_sql =
      absl::StrCat("SELECT ", distinct, absl::StrJoin(items, ", "), " FROM ", t.name, " a", Where(),
                   OrderAll(static_cast<int>(items.size()), &s.ordered));
  return s;
}

GenStatement Generator::AggregateSelect() {
  const Table& t = tables_[rng_.Uniform(tables_.size())];
  Use({{"a", &t}});
  std::vector<std::string> keys;
  for (int i = 0, n = static_cast<int>(rng_.Range(0, 2)); i < n; ++i) {
    keys.push_back(rng_.Bernoulli(0.7)
                       ? AnyColumn()
                       : absl::StrCat("(", ColumnOf(Kind::kInt), " + ", rng_.Range(0, 3), ")"));
  }
  std::vector<std::string> items = keys;
  for (int i = 0, n = static_cast<int>(rng_.Range(1, 3)); i < n; ++i) {
    switch (rng_.Uniform(7)) {
      case 0:
        items.push_back("COUNT(*)");
        break;
      case 1:
        items.push_back("COUNT(" + ColumnOf(Kind::kStr) + ")");
        break;
      case 2:
        items.push_back("SUM(" + Expr(Kind::kInt, 1) + ")");
        break;
      case 3:
        items.push_back("MIN(" + ColumnOf(static_cast<Kind>(rng_.Uniform(3))) + ")");
        break;
      case 4:
        items.push_back("MAX(" + Expr(static_cast<Kind>(rng_.Uniform(3)), 1) + ")");
        break;
      case 5:
        items.push_back("AVG(" + ColumnOf(Kind::kInt) + ")");
        break;
      default:
        items.push_back("COUNT(DISTINCT " + ColumnOf(Kind::kInt) + ")");
        break;
    }
  }
  GenStatement s;
  s.is_query = true;
  s.meridian_sql =
      absl::StrCat("SELECT ", absl::StrJoin(items, ", "), " FROM ", t.name, " a", Where());
  if (!keys.empty()) absl::StrAppend(&s.meridian_sql, " GROUP BY ", absl::StrJoin(keys, ", "));
  if (rng_.Bernoulli(0.3)) {
    absl::StrAppend(&s.meridian_sql, " HAVING (COUNT(*) > ", rng_.Range(0, 3), ")");
  }
  absl::StrAppend(&s.meridian_sql, OrderAll(static_cast<int>(items.size()), &s.ordered));
  return s;
}

GenStatement Generator::JoinSelect() {
  const Table& l = tables_[rng_.Uniform(tables_.size())];
  const Table& r = tables_[rng_.Uniform(tables_.size())];
  Use({{"a", &l}});
  const Kind kind = rng_.Bernoulli(0.7) ? Kind::kInt : Kind::kStr;
  const std::string left = ColumnOf(kind);
  Use({{"b", &r}});
  std::string on = absl::StrCat("(", left, " = ", ColumnOf(kind), ")");
  Use({{"a", &l}, {"b", &r}});
  if (rng_.Bernoulli(0.3)) on = absl::StrCat("(", on, " AND ", Predicate(0), ")");
  std::vector<std::string> items;
  for (int i = 0, n = static_cast<int>(rng_.Range(1, 3)); i < n; ++i) {
    items.push_back(ColumnOf(static_cast<Kind>(rng_.Uniform(3))));
  }
  GenStatement s;
  s.is_query = true;
  s.meridian_sql = absl::StrCat("SELECT ", absl::StrJoin(items, ", "), " FROM ", l.name, " a ",
                                rng_.Bernoulli(0.4) ? "LEFT JOIN " : "JOIN ", r.name, " b ON ", on,
                                Where(), OrderAll(static_cast<int>(items.size()), &s.ordered));
  return s;
}

std::string Generator::InsertRow(Table& t, bool fresh_key) {
  std::vector<std::string> names, values;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    names.push_back(t.columns[i].name);
    if (i == 0) {
      values.push_back(absl::StrCat(fresh_key ? t.next_key++ : rng_.Range(0, t.next_key)));
    } else if (static_cast<int>(i) < t.key_columns) {
      values.push_back(absl::StrCat(rng_.Range(0, 3)));
    } else {
      values.push_back(Literal(t.columns[i].kind));
    }
  }
  return absl::StrCat("INSERT INTO ", t.name, " (", absl::StrJoin(names, ", "), ") VALUES (",
                      absl::StrJoin(values, ", "), ")");
}

GenStatement Generator::Dml() {
  Table& t = tables_[rng_.Uniform(tables_.size())];
  Use({{t.name, &t}});
  GenStatement s;
  const uint64_t pick = rng_.Uniform(4);
  if (pick == 0) {
    s.meridian_sql = InsertRow(t, !rng_.Bernoulli(0.15));
  } else if (pick == 1) {
    const Column& c = t.columns[t.key_columns + rng_.Uniform(t.columns.size() - t.key_columns)];
    const Kind value_kind = c.kind == Kind::kReal && rng_.Bernoulli(0.3) ? Kind::kInt : c.kind;
    s.meridian_sql = absl::StrCat("UPDATE ", t.name, " SET ", c.name, " = ", Expr(value_kind, 1),
                                  " WHERE ", Predicate(1));
  } else if (pick == 2 && t.key_columns == 1) {
    const int64_t old_key = rng_.Range(0, t.next_key);
    const int64_t new_key = t.next_key++;
    s.meridian_sql = absl::StrCat("UPDATE ", t.name, " SET ", t.columns[0].name, " = ", new_key,
                                  " WHERE ", t.columns[0].name, " = ", old_key);
  } else {
    s.meridian_sql = absl::StrCat("DELETE FROM ", t.name, " WHERE ", Predicate(1));
  }
  return s;
}

GenStatement Generator::Query() {
  const uint64_t pick = rng_.Uniform(10);
  if (pick < 4) return SimpleSelect();
  if (pick < 7) return AggregateSelect();
  return JoinSelect();
}

GenStatement Generator::Next() {
  allow_subqueries_ = true;
  if (rng_.Bernoulli(0.2)) {
    allow_subqueries_ = false;
    GenStatement s = Dml();
    s.sqlite_sql = s.meridian_sql;
    return s;
  }
  GenStatement s = Query();
  s.sqlite_sql = s.meridian_sql;
  return s;
}

std::vector<GenStatement> Generator::Setup() {
  std::vector<GenStatement> out;
  const int n = static_cast<int>(rng_.Range(2, 3));
  for (int i = 0; i < n; ++i) {
    Table t;
    t.name = absl::StrCat("t", i);
    t.key_columns = rng_.Bernoulli(0.3) ? 2 : 1;
    for (int k = 0; k < t.key_columns; ++k) t.columns.push_back({absl::StrCat("k", k), Kind::kInt});
    t.columns.push_back({"c0", Kind::kInt});
    t.columns.push_back({"c1", Kind::kStr});
    for (int c = 2, extra = static_cast<int>(rng_.Range(0, 2)); c < 2 + extra; ++c) {
      t.columns.push_back({absl::StrCat("c", c), static_cast<Kind>(rng_.Uniform(3))});
    }
    std::vector<std::string> ours, theirs, key;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const std::string nn = static_cast<int>(c) < t.key_columns ? " NOT NULL" : "";
      ours.push_back(t.columns[c].name + " " + MeridianType(t.columns[c].kind) + nn);
      theirs.push_back(t.columns[c].name + " " + SqliteType(t.columns[c].kind) + nn);
    }
    for (int k = 0; k < t.key_columns; ++k) {
      key.push_back(t.columns[k].name + (rng_.Bernoulli(0.3) ? " DESC" : ""));
    }
    GenStatement create;
    create.meridian_sql = absl::StrCat("CREATE TABLE ", t.name, " (", absl::StrJoin(ours, ", "),
                                       ") PRIMARY KEY (", absl::StrJoin(key, ", "), ")");
    create.sqlite_sql = absl::StrCat("CREATE TABLE ", t.name, " (", absl::StrJoin(theirs, ", "),
                                     ", PRIMARY KEY (", absl::StrJoin(key, ", "), "))");
    out.push_back(create);
    if (rng_.Bernoulli(0.5)) {
      GenStatement index;
      index.meridian_sql = absl::StrCat("CREATE INDEX ", t.name, "_i ON ", t.name,
                                        rng_.Bernoulli(0.5) ? " (c0)" : " (c1, c0 DESC)");
      index.sqlite_sql = index.meridian_sql;
      out.push_back(index);
    }
    tables_.push_back(std::move(t));
  }
  for (Table& t : tables_) {
    for (int r = 0, rows = static_cast<int>(rng_.Range(0, 14)); r < rows; ++r) {
      GenStatement insert;
      insert.meridian_sql = InsertRow(t, true);
      insert.sqlite_sql = insert.meridian_sql;
      out.push_back(insert);
    }
  }
  return out;
}

std::vector<GenStatement> Generator::Dumps() const {
  std::vector<GenStatement> out;
  for (const Table& t : tables_) {
    std::vector<std::string> key;
    for (int k = 0; k < t.key_columns; ++k) key.push_back(t.columns[k].name);
    GenStatement s;
    s.is_query = true;
    s.ordered = true;
    s.meridian_sql = absl::StrCat("SELECT * FROM ", t.name, " ORDER BY ", absl::StrJoin(key, ", "));
    s.sqlite_sql = s.meridian_sql;
    out.push_back(s);
  }
  return out;
}

}  // namespace meridian::sql::difftest
