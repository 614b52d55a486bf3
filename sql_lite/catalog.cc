#include "sql_lite/catalog.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/encoding.h"

namespace meridian::sql {
namespace {

constexpr uint64_t kTableDefFormat = 1;

void PutU(std::string* dst, uint64_t v) { keyenc::AppendUint64(dst, v); }

void PutKeyColumns(std::string* dst, const std::vector<KeyColumn>& columns) {
  PutU(dst, columns.size());
  for (const KeyColumn& k : columns) {
    PutU(dst, static_cast<uint64_t>(k.column));
    PutU(dst, k.descending ? 1 : 0);
  }
}

// Reads the fields of table_def in order, remembering the first error.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t U() {
    uint64_t v = 0;
    if (status_.ok()) status_ = keyenc::ConsumeUint64(&in_, &v);
    return v;
  }
  int64_t I() {
    int64_t v = 0;
    if (status_.ok()) status_ = keyenc::ConsumeInt64(&in_, &v);
    return v;
  }
  std::string S() {
    std::string v;
    if (status_.ok()) status_ = keyenc::ConsumeBytes(&in_, &v);
    return v;
  }
  // A count, bounded so that a corrupt row cannot make us allocate wildly.
  uint64_t N() {
    const uint64_t n = U();
    if (n > 100000 && status_.ok()) status_ = absl::InvalidArgumentError("bad count in table_def");
    return status_.ok() ? n : 0;
  }
  std::vector<KeyColumn> KeyColumns() {
    std::vector<KeyColumn> out(N());
    for (KeyColumn& k : out) {
      k.column = static_cast<int>(U());
      k.descending = U() != 0;
    }
    return out;
  }
  absl::Status Finish() {
    if (status_.ok() && !in_.empty()) return absl::InvalidArgumentError("trailing bytes");
    return status_;
  }

 private:
  std::string_view in_;
  absl::Status status_;
};

absl::Status CheckPositions(const TableSchema& t) {
  const auto bad = [&](const std::vector<KeyColumn>& ks) {
    for (const KeyColumn& k : ks) {
      if (k.column < 0 || k.column >= static_cast<int>(t.columns.size())) return true;
    }
    return false;
  };
  bool broken = bad(t.primary_key);
  for (const IndexSchema& i : t.indexes) broken = broken || bad(i.columns);
  if (broken) return absl::InvalidArgumentError("table_def: column position out of range");
  return absl::OkStatus();
}

}  // namespace

std::string EncodeTableDef(const TableSchema& t) {
  std::string out;
  PutU(&out, kTableDefFormat);
  keyenc::AppendBytes(&out, t.name);
  PutU(&out, t.id);
  keyenc::AppendBytes(&out, t.parent);
  PutU(&out, static_cast<uint64_t>(t.on_delete));
  PutU(&out, t.next_column_id);
  PutU(&out, t.columns.size());
  for (const ColumnSchema& c : t.columns) {
    keyenc::AppendBytes(&out, c.name);
    PutU(&out, c.id);
    PutU(&out, static_cast<uint64_t>(c.type));
    keyenc::AppendInt64(&out, c.max_length);
    PutU(&out, c.not_null ? 1 : 0);
  }
  PutKeyColumns(&out, t.primary_key);
  PutU(&out, t.indexes.size());
  for (const IndexSchema& i : t.indexes) {
    keyenc::AppendBytes(&out, i.name);
    PutU(&out, i.id);
    PutU(&out, i.unique ? 1 : 0);
    PutKeyColumns(&out, i.columns);
    PutU(&out, i.storing.size());
    for (int s : i.storing) PutU(&out, static_cast<uint64_t>(s));
  }
  return out;
}

