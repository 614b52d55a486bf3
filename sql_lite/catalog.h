// The catalog: the schema kept in the database itself, as rows under the reserved id 0 (keys in
// encoding.h), versioned, so that every client sees one schema, DDL is transactional like any
// write, and a snapshot in the past reads the schema of its time.
//
// Versions. Each schema version V is one whole row, schema/V, and the version row names the
// newest version and the timestamp e_V it takes effect at (Spanner's future-timestamp schema
// change; schema_change.h registers them). Rules:
//  - A snapshot at T uses the version in effect at T: the version row as of T names V; V when
//    e_V <= T, else V - 1. A version registered by a transaction that committed at c is seen only
//    by snapshots at T >= c, so V takes effect at max(e_V, c).
//  - A read-write statement reads the version row under a lock (so a DDL, which writes it, commits
//    after every transaction that used the old version) and uses the newest version V, after
//    waiting until e_V has certainly passed (SchemaCache::WaitPassed: a snapshot's timestamp has
//    passed once it returns, kv.h; strong snapshots until one reaches e_V, else a read-only run
//    at ReadBound::Exact(e_V)). So a transaction that sees V commits after e_V, and one that
//    committed before the DDL used V - 1: both at the right side of max(e_V, c).
//  - A DDL transaction is itself such a read-write transaction, so it registers V + 1 only after
//    e_V has passed: at most one version is ever pending, and e_{V-1} < c_V.
// Every statement of a transaction reads the same locked version row, so a transaction uses
// exactly one version. The per-statement cost is one read of the version row; versions are cached.
//
// Schema leases (Spanner's, where a KvDatabase honours commit bounds, KvDatabase::commit_bounds):
// the lock puts the catalog's group into every read-write transaction's commit, so a first
// attempt uses a lease instead. A lease is the version row read at an exact timestamp r (the
// caller's clock), once every version it names is in effect (e_V <= r); the transaction then
// commits at or below r + kSchemaLeaseUs (KvTransaction::LimitCommitTimestamp) or aborts. A DDL
// registers V + 1 with e_{V+1} at least kSchemaLeaseUs past its own commit (it commits with the
// bound e_{V+1} - kSchemaLeaseUs). So with V + 1 unseen at r its commit is above r, and a leased
// transaction on V commits below e_{V+1}; one on V commits above r >= e_V (the read at r returned
// once r had passed). Both rules above hold without the lock. A session reuses its lease while it
// has at least half its length left; retries (attempt > 1), DDL and its chunk steps lock.
//
// Retention. Registering V + 1 deletes schema/(V - 1) and keeps schema/V, the version snapshots
// between V + 1's commit and its effective time still use. A snapshot at an older T still reads
// every older schema row through the KV layer's multi-versioning, so a table definition stays
// readable exactly as long as the data it describes: until the KV layer's garbage-collection
// horizon passes it (reads below it fail anyway).
//
// Rows (values built with common/key_encoding.h):
//   id(0) bytes("version")           -> version_row
//   id(0) bytes("schema") int64(V)   -> schema_def
//   version_row := int64(version) int64(effective_ts)
//   schema_def  := uint64(2: format) int64(version) int64(effective_ts) uint64(next_id)
//                  uint64(n) bytes(table_def){n}
//   table_def   := uint64(2: format) bytes(name) uint64(id) bytes(parent) uint64(on_delete)
//                  uint64(next_column_id) uint64(n) column{n} uint64(n) key_column{n}
//                  uint64(n) index{n}
//   column      := bytes(name) uint64(id) uint64(type) int64(max_length) uint64(not_null)
//   key_column  := uint64(column position) uint64(descending)
//   index       := bytes(name) uint64(id) uint64(unique) uint64(n) key_column{n}
//                  uint64(n) uint64(column position){n} uint64(state: IndexState, schema.h)
// No version row means version 0, the empty schema.
//
// Thread safety: the free functions are as safe as the RowStore they get; SchemaCache is
// thread-safe (one per Session, or shared).
#ifndef MERIDIAN_SQL_LITE_CATALOG_H_
#define MERIDIAN_SQL_LITE_CATALOG_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sql_lite/kv.h"
#include "sql_lite/row_store.h"
#include "sql_lite/schema.h"

