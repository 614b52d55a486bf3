// meridian::sql: SQL sessions over a transactional key-value database, the way F1 runs over
// Spanner: the SQL layer runs in the client process and the servers stay a KV store. The language
// is docs/sql.md; the KV interface a Session runs over is sql_lite/kv.h (an in-memory
// implementation is sql_lite/memory_kv.h).
//
//   meridian::sql::MemoryKv kv;
//   meridian::sql::Session session(&kv);
//   session.Execute("CREATE TABLE t (k INT64, v STRING(MAX)) PRIMARY KEY (k)");
//   session.Execute("INSERT INTO t (k, v) VALUES (@k, 'x')", {{"k", Value::Int64(1)}});
//   absl::StatusOr<ResultSet> r = session.Execute("SELECT v FROM t WHERE k = 1");
//
// Transactions.
//  - Autocommit: outside BEGIN ... COMMIT every statement is its own transaction. SELECT runs in a
//    read-only snapshot at the session's read bound (SET READ_TIMESTAMP / SET STALENESS; strong
//    by default); DML runs in a read-write transaction (retried by the KV layer when it aborts:
//    the statement is simply executed again). DDL runs transactions of its own, outside BEGIN
//    ... COMMIT and RunTransaction only, and returns once the change is in effect (CREATE INDEX:
//    once the index is built; docs/sql.md "Schema changes").
//  - RunTransaction(fn): the retry-safe way to run several statements in one read-write
//    transaction, like the SDK's Client::RunTransaction. fn gets a Transaction and calls Execute;
//    the statements run on the KV transaction under its locks, and when the transaction aborts fn
//    is called AGAIN from the start, so fn must be restartable (no side effects outside it that
//    a second run would repeat).
//  - BEGIN ... COMMIT typed statement by statement (a shell): each statement runs at once and
//    its results are returned; the reads come from one snapshot (taken by the first statement)
//    with the transaction's own writes on top. COMMIT then re-executes every statement, in order,
//    in one read-write transaction with locks, and commits only if each statement gives the same
//    result (rows, count or error code) as it did before; otherwise COMMIT returns ABORTED and
//    nothing is written (run the transaction again). The re-execution is what the KV layer's
//    retries repeat. BEGIN READ ONLY reads one snapshot at the session's read bound and allows no
//    writes. ROLLBACK discards the transaction.
//  - Statement atomicity: a statement that fails leaves the transaction as it found it (its own
//    buffered writes are undone); the transaction stays open.
//
// Errors are absl::Status values: INVALID_ARGUMENT with a position ("at line L, column C", and
// ErrorPosition in sql_lite/error.h) for syntax, names and types; ALREADY_EXISTS for a duplicate
// primary key or unique index value; NOT_FOUND for a missing parent row or table;
// FAILED_PRECONDITION for statements that do not fit the session's state; ABORTED when a
// transaction must be run again; KV errors as the KV layer reports them.
//
// Thread safety: a Session is not thread-safe (one per thread or connection); many Sessions may
// share one KvDatabase. A Transaction is valid only inside the fn it was passed to.
#ifndef MERIDIAN_SQL_H_
#define MERIDIAN_SQL_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/kv.h"
#include "sql_lite/value.h"

namespace meridian::sql {

class SchemaCache;
class RowStore;
struct Statement;

// Statement parameters by name, without the '@' and lower-cased (@Name is "name").
using Params = std::map<std::string, Value, std::less<>>;

struct ResultSet {
  std::vector<std::string> column_names;
  std::vector<Type> column_types;  // kNull for a column that is NULL in every row by type
  std::vector<std::vector<Value>> rows;
  int64_t rows_affected = 0;  // INSERT, UPDATE, DELETE

