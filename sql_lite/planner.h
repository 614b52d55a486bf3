// The planner: picks each source's access path from the conjuncts that constrain it, and prints
// plans for EXPLAIN.
//
// Access paths, best first (plan.h): a point lookup when every primary key column is bound by
// equality; an index scan when a secondary index has more leading columns bound by equality than
// the primary key has; a key range when a prefix of the primary key is bound by equality,
// possibly with bounds (<, <=, >, >=, BETWEEN) on the next key column; a full scan otherwise.
// A conjunct binds a column when it compares the column with an expression of the same type that
// reads only constants, parameters, enclosing queries and earlier sources (the latter makes a
// lookup join). Access paths only narrow what is read: every conjunct is still applied as a
// filter. Only PUBLIC indexes are used; EXPLAIN names the others of a table with their state
// ("FullScan t (not public: t_i WRITE_ONLY)").
//
// Thread safety: pure functions.
#ifndef MERIDIAN_SQL_LITE_PLANNER_H_
#define MERIDIAN_SQL_LITE_PLANNER_H_

#include <string>
#include <vector>

#include "sql_lite/plan.h"

namespace meridian::sql {

// Chooses source->path from `conjuncts` (bound over the source row up to this source).
void ChooseAccessPath(const std::vector<const BoundExpr*>& conjuncts, TableSource* source);

// The plan as an indented tree, one line per operator, for EXPLAIN.
std::vector<std::string> ExplainSelect(const SelectPlan& plan);

// The rows (OFFSET + LIMIT) a query's one key-order scan may stop after, or -1 when its LIMIT
// cannot be pushed into the scan: it needs a single table read by KeyRangeScan or FullScan, no
// grouping or DISTINCT, and no ORDER BY other than the scan's own key order (the primary key's
// columns after those bound by equality, each ascending as the key is). The scan then reads (and,
// in a read-write transaction, locks) only as far as the rows it returns.
int64_t PushedLimit(const SelectPlan& plan);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_PLANNER_H_
