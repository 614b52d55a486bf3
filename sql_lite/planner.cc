#include "sql_lite/planner.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::sql {
namespace {

// What one conjunct says about one column of the source.
struct Constraint {
  int column = 0;  // position in the table
  enum class Op : uint8_t { kEq, kLower, kUpper, kBetween, kIn } op = Op::kEq;
  bool inclusive = true;
  const BoundExpr* value = nullptr;
  const BoundExpr* high = nullptr;          // kBetween
  std::vector<const BoundExpr*> in_values;  // kIn: constants (no column of any source)
  const BoundExpr* conjunct = nullptr;
};

// The table column `e` is, when it is a column of this source.
int SourceColumn(const BoundExpr& e, const TableSource& source) {
  if (e.kind != BoundKind::kColumn) return -1;
  const int c = e.column - source.first_slot;
  return c >= 0 && c < static_cast<int>(source.table->columns.size()) ? c : -1;
}

// Usable as a key value for column c: no subquery, no column of this or a later source, and the
// column's own type (or the NULL literal).
bool UsableValue(const BoundExpr& v, const TableSource& source, int c) {
  const Type t = source.table->columns[c].type;
  return !v.has_subquery && v.max_slot < source.first_slot &&
         (v.type == t || v.type == Type::kNull);
}

std::optional<Constraint> Analyze(const BoundExpr& e, const TableSource& source) {
  Constraint k;
  k.conjunct = &e;
  if (e.kind == BoundKind::kBetween && !e.negated) {
    k.column = SourceColumn(*e.args[0], source);
    if (k.column < 0 || !UsableValue(*e.args[1], source, k.column) ||
        !UsableValue(*e.args[2], source, k.column)) {
      return std::nullopt;
    }
    k.op = Constraint::Op::kBetween;
    k.value = e.args[1].get();
    k.high = e.args[2].get();
    return k;
  }
  if (e.kind == BoundKind::kInList && !e.negated) {
    k.column = SourceColumn(*e.args[0], source);
    if (k.column < 0) return std::nullopt;
    for (size_t i = 1; i < e.args.size(); ++i) {
      const BoundExpr& v = *e.args[i];
      if (!UsableValue(v, source, k.column) || v.max_slot >= 0) return std::nullopt;
      k.in_values.push_back(&v);
    }
    k.op = Constraint::Op::kIn;
    return k;
  }
  if (e.kind != BoundKind::kBinary) return std::nullopt;
  BinaryOp op = e.binary;
  const BoundExpr* col = e.args[0].get();
  const BoundExpr* val = e.args[1].get();
  if (SourceColumn(*col, source) < 0) {
    std::swap(col, val);
    switch (op) {  // mirror: 5 < c is c > 5
      case BinaryOp::kLt:
        op = BinaryOp::kGt;
        break;
      case BinaryOp::kLe:
        op = BinaryOp::kGe;
        break;
      case BinaryOp::kGt:
        op = BinaryOp::kLt;
        break;
      case BinaryOp::kGe:
        op = BinaryOp::kLe;
        break;
      default:
        break;
    }
  }
  k.column = SourceColumn(*col, source);
  if (k.column < 0 || !UsableValue(*val, source, k.column)) return std::nullopt;
  k.value = val;
  switch (op) {
    case BinaryOp::kEq:
      k.op = Constraint::Op::kEq;
      break;
    case BinaryOp::kGt:
      k.op = Constraint::Op::kLower;
      k.inclusive = false;
      break;
    case BinaryOp::kGe:
      k.op = Constraint::Op::kLower;
      break;
    case BinaryOp::kLt:
      k.op = Constraint::Op::kUpper;
      k.inclusive = false;
      break;
    case BinaryOp::kLe:
      k.op = Constraint::Op::kUpper;
      break;
    default:
      return std::nullopt;
  }
  return k;
}

const Constraint* FindEq(const std::vector<Constraint>& ks, int column) {
  for (const Constraint& k : ks) {
    if (k.column == column && k.op == Constraint::Op::kEq) return &k;
  }
  return nullptr;
}

// Equality constraints on the leading `columns`, as many as are bound.
std::vector<const Constraint*> LeadingEq(const std::vector<Constraint>& ks,
                                         const std::vector<KeyColumn>& columns) {
  std::vector<const Constraint*> out;
  for (const KeyColumn& c : columns) {
    const Constraint* k = FindEq(ks, c.column);
    if (k == nullptr) break;
    out.push_back(k);
  }
  return out;
}

void Use(AccessPath* path, const Constraint& k) {
  path->used.push_back(k.conjunct->sql);
  const auto depends = [&](const BoundExpr* v) { return v != nullptr && v->max_slot >= 0; };
  path->per_left_row = path->per_left_row || depends(k.value) || depends(k.high);
}

void SetRange(const std::vector<Constraint>& ks, int column, AccessPath* path) {
  for (const Constraint& k : ks) {
    if (k.column != column) continue;
    const bool lower = k.op == Constraint::Op::kLower || k.op == Constraint::Op::kBetween;
    const bool upper = k.op == Constraint::Op::kUpper || k.op == Constraint::Op::kBetween;
    bool used = false;
    if (lower && path->lower == nullptr) {
      path->lower = Clone(*k.value);
      path->lower_inclusive = k.inclusive;
      used = true;
    }
    if (upper && path->upper == nullptr) {
      path->upper = Clone(k.op == Constraint::Op::kBetween ? *k.high : *k.value);
      path->upper_inclusive = k.inclusive;
      used = true;
    }
    if (used) Use(path, k);
  }
}

std::string PathText(const TableSource& s) {
  const AccessPath& p = s.path;
  std::string name = s.table->name;
  if (s.alias != name) absl::StrAppend(&name, " AS ", s.alias);
  std::string head;
  switch (p.kind) {
    case AccessPath::Kind::kPointLookup:
      head = "PointLookup " + name;
      break;
    case AccessPath::Kind::kKeyRange:
      head = "KeyRangeScan " + name;
      break;
    case AccessPath::Kind::kIndexScan:
      head = absl::StrCat("IndexScan ", name, " USING ", p.index->name);
      break;
    case AccessPath::Kind::kFullScan:
      head = "FullScan " + name;
      break;
  }
  if (!p.used.empty()) absl::StrAppend(&head, " [", absl::StrJoin(p.used, " AND "), "]");
  if (p.per_left_row) absl::StrAppend(&head, " (per outer row)");
  std::vector<std::string> building;
  for (const IndexSchema& index : s.table->indexes) {
    if (!index.readable()) {
      building.push_back(absl::StrCat(index.name, " ", IndexStateName(index.state)));
    }
  }
  if (!building.empty()) {
    absl::StrAppend(&head, " (not public: ", absl::StrJoin(building, ", "), ")");
  }
  return head;
}

std::string Conjunction(const std::vector<BoundPtr>& es) {
  std::vector<std::string> parts;
  for (const BoundPtr& e : es) parts.push_back(e->sql);
  return absl::StrJoin(parts, " AND ");
}

// The left-deep nested-loop join tree of sources [0, last]: the outer side, then the inner.
void EmitSources(const SelectPlan& plan, size_t last, int depth, std::vector<std::string>* lines) {
  const TableSource& s = plan.sources[last];
  if (!s.filters.empty()) {
    lines->push_back(std::string(2 * depth++, ' ') + "Filter [" + Conjunction(s.filters) + "]");
  }
  const std::string indent(2 * depth, ' ');
  if (last == 0) {
    const int64_t pushed = PushedLimit(plan);
    lines->push_back(indent + PathText(s) +
                     (pushed >= 0 ? absl::StrCat(" (stops after ", pushed, " rows)") : ""));
    return;
  }
  std::string line = indent + "NestedLoopJoin " +
                     (s.join == JoinType::kLeft    ? "LEFT"
                      : s.join == JoinType::kCross ? "CROSS"
                                                   : "INNER");
  if (!s.on.empty()) absl::StrAppend(&line, " ON [", Conjunction(s.on), "]");
  lines->push_back(line);
  EmitSources(plan, last - 1, depth + 1, lines);
  lines->push_back(indent + "  " + PathText(s));
}

}  // namespace

