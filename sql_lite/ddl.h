// CREATE TABLE, CREATE INDEX, DROP TABLE and DROP INDEX as edits of a schema: each checks the
// statement against the schema and returns the schema with the change made, which
// schema_change.h registers as the next version (index_build.h runs an index through its states
// with these and the state steps of its own). Pure: nothing here reads or writes the database.
//
//  - CREATE TABLE: distinct column names, key columns that exist; INTERLEAVE IN PARENT p needs
//    p's primary key (names, types, directions) as the leading part of the child's key.
//  - CREATE INDEX: the columns exist; the index starts in `initial` state (DELETE_ONLY for an
//    online build).
//  - DROP TABLE: tables interleaved in it with ON DELETE CASCADE are dropped with it, and one with
//    NO ACTION makes it FAILED_PRECONDITION. Their rows are deleted once the change is in effect
//    (schema_change.h).
// Errors: NOT_FOUND / ALREADY_EXISTS for missing or existing names (unless IF [NOT] EXISTS: then
// the result is nullopt, nothing to change), INVALID_ARGUMENT with a position for malformed
// definitions. An existing index that is not PUBLIC (being built or dropped) is ALREADY_EXISTS
// naming its state even under IF NOT EXISTS: it is not usable yet.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_SQL_LITE_DDL_H_
#define MERIDIAN_SQL_LITE_DDL_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/ast.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

absl::StatusOr<std::optional<Schema>> AddTable(const CreateTableStmt& stmt, const Schema& schema);
// *id receives the new index's id.
absl::StatusOr<std::optional<Schema>> AddIndex(const CreateIndexStmt& stmt, const Schema& schema,
                                               IndexState initial, uint64_t* id);
// *dropped receives the names of the dropped tables, descendants first.
absl::StatusOr<std::optional<Schema>> RemoveTable(const DropStmt& stmt, const Schema& schema,
                                                  std::vector<std::string>* dropped);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_DDL_H_
