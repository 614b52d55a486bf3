#include "sql_lite/executor.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/encoding.h"
#include "sql_lite/planner.h"
#include "sql_lite/table_io.h"
#include "sql_lite/testing_plants.h"

namespace meridian::sql {
namespace {

struct RowLess {
  bool operator()(const Row& a, const Row& b) const {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      const int c = OrderCompare(a[i], b[i]);
      if (c != 0) return c < 0;
    }
    return a.size() < b.size();
  }
};

absl::StatusOr<bool> AllTrue(const std::vector<BoundPtr>& conjuncts, const EvalContext& ctx) {
  for (const BoundPtr& c : conjuncts) {
    ASSIGN_OR_RETURN(bool ok, EvalPredicate(*c, ctx));
    if (!ok) return false;
  }
  return true;
}

// The [start, end) of a key range path, or nullopt when a bound is NULL (no row can match).
absl::StatusOr<std::optional<std::pair<std::string, std::string>>> RangeOf(
    const TableSource& source, const std::vector<Value>& eq, const EvalContext& ctx) {
  const AccessPath& p = source.path;
  ASSIGN_OR_RETURN(std::string prefix, EncodeKeyPrefix(source.ancestry, eq));
  std::string start = prefix, end = keyenc::PrefixSuccessor(prefix);
  if (p.lower == nullptr && p.upper == nullptr) return std::make_pair(start, end);
  const KeyColumn& k = source.table->primary_key[eq.size()];
  const Type type = source.table->columns[k.column].type;
  for (int side = 0; side < 2; ++side) {
    const BoundExpr* bound = side == 0 ? p.lower.get() : p.upper.get();
    if (bound == nullptr) continue;
    ASSIGN_OR_RETURN(Value v, Eval(*bound, ctx));
    if (v.is_null()) return std::nullopt;
    std::string at = prefix;
    RETURN_IF_ERROR(AppendKeyPart(&at, v, type, k.descending));
    const bool inclusive = side == 0 ? p.lower_inclusive : p.upper_inclusive;
    // In key order a lower bound of an ASC column (an upper one of a DESC column) starts the
    // range; "inclusive" keeps the keys that start with the bound's encoding.
    const bool is_start = (side == 0) != k.descending;
    if (is_start) {
      std::string s = inclusive ? at : keyenc::PrefixSuccessor(at);
      if (s > start) start = std::move(s);
    } else {
      std::string e = inclusive ? keyenc::PrefixSuccessor(at) : at;
      if (e < end) end = std::move(e);
    }
  }
  return std::make_pair(start, end);
}

struct AggState {
  int64_t count = 0;
  Value acc;
  double float_sum = 0;
  std::set<Value, bool (*)(const Value&, const Value&)> seen{
      [](const Value& a, const Value& b) { return OrderCompare(a, b) < 0; }};
};

absl::Status Accumulate(const AggregateSpec& spec, const Value& v, AggState* s) {
  if (spec.star) {
    ++s->count;
    return absl::OkStatus();
  }
  if (v.is_null()) return absl::OkStatus();
  if (spec.distinct && !s->seen.insert(v).second) return absl::OkStatus();
  ++s->count;
  if (spec.function == "SUM") {
    if (s->acc.is_null()) {
      s->acc = v;
    } else {
      ASSIGN_OR_RETURN(s->acc, Add(s->acc, v));
    }
  } else if (spec.function == "AVG") {
    s->float_sum +=
        v.type() == Type::kInt64 ? static_cast<double>(v.int64_value()) : v.float64_value();
  } else if (spec.function == "MIN" || spec.function == "MAX") {
    const int c = s->acc.is_null() ? 0 : OrderCompare(v, s->acc);
    if (s->acc.is_null() || (spec.function == "MIN" ? c < 0 : c > 0)) s->acc = v;
  }
  return absl::OkStatus();
}

Value Result(const AggregateSpec& spec, const AggState& s) {
  if (spec.function == "COUNT") return Value::Int64(s.count);
  if (spec.function == "AVG") {
    return s.count == 0 ? Value::Null()
                        : Value::Float64(s.float_sum / static_cast<double>(s.count));
  }
  return s.acc;
}

}  // namespace