absl::StatusOr<TableSchema> DecodeTableDef(std::string_view raw) {
  Reader r(raw);
  if (r.U() != kTableDefFormat) return absl::InvalidArgumentError("unknown table_def format");
  TableSchema t;
  t.name = r.S();
  t.id = r.U();
  t.parent = r.S();
  t.on_delete = r.U() == 0 ? OnDelete::kNoAction : OnDelete::kCascade;
  t.next_column_id = static_cast<uint32_t>(r.U());
  t.columns.resize(r.N());
  for (ColumnSchema& c : t.columns) {
    c.name = r.S();
    c.id = static_cast<uint32_t>(r.U());
    c.type = static_cast<Type>(r.U());
    c.max_length = r.I();
    c.not_null = r.U() != 0;
  }
  t.primary_key = r.KeyColumns();
  t.indexes.resize(r.N());
  for (IndexSchema& i : t.indexes) {
    i.name = r.S();
    i.id = r.U();
    i.unique = r.U() != 0;
    i.columns = r.KeyColumns();
    i.storing.resize(r.N());
    for (int& s : i.storing) s = static_cast<int>(r.U());
  }
  RETURN_IF_ERROR(r.Finish());
  RETURN_IF_ERROR(CheckPositions(t));
  return t;
}

absl::StatusOr<Schema> ReadSchema(RowStore& store) {
  Schema schema;
  ASSIGN_OR_RETURN(std::optional<std::string> version, store.Get(CatalogKey("version")));
  ASSIGN_OR_RETURN(std::optional<std::string> next_id, store.Get(CatalogKey("next_id")));
  if (version.has_value()) {
    std::string_view in = *version;
    RETURN_IF_ERROR(keyenc::ConsumeInt64(&in, &schema.version));
  }
  if (next_id.has_value()) {
    std::string_view in = *next_id;
    RETURN_IF_ERROR(keyenc::ConsumeUint64(&in, &schema.next_id));
  }
  const std::string prefix = CatalogKey("table");
  ASSIGN_OR_RETURN(std::vector<KvPair> rows,
                   store.Scan(prefix, keyenc::PrefixSuccessor(prefix), 0));
  for (const KvPair& row : rows) {
    ASSIGN_OR_RETURN_CTX(TableSchema table, DecodeTableDef(row.value), "reading the catalog");
    std::string name = table.name;
    schema.tables.emplace(std::move(name), std::move(table));
  }
  return schema;
}

absl::Status WriteSchema(RowStore& store, const Schema& schema,
                         const std::vector<std::string>& dropped) {
  std::string version, next_id;
  keyenc::AppendInt64(&version, schema.version);
  keyenc::AppendUint64(&next_id, schema.next_id);
  RETURN_IF_ERROR(store.Put(CatalogKey("version"), version));
  RETURN_IF_ERROR(store.Put(CatalogKey("next_id"), next_id));
  for (const std::string& name : dropped) {
    std::string key = CatalogKey("table");
    keyenc::AppendBytes(&key, name);
    RETURN_IF_ERROR(store.Delete(key));
  }
  for (const auto& [name, table] : schema.tables) {
    std::string key = CatalogKey("table");
    keyenc::AppendBytes(&key, name);
    RETURN_IF_ERROR(store.Put(key, EncodeTableDef(table)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Schema>> SchemaCache::Load(RowStore& store) {
  const bool buffered_ddl = store.HasWritesUnder(CatalogKey(""));
  if (!buffered_ddl) {
    ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(CatalogKey("version")));
    int64_t version = 0;
    if (raw.has_value()) {
      std::string_view in = *raw;
      RETURN_IF_ERROR(keyenc::ConsumeInt64(&in, &version));
    }
    absl::MutexLock lock(&mu_);
    if (cached_ != nullptr && cached_->version == version) return cached_;
  }
  ASSIGN_OR_RETURN(Schema schema, ReadSchema(store));
  auto shared = std::make_shared<const Schema>(std::move(schema));
  if (!buffered_ddl) {
    absl::MutexLock lock(&mu_);
    cached_ = shared;
  }
  return shared;
}

}  // namespace meridian::sql
