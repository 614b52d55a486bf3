// CREATE INDEX and DROP INDEX as F1's online schema change (docs/sql.md "Schema changes"), over
// the version and chunk steps of schema_change.h. Each arrow is one version step, which waits
// until the version before it is in effect, so no transaction that used the state two steps back
// can still commit:
//
//   CREATE INDEX:  (absent) -> DELETE_ONLY -> WRITE_ONLY -> backfill chunks -> BACKFILLED -> PUBLIC
//   DROP INDEX and a failed build:  PUBLIC | BACKFILLED -> WRITE_ONLY -> DELETE_ONLY -> (absent),
//                  then its entries are deleted in chunks.
//
// The backfill starts once WRITE_ONLY is in effect, so every row it has not reached yet gets its
// entry from the DML that writes it. Each chunk is a read-write transaction over at most
// schema_change_chunk_rows pairs of the table's key range, read under locks; it re-reads the
// catalog and stops the build (FAILED_PRECONDITION) when the index is gone or no longer WRITE_ONLY
// (a DROP INDEX or DROP TABLE ran meanwhile), and writes the entries of its rows, idempotently. A
// unique index whose entry for a row's values already points at another row has a duplicate: the
// build fails with ALREADY_EXISTS naming the index and the values, and lowers the index back to
// absent. So BACKFILLED means: every row has its entry, and a unique index has no duplicates (DML
// refuses new ones from WRITE_ONLY on).
//
// The version steps compare and set the index's state by id: a step that finds the index gone
// or in another state ends the statement with FAILED_PRECONDITION. Lowering goes one state down
// from wherever the index is, so a DROP INDEX finishes even while a build runs (which then fails).
// A build whose client dies leaves the index in its state (DML keeps maintaining it, the planner
// ignores it): CREATE INDEX of that name is ALREADY_EXISTS naming the state, DROP INDEX removes
// it.
//
// Thread safety: as schema_change.h (one statement, one thread).
#ifndef MERIDIAN_SQL_LITE_INDEX_BUILD_H_
#define MERIDIAN_SQL_LITE_INDEX_BUILD_H_

#include "absl/status/status.h"
#include "sql_lite/ast.h"
#include "sql_lite/schema_change.h"

namespace meridian::sql {

// Returns once the index is PUBLIC, or with the error that stopped it (the index is then gone
// again, unless even lowering it failed; DROP INDEX removes it then).
absl::Status CreateIndex(const CreateIndexStmt& stmt, SchemaChanger& changer);
// Returns once the index is absent and its entries are deleted.
absl::Status DropIndex(const DropStmt& stmt, SchemaChanger& changer);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_INDEX_BUILD_H_
