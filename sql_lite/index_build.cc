#include "sql_lite/index_build.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/ddl.h"
#include "sql_lite/encoding.h"
#include "sql_lite/table_io.h"
#include "sql_lite/testing_plants.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

// Lowering takes at most three steps; a build running at the same time may raise the index once
// more before it fails.
constexpr int kMaxLowerSteps = 8;

absl::Status Changed(std::string_view name) {
  return absl::FailedPreconditionError(absl::StrCat(
      "index ", Sv(name), " was dropped or changed by another statement while it was being built"));
}

// The index with id `id` in `schema` (mutable), or nullptr.
IndexSchema* MutableIndex(Schema& schema, uint64_t id) {
  for (auto& [unused, table] : schema.tables) {
    for (IndexSchema& index : table.indexes) {
      if (index.id == id) return &index;
    }
  }
  return nullptr;
}

// One version step of index `id` from state `from` to `to`.
absl::StatusOr<Schema> Advance(SchemaChanger& changer, std::string_view name, uint64_t id,
                               IndexState from, IndexState to) {
  ASSIGN_OR_RETURN(
      std::optional<Schema> next,
      changer.Register(
          name,
          [&](const Schema& current, std::string* step) -> absl::StatusOr<std::optional<Schema>> {
            Schema next = current;
            IndexSchema* index = MutableIndex(next, id);
            if (index == nullptr || index->state != from) return Changed(name);
            index->state = to;
            *step = IndexStateName(to);
            return next;
          }));
  if (!next.has_value()) return Changed(name);  // the edit above always changes something
  Schema registered = std::move(*next);
  return registered;
}

// Moves index `id` one state down from wherever it is, in version steps, until it is absent.
// When *id is 0 the index is found by `name` first (NOT_FOUND when there is none) and *id set.
// Returns the version in which this call removed it; nullopt when another statement did.
absl::StatusOr<std::optional<Schema>> Lower(SchemaChanger& changer, std::string_view name,
                                            uint64_t* id) {
  for (int i = 0; i < kMaxLowerSteps; ++i) {
    bool removed = false;
    ASSIGN_OR_RETURN(
        std::optional<Schema> next,
        changer.Register(
            name,
            [&](const Schema& current, std::string* step) -> absl::StatusOr<std::optional<Schema>> {
              removed = false;
              const IndexSchema* found = nullptr;
              if (*id == 0) {
                if (current.FindIndex(name, &found) == nullptr) {
                  return absl::NotFoundError(absl::StrCat("index ", Sv(name), " does not exist"));
                }
                *id = found->id;
              }
              const TableSchema* table = current.FindIndexById(*id, &found);
              if (table == nullptr) return std::nullopt;
              Schema next = current;
              if (found->state == IndexState::kDeleteOnly) {
                std::erase_if(next.tables.at(table->name).indexes,
                              [&](const IndexSchema& x) { return x.id == *id; });
                removed = true;
                *step = "ABSENT";
                return next;
              }
              IndexSchema* index = MutableIndex(next, *id);
              index->state = index->state > IndexState::kWriteOnly ? IndexState::kWriteOnly
                                                                   : IndexState::kDeleteOnly;
              *step = IndexStateName(index->state);
              return next;
            }));
    if (!next.has_value()) return std::nullopt;
    if (removed) return next;
  }
  return Changed(name);
}

absl::Status DeleteEntries(SchemaChanger& changer, std::string_view name, uint64_t id) {
  std::string prefix;
  keyenc::AppendUint64(&prefix, id);
  return DeleteInChunks(changer, name, prefix, keyenc::PrefixSuccessor(prefix), nullptr);
}