void ChooseAccessPath(const std::vector<const BoundExpr*>& conjuncts, TableSource* source) {
  std::vector<Constraint> ks;
  for (const BoundExpr* e : conjuncts) {
    std::optional<Constraint> k = Analyze(*e, *source);
    if (k.has_value()) ks.push_back(*k);
  }
  AccessPath& path = source->path;
  const std::vector<KeyColumn>& pk = source->table->primary_key;
  const std::vector<const Constraint*> pk_eq = LeadingEq(ks, pk);
  const IndexSchema* best = nullptr;
  std::vector<const Constraint*> best_eq;
  for (const IndexSchema& index : source->table->indexes) {
    if (!index.readable()) continue;  // being built or dropped
    std::vector<const Constraint*> eq = LeadingEq(ks, index.columns);
    if (eq.size() > best_eq.size()) {
      best = &index;
      best_eq = std::move(eq);
    }
  }
  const bool point = !pk.empty() && pk_eq.size() == pk.size();
  // All but the last key column by equality and the last by IN: a point lookup per value.
  const Constraint* in = nullptr;
  if (!point && !pk.empty() && pk_eq.size() == pk.size() - 1) {
    for (const Constraint& k : ks) {
      if (k.op == Constraint::Op::kIn && k.column == pk.back().column) in = &k;
    }
  }
  std::vector<const Constraint*> chosen = pk_eq;
  if (point || in != nullptr) {
    path.kind = AccessPath::Kind::kPointLookup;
    if (in != nullptr) {
      for (const BoundExpr* v : in->in_values) path.in_list.push_back(Clone(*v));
    }
  } else if (best != nullptr && best_eq.size() > pk_eq.size()) {
    path.kind = AccessPath::Kind::kIndexScan;
    path.index = best;
    chosen = best_eq;
  } else {
    path.kind = AccessPath::Kind::kKeyRange;
  }
  for (const Constraint* k : chosen) {
    path.eq.push_back(Clone(*k->value));
    Use(&path, *k);
  }
  if (!path.in_list.empty()) Use(&path, *in);
  if (path.kind == AccessPath::Kind::kKeyRange && pk_eq.size() < pk.size()) {
    SetRange(ks, pk[pk_eq.size()].column, &path);
  }
  if (path.kind == AccessPath::Kind::kKeyRange && path.eq.empty() && path.lower == nullptr &&
      path.upper == nullptr) {
    path.kind = AccessPath::Kind::kFullScan;
  }
}

