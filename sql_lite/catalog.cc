#include "sql_lite/catalog.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "sql_lite/encoding.h"
#include "sql_lite/testing_plants.h"

namespace meridian::sql {
namespace {

constexpr uint64_t kTableDefFormat = 2;
constexpr uint64_t kSchemaDefFormat = 2;

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
    if (n > 100000 && status_.ok())
      status_ = absl::InvalidArgumentError("bad count in catalog row");
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
    PutU(&out, static_cast<uint64_t>(i.state));
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
    const uint64_t state = r.U();
    if (state < static_cast<uint64_t>(IndexState::kDeleteOnly) ||
        state > static_cast<uint64_t>(IndexState::kPublic)) {
      return absl::InvalidArgumentError("table_def: unknown index state");
    }
    i.state = static_cast<IndexState>(state);
  }
  RETURN_IF_ERROR(r.Finish());
  RETURN_IF_ERROR(CheckPositions(t));
  return t;
}

std::string EncodeSchemaDef(const Schema& schema) {
  std::string out;
  PutU(&out, kSchemaDefFormat);
  keyenc::AppendInt64(&out, schema.version);
  keyenc::AppendInt64(&out, schema.effective_ts);
  PutU(&out, schema.next_id);
  PutU(&out, schema.tables.size());
  for (const auto& [name, table] : schema.tables) keyenc::AppendBytes(&out, EncodeTableDef(table));
  return out;
}

absl::StatusOr<Schema> DecodeSchemaDef(std::string_view raw) {
  Reader r(raw);
  if (r.U() != kSchemaDefFormat) return absl::InvalidArgumentError("unknown schema_def format");
  Schema schema;
  schema.version = r.I();
  schema.effective_ts = r.I();
  schema.next_id = r.U();
  const uint64_t n = r.N();
  std::vector<std::string> defs;
  for (uint64_t i = 0; i < n; ++i) defs.push_back(r.S());
  RETURN_IF_ERROR(r.Finish());
  for (const std::string& def : defs) {
    ASSIGN_OR_RETURN(TableSchema table, DecodeTableDef(def));
    std::string name = table.name;
    schema.tables.emplace(std::move(name), std::move(table));
  }
  return schema;
}

namespace {

std::string SchemaKey(int64_t version) {
  std::string key = CatalogKey("schema");
  keyenc::AppendInt64(&key, version);
  return key;
}

}  // namespace

absl::StatusOr<VersionRow> ReadVersionRow(RowStore& store) {
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(CatalogKey("version")));
  VersionRow row;
  if (!raw.has_value()) return row;
  Reader r(*raw);
  row.version = r.I();
  row.effective_ts = r.I();
  RETURN_IF_ERROR_CTX(r.Finish(), "reading the catalog's version row");
  return row;
}

absl::StatusOr<Schema> ReadSchemaVersion(RowStore& store, int64_t version) {
  if (version == 0) return Schema();
  ASSIGN_OR_RETURN(std::optional<std::string> raw, store.Get(SchemaKey(version)));
  if (!raw.has_value()) {
    return absl::InternalError(absl::StrCat("the catalog has no schema version ", version));
  }
  ASSIGN_OR_RETURN_CTX(Schema schema, DecodeSchemaDef(*raw), "reading the catalog");
  if (schema.version != version) {
    return absl::InternalError(
        absl::StrCat("the catalog's schema row ", version, " holds version ", schema.version));
  }
  return schema;
}

absl::Status WriteSchemaVersion(RowStore& store, const Schema& next) {
  std::string version;
  keyenc::AppendInt64(&version, next.version);
  keyenc::AppendInt64(&version, next.effective_ts);
  RETURN_IF_ERROR(store.Put(SchemaKey(next.version), EncodeSchemaDef(next)));
  RETURN_IF_ERROR(store.Put(CatalogKey("version"), version));
  if (next.version > 2) RETURN_IF_ERROR(store.Delete(SchemaKey(next.version - 2)));
  return absl::OkStatus();
}

namespace {
constexpr char kBehindSchemaChangePayload[] = "type.meridian.dev/meridian.sql.BehindSchemaChange";
}  // namespace

absl::Status BehindSchemaChange() {
  absl::Status status = absl::UnavailableError(
      "the read's timestamp is its group's last commit, below a registered schema change: read "
      "again at a current timestamp");
  status.SetPayload(kBehindSchemaChangePayload, absl::Cord());
  return status;
}

bool IsBehindSchemaChange(const absl::Status& status) {
  return status.GetPayload(kBehindSchemaChangePayload).has_value();
}