  friend bool operator==(const ResultSet&, const ResultSet&) = default;
};

// One table as Session::DescribeTable reads it from the catalog (what a shell's `\d NAME` shows).
struct TableDescription {
  std::string name;
  ResultSet columns;        // column STRING, type STRING ("STRING(MAX)"), not_null BOOL
  std::string primary_key;  // "PRIMARY KEY (a, b DESC)"
  std::string interleave;   // "INTERLEAVE IN PARENT p ON DELETE CASCADE"; "" for a top table
  ResultSet indexes;        // index STRING, unique BOOL, columns STRING, storing STRING
};

// One step of a schema change, as SessionOptions::on_schema_change reports it.
struct SchemaChangeProgress {
  std::string object;  // the table or index the statement changes
  // A schema version it registered: "CREATED", "DROPPED" (tables) or the index state it moved to
  // ("DELETE_ONLY", "WRITE_ONLY", "BACKFILLED", "PUBLIC", "ABSENT"); or a chunk it finished:
  // "backfill" (index entries written) or "cleanup" (rows or entries of a dropped object deleted).
  std::string step;
  int64_t schema_version = 0;  // version steps: the version registered
  int64_t effective_ts = 0;    // version steps: when it takes effect (microseconds)
  int64_t chunks = 0;          // chunk steps: chunks done so far by this statement
  int64_t rows = 0;            // chunk steps: rows indexed or keys deleted so far
};

// How a Session runs schema changes (docs/sql.md "Schema changes").
struct SessionOptions {
  // A schema change takes effect this long after it is registered (plus a schema lease and a
  // commit window, about 0.7 s, on a database whose commits honour timestamp bounds: docs/sql.md
  // "Schema leases"): it is registered without waiting for transactions in flight, which keep the
  // old schema until then; read-write statements that start in between wait for it. Each state of
  // an index build costs about this.
  int64_t schema_change_delay_us = 10'000;
  // Rows per transaction of an index backfill and of the cleanup after DROP (>= 1).
  int64_t schema_change_chunk_rows = 500;
  // Called on the statement's thread after each step of a schema change, between its
  // transactions (a shell shows progress; tests run other writers there).
  std::function<void(const SchemaChangeProgress&)> on_schema_change;
};

class Session;

// The handle RunTransaction's fn gets.
class Transaction {
 public:
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // SELECT, DML or EXPLAIN (not DDL, BEGIN, COMMIT, ROLLBACK or SET), in this transaction.
  absl::StatusOr<ResultSet> Execute(std::string_view sql, const Params& params = {});

 private:
  friend class Session;
  Transaction(Session* session, RowStore* store) : session_(session), store_(store) {}
  Session* session_;
  RowStore* store_;
};

class Session {
 public:
  // `db` must outlive the session.
  explicit Session(KvDatabase* db, SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Parses and executes one statement (see the top of this file).
  absl::StatusOr<ResultSet> Execute(std::string_view sql, const Params& params = {});
  // Runs fn in one read-write transaction, calling it again when the transaction aborts. Returns
  // fn's error, or the commit's. FAILED_PRECONDITION inside BEGIN ... COMMIT.
  absl::Status RunTransaction(const std::function<absl::Status(Transaction&)>& fn);

  // The schema, as a shell's `\d` and `\d NAME` show it, read in a snapshot at the session's read
  // bound (an open BEGIN ... COMMIT block's own DDL is not seen). ListTables gives a row per
  // table ordered by name: table STRING, parent STRING (NULL for a top-level table), primary_key
  // STRING ("a, b DESC"), indexes INT64. DescribeTable takes the name as stored (lower case
  // unless it was quoted); NOT_FOUND naming it when there is no such table. Both return the KV
  // layer's errors as they come.
  absl::StatusOr<ResultSet> ListTables();
  absl::StatusOr<TableDescription> DescribeTable(std::string_view name);
  // Where rows live, for placing data over a cluster's ranges: the KV key that every row of
  // `table` whose primary key begins with the values `key` begins with — and so every row
  // interleaved in those rows as well (their directory) — relative to the database's key prefix
  // (ClientKvOptions::key_prefix, which the caller adds). With `key` the whole primary key it is
  // the row's key. Rows of distinct keys of one length do not share a prefix, so consecutive
  // values bound a directory: [KeyPrefix(t, {1}), KeyPrefix(t, {2})) holds exactly t's row 1
  // and what is interleaved in it. The schema is read as DescribeTable reads it. NOT_FOUND for
  // no such table; INVALID_ARGUMENT for more values than the primary key has or a value its
  // column cannot hold; the KV layer's errors as they come.
  absl::StatusOr<std::string> KeyPrefix(std::string_view table, const std::vector<Value>& key);

  bool in_transaction() const { return open_ != nullptr; }
  // The snapshot bound SELECT and BEGIN READ ONLY use.
  const ReadBound& read_bound() const { return bound_; }

 private:
  friend class Transaction;
  struct Open;

  absl::StatusOr<ResultSet> ExecuteParsed(const Statement& stmt, std::string_view sql,
                                          const Params& params);
  absl::StatusOr<ResultSet> Autocommit(const Statement& stmt, const Params& params);
  // An autocommit read whose reads are all point reads, in one KvDatabase::ReadKeys call
  // (sql_lite/prefetch.h); nullopt when the statement is not one.
  std::optional<absl::StatusOr<ResultSet>> ReadByPoints(const Statement& stmt,
                                                        const Params& params);
  absl::StatusOr<ResultSet> InBlock(const Statement& stmt, std::string_view sql,
                                    const Params& params);
  absl::StatusOr<ResultSet> Commit();
  absl::Status Set(const Statement& stmt, const Params& params);

  KvDatabase* db_;
  SessionOptions options_;
  std::shared_ptr<SchemaCache> cache_;
  ReadBound bound_;
  std::unique_ptr<Open> open_;
  struct PointReads;
  std::unique_ptr<PointReads> point_reads_;
};

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_H_
