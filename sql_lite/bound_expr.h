// Bound expressions: what the binder (binder.h) makes of ast.h's Expr once names are resolved to
// row slots and types are checked, and how they are evaluated against a row.
//
// A bound expression reads its input from an EvalContext: `row` (the current query's row: the
// joined source row before aggregation, or [group keys..., aggregate values...] after it),
// `outputs` (the select list's values, for ORDER BY items that name an output column) and `outer`
// (the enclosing query's context, for correlated subqueries). Parameters are replaced by their
// values when binding, so a bound expression is specific to one execution of a statement.
// Subqueries are evaluated through the SubqueryRunner in the context (the executor).
//
// Thread safety: bound trees are immutable values; Eval is as safe as the runner it is given.
#ifndef MERIDIAN_SQL_LITE_BOUND_EXPR_H_
#define MERIDIAN_SQL_LITE_BOUND_EXPR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/ast.h"
#include "sql_lite/schema.h"
#include "sql_lite/value.h"

namespace meridian::sql {

struct SelectPlan;
struct EvalContext;

enum class BoundKind : uint8_t {
  kLiteral,
  kColumn,       // row[column]
  kOuterColumn,  // the row of the query `depth` levels out
  kOutputRef,    // outputs[column]
  kUnary,
  kBinary,
  kIsNull,
  kInList,
  kInSubquery,
  kBetween,
  kLike,
  kFunction,  // scalar functions: ABS, LENGTH, LOWER, UPPER, COALESCE
  kCast,
  kSubquery,
  kExists,
};

struct BoundExpr {
  BoundKind kind = BoundKind::kLiteral;
  Type type = Type::kNull;  // kNull: the NULL literal (fits any type)
  SourcePos pos;
  Value literal;   // kLiteral
  int column = 0;  // kColumn, kOuterColumn, kOutputRef
  int depth = 0;   // kOuterColumn: 1 = the immediately enclosing query
  UnaryOp unary = UnaryOp::kNot;
  BinaryOp binary = BinaryOp::kEq;
  bool negated = false;                          // kIsNull, kInList, kInSubquery, kBetween, kLike
  std::string function;                          // kFunction
  std::vector<std::unique_ptr<BoundExpr>> args;  // operands, in source order
  std::shared_ptr<const SelectPlan> subquery;    // kInSubquery, kSubquery, kExists
  bool has_subquery = false;                     // this node or one below it runs a subquery
  int max_slot = -1;  // the highest kColumn slot in the tree (subqueries excluded)
  std::string sql;    // the source text (ToSql) of a top-level expression, for EXPLAIN
};
using BoundPtr = std::unique_ptr<BoundExpr>;

// Runs a subquery plan with `outer` as its enclosing context; returns its output rows.
class SubqueryRunner {
 public:
  virtual ~SubqueryRunner() = default;
  virtual absl::StatusOr<std::vector<Row>> RunSubquery(const SelectPlan& plan,
                                                       const EvalContext& outer) = 0;
};

struct EvalContext {
  const Row* row = nullptr;
  const Row* outputs = nullptr;
  const EvalContext* outer = nullptr;
  SubqueryRunner* runner = nullptr;
};

absl::StatusOr<Value> Eval(const BoundExpr& expr, const EvalContext& ctx);
// A deep copy (a subquery plan is shared, not copied).
BoundPtr Clone(const BoundExpr& expr);
// True only when `expr` evaluates to TRUE (FALSE and NULL are both false).
absl::StatusOr<bool> EvalPredicate(const BoundExpr& expr, const EvalContext& ctx);

// CAST(value AS type); INVALID_ARGUMENT (with the value) when it does not convert.
absl::StatusOr<Value> CastValue(const Value& value, Type type);
// SQL LIKE with '%' and '_' (no escape character), on bytes.
bool LikeMatch(std::string_view text, std::string_view pattern);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_BOUND_EXPR_H_
