#include "sql_lite/ddl.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/error.h"

namespace meridian::sql {
namespace {

absl::Status CheckInterleave(const CreateTableStmt& stmt, const Schema& schema,
                             const TableSchema& child) {
  const InterleaveClause& in = *stmt.interleave;
  const TableSchema* parent = schema.FindTable(in.parent);
  if (parent == nullptr) return SyntaxError(in.pos, absl::StrCat("unknown table ", in.parent));
  const auto mismatch = [&] {
    return SyntaxError(in.pos, absl::StrCat("the primary key of ", child.name,
                                            " must start with the primary key of ", in.parent));
  };
  if (child.primary_key.size() < parent->primary_key.size()) return mismatch();
  for (size_t i = 0; i < parent->primary_key.size(); ++i) {
    const KeyColumn& p = parent->primary_key[i];
    const KeyColumn& c = child.primary_key[i];
    const ColumnSchema& pc = parent->columns[p.column];
    const ColumnSchema& cc = child.columns[c.column];
    if (pc.name != cc.name || pc.type != cc.type || p.descending != c.descending) {
      return mismatch();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<TableSchema> BuildTable(const CreateTableStmt& stmt, const Schema& schema) {
  TableSchema t;
  t.name = stmt.name;
  t.id = schema.next_id;
  for (const ColumnDef& def : stmt.columns) {
    if (t.FindColumn(def.name) >= 0) {
      return SyntaxError(def.pos, absl::StrCat("column ", def.name, " is defined twice"));
    }
    t.columns.push_back({.name = def.name,
                         .id = t.next_column_id++,
                         .type = def.type,
                         .max_length = def.max_length,
                         .not_null = def.not_null});
  }
  std::set<int> seen;
  for (const KeyPart& part : stmt.primary_key) {
    const int c = t.FindColumn(part.column);
    if (c < 0) return SyntaxError(part.pos, absl::StrCat("unknown key column ", part.column));
    if (!seen.insert(c).second) {
      return SyntaxError(part.pos, absl::StrCat("key column ", part.column, " is given twice"));
    }
    t.primary_key.push_back({.column = c, .descending = part.descending});
  }
  if (stmt.interleave.has_value()) {
    t.parent = stmt.interleave->parent;
    t.on_delete = stmt.interleave->on_delete;
    RETURN_IF_ERROR(CheckInterleave(stmt, schema, t));
  }
  return t;
}

// `table` and every table interleaved under it, children after parents; FAILED_PRECONDITION
// when one of them is ON DELETE NO ACTION.
absl::Status CollectDropped(const Schema& schema, const TableSchema& table,
                            std::vector<const TableSchema*>* out) {
  out->push_back(&table);
  for (const TableSchema* child : schema.Children(table)) {
    if (child->on_delete != OnDelete::kCascade) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot drop table ", table.name, ": table ", child->name,
                       " is interleaved in it with ON DELETE NO ACTION; drop it first"));
    }
    RETURN_IF_ERROR(CollectDropped(schema, *child, out));
  }
  return absl::OkStatus();
}

absl::StatusOr<IndexSchema> BuildIndex(const CreateIndexStmt& stmt, const Schema& schema,
                                       const TableSchema& table) {
  IndexSchema index;
  index.name = stmt.name;
  index.id = schema.next_id;
  index.unique = stmt.unique;
  for (const KeyPart& part : stmt.columns) {
    const int c = table.FindColumn(part.column);
    if (c < 0) return SyntaxError(part.pos, absl::StrCat("unknown column ", part.column));
    index.columns.push_back({.column = c, .descending = part.descending});
  }
  for (const std::string& name : stmt.storing) {
    const int c = table.FindColumn(name);
    if (c < 0) return SyntaxError(stmt.pos, absl::StrCat("unknown STORING column ", name));
    index.storing.push_back(c);
  }
  return index;
}

}  // namespace

absl::StatusOr<std::optional<Schema>> AddTable(const CreateTableStmt& stmt, const Schema& schema) {
  if (schema.FindTable(stmt.name) != nullptr) {
    if (stmt.if_not_exists) return std::nullopt;
    return absl::AlreadyExistsError(absl::StrCat("table ", stmt.name, " already exists"));
  }
  ASSIGN_OR_RETURN(TableSchema table, BuildTable(stmt, schema));
  Schema next = schema;
  ++next.next_id;
  std::string name = table.name;
  next.tables.emplace(std::move(name), std::move(table));
  return next;
}

absl::StatusOr<std::optional<Schema>> AddIndex(const CreateIndexStmt& stmt, const Schema& schema,
                                               IndexState initial, uint64_t* id) {
  const IndexSchema* existing = nullptr;
  if (schema.FindIndex(stmt.name, &existing) != nullptr) {
    if (!existing->readable()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "index ", stmt.name, " already exists in state ", IndexStateName(existing->state),
          " (being built or dropped; DROP INDEX removes it)"));
    }
    if (stmt.if_not_exists) return std::nullopt;
    return absl::AlreadyExistsError(absl::StrCat("index ", stmt.name, " already exists"));
  }
  const TableSchema* table = schema.FindTable(stmt.table);
  if (table == nullptr) return SyntaxError(stmt.pos, absl::StrCat("unknown table ", stmt.table));
  ASSIGN_OR_RETURN(IndexSchema index, BuildIndex(stmt, schema, *table));
  index.state = initial;
  *id = index.id;
  Schema next = schema;
  ++next.next_id;
  next.tables.at(table->name).indexes.push_back(std::move(index));
  return next;
}

absl::StatusOr<std::optional<Schema>> RemoveTable(const DropStmt& stmt, const Schema& schema,
                                                  std::vector<std::string>* dropped) {
  const TableSchema* table = schema.FindTable(stmt.name);
  if (table == nullptr) {
    if (stmt.if_exists) return std::nullopt;
    return absl::NotFoundError(absl::StrCat("table ", stmt.name, " does not exist"));
  }
  std::vector<const TableSchema*> tables;
  RETURN_IF_ERROR(CollectDropped(schema, *table, &tables));
  Schema next = schema;
  dropped->clear();
  for (auto it = tables.rbegin(); it != tables.rend(); ++it) {
    dropped->push_back((*it)->name);
    next.tables.erase((*it)->name);
  }
  return next;
}

}  // namespace meridian::sql
