#include "sql_lite/statement.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/binder.h"
#include "sql_lite/dml.h"
#include "sql_lite/executor.h"
#include "sql_lite/planner.h"
#include "sql_lite/schema_change.h"

namespace meridian::sql {
namespace {

absl::StatusOr<ResultSet> RunSelect(const SelectStmt& select, const BindContext& ctx,
                                    RowStore& store) {
  ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan, BindSelect(select, ctx, nullptr));
  Executor executor(&store);
  ResultSet result;
  ASSIGN_OR_RETURN(result.rows, executor.Run(*plan, nullptr));
  result.column_names = plan->names;
  result.column_types = plan->types;
  return result;
}

void Indent(std::vector<std::string>* lines) {
  for (std::string& line : *lines) line.insert(0, "  ");
}

absl::StatusOr<std::vector<std::string>> Explain(const Statement& stmt, const BindContext& ctx) {
  std::vector<std::string> lines;
  if (const auto* s = std::get_if<SelectStmt>(&stmt.node)) {
    ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan, BindSelect(*s, ctx, nullptr));
    return ExplainSelect(*plan);
  }
  if (const auto* i = std::get_if<InsertStmt>(&stmt.node)) {
    if (ctx.schema->FindTable(i->table) == nullptr) {
      return SyntaxError(i->pos, absl::StrCat("unknown table ", i->table));
    }
    return std::vector<std::string>{
        absl::StrCat(i->or_update ? "InsertOrUpdate " : "Insert ", i->table),
        absl::StrCat("  Values (", i->rows.size(), " rows)")};
  }
  const UpdateStmt* u = std::get_if<UpdateStmt>(&stmt.node);
  const DeleteStmt* d = std::get_if<DeleteStmt>(&stmt.node);
  if (u == nullptr && d == nullptr) {
    return SyntaxError(stmt.pos(), "EXPLAIN shows SELECT, INSERT, UPDATE and DELETE");
  }
  Scope scope;
  ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan,
                   u != nullptr ? BindTableRows(u->pos, u->table, u->where.get(), ctx, &scope)
                                : BindTableRows(d->pos, d->table, d->where.get(), ctx, &scope));
  lines = ExplainSelect(*plan);
  lines.erase(lines.begin());  // the projection of every column says nothing
  for (std::string& line : lines) line.erase(0, 2);
  Indent(&lines);
  lines.insert(lines.begin(), (u != nullptr ? "Update " : "Delete ") + plan->sources[0].alias);
  return lines;
}

absl::StatusOr<ResultSet> RowsAffected(absl::StatusOr<int64_t> n) {
  RETURN_IF_ERROR(n.status());
  ResultSet result;
  result.rows_affected = *n;
  return result;
}

}  // namespace

bool IsReadOnlyStatement(const Statement& stmt) {
  return std::holds_alternative<SelectStmt>(stmt.node) ||
         std::holds_alternative<ExplainStmt>(stmt.node);
}

absl::StatusOr<ResultSet> ExecuteStatement(const Statement& stmt, RowStore& store,
                                           SchemaCache& cache, const Params& params) {
  if (IsSchemaChange(stmt)) {
    return WithPosition(absl::FailedPreconditionError(
                            "CREATE and DROP run outside transactions (each schema change runs "
                            "transactions of its own)"),
                        stmt.pos());
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema, cache.Load(store));
  const BindContext ctx{.schema = schema, .params = &params};
  if (const auto* s = std::get_if<SelectStmt>(&stmt.node)) return RunSelect(*s, ctx, store);
  if (const auto* s = std::get_if<InsertStmt>(&stmt.node)) {
    return RowsAffected(ExecuteInsert(*s, ctx, store));
  }
  if (const auto* s = std::get_if<UpdateStmt>(&stmt.node)) {
    return RowsAffected(ExecuteUpdate(*s, ctx, store));
  }
  if (const auto* s = std::get_if<DeleteStmt>(&stmt.node)) {
    return RowsAffected(ExecuteDelete(*s, ctx, store));
  }
  if (const auto* s = std::get_if<ExplainStmt>(&stmt.node)) {
    ASSIGN_OR_RETURN(std::vector<std::string> lines, Explain(*s->statement, ctx));
    ResultSet result;
    result.column_names = {"plan"};
    result.column_types = {Type::kString};
    for (std::string& line : lines) result.rows.push_back({Value::String(std::move(line))});
    return result;
  }
  return absl::FailedPreconditionError("not a data statement");
}

absl::StatusOr<ResultSet> ExecuteAtomically(const Statement& stmt, RowStore& store,
                                            SchemaCache& cache, const Params& params) {
  const size_t mark = store.Savepoint();
  absl::StatusOr<ResultSet> result = ExecuteStatement(stmt, store, cache, params);
  if (!result.ok()) store.RollbackTo(mark);
  return result;
}

}  // namespace meridian::sql
