// BindSelect and BindTableRows (binder.h): FROM, WHERE, GROUP BY, the select list, HAVING,
// ORDER BY and LIMIT of one query level, then the planner's access paths.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/binder.h"
#include "sql_lite/planner.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

absl::Status AddSource(const TableRef& ref, JoinType join, const BindContext& ctx, SelectPlan* plan,
                       Scope* scope) {
  const TableSchema* table = ctx.schema->FindTable(ref.name);
  if (table == nullptr) return SyntaxError(ref.pos, absl::StrCat("unknown table ", ref.name));
  TableSource source;
  source.table = table;
  source.ancestry = ctx.schema->Ancestry(*table);
  source.alias = ref.alias.empty() ? ref.name : ref.alias;
  for (const TableSource& s : plan->sources) {
    if (s.alias == source.alias) {
      return SyntaxError(ref.pos, absl::StrCat("table name ", source.alias,
                                               " appears twice in FROM; give one an alias"));
    }
  }
  source.first_slot = static_cast<int>(scope->columns.size());
  source.join = join;
  for (const ColumnSchema& c : table->columns) {
    scope->columns.push_back({.table = source.alias, .name = c.name, .type = c.type});
  }
  plan->sources.push_back(std::move(source));
  return absl::OkStatus();
}

absl::Status BindFrom(const FromClause& from, const BindContext& ctx, SelectPlan* plan,
                      Scope* scope, int* depth) {
  RETURN_IF_ERROR(AddSource(from.table, JoinType::kInner, ctx, plan, scope));
  for (const Join& join : from.joins) {
    RETURN_IF_ERROR(AddSource(join.table, join.type, ctx, plan, scope));
    if (join.on == nullptr) continue;
    ExprBinder binder(ctx, scope);  // sees the sources up to this one
    for (const Expr* c : SplitConjuncts(*join.on)) {
      ASSIGN_OR_RETURN(BoundPtr on, binder.BindPredicate(*c, "ON"));
      plan->sources.back().on.push_back(std::move(on));
    }
    *depth = std::max(*depth, binder.max_outer_depth());
  }
  plan->width = static_cast<int>(scope->columns.size());
  return absl::OkStatus();
}

// Access paths for every source, then each WHERE conjunct goes to the source that completes its
// columns (or after every join when it runs a subquery).
void PlanSources(std::vector<BoundPtr> where, SelectPlan* plan) {
  for (TableSource& source : plan->sources) {
    std::vector<const BoundExpr*> conjuncts;
    for (const BoundPtr& on : source.on) conjuncts.push_back(on.get());
    if (source.join != JoinType::kLeft) {
      for (const BoundPtr& w : where) conjuncts.push_back(w.get());
    }
    ChooseAccessPath(conjuncts, &source);
  }
  for (BoundPtr& w : where) {
    if (w->has_subquery || plan->sources.empty()) {
      plan->late_filters.push_back(std::move(w));
      continue;
    }
    size_t i = 0;
    while (i + 1 < plan->sources.size() && plan->sources[i + 1].first_slot <= w->max_slot) ++i;
    plan->sources[i].filters.push_back(std::move(w));
  }
}

absl::StatusOr<std::vector<BoundPtr>> BindWhere(const Expr* where, const BindContext& ctx,
                                                const Scope* scope, int* depth) {
  std::vector<BoundPtr> out;
  if (where == nullptr) return out;
  ExprBinder binder(ctx, scope);
  for (const Expr* c : SplitConjuncts(*where)) {
    ASSIGN_OR_RETURN(BoundPtr w, binder.BindPredicate(*c, "WHERE"));
    out.push_back(std::move(w));
  }
  *depth = std::max(*depth, binder.max_outer_depth());
  return out;
}

bool IsAggregateQuery(const SelectStmt& s) {
  if (!s.group_by.empty() || s.having != nullptr) return true;
  for (const SelectItem& item : s.items) {
    if (item.expr != nullptr && ContainsAggregate(*item.expr)) return true;
  }
  for (const OrderItem& o : s.order_by) {
    if (ContainsAggregate(*o.expr)) return true;
  }
  return false;
}

