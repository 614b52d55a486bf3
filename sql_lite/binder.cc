#include "sql_lite/binder.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

bool IsNumeric(Type t) { return t == Type::kInt64 || t == Type::kFloat64; }

bool Comparable(Type a, Type b) {
  return a == Type::kNull || b == Type::kNull || a == b || (IsNumeric(a) && IsNumeric(b));
}

std::string TypeText(Type t) { return std::string(TypeName(t)); }

absl::Status TypeMismatch(SourcePos pos, std::string_view what, Type a, Type b) {
  return SyntaxError(pos,
                     absl::StrCat("cannot ", Sv(what), " ", TypeText(a), " and ", TypeText(b)));
}

// The type of an arithmetic result; nullopt when the operands are not numbers.
std::optional<Type> ArithType(BinaryOp op, Type a, Type b) {
  if (!(IsNumeric(a) || a == Type::kNull) || !(IsNumeric(b) || b == Type::kNull)) {
    return std::nullopt;
  }
  if (op == BinaryOp::kModulo) {
    if (a == Type::kFloat64 || b == Type::kFloat64) return std::nullopt;
    return Type::kInt64;
  }
  if (a == Type::kFloat64 || b == Type::kFloat64) return Type::kFloat64;
  return Type::kInt64;
}

BoundPtr Node(BoundKind kind, const Expr& expr, Type type) {
  auto b = std::make_unique<BoundExpr>();
  b->kind = kind;
  b->pos = expr.pos;
  b->type = type;
  return b;
}

void Adopt(BoundExpr* parent, BoundPtr child) {
  parent->has_subquery = parent->has_subquery || child->has_subquery;
  parent->max_slot = std::max(parent->max_slot, child->max_slot);
  parent->args.push_back(std::move(child));
}

bool IsBoolish(Type t) { return t == Type::kBool || t == Type::kNull; }

}  // namespace

bool IsAggregateName(std::string_view name) {
  return name == "COUNT" || name == "SUM" || name == "MIN" || name == "MAX" || name == "AVG";
}

bool ContainsAggregate(const Expr& expr) {
  return std::visit(
      [](const auto& n) -> bool {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, FunctionCallExpr>) {
          if (IsAggregateName(n.name)) return true;
          for (const ExprPtr& a : n.args) {
            if (ContainsAggregate(*a)) return true;
          }
          return false;
        } else if constexpr (std::is_same_v<T, UnaryExpr> || std::is_same_v<T, IsNullExpr> ||
                             std::is_same_v<T, CastExpr> || std::is_same_v<T, InSubqueryExpr>) {
          return ContainsAggregate(*n.operand);
        } else if constexpr (std::is_same_v<T, BinaryExpr>) {
          return ContainsAggregate(*n.left) || ContainsAggregate(*n.right);
        } else if constexpr (std::is_same_v<T, InListExpr>) {
          for (const ExprPtr& a : n.list) {
            if (ContainsAggregate(*a)) return true;
          }
          return ContainsAggregate(*n.operand);
        } else if constexpr (std::is_same_v<T, BetweenExpr>) {
          return ContainsAggregate(*n.operand) || ContainsAggregate(*n.low) ||
                 ContainsAggregate(*n.high);
        } else if constexpr (std::is_same_v<T, LikeExpr>) {
          return ContainsAggregate(*n.operand) || ContainsAggregate(*n.pattern);
        } else {
          return false;
        }
      },
      expr.node);
}

std::vector<const Expr*> SplitConjuncts(const Expr& expr) {
  const auto* b = std::get_if<BinaryExpr>(&expr.node);
  if (b == nullptr || b->op != BinaryOp::kAnd) return {&expr};
  std::vector<const Expr*> out = SplitConjuncts(*b->left);
  for (const Expr* e : SplitConjuncts(*b->right)) out.push_back(e);
  return out;
}

void ExprBinder::SetAggregation(std::vector<std::string> group_sql, std::vector<int> group_slots,
                                std::vector<Type> group_types, std::vector<AggregateSpec>* aggs) {
  aggregating_ = true;
  group_sql_ = std::move(group_sql);
  group_slots_ = std::move(group_slots);
  group_types_ = std::move(group_types);
  aggs_ = aggs;
}