absl::StatusOr<std::optional<SchemaCache::Lease>> SchemaCache::CurrentLease() {
  {
    absl::MutexLock lock(&mu_);
    if (lease_.has_value() && db_->NowMicros() < lease_->read_ts + kSchemaLeaseUs / 2) {
      return lease_;
    }
  }
  int64_t at = db_->NowMicros();
  for (int i = 0; i < kLeaseReads; ++i) {
    VersionRow row;
    ASSIGN_OR_RETURN(const int64_t read_ts,
                     db_->RunReadOnly(ReadBound::Exact(at), [&](KvSnapshot& snapshot) {
                       RowStore store(&snapshot, false);
                       absl::StatusOr<VersionRow> read = ReadVersionRow(store);
                       if (read.ok()) row = *read;
                       return read.status();
                     }));
    ObservePassed(read_ts);
    if (row.effective_ts <= read_ts) {
      absl::MutexLock lock(&mu_);
      lease_ = Lease{row.version, read_ts};
      return lease_;
    }
    at = std::max(db_->NowMicros(), row.effective_ts);  // read again once V is in effect
  }
  return std::nullopt;
}

absl::StatusOr<std::shared_ptr<const Schema>> SchemaCache::Load(RowStore& store, bool locked) {
  KvTransaction* txn = store.transaction();
  if (txn != nullptr && txn->attempt() > 1) {
    // The first attempt may have aborted at its lease's bound: the next statement reads anew.
    absl::MutexLock lock(&mu_);
    lease_.reset();
  }
  if (!locked && txn != nullptr && txn->attempt() == 1 && db_->commit_bounds()) {
    ASSIGN_OR_RETURN(std::optional<Lease> lease, CurrentLease());
    if (lease.has_value()) {
      // A version two or more behind the newest has no row any more: the lease is past its use
      // (the bound would abort the commit anyway), so the statement locks instead.
      absl::StatusOr<std::shared_ptr<const Schema>> leased = Version(store, lease->version);
      if (leased.ok()) {
        txn->LimitCommitTimestamp(lease->read_ts + kSchemaLeaseUs);
        return leased;
      }
      absl::MutexLock lock(&mu_);
      lease_.reset();
    }
  }
  ASSIGN_OR_RETURN(const VersionRow row, ReadVersionRow(store));
  int64_t version = row.version;
  if (const KvSnapshot* snapshot = store.snapshot(); snapshot != nullptr) {
    // Read after the version row: a strong snapshot's timestamp may be chosen by its first read.
    if (row.effective_ts > snapshot->read_timestamp() && snapshot->at_last_commit()) {
      // The change may have passed already, which a strong read must see; whether it has is
      // unknown at this timestamp.
      return BehindSchemaChange();
    }
    if (row.effective_ts > snapshot->read_timestamp() &&
        !MutableTestingPlants().snapshot_uses_pending_schema) {
      --version;
    }
  } else {
    RETURN_IF_ERROR(WaitPassed(row.effective_ts));
  }
  return Version(store, version);
}

absl::StatusOr<std::shared_ptr<const Schema>> SchemaCache::Version(RowStore& store,
                                                                   int64_t version) {
  {
    absl::MutexLock lock(&mu_);
    auto it = versions_.find(version);
    if (it != versions_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(Schema schema, ReadSchemaVersion(store, version));
  auto shared = std::make_shared<const Schema>(std::move(schema));
  absl::MutexLock lock(&mu_);
  versions_.emplace(version, shared);
  while (versions_.size() > kCachedVersions) versions_.erase(versions_.begin());
  return shared;
}

void SchemaCache::ObservePassed(int64_t ts) {
  absl::MutexLock lock(&mu_);
  passed_ts_ = std::max(passed_ts_, ts);
}

bool SchemaCache::Passed(int64_t ts) {
  absl::MutexLock lock(&mu_);
  return ts <= passed_ts_;
}

absl::Status SchemaCache::WaitPassed(int64_t ts) {
  const auto read_version_row = [](KvSnapshot& snapshot) {
    return snapshot.Get(CatalogKey("version")).status();
  };
  // Strong snapshots first: on a cluster each is at the server's TT.now().latest and takes a few
  // milliseconds, about a schema change's delay in a handful. A store whose strong snapshots do
  // not move forward by themselves (MemoryKv, an idle one) ends the loop at once.
  int64_t last = -1;
  for (int i = 0; i < kStrongReadsBeforeExact && !Passed(ts); ++i) {
    ASSIGN_OR_RETURN(const int64_t now, db_->RunReadOnly(ReadBound::Strong(), read_version_row));
    ObservePassed(now);
    if (now <= last) break;
    last = now;
  }
  if (Passed(ts)) return absl::OkStatus();
  // The read makes the KV layer wait until ts has passed (a read-only run that reads nothing
  // may never reach a server).
  RETURN_IF_ERROR(db_->RunReadOnly(ReadBound::Exact(ts), read_version_row).status());
  ObservePassed(ts);
  return absl::OkStatus();
}

}  // namespace meridian::sql
