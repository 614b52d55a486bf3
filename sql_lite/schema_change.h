// Running DDL as a sequence of short read-write transactions (docs/sql.md "Schema changes"):
//  - a version step registers one schema version (catalog.h) with the effective timestamp
//    e = (a strong read's timestamp, taken in the step's transaction) + schema_change_delay_us,
//    at least one past the previous version's. The step's transaction reads the catalog as every
//    read-write statement does, so it waits until the previous version is in effect first;
//  - a chunk step reads at most schema_change_chunk_rows pairs of a key range under locks and
//    writes what the change needs for them (index entries, deletes); its lock covers only the
//    chunk, whose end a snapshot read finds first;
//  - a statement returns once its last version is in effect, so that the session's next
//    statement (at any timestamp after it) sees the change.
// CREATE TABLE and DROP TABLE are one version step each; DROP TABLE then deletes the dropped
// tables' rows and index entries in chunks (no statement can see them once the drop is in effect,
// and table ids are never reused). CREATE INDEX and DROP INDEX are index_build.h.
//
// A DDL statement that fails part-way (the client dies) leaves what it registered: a dropped
// table's rows are then garbage nobody reads, an index build stays in its state until DROP INDEX.
//
// Thread safety: a SchemaChanger belongs to one statement on one thread; the KvDatabase and the
// SchemaCache it uses are thread-safe.
#ifndef MERIDIAN_SQL_LITE_SCHEMA_CHANGE_H_
#define MERIDIAN_SQL_LITE_SCHEMA_CHANGE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "meridian/sql.h"
#include "sql_lite/ast.h"
#include "sql_lite/catalog.h"
#include "sql_lite/kv.h"
#include "sql_lite/row_store.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

class SchemaChanger {
 public:
  // The arguments must outlive this.
  SchemaChanger(KvDatabase* db, SchemaCache* cache, const SessionOptions* options)
      : db_(db), cache_(cache), options_(options) {}

  // The next version, edited from the current one (nullopt: nothing to change), and in *step the
  // name progress reports give it. It may run again (the transaction aborted), so it must depend
  // on `current` only, and it must not return ABORTED (the KV layer would retry it).
  using Edit = std::function<absl::StatusOr<std::optional<Schema>>(const Schema& current,
                                                                   std::string* step)>;
  // One version step: registers edit(current) as the next version and reports it as a step of
  // `object`. Returns the registered schema, nullopt when the edit had nothing to change, or the
  // edit's or the KV layer's error.
  absl::StatusOr<std::optional<Schema>> Register(std::string_view object, const Edit& edit);
  // Returns once `schema` is in effect.
  absl::Status WaitInEffect(const Schema& schema) {
    return cache_->WaitPassed(schema.effective_ts);
  }

  // Gets a chunk's pairs (read under locks in `store`, the chunk's transaction), writes through
  // `store` and returns the number of rows it handled (for progress). It may run again (the
  // transaction aborted) and must not return ABORTED.
  using ChunkFn =
      std::function<absl::StatusOr<int64_t>(RowStore& store, const std::vector<KvPair>& pairs)>;
  // Runs fn over [start, end) (end non-empty) in chunk steps, reporting each as `step` of
  // `object`. Returns fn's or the KV layer's first error.
  absl::Status ForEachChunk(std::string_view object, std::string_view step, std::string_view start,
                            std::string_view end, const ChunkFn& fn);

  SchemaCache& cache() { return *cache_; }
  const SessionOptions& options() const { return *options_; }

 private:
  // The end of the chunk that starts at `from`: past its chunk_rows-th pair, or `end`.
  absl::StatusOr<std::string> ChunkEnd(std::string_view from, std::string_view end);
  void Report(const SchemaChangeProgress& progress) const;

  KvDatabase* const db_;
  SchemaCache* const cache_;
  const SessionOptions* const options_;
};

// True for CREATE TABLE, CREATE INDEX, DROP TABLE and DROP INDEX.
bool IsSchemaChange(const Statement& stmt);
// Runs one of them (see the top of this file). The result is empty.
absl::StatusOr<ResultSet> ExecuteSchemaChange(const Statement& stmt, SchemaChanger& changer);

// Deletes, in chunk steps, every key of [start, end) that `doomed` says is garbage (every key
// when it is null): the cleanup after a drop, whose keys no statement reads or writes any more.
using DoomedFn = std::function<absl::StatusOr<bool>(std::string_view key)>;
absl::Status DeleteInChunks(SchemaChanger& changer, std::string_view object, std::string_view start,
                            std::string_view end, const DoomedFn& doomed);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_SCHEMA_CHANGE_H_
