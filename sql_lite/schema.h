// The schema sql_lite executes against: tables (columns, primary key, interleaving), their
// secondary indexes with their build states, and the schema version with the timestamp it takes
// effect at. Values of these types are built by DDL (ddl.h, schema_change.h, index_build.h),
// stored as catalog rows (catalog.h) and read by the binder, planner and executor.
//
// Ids: tables and indexes share one id space (Schema::next_id, starting at 1; id 0 is the
// catalog's own key prefix, encoding.h). Column ids are per table and never reused, so a stored
// row keeps meaning the same thing when columns are added or dropped.
//
// Thread safety: plain values; const access from several threads is safe.
#ifndef MERIDIAN_SQL_LITE_SCHEMA_H_
#define MERIDIAN_SQL_LITE_SCHEMA_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/ast.h"
#include "sql_lite/value.h"

namespace meridian::sql {

// One row of a table: a Value per column, in the table's column order.
using Row = std::vector<Value>;

struct ColumnSchema {
  std::string name;
  uint32_t id = 0;
  Type type = Type::kInt64;
  int64_t max_length = 0;  // STRING(n) / BYTES(n); 0: no limit
  bool not_null = false;
};

// A key column: an index into TableSchema::columns and its direction.
struct KeyColumn {
  int column = 0;
  bool descending = false;
};

// Where an index is in F1's online schema change (docs/sql.md "Schema changes"). What DML does
// with the index's entries in each state (table_io.h):
//   kDeleteOnly  deletes the entries of rows it deletes or changes, adds none;
//   kWriteOnly   maintains them fully (a unique index refuses duplicates); the backfill runs now;
//   kBackfilled  as kWriteOnly: every row has its entry and a unique index has no duplicates;
//   kPublic      as kWriteOnly, and the planner may read the index.
// The numbers are stored in the catalog (catalog.h).
enum class IndexState : uint8_t { kDeleteOnly = 1, kWriteOnly = 2, kBackfilled = 3, kPublic = 4 };

// "DELETE_ONLY", "WRITE_ONLY", "BACKFILLED", "PUBLIC".
const char* IndexStateName(IndexState state);

struct IndexSchema {
  std::string name;
  uint64_t id = 0;
  bool unique = false;
  std::vector<KeyColumn> columns;
  std::vector<int> storing;  // recorded; the executor always reads the base row
  IndexState state = IndexState::kPublic;

  // DML adds and updates entries (kWriteOnly and later).
  bool writable() const { return state >= IndexState::kWriteOnly; }
  // The planner may read it.
  bool readable() const { return state == IndexState::kPublic; }
};

struct TableSchema {
  std::string name;
  uint64_t id = 0;
  std::vector<ColumnSchema> columns;
  std::vector<KeyColumn> primary_key;
  std::string parent;  // "" for a top-level table
  OnDelete on_delete = OnDelete::kNoAction;
  std::vector<IndexSchema> indexes;
  uint32_t next_column_id = 1;

  // The column's position, or -1.
  int FindColumn(std::string_view name) const;
  // The primary key's values of `row`.
  std::vector<Value> KeyValues(const Row& row) const;
};

struct Schema {
  int64_t version = 0;  // 0: the empty schema of a new database
  // Statements at timestamps >= this use this version (and at the commit timestamp of the
  // transaction that registered it at the earliest; catalog.h).
  int64_t effective_ts = 0;
  uint64_t next_id = 1;
  std::map<std::string, TableSchema, std::less<>> tables;

  const TableSchema* FindTable(std::string_view name) const;
  // The table holding index `name` (and the index through *index), or nullptr.
  const TableSchema* FindIndex(std::string_view name, const IndexSchema** index) const;
  // The same by index id.
  const TableSchema* FindIndexById(uint64_t id, const IndexSchema** index) const;
  // The tables from the top-level ancestor down to `table` itself.
  std::vector<const TableSchema*> Ancestry(const TableSchema& table) const;
  // Tables interleaved directly in `table`.
  std::vector<const TableSchema*> Children(const TableSchema& table) const;
};

// `value` converted for storing in `column`: INT64 widens to FLOAT64; NULL stays NULL; any other
// mismatch, or a STRING/BYTES longer than max_length, is INVALID_ARGUMENT (NOT NULL is checked by
// the caller, which knows the statement).
absl::StatusOr<Value> CoerceForColumn(const Value& value, const ColumnSchema& column);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_SCHEMA_H_