void ExprBinder::SetOutputs(const std::vector<std::string>* names, const std::vector<Type>* types) {
  output_names_ = names;
  output_types_ = types;
}

absl::StatusOr<BoundPtr> ExprBinder::Bind(const Expr& expr) {
  std::optional<int> output = OutputRef(expr);
  if (output.has_value()) {
    BoundPtr b = Node(BoundKind::kOutputRef, expr, (*output_types_)[*output]);
    b->column = *output;
    b->sql = ToSql(expr);
    return b;
  }
  ASSIGN_OR_RETURN(BoundPtr b, BindNode(expr));
  b->sql = ToSql(expr);
  return b;
}

absl::StatusOr<BoundPtr> ExprBinder::BindPredicate(const Expr& expr, std::string_view clause) {
  ASSIGN_OR_RETURN(BoundPtr b, Bind(expr));
  if (!IsBoolish(b->type)) {
    return SyntaxError(expr.pos,
                       absl::StrCat(Sv(clause), " must be a BOOL, not ", TypeText(b->type)));
  }
  return b;
}

std::optional<int> ExprBinder::OutputRef(const Expr& expr) const {
  if (output_names_ == nullptr) return std::nullopt;
  if (const auto* lit = std::get_if<LiteralExpr>(&expr.node)) {
    if (lit->value.type() != Type::kInt64) return std::nullopt;
    const int64_t n = lit->value.int64_value();
    if (n < 1 || n > static_cast<int64_t>(output_names_->size())) return std::nullopt;
    return static_cast<int>(n - 1);
  }
  const auto* ref = std::get_if<ColumnRefExpr>(&expr.node);
  if (ref == nullptr || !ref->table.empty()) return std::nullopt;
  for (size_t i = 0; i < output_names_->size(); ++i) {
    if ((*output_names_)[i] == ref->column) return static_cast<int>(i);
  }
  return std::nullopt;
}

absl::StatusOr<BoundPtr> ExprBinder::BindColumn(const Expr& expr, const ColumnRefExpr& ref) {
  const std::string name =
      ref.table.empty() ? ref.column : absl::StrCat(ref.table, ".", ref.column);
  int depth = 0;
  for (const Scope* s = scope_; s != nullptr; s = s->outer, ++depth) {
    int found = -1;
    for (size_t i = 0; i < s->columns.size(); ++i) {
      const Scope::Column& c = s->columns[i];
      if (c.name != ref.column || (!ref.table.empty() && c.table != ref.table)) continue;
      if (found >= 0) {
        return SyntaxError(expr.pos, absl::StrCat("column name ", name, " is ambiguous"));
      }
      found = static_cast<int>(i);
    }
    if (found < 0) continue;
    BoundPtr b = Node(depth == 0 ? BoundKind::kColumn : BoundKind::kOuterColumn, expr,
                      s->columns[found].type);
    b->column = found;
    b->depth = depth;
    if (depth == 0) {
      b->max_slot = found;
      if (aggregating_) {
        return SyntaxError(expr.pos, absl::StrCat("column ", name,
                                                  " must appear in GROUP BY or be used in an "
                                                  "aggregate function"));
      }
    }
    max_outer_depth_ = std::max(max_outer_depth_, depth);
    return b;
  }
  return SyntaxError(expr.pos, absl::StrCat("unknown column ", name));
}

