// Query plans: what the binder and planner (binder.h, planner.h) produce for a SELECT and what the
// executor (executor.h) runs. A plan is a fixed pipeline, printed by EXPLAIN as a tree:
//   sources (each read by an access path; the 2nd and later joined by nested loops)
//   -> WHERE filters (each conjunct right after the source that completes its columns)
//   -> aggregation (GROUP BY keys, aggregates, HAVING)   -> projection -> DISTINCT
//   -> ORDER BY -> OFFSET/LIMIT
// Rows are slot vectors: the source row is the concatenation of every source's columns (in FROM
// order), the aggregated row is [group keys..., aggregate values...].
//
// Thread safety: an immutable value once built; it keeps its Schema alive (table pointers point
// into it).
#ifndef MERIDIAN_SQL_LITE_PLAN_H_
#define MERIDIAN_SQL_LITE_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include "sql_lite/bound_expr.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

// How one source reads its table. Every access path returns a superset of the rows its source
// needs: the conjuncts it used stay as filters, so a path only has to be cheap, never exact.
struct AccessPath {
  enum class Kind : uint8_t {
    kPointLookup,  // every primary key column bound by equality: one Get; or all but the last
                   // by equality and the last by IN (constants): one GetMany of `in_list`
    kKeyRange,     // a prefix of the primary key bound by equality, maybe a range on the next
    kIndexScan,    // leading index columns bound by equality: index prefix scan + Get per row
    kFullScan,     // every row of the table
  };
  Kind kind = Kind::kFullScan;
  const IndexSchema* index = nullptr;  // kIndexScan
  std::vector<BoundPtr> eq;            // values of the leading key (or index) columns
  std::vector<BoundPtr> in_list;       // kPointLookup by IN: the last key column's values
  BoundPtr lower;                      // kKeyRange: bounds on key column eq.size()
  BoundPtr upper;
  bool lower_inclusive = false;
  bool upper_inclusive = false;
  // The values read earlier sources' columns: evaluated again for each row of the left side
  // (a lookup join).
  bool per_left_row = false;
  std::vector<std::string> used;  // the conjuncts it was built from, for EXPLAIN
};

struct TableSource {
  const TableSchema* table = nullptr;
  std::vector<const TableSchema*> ancestry;  // Schema::Ancestry(*table)
  std::string alias;                         // the name columns are qualified with
  int first_slot = 0;
  JoinType join = JoinType::kInner;  // for the 2nd and later sources
  std::vector<BoundPtr> on;          // ON conjuncts (over the row up to this source)
  AccessPath path;
  std::vector<BoundPtr> filters;  // WHERE conjuncts complete once this source is joined
};

struct AggregateSpec {
  std::string function;  // COUNT, SUM, MIN, MAX, AVG
  bool distinct = false;
  bool star = false;  // COUNT(*)
  BoundPtr arg;       // over the source row; null for COUNT(*)
  Type type = Type::kNull;
  std::string sql;
};

struct SelectPlan {
  std::shared_ptr<const Schema> schema;
  std::vector<TableSource> sources;    // empty for SELECT without FROM: one empty row
  int width = 0;                       // slots of the source row
  std::vector<BoundPtr> late_filters;  // WHERE conjuncts with subqueries: after every join

  bool aggregate = false;
  std::vector<BoundPtr> group_keys;  // over the source row
  std::vector<AggregateSpec> aggregates;
  BoundPtr having;  // over the aggregated row

  std::vector<BoundPtr> outputs;  // over the aggregated row when `aggregate`, else the source row
  std::vector<std::string> names;
  std::vector<Type> types;
  bool distinct = false;
  std::vector<BoundPtr> order_keys;  // like outputs, and kOutputRef for output names/ordinals
  std::vector<bool> order_desc;
  int64_t limit = -1;  // -1: none
  int64_t offset = 0;
  bool correlated = false;  // reads columns of an enclosing query
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_PLAN_H_