absl::Status Executor::ReadSource(const TableSource& source, const EvalContext& ctx,
                                  std::vector<Row>* rows) {
  const AccessPath& p = source.path;
  std::vector<Value> eq;
  for (const BoundPtr& e : p.eq) {
    ASSIGN_OR_RETURN(Value v, Eval(*e, ctx));
    if (v.is_null()) return absl::OkStatus();  // k = NULL matches no row
    eq.push_back(std::move(v));
  }
  const auto add = [rows](Row row) {
    rows->push_back(std::move(row));
    return absl::OkStatus();
  };
  switch (p.kind) {
    case AccessPath::Kind::kPointLookup: {
      if (!p.in_list.empty()) return ReadInList(source, ctx, std::move(eq), rows);
      ASSIGN_OR_RETURN(std::optional<Row> row, GetRow(*store_, source.ancestry, eq));
      if (row.has_value()) rows->push_back(std::move(*row));
      return absl::OkStatus();
    }
    case AccessPath::Kind::kIndexScan: {
      ASSIGN_OR_RETURN(std::string prefix, EncodeIndexPrefix(*source.table, *p.index, eq));
      std::vector<Value> key;
      return ScanRange(
          *store_, prefix, keyenc::PrefixSuccessor(prefix),
          [&](const KvPair& entry) -> absl::Status {
            RETURN_IF_ERROR(DecodeIndexEntry(*source.table, *p.index, entry, &key));
            ASSIGN_OR_RETURN(std::optional<Row> row, GetRow(*store_, source.ancestry, key));
            if (!row.has_value()) {
              return absl::InternalError(
                  absl::StrCat("index ", p.index->name, " points at missing row ", KeyText(key)));
            }
            rows->push_back(std::move(*row));
            return absl::OkStatus();
          });
    }
    case AccessPath::Kind::kKeyRange:
    case AccessPath::Kind::kFullScan: {
      ASSIGN_OR_RETURN(auto range, RangeOf(source, eq, ctx));
      if (!range.has_value() || range->first >= range->second) return absl::OkStatus();
      return ScanRows(*store_, source.ancestry, range->first, range->second, add);
    }
  }
  return absl::OkStatus();
}

absl::Status Executor::ReadInList(const TableSource& source, const EvalContext& ctx,
                                  std::vector<Value> key, std::vector<Row>* rows) {
  std::vector<std::string> keys;
  std::set<std::string> seen;  // k IN (1, 1) is one row
  key.emplace_back();
  for (const BoundPtr& e : source.path.in_list) {
    ASSIGN_OR_RETURN(key.back(), Eval(*e, ctx));
    if (key.back().is_null()) continue;  // k = NULL matches no row
    ASSIGN_OR_RETURN(std::string raw, EncodeRowKey(source.ancestry, key));
    if (seen.insert(raw).second) keys.push_back(std::move(raw));
  }
  if (keys.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values, store_->GetMany(keys));
  for (size_t j = 0; j < keys.size(); ++j) {
    if (!values[j].has_value()) continue;
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     DecodeRow(source.ancestry, KvPair{keys[j], *std::move(values[j])}));
    if (row.has_value()) rows->push_back(*std::move(row));
  }
  return absl::OkStatus();
}

absl::Status Executor::LookUpAll(const TableSource& source, const std::vector<Row>& left,
                                 const EvalContext* outer, std::vector<std::vector<Row>>* out) {
  out->assign(left.size(), {});
  std::vector<std::string> keys;
  std::vector<size_t> wanted;  // the left row of each key
  for (size_t i = 0; i < left.size(); ++i) {
    const EvalContext ctx = Context(&left[i], outer);
    std::vector<Value> key;
    for (const BoundPtr& e : source.path.eq) {
      ASSIGN_OR_RETURN(Value v, Eval(*e, ctx));
      key.push_back(std::move(v));
    }
    if (std::any_of(key.begin(), key.end(), [](const Value& v) { return v.is_null(); })) {
      continue;  // k = NULL matches no row
    }
    ASSIGN_OR_RETURN(std::string raw, EncodeRowKey(source.ancestry, key));
    keys.push_back(std::move(raw));
    wanted.push_back(i);
  }
  if (keys.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> values, store_->GetMany(keys));
  for (size_t j = 0; j < wanted.size(); ++j) {
    if (!values[j].has_value()) continue;
    ASSIGN_OR_RETURN(std::optional<Row> row,
                     DecodeRow(source.ancestry, KvPair{keys[j], *std::move(values[j])}));
    if (row.has_value()) (*out)[wanted[j]].push_back(*std::move(row));
  }
  return absl::OkStatus();
}

