#include "sql_lite/dml.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/encoding.h"
#include "sql_lite/executor.h"
#include "sql_lite/table_io.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

absl::Status At(SourcePos pos, const absl::Status& status) { return WithPosition(status, pos); }

absl::StatusOr<const TableSchema*> FindTable(const BindContext& ctx, SourcePos pos,
                                             const std::string& name) {
  const TableSchema* table = ctx.schema->FindTable(name);
  if (table == nullptr) return SyntaxError(pos, absl::StrCat("unknown table ", name));
  return table;
}

absl::Status CheckNotNull(const TableSchema& table, const Row& row, SourcePos pos) {
  for (size_t i = 0; i < table.columns.size(); ++i) {
    if (table.columns[i].not_null && row[i].is_null()) {
      return SyntaxError(
          pos, absl::StrCat("NULL in NOT NULL column ", table.columns[i].name, " of ", table.name));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int>> InsertColumns(const InsertStmt& stmt, const TableSchema& table) {
  std::vector<int> columns;
  std::vector<bool> seen(table.columns.size(), false);
  for (const std::string& name : stmt.columns) {
    const int c = table.FindColumn(name);
    if (c < 0) {
      return SyntaxError(stmt.pos, absl::StrCat("unknown column ", name, " in ", table.name));
    }
    if (seen[c]) return SyntaxError(stmt.pos, absl::StrCat("column ", name, " given twice"));
    seen[c] = true;
    columns.push_back(c);
  }
  return columns;
}

SourcePos RowPos(const InsertStmt& stmt, const std::vector<ExprPtr>& values) {
  return values.empty() ? stmt.pos : values[0]->pos;
}

// The row one VALUES list gives (the columns it does not name are NULL).
absl::StatusOr<Row> ValuesRow(const InsertStmt& stmt, const std::vector<ExprPtr>& values,
                              const std::vector<int>& columns, const TableSchema& table,
                              const BindContext& ctx) {
  if (values.size() != columns.size()) {
    return SyntaxError(RowPos(stmt, values),
                       absl::StrCat("INSERT names ", columns.size(), " columns but has ",
                                    values.size(), " values"));
  }
  Row row(table.columns.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSIGN_OR_RETURN(Value v, EvalConstant(*values[i], ctx));
    absl::StatusOr<Value> coerced = CoerceForColumn(v, table.columns[columns[i]]);
    RETURN_IF_ERROR(At(values[i]->pos, coerced.status()));
    row[columns[i]] = std::move(*coerced);
  }
  return row;
}

absl::Status InsertOne(const InsertStmt& stmt, const Row& row, SourcePos pos,
                       const std::vector<int>& columns, const TableSchema& table,
                       const BindContext& ctx, RowStore& store) {
  const std::vector<const TableSchema*> ancestry = ctx.schema->Ancestry(table);
  if (stmt.or_update) {
    ASSIGN_OR_RETURN(std::optional<Row> old, GetRow(store, ancestry, table.KeyValues(row)));
    if (old.has_value()) {
      Row merged = *old;
      for (int c : columns) merged[c] = row[c];
      RETURN_IF_ERROR(CheckNotNull(table, merged, pos));
      return At(pos, UpdateRow(store, *ctx.schema, table, *old, merged));
    }
  }
  RETURN_IF_ERROR(CheckNotNull(table, row, pos));
  return At(pos, InsertRow(store, *ctx.schema, table, row));
}

bool SameKey(const TableSchema& table, const Row& a, const Row& b) {
  for (const KeyColumn& k : table.primary_key) {
    if (!(a[k.column] == b[k.column])) return false;
  }
  return true;
}

absl::Status HasNoChildren(RowStore& store, const Schema& schema, const TableSchema& table,
                           const Row& row, SourcePos pos) {
  for (const TableSchema* child : schema.Children(table)) {
    const std::vector<const TableSchema*> ancestry = schema.Ancestry(*child);
    ASSIGN_OR_RETURN(std::string prefix, EncodeKeyPrefix(ancestry, table.KeyValues(row)));
    ASSIGN_OR_RETURN(std::vector<KvPair> pairs,
                     store.Scan(prefix, keyenc::PrefixSuccessor(prefix), 1));
    if (!pairs.empty()) {
      return SyntaxError(pos, absl::StrCat("cannot change the primary key of a row of ", table.name,
                                           " that has rows in ", child->name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int64_t> ExecuteInsert(const InsertStmt& stmt, const BindContext& ctx,
                                      RowStore& store) {
  ASSIGN_OR_RETURN(const TableSchema* table, FindTable(ctx, stmt.pos, stmt.table));
  ASSIGN_OR_RETURN(std::vector<int> columns, InsertColumns(stmt, *table));
  std::vector<Row> rows;
  rows.reserve(stmt.rows.size());
  for (const std::vector<ExprPtr>& values : stmt.rows) {
    ASSIGN_OR_RETURN(Row row, ValuesRow(stmt, values, columns, *table, ctx));
    rows.push_back(std::move(row));
  }
  // One round trip per group for all the rows' checks instead of one or two per row.
  if (!stmt.or_update && rows.size() > 1) {
    RETURN_IF_ERROR(ReadKeysToInsert(store, *ctx.schema, *table, rows));
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    RETURN_IF_ERROR(
        InsertOne(stmt, rows[i], RowPos(stmt, stmt.rows[i]), columns, *table, ctx, store));
  }
  return static_cast<int64_t>(stmt.rows.size());
}

absl::StatusOr<int64_t> ExecuteUpdate(const UpdateStmt& stmt, const BindContext& ctx,
                                      RowStore& store) {
  Scope scope;
  ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan,
                   BindTableRows(stmt.pos, stmt.table, stmt.where.get(), ctx, &scope));
  const TableSchema& table = *plan->sources[0].table;
  std::vector<std::pair<int, BoundPtr>> sets;
  ExprBinder binder(ctx, &scope);
  for (const Assignment& a : stmt.assignments) {
    const int c = table.FindColumn(a.column);
    if (c < 0) return SyntaxError(a.pos, absl::StrCat("unknown column ", a.column));
    ASSIGN_OR_RETURN(BoundPtr value, binder.Bind(*a.value));
    sets.emplace_back(c, std::move(value));
  }
  Executor executor(&store);
  absl::StatusOr<std::vector<Row>> read = [&] {
    RowStore::ForUpdate lock(store);
    return executor.SourceRows(*plan, nullptr);
  }();
  ASSIGN_OR_RETURN(std::vector<Row> rows, std::move(read));
  std::vector<std::pair<Row, Row>> changes;  // (old, new)
  for (const Row& old : rows) {
    Row updated = old;
    const EvalContext ectx{.row = &old, .outputs = nullptr, .outer = nullptr, .runner = &executor};
    for (size_t i = 0; i < sets.size(); ++i) {
      ASSIGN_OR_RETURN(Value v, Eval(*sets[i].second, ectx));
      absl::StatusOr<Value> coerced = CoerceForColumn(v, table.columns[sets[i].first]);
      RETURN_IF_ERROR(At(stmt.assignments[i].pos, coerced.status()));
      updated[sets[i].first] = std::move(*coerced);
    }
    RETURN_IF_ERROR(CheckNotNull(table, updated, stmt.pos));
    changes.emplace_back(old, std::move(updated));
  }
  // Rows keeping their key are rewritten in place; moved rows are all deleted first, then
  // inserted, so that keys may shift through each other.
  for (const auto& [old, updated] : changes) {
    if (SameKey(table, old, updated)) {
      RETURN_IF_ERROR(At(stmt.pos, UpdateRow(store, *ctx.schema, table, old, updated)));
    }
  }
  for (const auto& [old, updated] : changes) {
    if (SameKey(table, old, updated)) continue;
    RETURN_IF_ERROR(HasNoChildren(store, *ctx.schema, table, old, stmt.pos));
    RETURN_IF_ERROR(At(stmt.pos, DeleteRow(store, *ctx.schema, table, old)));
  }
  for (const auto& [old, updated] : changes) {
    if (SameKey(table, old, updated)) continue;
    RETURN_IF_ERROR(At(stmt.pos, InsertRow(store, *ctx.schema, table, updated)));
  }
  return static_cast<int64_t>(changes.size());
}

absl::StatusOr<int64_t> ExecuteDelete(const DeleteStmt& stmt, const BindContext& ctx,
                                      RowStore& store) {
  Scope scope;
  ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan,
                   BindTableRows(stmt.pos, stmt.table, stmt.where.get(), ctx, &scope));
  const TableSchema& table = *plan->sources[0].table;
  Executor executor(&store);
  absl::StatusOr<std::vector<Row>> read = [&] {
    RowStore::ForUpdate lock(store);
    return executor.SourceRows(*plan, nullptr);
  }();
  ASSIGN_OR_RETURN(std::vector<Row> rows, std::move(read));
  for (const Row& row : rows) {
    RETURN_IF_ERROR(At(stmt.pos, DeleteRow(store, *ctx.schema, table, row)));
  }
  return static_cast<int64_t>(rows.size());
}

}  // namespace meridian::sql
