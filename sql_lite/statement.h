// Executes one data statement (SELECT, INSERT, UPDATE, DELETE, EXPLAIN) on a RowStore: reads the
// schema (through the cache), binds, plans and runs it. Schema changes (CREATE, DROP) run their
// own transactions (schema_change.h) and are refused here, as are session statements (BEGIN,
// COMMIT, ROLLBACK, SET), which are the Session's business.
//
// ExecuteAtomically adds statement atomicity: when the statement fails, the store's buffered
// writes are rolled back to where the statement started.
//
// Thread safety: one thread, like the RowStore; the SchemaCache is thread-safe.
#ifndef MERIDIAN_SQL_LITE_STATEMENT_H_
#define MERIDIAN_SQL_LITE_STATEMENT_H_

#include "absl/status/statusor.h"
#include "meridian/sql.h"
#include "sql_lite/ast.h"
#include "sql_lite/catalog.h"
#include "sql_lite/row_store.h"

namespace meridian::sql {

// True for SELECT and EXPLAIN: statements that write nothing.
bool IsReadOnlyStatement(const Statement& stmt);

absl::StatusOr<ResultSet> ExecuteStatement(const Statement& stmt, RowStore& store,
                                           SchemaCache& cache, const Params& params);
absl::StatusOr<ResultSet> ExecuteAtomically(const Statement& stmt, RowStore& store,
                                            SchemaCache& cache, const Params& params);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_STATEMENT_H_