absl::StatusOr<BoundPtr> ExprBinder::BindAggregate(const Expr& expr, const FunctionCallExpr& call) {
  if (!aggregating_) {
    return SyntaxError(expr.pos,
                       absl::StrCat("aggregate function ", call.name, " is not allowed here"));
  }
  AggregateSpec spec;
  spec.function = call.name;
  spec.distinct = call.distinct;
  spec.star = call.star;
  spec.sql = ToSql(expr);
  if (!call.star) {
    if (call.args.size() != 1) {
      return SyntaxError(expr.pos, absl::StrCat(call.name, " takes one argument"));
    }
    ExprBinder inner(ctx_, scope_);
    ASSIGN_OR_RETURN(spec.arg, inner.Bind(*call.args[0]));
    max_outer_depth_ = std::max(max_outer_depth_, inner.max_outer_depth());
  } else if (call.name != "COUNT") {
    return SyntaxError(expr.pos, absl::StrCat(call.name, "(*) is not a function"));
  }
  const Type arg = spec.arg == nullptr ? Type::kNull : spec.arg->type;
  if ((call.name == "SUM" || call.name == "AVG") && !IsNumeric(arg) && arg != Type::kNull) {
    return SyntaxError(expr.pos, absl::StrCat(call.name, " needs a number, not ", TypeText(arg)));
  }
  spec.type = call.name == "COUNT"                       ? Type::kInt64
              : call.name == "AVG"                       ? Type::kFloat64
              : call.name == "SUM" && arg == Type::kNull ? Type::kInt64
                                                         : arg;
  BoundPtr b = Node(BoundKind::kColumn, expr, spec.type);
  b->column = static_cast<int>(group_sql_.size() + aggs_->size());
  b->max_slot = -1;  // slots of the aggregated row are not source slots
  aggs_->push_back(std::move(spec));
  return b;
}

absl::StatusOr<BoundPtr> ExprBinder::BindCall(const Expr& expr, const FunctionCallExpr& call) {
  if (IsAggregateName(call.name)) return BindAggregate(expr, call);
  const std::string& f = call.name;
  const bool one_arg = f == "ABS" || f == "LENGTH" || f == "LOWER" || f == "UPPER";
  if (!one_arg && f != "COALESCE") {
    return SyntaxError(expr.pos, absl::StrCat("unknown function ", f));
  }
  if (call.star || call.distinct || (one_arg && call.args.size() != 1) || call.args.empty()) {
    return SyntaxError(expr.pos, absl::StrCat("wrong arguments for ", f));
  }
  BoundPtr b = Node(BoundKind::kFunction, expr, Type::kNull);
  b->function = f;
  for (const ExprPtr& a : call.args) {
    ASSIGN_OR_RETURN(BoundPtr arg, BindNode(*a));
    Adopt(b.get(), std::move(arg));
  }
  const Type t = b->args[0]->type;
  const auto want = [&](bool ok, std::string_view what) -> absl::Status {
    if (ok || t == Type::kNull) return absl::OkStatus();
    return SyntaxError(expr.pos, absl::StrCat(f, " needs ", Sv(what), ", not ", TypeText(t)));
  };
  if (f == "ABS") {
    RETURN_IF_ERROR(want(IsNumeric(t), "a number"));
    b->type = t == Type::kNull ? Type::kInt64 : t;
  } else if (f == "LENGTH") {
    RETURN_IF_ERROR(want(t == Type::kString || t == Type::kBytes, "a STRING or BYTES"));
    b->type = Type::kInt64;
  } else if (f == "LOWER" || f == "UPPER") {
    RETURN_IF_ERROR(want(t == Type::kString, "a STRING"));
    b->type = Type::kString;
  } else {
    for (const BoundPtr& a : b->args) {
      if (!Comparable(b->type, a->type)) {
        return TypeMismatch(a->pos, "mix in COALESCE", b->type, a->type);
      }
      if (b->type == Type::kNull || a->type == Type::kFloat64) b->type = a->type;
    }
  }
  return b;
}

absl::StatusOr<BoundPtr> ExprBinder::BindBinary(const Expr& expr, const BinaryExpr& bin) {
  BoundPtr b = Node(BoundKind::kBinary, expr, Type::kBool);
  b->binary = bin.op;
  ASSIGN_OR_RETURN(BoundPtr l, BindNode(*bin.left));
  ASSIGN_OR_RETURN(BoundPtr r, BindNode(*bin.right));
  const Type a = l->type, c = r->type;
  Adopt(b.get(), std::move(l));
  Adopt(b.get(), std::move(r));
  switch (bin.op) {
    case BinaryOp::kOr:
    case BinaryOp::kAnd:
      if (!IsBoolish(a) || !IsBoolish(c)) return TypeMismatch(expr.pos, "combine", a, c);
      return b;
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe:
      if (!Comparable(a, c)) return TypeMismatch(expr.pos, "compare", a, c);
      return b;
    case BinaryOp::kConcat:
      if (a != Type::kNull && c != Type::kNull && a != c) {
        return TypeMismatch(expr.pos, "concatenate", a, c);
      }
      b->type = a == Type::kNull ? c : a;
      if (b->type == Type::kNull) b->type = Type::kString;
      if (b->type != Type::kString && b->type != Type::kBytes) {
        return TypeMismatch(expr.pos, "concatenate", a, c);
      }
      return b;
    default: {
      std::optional<Type> t = ArithType(bin.op, a, c);
      if (!t.has_value()) return TypeMismatch(expr.pos, "do arithmetic on", a, c);
      b->type = *t;
      return b;
    }
  }
}