namespace meridian::sql {

std::string EncodeTableDef(const TableSchema& table);
absl::StatusOr<TableSchema> DecodeTableDef(std::string_view raw);
std::string EncodeSchemaDef(const Schema& schema);
absl::StatusOr<Schema> DecodeSchemaDef(std::string_view raw);

struct VersionRow {
  int64_t version = 0;
  int64_t effective_ts = 0;
};

// The version row as `store` sees it ({0, 0} when there is none).
absl::StatusOr<VersionRow> ReadVersionRow(RowStore& store);
// Version `version` of the schema (0: the empty schema); INTERNAL when its row is missing.
absl::StatusOr<Schema> ReadSchemaVersion(RowStore& store, int64_t version);
// Registers `next` (next.version = the current version + 1, its effective_ts set): writes its
// schema row and the version row, and deletes the row of version next.version - 2.
absl::Status WriteSchemaVersion(RowStore& store, const Schema& next);

// What SchemaCache::Load fails with over a snapshot read at a group's last commit
// (KvSnapshot::at_last_commit) that lies below the newest schema version's effective time: the
// caller must read again at a current timestamp.
absl::Status BehindSchemaChange();
bool IsBehindSchemaChange(const absl::Status& status);

// How long a schema lease lasts, and so how much later than its commit a schema version takes
// effect at the least.
inline constexpr int64_t kSchemaLeaseUs = 500'000;

class SchemaCache {
 public:
  // `db` is where read-write statements wait for a pending version to take effect; it must
  // outlive the cache.
  explicit SchemaCache(KvDatabase* db) : db_(db) {}

  // The schema a statement on `store` uses (the rules at the top of this file): by the snapshot's
  // timestamp for a store over a snapshot, else the newest version, once it is in effect.
  // `locked`: read the version row under a lock even where a lease could be used (DDL).
  absl::StatusOr<std::shared_ptr<const Schema>> Load(RowStore& store, bool locked = false);
  // `ts` has passed: every commit from now on is above it (ts came from a commit or a snapshot).
  void ObservePassed(int64_t ts);
  // Returns once `ts` has passed: at once when a commit or snapshot at or above it was observed,
  // else once a strong snapshot's timestamp reaches it (each has passed once read, kv.h), or
  // after a read-only run at ReadBound::Exact(ts) when strong snapshots do not get there. The KV
  // layer's errors come back as is.
  absl::Status WaitPassed(int64_t ts);

 private:
  // Schema versions kept in memory (the newest ones).
  static constexpr size_t kCachedVersions = 8;
  // Strong snapshots WaitPassed tries before it reads at the exact timestamp.
  static constexpr int kStrongReadsBeforeExact = 32;
  // Reads of the version row CurrentLease makes while versions are being registered.
  static constexpr int kLeaseReads = 3;

  bool Passed(int64_t ts);

  struct Lease {
    int64_t version = 0;
    int64_t read_ts = 0;  // the transaction commits at or below read_ts + kSchemaLeaseUs
  };
  // The session's lease, read anew when less than half of it is left; nullopt when none could be
  // taken (versions kept being registered meanwhile): the caller locks instead.
  absl::StatusOr<std::optional<Lease>> CurrentLease();

  absl::StatusOr<std::shared_ptr<const Schema>> Version(RowStore& store, int64_t version);

  KvDatabase* const db_;
  absl::Mutex mu_;
  std::map<int64_t, std::shared_ptr<const Schema>> versions_ ABSL_GUARDED_BY(mu_);
  int64_t passed_ts_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<Lease> lease_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_CATALOG_H_
