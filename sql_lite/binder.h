// The binder: resolves the names of an ast.h statement against a Schema, checks types, and builds
// the bound expressions (bound_expr.h) and the SELECT plan (plan.h; access paths come from
// planner.h). Errors are INVALID_ARGUMENT SyntaxErrors (error.h) that carry the position of the
// offending name or expression: unknown table or column, ambiguous column, type mismatch, an
// aggregate where none may be, a column that is neither grouped nor aggregated, a missing
// parameter.
//
// Parameters (@name) are replaced by their values while binding, so a bound statement belongs to
// one execution.
//
// Thread safety: pure functions over immutable inputs.
#ifndef MERIDIAN_SQL_LITE_BINDER_H_
#define MERIDIAN_SQL_LITE_BINDER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meridian/sql.h"
#include "sql_lite/ast.h"
#include "sql_lite/plan.h"

namespace meridian::sql {

// The names visible to an expression: the columns of one query level, then its enclosing one.
struct Scope {
  struct Column {
    std::string table;  // the alias that qualifies it
    std::string name;
    Type type = Type::kNull;
  };
  std::vector<Column> columns;
  const Scope* outer = nullptr;
};

struct BindContext {
  std::shared_ptr<const Schema> schema;
  const Params* params = nullptr;
};

// Binds expressions of one query level.
class ExprBinder {
 public:
  ExprBinder(const BindContext& ctx, const Scope* scope) : ctx_(ctx), scope_(scope) {}

  // After aggregation: an expression equal to a GROUP BY key (by its text, or the same column)
  // reads that key's slot, aggregate calls are bound over the source row and appended to *aggs
  // (reading slot group_sql.size() + i), and any other column of this level is an error.
  void SetAggregation(std::vector<std::string> group_sql, std::vector<int> group_slots,
                      std::vector<Type> group_types, std::vector<AggregateSpec>* aggs);
  // ORDER BY: a bare name equal to an output name, or an integer literal n, reads output column
  // (n - 1) (kOutputRef).
  void SetOutputs(const std::vector<std::string>* names, const std::vector<Type>* types);

  // Binds `expr`; the root carries its source text.
  absl::StatusOr<BoundPtr> Bind(const Expr& expr);
  // Like Bind, and the result must be a BOOL (or NULL).
  absl::StatusOr<BoundPtr> BindPredicate(const Expr& expr, std::string_view clause);
  // The deepest enclosing level a bound column came from (0: none).
  int max_outer_depth() const { return max_outer_depth_; }

 private:
  absl::StatusOr<BoundPtr> BindNode(const Expr& expr);
  absl::StatusOr<BoundPtr> BindColumn(const Expr& expr, const ColumnRefExpr& ref);
  absl::StatusOr<BoundPtr> BindCall(const Expr& expr, const FunctionCallExpr& call);
  absl::StatusOr<BoundPtr> BindAggregate(const Expr& expr, const FunctionCallExpr& call);
  absl::StatusOr<BoundPtr> BindBinary(const Expr& expr, const BinaryExpr& binary);
  absl::StatusOr<BoundPtr> BindSubquery(const Expr& expr, const SelectStmt& select, BoundKind kind);
  absl::StatusOr<BoundPtr> BindChildren(const Expr& expr, BoundKind kind,
                                        std::vector<const Expr*> children);
  absl::StatusOr<BoundPtr> BindOther(const Expr& expr);
  std::optional<int> OutputRef(const Expr& expr) const;

  const BindContext& ctx_;
  const Scope* scope_;
  bool aggregating_ = false;
  std::vector<std::string> group_sql_;
  std::vector<int> group_slots_;
  std::vector<Type> group_types_;
  std::vector<AggregateSpec>* aggs_ = nullptr;
  const std::vector<std::string>* output_names_ = nullptr;
  const std::vector<Type>* output_types_ = nullptr;
  int max_outer_depth_ = 0;
};

// True for COUNT, SUM, MIN, MAX, AVG.
bool IsAggregateName(std::string_view name);
// True when `expr` calls an aggregate outside any subquery.
bool ContainsAggregate(const Expr& expr);
// The AND-ed parts of `expr` (itself when it is no AND).
std::vector<const Expr*> SplitConjuncts(const Expr& expr);

// A SELECT's plan. `outer` is the enclosing query's scope for a subquery, else nullptr;
// *max_outer_depth (may be null) receives the deepest enclosing level it reads, relative to it.
absl::StatusOr<std::shared_ptr<SelectPlan>> BindSelect(const SelectStmt& select,
                                                       const BindContext& ctx, const Scope* outer,
                                                       int* max_outer_depth = nullptr);

// The plan UPDATE and DELETE read their rows with: every column of `table` whose rows satisfy
// `where` (may be null). *scope receives the table's scope, for binding SET values.
absl::StatusOr<std::shared_ptr<SelectPlan>> BindTableRows(SourcePos pos, std::string_view table,
                                                          const Expr* where, const BindContext& ctx,
                                                          Scope* scope);

// The value of a constant expression (literals, parameters, functions of them).
absl::StatusOr<Value> EvalConstant(const Expr& expr, const BindContext& ctx);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_BINDER_H_
