#include "sql_lite/schema_change.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/ddl.h"
#include "sql_lite/encoding.h"
#include "sql_lite/index_build.h"
#include "sql_lite/testing_plants.h"

namespace meridian::sql {
namespace {

// How long a registering transaction has, after it read the clock, to commit within its bound.
constexpr int64_t kCommitWindowUs = 200'000;

}  // namespace

absl::StatusOr<std::optional<Schema>> SchemaChanger::Register(std::string_view object,
                                                              const Edit& edit) {
  std::optional<Schema> next;
  std::string step;
  ASSIGN_OR_RETURN(const int64_t commit_ts, db_->RunTransaction([&](KvTransaction& txn)
                                                                    -> absl::Status {
    next.reset();
    RowStore store(&txn, true);
    // Waits until the current version is in effect, as every read-write statement does.
    ASSIGN_OR_RETURN(std::shared_ptr<const Schema> current, cache_->Load(store, /*locked=*/true));
    ASSIGN_OR_RETURN(next, edit(*current, &step));
    if (!next.has_value()) return absl::OkStatus();
    // "Now", by the KV layer's clock: a strong snapshot is at or after every commit so far.
    ASSIGN_OR_RETURN(const int64_t now, db_->RunReadOnly(ReadBound::Strong(), [](KvSnapshot& s) {
      return s.Get(CatalogKey("version")).status();
    }));
    next->version = current->version + 1;
    // A schema lease later than the commit at the least (catalog.h), which the bound below
    // keeps; `now` is the later of the snapshot's timestamp and the caller's clock.
    const bool leases =
        db_->commit_bounds() && !MutableTestingPlants().schema_change_ignores_leases;
    const int64_t start = std::max(now, db_->NowMicros());
    const int64_t delay = std::max<int64_t>(options_->schema_change_delay_us, 0);
    next->effective_ts = std::max(start + delay + (leases ? kSchemaLeaseUs + kCommitWindowUs : 0),
                                  current->effective_ts + 1);
    if (leases) txn.LimitCommitTimestamp(next->effective_ts - kSchemaLeaseUs);
    RETURN_IF_ERROR(WriteSchemaVersion(store, *next));
    store.Flush(txn);
    return absl::OkStatus();
  }));
  cache_->ObservePassed(commit_ts);
  if (next.has_value()) {
    Report({.object = std::string(object),
            .step = step,
            .schema_version = next->version,
            .effective_ts = next->effective_ts});
  }
  return next;
}

absl::StatusOr<std::string> SchemaChanger::ChunkEnd(std::string_view from, std::string_view end) {
  const int64_t limit = std::max<int64_t>(options_->schema_change_chunk_rows, 1);
  std::string chunk_end(end);
  RETURN_IF_ERROR(db_->RunReadOnly(ReadBound::Strong(),
                                   [&](KvSnapshot& s) -> absl::Status {
                                     ASSIGN_OR_RETURN(std::vector<KvPair> pairs,
                                                      s.Scan(from, end, limit));
                                     if (static_cast<int64_t>(pairs.size()) == limit) {
                                       chunk_end = pairs.back().key + std::string(1, '\0');
                                     }
                                     return absl::OkStatus();
                                   })
                      .status());
  return chunk_end;
}

absl::Status SchemaChanger::ForEachChunk(std::string_view object, std::string_view step,
                                         std::string_view start, std::string_view end,
                                         const ChunkFn& fn) {
  const int64_t limit = std::max<int64_t>(options_->schema_change_chunk_rows, 1);
  std::string from(start);
  SchemaChangeProgress progress{.object = std::string(object), .step = std::string(step)};
  while (from < end) {
    ASSIGN_OR_RETURN(const std::string chunk_end, ChunkEnd(from, end));
    int64_t rows = 0;
    std::string next;
    ASSIGN_OR_RETURN(
        const int64_t commit_ts, db_->RunTransaction([&](KvTransaction& txn) -> absl::Status {
          RowStore store(&txn, true);
          // The lock covers [from, chunk_end) only; rows inserted there since the
          // snapshot may make it longer than `limit`, so it is cut there.
          ASSIGN_OR_RETURN(std::vector<KvPair> pairs, store.Scan(from, chunk_end, limit));
          ASSIGN_OR_RETURN(rows, fn(store, pairs));
          next = static_cast<int64_t>(pairs.size()) == limit
                     ? pairs.back().key + std::string(1, '\0')
                     : chunk_end;
          store.Flush(txn);
          return absl::OkStatus();
        }));
    cache_->ObservePassed(commit_ts);
    ++progress.chunks;
    progress.rows += rows;
    Report(progress);
    from = std::move(next);
  }
  return absl::OkStatus();
}

void SchemaChanger::Report(const SchemaChangeProgress& progress) const {
  if (options_->on_schema_change) options_->on_schema_change(progress);
}

absl::Status DeleteInChunks(SchemaChanger& changer, std::string_view object, std::string_view start,
                            std::string_view end, const DoomedFn& doomed) {
  return changer.ForEachChunk(
      object, "cleanup", start, end,
      [&](RowStore& store, const std::vector<KvPair>& pairs) -> absl::StatusOr<int64_t> {
        int64_t deleted = 0;
        for (const KvPair& p : pairs) {
          bool garbage = true;
          if (doomed) {
            ASSIGN_OR_RETURN(garbage, doomed(p.key));
          }
          if (!garbage) continue;
          RETURN_IF_ERROR(store.Delete(p.key));
          ++deleted;
        }
        return deleted;
      });
}

namespace {

// Deletes the rows and index entries of the tables `dropped` (names, descendants first, the table
// DROP TABLE named last) as `before` defined them.
absl::Status DeleteTableData(SchemaChanger& changer, const Schema& before,
                             const std::vector<std::string>& dropped) {
  std::vector<std::vector<const TableSchema*>> ancestries;
  for (const std::string& name : dropped) {
    const TableSchema& table = *before.FindTable(name);
    for (const IndexSchema& index : table.indexes) {
      std::string prefix;
      keyenc::AppendUint64(&prefix, index.id);
      RETURN_IF_ERROR(
          DeleteInChunks(changer, name, prefix, keyenc::PrefixSuccessor(prefix), nullptr));
    }
    ancestries.push_back(before.Ancestry(table));
  }
  ASSIGN_OR_RETURN(const std::string prefix, EncodeKeyPrefix(ancestries.back(), {}));
  const std::string end = keyenc::PrefixSuccessor(prefix);
  if (ancestries.back().size() == 1) {  // a top-level table owns its id range, children included
    return DeleteInChunks(changer, dropped.back(), prefix, end, nullptr);
  }
  // An interleaved table's rows lie among its ancestors' rows: delete the keys that decode as
  // rows of a dropped table.
  std::vector<Value> key;
  return DeleteInChunks(changer, dropped.back(), prefix, end,
                        [&](std::string_view raw) -> absl::StatusOr<bool> {
                          for (const auto& ancestry : ancestries) {
                            ASSIGN_OR_RETURN(const bool mine, DecodeRowKey(ancestry, raw, &key));
                            if (mine) return true;
                          }
                          return false;
                        });
}

absl::Status CreateTable(const CreateTableStmt& stmt, SchemaChanger& changer) {
  ASSIGN_OR_RETURN(std::optional<Schema> next,
                   changer.Register(stmt.name, [&](const Schema& current, std::string* step) {
                     *step = "CREATED";
                     return AddTable(stmt, current);
                   }));
  return next.has_value() ? changer.WaitInEffect(*next) : absl::OkStatus();
}

absl::Status DropTable(const DropStmt& stmt, SchemaChanger& changer) {
  Schema before;
  std::vector<std::string> dropped;
  ASSIGN_OR_RETURN(std::optional<Schema> next,
                   changer.Register(stmt.name, [&](const Schema& current, std::string* step) {
                     *step = "DROPPED";
                     before = current;
                     return RemoveTable(stmt, current, &dropped);
                   }));
  if (!next.has_value()) return absl::OkStatus();
  RETURN_IF_ERROR(changer.WaitInEffect(*next));
  return DeleteTableData(changer, before, dropped);
}

}  // namespace

bool IsSchemaChange(const Statement& stmt) {
  return std::holds_alternative<CreateTableStmt>(stmt.node) ||
         std::holds_alternative<CreateIndexStmt>(stmt.node) ||
         std::holds_alternative<DropStmt>(stmt.node);
}

absl::StatusOr<ResultSet> ExecuteSchemaChange(const Statement& stmt, SchemaChanger& changer) {
  absl::Status status;
  if (const auto* s = std::get_if<CreateTableStmt>(&stmt.node)) {
    status = CreateTable(*s, changer);
  } else if (const auto* s = std::get_if<CreateIndexStmt>(&stmt.node)) {
    status = CreateIndex(*s, changer);
  } else if (const auto* s = std::get_if<DropStmt>(&stmt.node)) {
    status = s->kind == DropStmt::Kind::kTable ? DropTable(*s, changer) : DropIndex(*s, changer);
  } else {
    return absl::InternalError("not a schema change");
  }
  RETURN_IF_ERROR(status);
  return ResultSet();
}

}  // namespace meridian::sql
