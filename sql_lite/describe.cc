// Session::ListTables and Session::DescribeTable (meridian/sql.h): the catalog (catalog.h) read in
// a snapshot and shown as typed ResultSets, for a shell's `\d` and `\d NAME`; and
// Session::KeyPrefix, where a table's rows lie in the key space (encoding.h).
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "meridian/sql.h"
#include "sql_lite/ast.h"
#include "sql_lite/catalog.h"
#include "sql_lite/encoding.h"
#include "sql_lite/row_store.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

// The schema as a snapshot at `bound` sees it.
absl::StatusOr<std::shared_ptr<const Schema>> LoadSchema(KvDatabase& db, const ReadBound& bound,
                                                         SchemaCache& cache) {
  std::shared_ptr<const Schema> schema;
  RETURN_IF_ERROR(db.RunReadOnly(bound, [&](KvSnapshot& snapshot) -> absl::Status {
                      RowStore store(&snapshot, false);
                      ASSIGN_OR_RETURN(schema, cache.Load(store));
                      return absl::OkStatus();
                    }).status());
  return schema;
}

// "a, b DESC".
std::string KeyText(const TableSchema& table, const std::vector<KeyColumn>& key) {
  std::vector<std::string> parts;
  for (const KeyColumn& k : key) {
    parts.push_back(
        absl::StrCat(QuoteIdentifier(table.columns[k.column].name), k.descending ? " DESC" : ""));
  }
  return absl::StrJoin(parts, ", ");
}

// "INT64", "STRING(MAX)", "BYTES(16)".
std::string TypeText(const ColumnSchema& column) {
  std::string out(TypeName(column.type));
  if (column.type == Type::kString || column.type == Type::kBytes) {
    absl::StrAppend(&out, "(",
                    column.max_length > 0 ? std::to_string(column.max_length) : std::string("MAX"),
                    ")");
  }
  return out;
}

ResultSet ColumnsOf(const TableSchema& table) {
  ResultSet r;
  r.column_names = {"column", "type", "not_null"};
  r.column_types = {Type::kString, Type::kString, Type::kBool};
  for (const ColumnSchema& c : table.columns) {
    r.rows.push_back({Value::String(c.name), Value::String(TypeText(c)), Value::Bool(c.not_null)});
  }
  return r;
}

ResultSet IndexesOf(const TableSchema& table) {
  ResultSet r;
  r.column_names = {"index", "unique", "columns", "storing", "state"};
  r.column_types = {Type::kString, Type::kBool, Type::kString, Type::kString, Type::kString};
  for (const IndexSchema& index : table.indexes) {
    std::vector<std::string> storing;
    for (int c : index.storing) storing.emplace_back(QuoteIdentifier(table.columns[c].name));
    r.rows.push_back({Value::String(index.name), Value::Bool(index.unique),
                      Value::String(KeyText(table, index.columns)),
                      Value::String(absl::StrJoin(storing, ", ")),
                      Value::String(IndexStateName(index.state))});
  }
  return r;
}

}  // namespace

absl::StatusOr<ResultSet> Session::ListTables() {
  ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema, LoadSchema(*db_, bound_, *cache_));
  ResultSet r;
  r.column_names = {"table", "parent", "primary_key", "indexes"};
  r.column_types = {Type::kString, Type::kString, Type::kString, Type::kInt64};
  for (const auto& [name, table] : schema->tables) {
    r.rows.push_back({Value::String(name),
                      table.parent.empty() ? Value::Null() : Value::String(table.parent),
                      Value::String(KeyText(table, table.primary_key)),
                      Value::Int64(static_cast<int64_t>(table.indexes.size()))});
  }
  return r;
}

absl::StatusOr<TableDescription> Session::DescribeTable(std::string_view name) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema, LoadSchema(*db_, bound_, *cache_));
  const TableSchema* table = schema->FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(absl::StrCat("table ", Sv(name), " does not exist"));
  }
  TableDescription d;
  d.name = table->name;
  d.columns = ColumnsOf(*table);
  d.primary_key = absl::StrCat("PRIMARY KEY (", KeyText(*table, table->primary_key), ")");
  if (!table->parent.empty()) {
    d.interleave =
        absl::StrCat("INTERLEAVE IN PARENT ", QuoteIdentifier(table->parent), " ON DELETE ",
                     table->on_delete == OnDelete::kCascade ? "CASCADE" : "NO ACTION");
  }
  d.indexes = IndexesOf(*table);
  return d;
}

absl::StatusOr<std::string> Session::KeyPrefix(std::string_view name,
                                               const std::vector<Value>& key) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Schema> schema, LoadSchema(*db_, bound_, *cache_));
  const TableSchema* table = schema->FindTable(name);
  if (table == nullptr) {
    return absl::NotFoundError(absl::StrCat("table ", Sv(name), " does not exist"));
  }
  if (key.size() > table->primary_key.size()) {
    return absl::InvalidArgumentError(absl::StrCat("table ", Sv(name), "'s primary key has ",
                                                   table->primary_key.size(), " columns, not ",
                                                   key.size()));
  }
  std::vector<Value> coerced;
  for (size_t i = 0; i < key.size(); ++i) {
    ASSIGN_OR_RETURN(Value v,
                     CoerceForColumn(key[i], table->columns[table->primary_key[i].column]));
    coerced.push_back(std::move(v));
  }
  return EncodeKeyPrefix(schema->Ancestry(*table), coerced);
}

}  // namespace meridian::sql
