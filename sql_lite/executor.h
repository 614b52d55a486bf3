// The executor: runs a SELECT plan (plan.h) over a RowStore and returns its rows. It materializes
// each stage (sources joined by nested loops, filters, aggregation, projection, DISTINCT, sort,
// OFFSET/LIMIT); stopping early is done only for LIMIT without ORDER BY, DISTINCT or aggregation,
// and a single table's key-order scan then stops at the rows it needs (planner.h PushedLimit).
// Uncorrelated subqueries run once per statement (cached by plan); correlated ones run per row.
//
// Restartability: an Executor keeps nothing but that cache, which lives as long as the Executor
// (one statement in one attempt), so a retried transaction recomputes everything from its reads.
//
// Thread safety: one thread, like its RowStore.
#ifndef MERIDIAN_SQL_LITE_EXECUTOR_H_
#define MERIDIAN_SQL_LITE_EXECUTOR_H_

#include <map>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/bound_expr.h"
#include "sql_lite/plan.h"
#include "sql_lite/row_store.h"

namespace meridian::sql {

class Executor : public SubqueryRunner {
 public:
  explicit Executor(RowStore* store) : store_(store) {}

  // The plan's output rows; `outer` is the enclosing query's context for a subquery.
  absl::StatusOr<std::vector<Row>> Run(const SelectPlan& plan, const EvalContext* outer);
  // The joined, filtered source rows of `plan` (before aggregation): what UPDATE and DELETE use.
  absl::StatusOr<std::vector<Row>> SourceRows(const SelectPlan& plan, const EvalContext* outer,
                                              int64_t limit = -1);

  absl::StatusOr<std::vector<Row>> RunSubquery(const SelectPlan& plan,
                                               const EvalContext& outer) override;

 private:
  absl::Status ReadSource(const TableSource& source, const EvalContext& ctx,
                          std::vector<Row>* rows);
  absl::StatusOr<std::vector<Row>> Join(const SelectPlan& plan, const EvalContext* outer,
                                        int64_t limit);
  // The rows of the plan's one table that pass its WHERE, in key order, reading no further than
  // the first `want` of them (PushedLimit).
  absl::StatusOr<std::vector<Row>> ScanUntil(const SelectPlan& plan, const EvalContext* outer,
                                             int64_t want);
  absl::Status JoinOne(const TableSource& source, const EvalContext* outer, std::vector<Row>* left);
  // The rows of a point lookup by IN: `key` (the leading key columns' values) with each of the
  // IN list's values, in one RowStore::GetMany, each distinct key once.
  absl::Status ReadInList(const TableSource& source, const EvalContext& ctx, std::vector<Value> key,
                          std::vector<Row>* rows);
  // A point-lookup source's rows for every left row, read in one RowStore::GetMany (the SDK
  // reads a snapshot's keys with one request per group).
  absl::Status LookUpAll(const TableSource& source, const std::vector<Row>& left,
                         const EvalContext* outer, std::vector<std::vector<Row>>* out);
  absl::StatusOr<std::vector<Row>> Aggregate(const SelectPlan& plan, std::vector<Row> rows,
                                             const EvalContext* outer);
  absl::StatusOr<std::vector<Row>> Finish(const SelectPlan& plan, std::vector<Row> rows,
                                          const EvalContext* outer);
  EvalContext Context(const Row* row, const EvalContext* outer) {
    return EvalContext{.row = row, .outputs = nullptr, .outer = outer, .runner = this};
  }

  RowStore* store_;
  std::map<const SelectPlan*, std::vector<Row>> subquery_cache_;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_EXECUTOR_H_
