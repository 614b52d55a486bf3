// INSERT, UPDATE and DELETE: bind against the schema, read the target rows with the executor and
// write through table_io.h (which maintains indexes and interleaved children).
//
//  - INSERT checks the column list and the number of values, converts each value to its column's
//    type (INT64 widens to FLOAT64), refuses NULL in a NOT NULL column and an existing primary
//    key (ALREADY_EXISTS). INSERT OR UPDATE replaces the named columns of an existing row and
//    keeps the others.
//  - UPDATE computes every new row from the old one before writing any; a new primary key
//    deletes the old row and inserts the new (refused for a row that has interleaved children).
//  - DELETE removes rows with their index entries and, under ON DELETE CASCADE, their children.
// Unique indexes are checked row by row, not at the end of the statement, so an UPDATE that
// shifts unique values through each other can fail where standard SQL would not.
//
// Thread safety: one thread, like the RowStore.
#ifndef MERIDIAN_SQL_LITE_DML_H_
#define MERIDIAN_SQL_LITE_DML_H_

#include <memory>

#include "absl/status/statusor.h"
#include "sql_lite/ast.h"
#include "sql_lite/binder.h"
#include "sql_lite/row_store.h"

namespace meridian::sql {

// Each returns the number of rows it wrote (or deleted).
absl::StatusOr<int64_t> ExecuteInsert(const InsertStmt& stmt, const BindContext& ctx,
                                      RowStore& store);
absl::StatusOr<int64_t> ExecuteUpdate(const UpdateStmt& stmt, const BindContext& ctx,
                                      RowStore& store);
absl::StatusOr<int64_t> ExecuteDelete(const DeleteStmt& stmt, const BindContext& ctx,
                                      RowStore& store);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_DML_H_
