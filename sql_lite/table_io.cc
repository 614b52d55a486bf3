#include "sql_lite/table_io.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/encoding.h"

namespace meridian::sql {
namespace {

absl::StatusOr<Row> MakeRow(const TableSchema& table, const std::vector<Value>& key,
                            std::string_view raw) {
  Row row(table.columns.size());
  for (size_t i = 0; i < key.size(); ++i) row[table.primary_key[i].column] = key[i];
  RETURN_IF_ERROR(DecodeRowValue(table, raw, &row));
  return row;
}

absl::StatusOr<std::string> RowKeyOf(const Schema& schema, const TableSchema& table,
                                     const Row& row) {
  return EncodeRowKey(schema.Ancestry(table), table.KeyValues(row));
}

}  // namespace

std::string KeyText(const std::vector<Value>& key) {
  std::vector<std::string> parts;
  for (const Value& v : key) parts.push_back(v.ToSqlLiteral());
  return absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
}

absl::Status ScanRange(RowStore& store, std::string_view start, std::string_view end,
                       const std::function<absl::Status(const KvPair&)>& fn, int64_t chunk) {
  std::string from(start);
  while (true) {
    ASSIGN_OR_RETURN(std::vector<KvPair> pairs, store.Scan(from, end, chunk));
    for (const KvPair& p : pairs) RETURN_IF_ERROR(fn(p));
    if (static_cast<int64_t>(pairs.size()) < chunk) return absl::OkStatus();
    from = pairs.back().key;
    from.push_back('\0');  // the smallest key after it
  }
}

absl::Status ScanRows(RowStore& store, const std::vector<const TableSchema*>& ancestry,
                      std::string_view start, std::string_view end,
                      const std::function<absl::Status(Row)>& fn) {
  return ScanRange(store, start, end, [&](const KvPair& p) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<Row> row, DecodeRow(ancestry, p));
    return row.has_value() ? fn(std::move(*row)) : absl::OkStatus();
  });
}

absl::StatusOr<std::optional<Row>> DecodeRow(const std::vector<const TableSchema*>& ancestry,
                                             const KvPair& pair) {
  std::vector<Value> key;
  ASSIGN_OR_RETURN(const bool mine, DecodeRowKey(ancestry, pair.key, &key));
  if (!mine) return std::nullopt;
  ASSIGN_OR_RETURN(Row row, MakeRow(*ancestry.back(), key, pair.value));
  return row;
}

absl::StatusOr<std::optional<Row>> GetRow(RowStore& store,
                                          const std::vector<const TableSchema*>& ancestry,
                                          const std::vector<Value>& key) {
  ASSIGN_OR_RETURN(std::string raw_key, EncodeRowKey(ancestry, key));
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(raw_key));
  if (!raw.has_value()) return std::nullopt;
  ASSIGN_OR_RETURN(Row row, MakeRow(*ancestry.back(), key, *raw));
  return row;
}

// INVALID_ARGUMENT naming `what` when a pair is too large for the servers (kv.h).
absl::Status CheckFits(const std::string& what, const std::string& key, const std::string& value) {
  if (key.size() > kMaxSqlKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the key of ", what, " would be ", key.size(), " bytes, over the ",
                     kMaxSqlKeyBytes, " a key may hold: its key columns' values are too long"));
  }
  if (value.size() > kMaxSqlValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("the row of ", what, " would be ", value.size(),
                                                   " bytes, over the ", kMaxSqlValueBytes,
                                                   " a row may hold"));
  }
  return absl::OkStatus();
}

absl::Status PutIndexEntry(RowStore& store, const TableSchema& table, const IndexSchema& index,
                           const Row& row) {
  ASSIGN_OR_RETURN(KvPair entry, EncodeIndexEntry(table, index, row));
  RETURN_IF_ERROR(CheckFits(absl::StrCat("index ", index.name), entry.key, entry.value));
  if (index.unique) {
    ASSIGN_OR_RETURN(std::optional<std::string> existing, store.Get(entry.key));
    if (existing.has_value() && *existing != entry.value) {
      std::vector<Value> values;
      for (const KeyColumn& k : index.columns) values.push_back(row[k.column]);
      return absl::AlreadyExistsError(
          absl::StrCat("unique index ", index.name, " already has ", KeyText(values)));
    }
  }
  return store.Put(entry.key, entry.value);
}

absl::Status DeleteIndexEntry(RowStore& store, const TableSchema& table, const IndexSchema& index,
                              const Row& row) {
  ASSIGN_OR_RETURN(KvPair entry, EncodeIndexEntry(table, index, row));
  if (index.unique && !index.readable()) {
    // Until the build has checked it, another row may hold the same values (a duplicate the
    // build will report) and the entry may be that row's.
    ASSIGN_OR_RETURN(std::optional<std::string> existing, store.Get(entry.key));
    if (!existing.has_value() || *existing != entry.value) return absl::OkStatus();
  }
  return store.Delete(entry.key);
}

absl::Status DeleteIndexEntries(RowStore& store, const TableSchema& table, const Row& row) {
  for (const IndexSchema& index : table.indexes) {
    RETURN_IF_ERROR(DeleteIndexEntry(store, table, index, row));
  }
  return absl::OkStatus();
}

