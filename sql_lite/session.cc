// Session and Transaction (meridian/sql.h): autocommit, RunTransaction, and BEGIN ... COMMIT
// blocks that run on a snapshot and are re-executed under locks at COMMIT.
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "meridian/sql.h"
#include "sql_lite/binder.h"
#include "sql_lite/parser.h"
#include "sql_lite/prefetch.h"
#include "sql_lite/schema_change.h"
#include "sql_lite/statement.h"

namespace meridian::sql {

// An open BEGIN ... COMMIT block.
struct Session::Open {
  bool read_only = false;
  std::optional<int64_t> read_ts;  // chosen by the block's first statement
  // The block's writes; the snapshot it reads is set per statement.
  RowStore store{static_cast<KvSnapshot*>(nullptr), true};
  struct Record {
    std::string sql;
    Params params;
    absl::StatusOr<ResultSet> outcome;
  };
  std::vector<Record> records;  // read-write blocks: what COMMIT re-executes
};

namespace {

// A statement that reads more keys than this runs as an ordinary read-only transaction.
constexpr size_t kMaxPointReads = 16;

// Errors of the KV layer that a re-execution passes on rather than compares.
bool IsTransient(const absl::Status& s) {
  return absl::IsAborted(s) || absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

bool SameOutcome(const absl::StatusOr<ResultSet>& a, const absl::StatusOr<ResultSet>& b) {
  if (a.ok() != b.ok()) return false;
  return a.ok() ? *a == *b : a.status().code() == b.status().code();
}

bool IsSessionStatement(const Statement& stmt) {
  return std::holds_alternative<BeginStmt>(stmt.node) ||
         std::holds_alternative<CommitStmt>(stmt.node) ||
         std::holds_alternative<RollbackStmt>(stmt.node) ||
         std::holds_alternative<SetStmt>(stmt.node);
}

}  // namespace

absl::StatusOr<ResultSet> Transaction::Execute(std::string_view sql, const Params& params) {
  ASSIGN_OR_RETURN(Statement stmt, ParseStatement(sql));
  if (IsSessionStatement(stmt)) {
    return SyntaxError(stmt.pos(),
                       "BEGIN, COMMIT, ROLLBACK and SET are not allowed inside RunTransaction");
  }
  return ExecuteAtomically(stmt, *store_, *session_->cache_, params);
}

Session::Session(KvDatabase* db, SessionOptions options)
    : db_(db),
      options_(std::move(options)),
      cache_(std::make_shared<SchemaCache>(db)),
      point_reads_(std::make_unique<PointReads>()) {}
Session::~Session() = default;

absl::StatusOr<ResultSet> Session::Execute(std::string_view sql, const Params& params) {
  ASSIGN_OR_RETURN(Statement stmt, ParseStatement(sql));
  return ExecuteParsed(stmt, sql, params);
}

absl::Status Session::RunTransaction(const std::function<absl::Status(Transaction&)>& fn) {
  if (open_ != nullptr) {
    return absl::FailedPreconditionError("RunTransaction inside BEGIN ... COMMIT");
  }
  ASSIGN_OR_RETURN(const int64_t commit_ts,
                   db_->RunTransaction([&](KvTransaction& txn) -> absl::Status {
                     RowStore store(&txn, true);
                     Transaction handle(this, &store);
                     RETURN_IF_ERROR(fn(handle));
                     store.Flush(txn);
                     return absl::OkStatus();
                   }));
  cache_->ObservePassed(commit_ts);
  return absl::OkStatus();
}

absl::StatusOr<ResultSet> Session::ExecuteParsed(const Statement& stmt, std::string_view sql,
                                                 const Params& params) {
  if (const auto* begin = std::get_if<BeginStmt>(&stmt.node)) {
    if (open_ != nullptr) return absl::FailedPreconditionError("a transaction is already open");
    open_ = std::make_unique<Open>();
    open_->read_only = begin->read_only;
    return ResultSet();
  }
  if (std::holds_alternative<CommitStmt>(stmt.node)) {
    if (open_ == nullptr) return absl::FailedPreconditionError("COMMIT without BEGIN");
    return Commit();
  }
  if (std::holds_alternative<RollbackStmt>(stmt.node)) {
    if (open_ == nullptr) return absl::FailedPreconditionError("ROLLBACK without BEGIN");
    open_.reset();
    return ResultSet();
  }
  if (std::holds_alternative<SetStmt>(stmt.node)) {
    RETURN_IF_ERROR(Set(stmt, params));
    return ResultSet();
  }
  if (IsSchemaChange(stmt)) {
    // Refused inside a block by the statement layer (statement.h), like any failing statement.
    if (open_ != nullptr) return InBlock(stmt, sql, params);
    SchemaChanger changer(db_, cache_.get(), &options_);
    return ExecuteSchemaChange(stmt, changer);
  }
  if (open_ != nullptr) return InBlock(stmt, sql, params);
  return Autocommit(stmt, params);
}

// What the last statement that ReadByPoints answered read: its guesses for the next.
struct Session::PointReads {
  KeyValues last;
};

std::optional<absl::StatusOr<ResultSet>> Session::ReadByPoints(const Statement& stmt,
                                                               const Params& params) {
  // Discovery, over the previous statement's values (at +infinity, so that the newest schema
  // version, which the catalog cache likely holds, is the one in effect).
  PrefetchedSnapshot discover = PrefetchedSnapshot::Discover(&point_reads_->last);
  {
    RowStore store(&discover, false);
    (void)ExecuteStatement(stmt, store, *cache_, params);
  }
  std::vector<std::string> keys = discover.keys();
  // A real run may ask for a key the guesses hid (the first statement, a changed schema): one
  // more read of every key it asked for then.
  for (int round = 0; round < 2 && !discover.scanned(); ++round) {
    if (keys.empty() || keys.size() > kMaxPointReads) return std::nullopt;
    absl::StatusOr<KvPointReads> read = db_->ReadKeys(bound_, keys);
    if (!read.ok()) return read.status();
    KeyValues values;
    for (size_t i = 0; i < keys.size(); ++i) values.emplace(keys[i], std::move(read->values[i]));
    PrefetchedSnapshot serve = PrefetchedSnapshot::Serve(&values, read->read_timestamp,
                                                         bound_.mode == ReadBound::Mode::kStrong);
    RowStore store(&serve, false);
    absl::StatusOr<ResultSet> result = ExecuteStatement(stmt, store, *cache_, params);
    point_reads_->last = std::move(values);
    if (serve.scanned()) return std::nullopt;
    if (!result.ok() && IsBehindSchemaChange(result.status())) return std::nullopt;
    if (result.ok() || !IsNotPrefetched(result.status())) {
      cache_->ObservePassed(read->read_timestamp);
      return result;
    }
    keys = serve.keys();
  }
  return std::nullopt;
}

absl::StatusOr<ResultSet> Session::Autocommit(const Statement& stmt, const Params& params) {
  absl::StatusOr<ResultSet> result;
  if (IsReadOnlyStatement(stmt)) {
    if (std::optional<absl::StatusOr<ResultSet>> by_points = ReadByPoints(stmt, params)) {
      return *std::move(by_points);
    }
    ASSIGN_OR_RETURN(const int64_t read_ts,
                     db_->RunReadOnly(bound_, [&](KvSnapshot& snapshot) -> absl::Status {
                       RowStore store(&snapshot, false);
                       result = ExecuteStatement(stmt, store, *cache_, params);
                       return result.status();
                     }));
    cache_->ObservePassed(read_ts);
    return result;
  }
  ASSIGN_OR_RETURN(const int64_t commit_ts,
                   db_->RunTransaction([&](KvTransaction& txn) -> absl::Status {
                     RowStore store(&txn, true);
                     result = ExecuteStatement(stmt, store, *cache_, params);
                     RETURN_IF_ERROR(result.status());
                     store.Flush(txn);
                     return absl::OkStatus();
                   }));
  cache_->ObservePassed(commit_ts);
  return result;
}

absl::StatusOr<ResultSet> Session::InBlock(const Statement& stmt, std::string_view sql,
                                           const Params& params) {
  Open& open = *open_;
  if (open.read_only && !IsReadOnlyStatement(stmt)) {
    return absl::FailedPreconditionError(
        "a read-only transaction runs only SELECT and EXPLAIN (COMMIT or ROLLBACK it first)");
  }
  ReadBound bound = open.read_only ? bound_ : ReadBound::Strong();
  if (open.read_ts.has_value()) bound = ReadBound::Exact(*open.read_ts);
  absl::StatusOr<ResultSet> result;
  absl::StatusOr<int64_t> ts = db_->RunReadOnly(bound, [&](KvSnapshot& snapshot) {
    open.store.set_snapshot(&snapshot);
    result = ExecuteAtomically(stmt, open.store, *cache_, params);
    open.store.set_snapshot(nullptr);
    return absl::OkStatus();
  });
  RETURN_IF_ERROR(ts.status());
  open.read_ts = *ts;
  if (!open.read_only) open.records.push_back({std::string(sql), params, result});
  return result;
}

absl::StatusOr<ResultSet> Session::Commit() {
  std::unique_ptr<Open> open = std::move(open_);
  if (open->read_only || open->records.empty()) return ResultSet();
  size_t changed = 0;  // 1 + the statement whose result changed
  absl::Status status = db_->RunTransaction([&](KvTransaction& txn) -> absl::Status {
                             changed = 0;
                             RowStore store(&txn, true);
                             for (size_t i = 0; i < open->records.size(); ++i) {
                               const Session::Open::Record& record = open->records[i];
                               ASSIGN_OR_RETURN(Statement stmt, ParseStatement(record.sql));
                               absl::StatusOr<ResultSet> again =
                                   ExecuteAtomically(stmt, store, *cache_, record.params);
                               if (!again.ok() && IsTransient(again.status()))
                                 return again.status();
                               if (!SameOutcome(again, record.outcome)) {
                                 changed = i + 1;
                                 return absl::CancelledError("a statement's result changed");
                               }
                             }
                             store.Flush(txn);
                             return absl::OkStatus();
                           })
                            .status();
  if (changed > 0) {
    return absl::AbortedError(absl::StrCat(
        "transaction aborted: the result of its statement ", changed,
        " changed between its execution and COMMIT (other transactions wrote what it read); "
        "nothing was written, run the transaction again"));
  }
  RETURN_IF_ERROR(status);
  return ResultSet();
}

absl::Status Session::Set(const Statement& stmt, const Params& params) {
  if (open_ != nullptr) return SyntaxError(stmt.pos(), "SET inside a transaction");
  const SetStmt& set = std::get<SetStmt>(stmt.node);
  const bool timestamp = set.variable == SetStmt::Variable::kReadTimestamp;
  if (set.value == nullptr) {  // DEFAULT
    const auto mode = timestamp ? ReadBound::Mode::kExactTimestamp : ReadBound::Mode::kMaxStaleness;
    if (bound_.mode == mode) bound_ = ReadBound::Strong();
    return absl::OkStatus();
  }
  const BindContext ctx{.schema = std::make_shared<const Schema>(), .params = &params};
  ASSIGN_OR_RETURN(Value v, EvalConstant(*set.value, ctx));
  if (timestamp && (v.type() == Type::kTimestamp || v.type() == Type::kInt64)) {
    const int64_t micros = v.type() == Type::kInt64 ? v.int64_value() : v.timestamp_micros();
    if (micros <= 0) return SyntaxError(set.value->pos, "READ_TIMESTAMP must be positive");
    bound_ = ReadBound::Exact(micros);
    return absl::OkStatus();
  }
  if (!timestamp && v.type() == Type::kInt64 && v.int64_value() >= 0) {
    bound_ = ReadBound::MaxStaleness(v.int64_value());
    return absl::OkStatus();
  }
  return SyntaxError(set.value->pos, timestamp ? "READ_TIMESTAMP takes a TIMESTAMP or INT64 micros"
                                               : "STALENESS takes non-negative INT64 microseconds");
}

}  // namespace meridian::sql