// GROUP BY n and GROUP BY alias name select-list expressions.
const Expr* GroupTarget(const Expr& e, const SelectStmt& s, const Scope& scope) {
  if (const auto* lit = std::get_if<LiteralExpr>(&e.node)) {
    if (lit->value.type() == Type::kInt64) {
      const int64_t n = lit->value.int64_value();
      if (n >= 1 && n <= static_cast<int64_t>(s.items.size()) && s.items[n - 1].expr) {
        return s.items[n - 1].expr.get();
      }
    }
  }
  const auto* ref = std::get_if<ColumnRefExpr>(&e.node);
  if (ref == nullptr || !ref->table.empty()) return &e;
  for (const Scope::Column& c : scope.columns) {
    if (c.name == ref->column) return &e;  // a column of the source wins over an alias
  }
  for (const SelectItem& item : s.items) {
    if (item.alias == ref->column && item.expr != nullptr) return item.expr.get();
  }
  return &e;
}

std::string ItemName(const SelectItem& item) {
  if (!item.alias.empty()) return item.alias;
  if (const auto* ref = std::get_if<ColumnRefExpr>(&item.expr->node)) return ref->column;
  return ToSql(*item.expr);
}

absl::Status BindItems(const SelectStmt& s, const Scope& scope, ExprBinder* binder, bool aggregate,
                       SelectPlan* plan) {
  for (const SelectItem& item : s.items) {
    if (item.kind == SelectItem::Kind::kExpr) {
      ASSIGN_OR_RETURN(BoundPtr out, binder->Bind(*item.expr));
      plan->types.push_back(out->type);
      plan->outputs.push_back(std::move(out));
      plan->names.push_back(ItemName(item));
      continue;
    }
    if (aggregate) return SyntaxError(item.pos, "* is not allowed in an aggregated query");
    bool any = false;
    for (size_t i = 0; i < scope.columns.size(); ++i) {
      const Scope::Column& c = scope.columns[i];
      if (item.kind == SelectItem::Kind::kTableStar && c.table != item.table) continue;
      auto b = std::make_unique<BoundExpr>();
      b->kind = BoundKind::kColumn;
      b->type = c.type;
      b->pos = item.pos;
      b->column = static_cast<int>(i);
      b->max_slot = b->column;
      b->sql = item.kind == SelectItem::Kind::kStar ? c.name : c.table + "." + c.name;
      plan->outputs.push_back(std::move(b));
      plan->names.push_back(c.name);
      plan->types.push_back(c.type);
      any = true;
    }
    if (!any) {
      return SyntaxError(item.pos, item.kind == SelectItem::Kind::kStar
                                       ? "SELECT * needs a FROM clause"
                                       : absl::StrCat("unknown table ", item.table));
    }
  }
  return absl::OkStatus();
}