namespace {

// Whether the ORDER BY of a one-table plan is the order its scan returns rows in: each key is a
// column of the table (directly or through an output), ascending in key order, and the keys are
// the primary key's columns after those the scan binds by equality, in order (a key on a column
// bound by equality, constant over the scan, may stand anywhere).
bool OrderFollowsKey(const SelectPlan& plan) {
  const TableSource& source = plan.sources[0];
  const std::vector<KeyColumn>& pk = source.table->primary_key;
  size_t next = source.path.eq.size();
  for (size_t i = 0; i < plan.order_keys.size(); ++i) {
    const BoundExpr* k = plan.order_keys[i].get();
    if (k->kind == BoundKind::kOutputRef) k = plan.outputs[k->column].get();
    if (k->kind != BoundKind::kColumn) return false;
    const int column = k->column - source.first_slot;
    bool bound = false;
    for (size_t j = 0; j < source.path.eq.size(); ++j) bound = bound || pk[j].column == column;
    if (bound) continue;
    if (next >= pk.size() || pk[next].column != column ||
        plan.order_desc[i] != pk[next].descending) {
      return false;
    }
    ++next;
  }
  return true;
}

}  // namespace

int64_t PushedLimit(const SelectPlan& plan) {
  if (plan.limit < 0 || plan.offset > std::numeric_limits<int64_t>::max() - plan.limit ||
      plan.sources.size() != 1 || plan.aggregate || plan.distinct) {
    return -1;
  }
  if (!plan.order_keys.empty() && !OrderFollowsKey(plan)) return -1;
  const AccessPath::Kind kind = plan.sources[0].path.kind;
  if (kind != AccessPath::Kind::kKeyRange && kind != AccessPath::Kind::kFullScan) return -1;
  return plan.offset + plan.limit;
}

std::vector<std::string> ExplainSelect(const SelectPlan& plan) {
  std::vector<std::string> ops;  // top first
  if (plan.limit >= 0 || plan.offset > 0) {
    ops.push_back(absl::StrCat("Limit ", plan.limit, " Offset ", plan.offset));
  }
  if (!plan.order_keys.empty()) {
    std::vector<std::string> keys;
    for (size_t i = 0; i < plan.order_keys.size(); ++i) {
      keys.push_back(plan.order_keys[i]->sql + (plan.order_desc[i] ? " DESC" : ""));
    }
    ops.push_back("Sort [" + absl::StrJoin(keys, ", ") + "]");
  }
  if (plan.distinct) ops.push_back("Distinct");
  std::vector<std::string> outs;
  for (const BoundPtr& o : plan.outputs) outs.push_back(o->sql);
  ops.push_back("Project [" + absl::StrJoin(outs, ", ") + "]");
  if (plan.having != nullptr) ops.push_back("Filter [" + plan.having->sql + "]");
  if (plan.aggregate) {
    std::vector<std::string> keys, aggs;
    for (const BoundPtr& k : plan.group_keys) keys.push_back(k->sql);
    for (const AggregateSpec& a : plan.aggregates) aggs.push_back(a.sql);
    ops.push_back("Aggregate [" + absl::StrJoin(aggs, ", ") + "] GROUP BY [" +
                  absl::StrJoin(keys, ", ") + "]");
  }
  if (!plan.late_filters.empty()) ops.push_back("Filter [" + Conjunction(plan.late_filters) + "]");
  std::vector<std::string> lines;
  int depth = 0;
  for (const std::string& op : ops) lines.push_back(std::string(2 * depth++, ' ') + op);
  if (plan.sources.empty()) lines.push_back(std::string(2 * depth, ' ') + "SingleRow");
  if (!plan.sources.empty()) EmitSources(plan, plan.sources.size() - 1, depth, &lines);
  return lines;
}

}  // namespace meridian::sql