// Writes the entry of every row of the index's table, in chunk steps, while the index is in
// `state` (WRITE_ONLY; DELETE_ONLY under the skip_write_only plant). `schema` is in effect.
absl::Status Backfill(SchemaChanger& changer, std::string_view name, uint64_t id, IndexState state,
                      const Schema& schema) {
  const IndexSchema* unused = nullptr;
  const TableSchema* table = schema.FindIndexById(id, &unused);
  if (table == nullptr) return Changed(name);
  ASSIGN_OR_RETURN(const std::string prefix, EncodeKeyPrefix(schema.Ancestry(*table), {}));
  return changer.ForEachChunk(
      name, "backfill", prefix, keyenc::PrefixSuccessor(prefix),
      [&](RowStore& store, const std::vector<KvPair>& pairs) -> absl::StatusOr<int64_t> {
        ASSIGN_OR_RETURN(std::shared_ptr<const Schema> now,
                         changer.cache().Load(store, /*locked=*/true));
        const IndexSchema* index = nullptr;
        const TableSchema* t = now->FindIndexById(id, &index);
        if (t == nullptr || index->state != state) return Changed(name);
        const std::vector<const TableSchema*> ancestry = now->Ancestry(*t);
        int64_t rows = 0;
        for (const KvPair& pair : pairs) {
          ASSIGN_OR_RETURN(std::optional<Row> row, DecodeRow(ancestry, pair));
          if (!row.has_value()) continue;  // a row of an interleaved table
          RETURN_IF_ERROR(PutIndexEntry(store, *t, *index, *row));
          ++rows;
        }
        return rows;
      });
}

// From DELETE_ONLY (`registered`) to PUBLIC.
absl::Status Build(SchemaChanger& changer, std::string_view name, uint64_t id, Schema registered) {
  IndexState state = IndexState::kDeleteOnly;
  if (!MutableTestingPlants().skip_write_only) {
    ASSIGN_OR_RETURN(registered,
                     Advance(changer, name, id, IndexState::kDeleteOnly, IndexState::kWriteOnly));
    state = IndexState::kWriteOnly;
  }
  // From here on every transaction that writes a row maintains its entry.
  RETURN_IF_ERROR(changer.WaitInEffect(registered));
  RETURN_IF_ERROR(Backfill(changer, name, id, state, registered));
  RETURN_IF_ERROR(Advance(changer, name, id, state, IndexState::kBackfilled).status());
  ASSIGN_OR_RETURN(const Schema public_version,
                   Advance(changer, name, id, IndexState::kBackfilled, IndexState::kPublic));
  return changer.WaitInEffect(public_version);
}

// Lowers index `id` to absent and deletes its entries (when this call removed it).
absl::Status Remove(SchemaChanger& changer, std::string_view name, uint64_t* id) {
  ASSIGN_OR_RETURN(std::optional<Schema> removed, Lower(changer, name, id));
  if (!removed.has_value()) return absl::OkStatus();
  RETURN_IF_ERROR(changer.WaitInEffect(*removed));
  return DeleteEntries(changer, name, *id);
}

}  // namespace

absl::Status CreateIndex(const CreateIndexStmt& stmt, SchemaChanger& changer) {
  uint64_t id = 0;
  ASSIGN_OR_RETURN(std::optional<Schema> registered,
                   changer.Register(stmt.name, [&](const Schema& current, std::string* step) {
                     *step = IndexStateName(IndexState::kDeleteOnly);
                     return AddIndex(stmt, current, IndexState::kDeleteOnly, &id);
                   }));
  if (!registered.has_value()) return absl::OkStatus();  // IF NOT EXISTS
  const absl::Status built = Build(changer, stmt.name, id, *std::move(registered));
  if (built.ok()) return built;
  const absl::Status removed = Remove(changer, stmt.name, &id);
  if (removed.ok()) return built;
  return absl::Status(built.code(),
                      absl::StrCat(built.message(), "; removing the index failed too (DROP INDEX ",
                                   stmt.name, " removes it): ", removed.message()));
}

absl::Status DropIndex(const DropStmt& stmt, SchemaChanger& changer) {
  uint64_t id = 0;
  const absl::Status status = Remove(changer, stmt.name, &id);
  if (absl::IsNotFound(status) && stmt.if_exists && id == 0) return absl::OkStatus();
  return status;
}

}  // namespace meridian::sql
