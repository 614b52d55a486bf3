// CREATE TABLE, CREATE INDEX, DROP TABLE and DROP INDEX: each checks the statement against the
// schema, then rewrites the catalog rows (catalog.h) with the version bumped, in the statement's
// transaction, so DDL is atomic and serializes with every statement that read the old version.
//
//  - CREATE TABLE: distinct column names, key columns that exist; INTERLEAVE IN PARENT p needs
//    p's primary key (names, types, directions) as the leading part of the child's key.
//  - CREATE INDEX backfills the entries of existing rows in the same transaction, reading the
//    table in chunks; a unique index fails on duplicates. (F1's online schema change - the
//    delete-only and write-only states that let an index be built over many transactions while
//    writes go on - is the next step; until then a large backfill is one large transaction.)
//  - DROP TABLE deletes the table's rows and index entries; tables interleaved in it with ON
//    DELETE CASCADE are dropped with it, and one with NO ACTION makes it FAILED_PRECONDITION.
//  - DROP INDEX deletes the index's entries.
// Errors: NOT_FOUND / ALREADY_EXISTS for missing or existing names (unless IF [NOT] EXISTS),
// INVALID_ARGUMENT with a position for malformed definitions.
//
// Thread safety: one thread, like the RowStore.
#ifndef MERIDIAN_SQL_LITE_DDL_H_
#define MERIDIAN_SQL_LITE_DDL_H_

#include "absl/status/status.h"
#include "sql_lite/ast.h"
#include "sql_lite/row_store.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

absl::Status ExecuteCreateTable(const CreateTableStmt& stmt, const Schema& schema, RowStore& store);
absl::Status ExecuteCreateIndex(const CreateIndexStmt& stmt, const Schema& schema, RowStore& store);
absl::Status ExecuteDrop(const DropStmt& stmt, const Schema& schema, RowStore& store);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_DDL_H_