absl::Status ReadKeysToInsert(RowStore& store, const Schema& schema, const TableSchema& table,
                              const std::vector<Row>& rows) {
  const std::vector<const TableSchema*> ancestry = schema.Ancestry(table);
  const std::vector<const TableSchema*> parent(ancestry.begin(), ancestry.end() - 1);
  std::vector<std::string> keys;
  std::vector<std::string> parents;
  for (const Row& row : rows) {
    const std::vector<Value> key = table.KeyValues(row);
    absl::StatusOr<std::string> raw = EncodeRowKey(ancestry, key);
    if (!raw.ok()) continue;
    keys.push_back(*std::move(raw));
    if (parent.empty()) continue;
    const std::vector<Value> parent_key(key.begin(),
                                        key.begin() + parent.back()->primary_key.size());
    absl::StatusOr<std::string> parent_raw = EncodeRowKey(parent, parent_key);
    if (parent_raw.ok() && (parents.empty() || parents.back() != *parent_raw)) {
      parents.push_back(*std::move(parent_raw));
    }
  }
  {
    RowStore::ForUpdate lock(store);  // the keys are written next
    RETURN_IF_ERROR(store.GetMany(keys).status());
  }
  if (parents.empty()) return absl::OkStatus();
  return store.GetMany(parents).status();
}

absl::Status InsertRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& row) {
  const std::vector<const TableSchema*> ancestry = schema.Ancestry(table);
  const std::vector<Value> key = table.KeyValues(row);
  ASSIGN_OR_RETURN(std::string raw_key, EncodeRowKey(ancestry, key));
  absl::StatusOr<std::optional<std::string>> read = [&] {
    RowStore::ForUpdate lock(store);  // the key is written below
    return store.Get(raw_key);
  }();
  ASSIGN_OR_RETURN(std::optional<std::string> existing, std::move(read));
  if (existing.has_value()) {
    return absl::AlreadyExistsError(
        absl::StrCat("a row with primary key ", KeyText(key), " already exists in ", table.name));
  }
  if (ancestry.size() > 1) {
    std::vector<const TableSchema*> parent(ancestry.begin(), ancestry.end() - 1);
    std::vector<Value> parent_key(key.begin(), key.begin() + parent.back()->primary_key.size());
    ASSIGN_OR_RETURN(std::string parent_raw, EncodeRowKey(parent, parent_key));
    ASSIGN_OR_RETURN(std::optional<std::string> p, store.Get(parent_raw));
    if (!p.has_value()) {
      return absl::NotFoundError(absl::StrCat("parent row ", KeyText(parent_key), " of ",
                                              table.name, " does not exist in ",
                                              parent.back()->name));
    }
  }
  const std::string value = EncodeRowValue(table, row);
  RETURN_IF_ERROR(CheckFits(absl::StrCat("table ", table.name), raw_key, value));
  for (const IndexSchema& index : table.indexes) {
    if (index.writable()) RETURN_IF_ERROR(PutIndexEntry(store, table, index, row));
  }
  return store.Put(raw_key, value);
}

absl::Status UpdateRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& old_row, const Row& new_row) {
  for (const IndexSchema& index : table.indexes) {
    ASSIGN_OR_RETURN(KvPair old_entry, EncodeIndexEntry(table, index, old_row));
    ASSIGN_OR_RETURN(KvPair new_entry, EncodeIndexEntry(table, index, new_row));
    if (old_entry == new_entry) continue;
    RETURN_IF_ERROR(DeleteIndexEntry(store, table, index, old_row));
    if (index.writable()) RETURN_IF_ERROR(PutIndexEntry(store, table, index, new_row));
  }
  ASSIGN_OR_RETURN(std::string raw_key, RowKeyOf(schema, table, new_row));
  const std::string value = EncodeRowValue(table, new_row);
  RETURN_IF_ERROR(CheckFits(absl::StrCat("table ", table.name), raw_key, value));
  return store.Put(raw_key, value);
}

absl::Status DeleteRow(RowStore& store, const Schema& schema, const TableSchema& table,
                       const Row& row) {
  ASSIGN_OR_RETURN(std::string raw_key, RowKeyOf(schema, table, row));
  const std::vector<Value> key = table.KeyValues(row);
  for (const TableSchema* child : schema.Children(table)) {
    const std::vector<const TableSchema*> ancestry = schema.Ancestry(*child);
    ASSIGN_OR_RETURN(std::string prefix, EncodeKeyPrefix(ancestry, key));
    RETURN_IF_ERROR(ScanRows(store, ancestry, prefix, keyenc::PrefixSuccessor(prefix),
                             [&](Row child_row) -> absl::Status {
                               if (child->on_delete != OnDelete::kCascade) {
                                 return absl::FailedPreconditionError(
                                     absl::StrCat("row ", KeyText(key), " of ", table.name,
                                                  " has rows in interleaved table ", child->name,
                                                  " (ON DELETE NO ACTION)"));
                               }
                               return DeleteRow(store, schema, *child, child_row);
                             }));
  }
  RETURN_IF_ERROR(DeleteIndexEntries(store, table, row));
  return store.Delete(raw_key);
}

}  // namespace meridian::sql