absl::Status BindGrouping(const SelectStmt& s, const BindContext& ctx, const Scope& scope,
                          SelectPlan* plan, ExprBinder* binder, int* depth) {
  std::vector<std::string> sql;
  std::vector<int> slots;
  std::vector<Type> types;
  ExprBinder keys(ctx, &scope);
  for (const ExprPtr& g : s.group_by) {
    const Expr* target = GroupTarget(*g, s, scope);
    ASSIGN_OR_RETURN(BoundPtr key, keys.Bind(*target));
    if (key->has_subquery) return SyntaxError(g->pos, "GROUP BY a subquery is not supported");
    sql.push_back(ToSql(*target));
    slots.push_back(key->kind == BoundKind::kColumn ? key->column : -1);
    types.push_back(key->type);
    plan->group_keys.push_back(std::move(key));
  }
  *depth = std::max(*depth, keys.max_outer_depth());
  binder->SetAggregation(std::move(sql), std::move(slots), std::move(types), &plan->aggregates);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> BindCount(const Expr* e, const BindContext& ctx, std::string_view what) {
  if (e == nullptr) return what == "LIMIT" ? -1 : 0;
  ASSIGN_OR_RETURN(Value v, EvalConstant(*e, ctx));
  if (v.type() != Type::kInt64 || v.int64_value() < 0) {
    return SyntaxError(e->pos, absl::StrCat(Sv(what), " must be a non-negative INT64"));
  }
  return v.int64_value();
}

absl::Status BindTail(const SelectStmt& s, const BindContext& ctx, ExprBinder* binder,
                      SelectPlan* plan) {
  if (s.having != nullptr) {
    ASSIGN_OR_RETURN(plan->having, binder->BindPredicate(*s.having, "HAVING"));
  }
  binder->SetOutputs(&plan->names, &plan->types);
  for (const OrderItem& o : s.order_by) {
    ASSIGN_OR_RETURN(BoundPtr key, binder->Bind(*o.expr));
    plan->order_keys.push_back(std::move(key));
    plan->order_desc.push_back(o.descending);
  }
  ASSIGN_OR_RETURN(plan->limit, BindCount(s.limit.get(), ctx, "LIMIT"));
  ASSIGN_OR_RETURN(plan->offset, BindCount(s.offset.get(), ctx, "OFFSET"));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<SelectPlan>> BindSelect(const SelectStmt& s, const BindContext& ctx,
                                                       const Scope* outer, int* max_outer_depth) {
  auto plan = std::make_shared<SelectPlan>();
  plan->schema = ctx.schema;
  Scope scope;
  scope.outer = outer;
  int depth = 0;
  if (s.from.has_value()) RETURN_IF_ERROR(BindFrom(*s.from, ctx, plan.get(), &scope, &depth));
  ASSIGN_OR_RETURN(std::vector<BoundPtr> where, BindWhere(s.where.get(), ctx, &scope, &depth));
  plan->aggregate = IsAggregateQuery(s);
  plan->distinct = s.distinct;
  ExprBinder binder(ctx, &scope);
  if (plan->aggregate) {
    RETURN_IF_ERROR(BindGrouping(s, ctx, scope, plan.get(), &binder, &depth));
  }
  RETURN_IF_ERROR(BindItems(s, scope, &binder, plan->aggregate, plan.get()));
  RETURN_IF_ERROR(BindTail(s, ctx, &binder, plan.get()));
  depth = std::max(depth, binder.max_outer_depth());
  PlanSources(std::move(where), plan.get());
  plan->correlated = depth >= 1;
  if (max_outer_depth != nullptr) *max_outer_depth = depth;
  return plan;
}

absl::StatusOr<std::shared_ptr<SelectPlan>> BindTableRows(SourcePos pos, std::string_view table,
                                                          const Expr* where, const BindContext& ctx,
                                                          Scope* scope) {
  auto plan = std::make_shared<SelectPlan>();
  plan->schema = ctx.schema;
  *scope = Scope();
  TableRef ref;
  ref.pos = pos;
  ref.name = std::string(table);
  RETURN_IF_ERROR(AddSource(ref, JoinType::kInner, ctx, plan.get(), scope));
  plan->width = static_cast<int>(scope->columns.size());
  int depth = 0;
  ASSIGN_OR_RETURN(std::vector<BoundPtr> filters, BindWhere(where, ctx, scope, &depth));
  for (size_t i = 0; i < scope->columns.size(); ++i) {
    auto b = std::make_unique<BoundExpr>();
    b->kind = BoundKind::kColumn;
    b->type = scope->columns[i].type;
    b->column = static_cast<int>(i);
    b->max_slot = b->column;
    b->sql = scope->columns[i].name;
    plan->outputs.push_back(std::move(b));
    plan->names.push_back(scope->columns[i].name);
    plan->types.push_back(scope->columns[i].type);
  }
  PlanSources(std::move(filters), plan.get());
  return plan;
}

}  // namespace meridian::sql
