// Reading and writing the rows of one table through a RowStore, with their index entries and
// interleaved descendants: the layer between the executor (executor.h, dml.h, ddl.h) and the key
// and value formats (encoding.h).
//
// Write rules: InsertRow refuses an existing primary key (ALREADY_EXISTS) and a missing parent
// row of an interleaved table (NOT_FOUND); index entries are written with the row, and a unique
// index refuses a second row with the same indexed values (ALREADY_EXISTS; NULLs count as values,
// as in Spanner). DeleteRow removes the row's index entries and its interleaved descendants when
// every child table is ON DELETE CASCADE; a child row under NO ACTION makes it FAILED_PRECONDITION.
// Index states (schema.h): entries are added and updated only in indexes that are writable()
// (WRITE_ONLY and later) and deleted in every state; a unique index that is not yet public may
// meet a duplicate the build has not found yet, so its entry is deleted only when it points at the
// row being deleted.
//
// Thread safety: as the RowStore (one thread).
#ifndef MERIDIAN_SQL_LITE_TABLE_IO_H_
#define MERIDIAN_SQL_LITE_TABLE_IO_H_

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/row_store.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

// Calls fn for every pair in [start, end), reading in chunks of `chunk` pairs.
absl::Status ScanRange(RowStore& store, std::string_view start, std::string_view end,
                       const std::function<absl::Status(const KvPair&)>& fn, int64_t chunk = 1000);

// Calls fn with every row of ancestry.back() whose key lies in [start, end).
absl::Status ScanRows(RowStore& store, const std::vector<const TableSchema*>& ancestry,
                      std::string_view start, std::string_view end,
                      const std::function<absl::Status(Row)>& fn);

// The row of ancestry.back() stored as `pair`, or nullopt when the pair is another table's.
absl::StatusOr<std::optional<Row>> DecodeRow(const std::vector<const TableSchema*>& ancestry,
                                             const KvPair& pair);

// The row of ancestry.back() with primary key `key`, or nullopt.
absl::StatusOr<std::optional<Row>> GetRow(RowStore& store,
                                          const std::vector<const TableSchema*>& ancestry,
                                          const std::vector<Value>& key);

// Reads, before InsertRow writes `rows` one by one, every row's key (for update) and every
// parent's key in one KvReader::GetMany each, so that the reads InsertRow then makes are answered
// from the transaction's read set (the SDK keeps one) instead of costing a round trip per row.
// Only reads; a row whose key cannot be encoded is left for InsertRow to report.
absl::Status ReadKeysToInsert(RowStore& store, const Schema& schema, const TableSchema& table,
                              const std::vector<Row>& rows);

// Writes a new row (see the rules above); `row` has the table's column types already.
absl::Status InsertRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& row);
// Replaces `old_row` by `new_row`, which has the same primary key.
absl::Status UpdateRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& old_row, const Row& new_row);
// Deletes the row and what hangs off it (see the rules above).
absl::Status DeleteRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& row);

// Index entries of one row. PutIndexEntry writes it whatever the index's state (ALREADY_EXISTS
// for a unique index whose entry for these values points at another row; rewriting the same entry
// is harmless); the deletes follow the rules above.
absl::Status PutIndexEntry(RowStore& store, const TableSchema& table, const IndexSchema& index,
                           const Row& row);
absl::Status DeleteIndexEntry(RowStore& store, const TableSchema& table, const IndexSchema& index,
                              const Row& row);
absl::Status DeleteIndexEntries(RowStore& store, const TableSchema& table, const Row& row);

// "(1, 'a')": a key for error messages.
std::string KeyText(const std::vector<Value>& key);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_TABLE_IO_H_
