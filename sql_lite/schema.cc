#include "sql_lite/schema.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {

const char* IndexStateName(IndexState state) {
  switch (state) {
    case IndexState::kDeleteOnly:
      return "DELETE_ONLY";
    case IndexState::kWriteOnly:
      return "WRITE_ONLY";
    case IndexState::kBackfilled:
      return "BACKFILLED";
    case IndexState::kPublic:
      return "PUBLIC";
  }
  return "UNKNOWN";
}

int TableSchema::FindColumn(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<Value> TableSchema::KeyValues(const Row& row) const {
  std::vector<Value> out;
  out.reserve(primary_key.size());
  for (const KeyColumn& k : primary_key) out.push_back(row[k.column]);
  return out;
}

const TableSchema* Schema::FindTable(std::string_view name) const {
  auto it = tables.find(name);
  return it == tables.end() ? nullptr : &it->second;
}

const TableSchema* Schema::FindIndex(std::string_view name, const IndexSchema** index) const {
  for (const auto& [unused, table] : tables) {
    for (const IndexSchema& i : table.indexes) {
      if (i.name == name) {
        *index = &i;
        return &table;
      }
    }
  }
  return nullptr;
}

const TableSchema* Schema::FindIndexById(uint64_t id, const IndexSchema** index) const {
  for (const auto& [unused, table] : tables) {
    for (const IndexSchema& i : table.indexes) {
      if (i.id == id) {
        *index = &i;
        return &table;
      }
    }
  }
  return nullptr;
}

std::vector<const TableSchema*> Schema::Ancestry(const TableSchema& table) const {
  std::vector<const TableSchema*> chain = {&table};
  while (!chain.back()->parent.empty()) {
    const TableSchema* parent = FindTable(chain.back()->parent);
    if (parent == nullptr) break;
    chain.push_back(parent);
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

std::vector<const TableSchema*> Schema::Children(const TableSchema& table) const {
  std::vector<const TableSchema*> out;
  for (const auto& [unused, t] : tables) {
    if (t.parent == table.name) out.push_back(&t);
  }
  return out;
}

absl::StatusOr<Value> CoerceForColumn(const Value& value, const ColumnSchema& column) {
  if (value.is_null() || value.type() == column.type) {
    if (column.max_length > 0 && !value.is_null()) {
      const size_t size = column.type == Type::kString  ? value.string_value().size()
                          : column.type == Type::kBytes ? value.bytes_value().size()
                                                        : 0;
      if (static_cast<int64_t>(size) > column.max_length) {
        return absl::InvalidArgumentError(absl::StrCat("value of length ", size,
                                                       " is too long for column ", column.name,
                                                       " (at most ", column.max_length, ")"));
      }
    }
    return value;
  }
  if (value.type() == Type::kInt64 && column.type == Type::kFloat64) {
    return Value::Float64(static_cast<double>(value.int64_value()));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "column ", column.name, " has type ", Sv(TypeName(column.type)), " but the value ",
      value.ToSqlLiteral(), " has type ", Sv(TypeName(value.type()))));
}

}  // namespace meridian::sql
