#include "tests/unit/sql_lite/index_checker.h"

#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/catalog.h"
#include "sql_lite/encoding.h"
#include "sql_lite/table_io.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

using Problems = std::vector<std::string>;

std::string Key(const TableSchema& table, const Row& row) { return KeyText(table.KeyValues(row)); }

// Compares the entries the rows call for with the entries stored.
void Compare(const TableSchema& table, const IndexSchema& index, const std::vector<Row>& rows,
             const std::vector<KvPair>& stored, Problems* problems) {
  std::map<std::string, std::pair<std::string, const Row*>> expected;  // key -> (value, row)
  for (const Row& row : rows) {
    absl::StatusOr<KvPair> entry = EncodeIndexEntry(table, index, row);
    if (!entry.ok()) {
      problems->push_back(
          absl::StrCat("index checker: row ", Key(table, row), ": ", entry.status().ToString()));
      continue;
    }
    auto [it, fresh] = expected.emplace(entry->key, std::make_pair(entry->value, &row));
    if (!fresh) {
      problems->push_back(absl::StrCat("index checker: rows ", Key(table, *it->second.second),
                                       " and ", Key(table, row), " have the same values in ",
                                       index.name));
    }
  }
  std::map<std::string, std::string> actual;
  for (const KvPair& p : stored) actual.emplace(p.key, p.value);
  for (const auto& [key, want] : expected) {
    auto it = actual.find(key);
    if (it == actual.end()) {
      problems->push_back(absl::StrCat("index checker: row ", Key(table, *want.second),
                                       " has no entry in ", index.name));
    } else if (it->second != want.first) {
      problems->push_back(absl::StrCat("index checker: the entry of row ", Key(table, *want.second),
                                       " in ", index.name, " points at another row"));
    }
  }
  for (const auto& [key, value] : actual) {
    if (!expected.contains(key)) {
      problems->push_back(absl::StrCat("index checker: an entry of ", index.name, " has no row"));
    }
  }
}

absl::Status Check(KvSnapshot& snapshot, std::string_view table_name, std::string_view index_name,
                   Problems* problems) {
  RowStore store(&snapshot, false);
  ASSIGN_OR_RETURN(const VersionRow version, ReadVersionRow(store));
  ASSIGN_OR_RETURN(const Schema schema, ReadSchemaVersion(store, version.version));
  const IndexSchema* index = nullptr;
  const TableSchema* table = schema.FindIndex(index_name, &index);
  if (table == nullptr || table->name != table_name) {
    problems->push_back(
        absl::StrCat("index checker: no index ", Sv(index_name), " on ", Sv(table_name)));
    return absl::OkStatus();
  }
  const std::vector<const TableSchema*> ancestry = schema.Ancestry(*table);
  ASSIGN_OR_RETURN(const std::string prefix, EncodeKeyPrefix(ancestry, {}));
  std::vector<Row> rows;
  RETURN_IF_ERROR(ScanRows(store, ancestry, prefix, keyenc::PrefixSuccessor(prefix), [&](Row row) {
    rows.push_back(std::move(row));
    return absl::OkStatus();
  }));
  std::string index_prefix;
  keyenc::AppendUint64(&index_prefix, index->id);
  ASSIGN_OR_RETURN(std::vector<KvPair> stored,
                   store.Scan(index_prefix, keyenc::PrefixSuccessor(index_prefix), 0));
  Compare(*table, *index, rows, stored, problems);
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> CheckIndex(KvDatabase& kv, std::string_view table,
                                    std::string_view index) {
  Problems problems;
  absl::StatusOr<int64_t> ts = kv.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& snapshot) {
    return Check(snapshot, table, index, &problems);
  });
  if (!ts.ok()) problems.push_back("index checker: reading failed: " + ts.status().ToString());
  return problems;
}

int64_t CountKeysUnder(KvDatabase& kv, uint64_t id) {
  std::string prefix;
  keyenc::AppendUint64(&prefix, id);
  int64_t n = -1;
  absl::StatusOr<int64_t> ts = kv.RunReadOnly(ReadBound::Strong(), [&](KvSnapshot& snapshot) {
    absl::StatusOr<std::vector<KvPair>> pairs =
        snapshot.Scan(prefix, keyenc::PrefixSuccessor(prefix), 0);
    if (pairs.ok()) n = static_cast<int64_t>(pairs->size());
    return pairs.status();
  });
  return ts.ok() ? n : -1;
}

}  // namespace meridian::sql