absl::StatusOr<BoundPtr> ExprBinder::BindSubquery(const Expr& expr, const SelectStmt& select,
                                                  BoundKind kind) {
  int depth = 0;
  ASSIGN_OR_RETURN(std::shared_ptr<SelectPlan> plan, BindSelect(select, ctx_, scope_, &depth));
  if (depth >= 1 && aggregating_) {
    return SyntaxError(expr.pos, "a correlated subquery in an aggregated query is not supported");
  }
  max_outer_depth_ = std::max(max_outer_depth_, depth - 1);
  if (kind != BoundKind::kExists && plan->outputs.size() != 1) {
    return SyntaxError(expr.pos, "a subquery used as a value must return one column");
  }
  BoundPtr b = Node(kind, expr, kind == BoundKind::kSubquery ? plan->types[0] : Type::kBool);
  b->has_subquery = true;
  b->subquery = std::move(plan);
  return b;
}

absl::StatusOr<BoundPtr> ExprBinder::BindChildren(const Expr& expr, BoundKind kind,
                                                  std::vector<const Expr*> children) {
  BoundPtr b = Node(kind, expr, Type::kBool);
  for (const Expr* c : children) {
    ASSIGN_OR_RETURN(BoundPtr child, BindNode(*c));
    Adopt(b.get(), std::move(child));
  }
  return b;
}

absl::StatusOr<BoundPtr> ExprBinder::BindNode(const Expr& expr) {
  if (aggregating_) {
    const std::string sql = ToSql(expr);
    for (size_t i = 0; i < group_sql_.size(); ++i) {
      bool same = group_sql_[i] == sql;
      if (!same && group_slots_[i] >= 0 && std::holds_alternative<ColumnRefExpr>(expr.node)) {
        ExprBinder plain(ctx_, scope_);
        absl::StatusOr<BoundPtr> col = plain.BindNode(expr);
        same = col.ok() && (*col)->kind == BoundKind::kColumn && (*col)->column == group_slots_[i];
      }
      if (same) {
        BoundPtr b = Node(BoundKind::kColumn, expr, group_types_[i]);
        b->column = static_cast<int>(i);
        return b;
      }
    }
  }
  if (const auto* lit = std::get_if<LiteralExpr>(&expr.node)) {
    BoundPtr b = Node(BoundKind::kLiteral, expr, lit->value.type());
    b->literal = lit->value;
    return b;
  }
  if (const auto* p = std::get_if<ParameterExpr>(&expr.node)) {
    auto it = ctx_.params == nullptr ? Params::const_iterator() : ctx_.params->find(p->name);
    if (ctx_.params == nullptr || it == ctx_.params->end()) {
      return SyntaxError(expr.pos, absl::StrCat("no value for parameter @", p->name));
    }
    BoundPtr b = Node(BoundKind::kLiteral, expr, it->second.type());
    b->literal = it->second;
    return b;
  }
  if (const auto* ref = std::get_if<ColumnRefExpr>(&expr.node)) return BindColumn(expr, *ref);
  if (const auto* bin = std::get_if<BinaryExpr>(&expr.node)) return BindBinary(expr, *bin);
  if (const auto* call = std::get_if<FunctionCallExpr>(&expr.node)) return BindCall(expr, *call);
  return BindOther(expr);
}