absl::Status Executor::JoinOne(const TableSource& source, const EvalContext* outer,
                               std::vector<Row>* left) {
  std::vector<Row> shared_inner;
  if (!source.path.per_left_row) {
    Row empty;
    RETURN_IF_ERROR(ReadSource(source, Context(&empty, outer), &shared_inner));
  }
  const size_t width = source.table->columns.size();
  std::vector<std::vector<Row>> looked_up;  // per left row, for a batched point lookup
  const bool batched = source.path.per_left_row &&
                       source.path.kind == AccessPath::Kind::kPointLookup &&
                       source.path.in_list.empty();
  if (batched) RETURN_IF_ERROR(LookUpAll(source, *left, outer, &looked_up));
  std::vector<Row> out;
  for (size_t i = 0; i < left->size(); ++i) {
    const Row& l = (*left)[i];
    std::vector<Row> own;
    if (source.path.per_left_row && !batched) {
      RETURN_IF_ERROR(ReadSource(source, Context(&l, outer), &own));
    }
    const std::vector<Row>& inner = batched                    ? looked_up[i]
                                    : source.path.per_left_row ? own
                                                               : shared_inner;
    bool matched = false;
    for (const Row& r : inner) {
      Row combined = l;
      combined.insert(combined.end(), r.begin(), r.end());
      ASSIGN_OR_RETURN(bool on, AllTrue(source.on, Context(&combined, outer)));
      if (!on) continue;
      matched = true;
      out.push_back(std::move(combined));
    }
    if (!matched && source.join == JoinType::kLeft) {
      Row padded = l;
      padded.resize(l.size() + width);
      out.push_back(std::move(padded));
    }
  }
  *left = std::move(out);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Row>> Executor::ScanUntil(const SelectPlan& plan,
                                                     const EvalContext* outer, int64_t want) {
  const TableSource& source = plan.sources[0];
  std::vector<Row> rows;
  if (want == 0) return rows;
  Row empty;
  const EvalContext ctx = Context(&empty, outer);
  std::vector<Value> eq;
  for (const BoundPtr& e : source.path.eq) {
    ASSIGN_OR_RETURN(Value v, Eval(*e, ctx));
    if (v.is_null()) return rows;  // k = NULL matches no row
    eq.push_back(std::move(v));
  }
  ASSIGN_OR_RETURN(auto range, RangeOf(source, eq, ctx));
  if (!range.has_value() || range->first >= range->second) return rows;
  std::string from = range->first;
  // A little more than the rows still wanted, doubling while filters or interleaved children's
  // keys (which a parent's range holds) eat them.
  int64_t page = want + 1;
  while (static_cast<int64_t>(rows.size()) < want) {
    ASSIGN_OR_RETURN(std::vector<KvPair> pairs, store_->Scan(from, range->second, page));
    for (const KvPair& pair : pairs) {
      ASSIGN_OR_RETURN(std::optional<Row> row, DecodeRow(source.ancestry, pair));
      if (!row.has_value()) continue;
      const EvalContext row_ctx = Context(&*row, outer);
      ASSIGN_OR_RETURN(bool ok, AllTrue(source.filters, row_ctx));
      if (ok) {
        ASSIGN_OR_RETURN(ok, AllTrue(plan.late_filters, row_ctx));
      }
      if (ok) rows.push_back(std::move(*row));
      if (static_cast<int64_t>(rows.size()) >= want) return rows;
    }
    if (static_cast<int64_t>(pairs.size()) < page) return rows;
    from = pairs.back().key;
    from.push_back('\0');  // the smallest key after it
    page = std::min<int64_t>(page * 2, 1000);
  }
  return rows;
}

absl::StatusOr<std::vector<Row>> Executor::Join(const SelectPlan& plan, const EvalContext* outer,
                                                int64_t limit) {
  if (const int64_t want = PushedLimit(plan); want >= 0) {
    ASSIGN_OR_RETURN(std::vector<Row> rows, ScanUntil(plan, outer, want));
    if (limit >= 0 && static_cast<int64_t>(rows.size()) > limit) rows.resize(limit);
    return rows;
  }
  std::vector<Row> rows(1);  // one empty row: SELECT without FROM, and the join's seed
  for (size_t i = 0; i < plan.sources.size(); ++i) {
    const TableSource& source = plan.sources[i];
    RETURN_IF_ERROR(JoinOne(source, outer, &rows));
    std::vector<Row> kept;
    for (Row& r : rows) {
      ASSIGN_OR_RETURN(bool ok, AllTrue(source.filters, Context(&r, outer)));
      if (ok) kept.push_back(std::move(r));
    }
    rows = std::move(kept);
  }
  std::vector<Row> out;
  for (Row& r : rows) {
    if (limit >= 0 && static_cast<int64_t>(out.size()) >= limit) break;
    ASSIGN_OR_RETURN(bool ok, AllTrue(plan.late_filters, Context(&r, outer)));
    if (ok) out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<std::vector<Row>> Executor::SourceRows(const SelectPlan& plan,
                                                      const EvalContext* outer, int64_t limit) {
  return Join(plan, outer, limit);
}

absl::StatusOr<std::vector<Row>> Executor::Aggregate(const SelectPlan& plan, std::vector<Row> rows,
                                                     const EvalContext* outer) {
  std::map<Row, std::vector<AggState>, RowLess> groups;
  if (plan.group_keys.empty()) groups[Row()].resize(plan.aggregates.size());
  for (const Row& r : rows) {
    const EvalContext ctx = Context(&r, outer);
    Row key;
    for (const BoundPtr& k : plan.group_keys) {
      ASSIGN_OR_RETURN(Value v, Eval(*k, ctx));
      key.push_back(std::move(v));
    }
    std::vector<AggState>& states = groups[key];
    states.resize(plan.aggregates.size());
    for (size_t i = 0; i < plan.aggregates.size(); ++i) {
      const AggregateSpec& spec = plan.aggregates[i];
      Value v;
      if (spec.arg != nullptr) {
        ASSIGN_OR_RETURN(v, Eval(*spec.arg, ctx));
      }
      RETURN_IF_ERROR(Accumulate(spec, v, &states[i]));
    }
  }
  std::vector<Row> out;
  for (auto& [key, states] : groups) {
    Row row = key;
    for (size_t i = 0; i < plan.aggregates.size(); ++i) {
      row.push_back(Result(plan.aggregates[i], states[i]));
    }
    if (plan.having != nullptr) {
      ASSIGN_OR_RETURN(bool ok, EvalPredicate(*plan.having, Context(&row, outer)));
      if (!ok) continue;
    }
    out.push_back(std::move(row));
  }
  return out;
}

absl::StatusOr<std::vector<Row>> Executor::Finish(const SelectPlan& plan, std::vector<Row> rows,
                                                  const EvalContext* outer) {
  struct Item {
    Row keys;
    Row outputs;
  };
  std::vector<Item> items;
  std::set<Row, RowLess> distinct;
  const bool early = plan.order_keys.empty() && !plan.distinct && plan.limit >= 0;
  for (const Row& r : rows) {
    if (early && static_cast<int64_t>(items.size()) > plan.offset + plan.limit) break;
    EvalContext ctx = Context(&r, outer);
    Item item;
    for (const BoundPtr& o : plan.outputs) {
      ASSIGN_OR_RETURN(Value v, Eval(*o, ctx));
      item.outputs.push_back(std::move(v));
    }
    if (plan.distinct && !distinct.insert(item.outputs).second) continue;
    ctx.outputs = &item.outputs;
    for (const BoundPtr& k : plan.order_keys) {
      ASSIGN_OR_RETURN(Value v, Eval(*k, ctx));
      item.keys.push_back(std::move(v));
    }
    items.push_back(std::move(item));
  }
  std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    for (size_t i = 0; i < plan.order_desc.size(); ++i) {
      const int c = OrderCompare(a.keys[i], b.keys[i]);
      if (c != 0) return plan.order_desc[i] ? c > 0 : c < 0;
    }
    return false;
  });
  const int64_t limit =
      plan.limit + (plan.limit >= 0 && MutableTestingPlants().limit_off_by_one ? 1 : 0);
  std::vector<Row> out;
  for (size_t i = static_cast<size_t>(std::min<int64_t>(plan.offset, items.size()));
       i < items.size(); ++i) {
    if (limit >= 0 && static_cast<int64_t>(out.size()) >= limit) break;
    out.push_back(std::move(items[i].outputs));
  }
  return out;
}

absl::StatusOr<std::vector<Row>> Executor::Run(const SelectPlan& plan, const EvalContext* outer) {
  ASSIGN_OR_RETURN(std::vector<Row> rows, Join(plan, outer, -1));
  if (plan.aggregate) {
    ASSIGN_OR_RETURN(rows, Aggregate(plan, std::move(rows), outer));
  }
  return Finish(plan, std::move(rows), outer);
}

absl::StatusOr<std::vector<Row>> Executor::RunSubquery(const SelectPlan& plan,
                                                       const EvalContext& outer) {
  if (plan.correlated) return Run(plan, &outer);
  auto it = subquery_cache_.find(&plan);
  if (it != subquery_cache_.end()) return it->second;
  ASSIGN_OR_RETURN(std::vector<Row> rows, Run(plan, &outer));
  subquery_cache_[&plan] = rows;
  return rows;
}

}  // namespace meridian::sql
