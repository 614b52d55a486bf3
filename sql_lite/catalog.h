// The catalog: the schema kept in the database itself, as rows under the reserved id 0 (keys in
// encoding.h), so that every client sees one schema and DDL is transactional like any write.
//
// Every statement reads the catalog in its own transaction or snapshot: the version row first
// (in a read-write transaction that read locks it, so DDL, which writes it, serializes with every
// statement that used the schema it changes), and the table rows only when the version differs
// from the cached one. DDL (ddl.h) writes table rows and bumps the version in one transaction.
// F1 avoids the lock on the version row with schema leases and its online schema change states;
// sql_lite does not have those yet.
//
// table_def (the value of id(0) bytes("table") bytes(name)), built with common/key_encoding.h:
//   table_def := uint64(1: format) bytes(name) uint64(id) bytes(parent) uint64(on_delete)
//                uint64(next_column_id) uint64(n) column{n} uint64(n) key_column{n}
//                uint64(n) index{n}
//   column    := bytes(name) uint64(id) uint64(type) int64(max_length) uint64(not_null)
//   key_column:= uint64(column position) uint64(descending)
//   index     := bytes(name) uint64(id) uint64(unique) uint64(n) key_column{n}
//                uint64(n) uint64(column position){n}
//
// Thread safety: the free functions are as safe as the RowStore they get; SchemaCache is
// thread-safe (one per Session, or shared).
#ifndef MERIDIAN_SQL_LITE_CATALOG_H_
#define MERIDIAN_SQL_LITE_CATALOG_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sql_lite/row_store.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

std::string EncodeTableDef(const TableSchema& table);
absl::StatusOr<TableSchema> DecodeTableDef(std::string_view raw);

// The whole schema as `store` sees it (its buffered DDL included).
absl::StatusOr<Schema> ReadSchema(RowStore& store);
// Writes the version and next_id rows and every table row of `schema`, and deletes the rows of
// tables in `dropped` (names). The caller bumps schema.version first.
absl::Status WriteSchema(RowStore& store, const Schema& schema,
                         const std::vector<std::string>& dropped);

class SchemaCache {
 public:
  // The schema `store` sees: the cached one when the stored version equals it and `store` holds
  // no buffered catalog writes; otherwise read and (when not from buffered DDL) cached.
  absl::StatusOr<std::shared_ptr<const Schema>> Load(RowStore& store);

 private:
  absl::Mutex mu_;
  std::shared_ptr<const Schema> cached_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_CATALOG_H_