absl::StatusOr<BoundPtr> ExprBinder::BindOther(const Expr& expr) {
  if (const auto* u = std::get_if<UnaryExpr>(&expr.node)) {
    ASSIGN_OR_RETURN(BoundPtr b, BindChildren(expr, BoundKind::kUnary, {u->operand.get()}));
    b->unary = u->op;
    const Type t = b->args[0]->type;
    if (u->op == UnaryOp::kNot ? !IsBoolish(t) : !(IsNumeric(t) || t == Type::kNull)) {
      return SyntaxError(expr.pos, absl::StrCat(u->op == UnaryOp::kNot ? "NOT" : "-",
                                                " does not apply to ", TypeText(t)));
    }
    b->type = u->op == UnaryOp::kNot ? Type::kBool : (t == Type::kNull ? Type::kInt64 : t);
    return b;
  }
  if (const auto* n = std::get_if<IsNullExpr>(&expr.node)) {
    ASSIGN_OR_RETURN(BoundPtr b, BindChildren(expr, BoundKind::kIsNull, {n->operand.get()}));
    b->negated = n->negated;
    return b;
  }
  if (const auto* in = std::get_if<InListExpr>(&expr.node)) {
    std::vector<const Expr*> children = {in->operand.get()};
    for (const ExprPtr& e : in->list) children.push_back(e.get());
    ASSIGN_OR_RETURN(BoundPtr b, BindChildren(expr, BoundKind::kInList, children));
    b->negated = in->negated;
    for (size_t i = 1; i < b->args.size(); ++i) {
      if (!Comparable(b->args[0]->type, b->args[i]->type)) {
        return TypeMismatch(b->args[i]->pos, "compare", b->args[0]->type, b->args[i]->type);
      }
    }
    return b;
  }
  if (const auto* bt = std::get_if<BetweenExpr>(&expr.node)) {
    ASSIGN_OR_RETURN(BoundPtr b, BindChildren(expr, BoundKind::kBetween,
                                              {bt->operand.get(), bt->low.get(), bt->high.get()}));
    b->negated = bt->negated;
    for (size_t i = 1; i < 3; ++i) {
      if (!Comparable(b->args[0]->type, b->args[i]->type)) {
        return TypeMismatch(expr.pos, "compare", b->args[0]->type, b->args[i]->type);
      }
    }
    return b;
  }
  if (const auto* l = std::get_if<LikeExpr>(&expr.node)) {
    ASSIGN_OR_RETURN(BoundPtr b,
                     BindChildren(expr, BoundKind::kLike, {l->operand.get(), l->pattern.get()}));
    b->negated = l->negated;
    const Type a = b->args[0]->type, p = b->args[1]->type;
    const bool text = a == Type::kString || a == Type::kBytes || a == Type::kNull;
    if (!text || !(p == a || p == Type::kNull || a == Type::kNull)) {
      return TypeMismatch(expr.pos, "apply LIKE to", a, p);
    }
    return b;
  }
  if (const auto* c = std::get_if<CastExpr>(&expr.node)) {
    ASSIGN_OR_RETURN(BoundPtr b, BindChildren(expr, BoundKind::kCast, {c->operand.get()}));
    b->type = c->type;
    return b;
  }
  if (const auto* s = std::get_if<SubqueryExpr>(&expr.node)) {
    return BindSubquery(expr, *s->subquery, BoundKind::kSubquery);
  }
  if (const auto* e = std::get_if<ExistsExpr>(&expr.node)) {
    return BindSubquery(expr, *e->subquery, BoundKind::kExists);
  }
  const auto& in = std::get<InSubqueryExpr>(expr.node);
  ASSIGN_OR_RETURN(BoundPtr b, BindSubquery(expr, *in.subquery, BoundKind::kInSubquery));
  ASSIGN_OR_RETURN(BoundPtr operand, BindNode(*in.operand));
  if (!Comparable(operand->type, b->subquery->types[0])) {
    return TypeMismatch(expr.pos, "compare", operand->type, b->subquery->types[0]);
  }
  b->type = Type::kBool;
  b->negated = in.negated;
  Adopt(b.get(), std::move(operand));
  return b;
}

absl::StatusOr<Value> EvalConstant(const Expr& expr, const BindContext& ctx) {
  Scope empty;
  ExprBinder binder(ctx, &empty);
  ASSIGN_OR_RETURN(BoundPtr b, binder.Bind(expr));
  Row row;
  EvalContext ec{.row = &row, .outputs = nullptr, .outer = nullptr, .runner = nullptr};
  if (b->has_subquery) return SyntaxError(expr.pos, "a subquery is not allowed here");
  return Eval(*b, ec);
}

}  // namespace meridian::sql
