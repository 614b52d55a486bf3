// The PostgreSQL side of TPC-C (tpcc.h), through libpq: the same statements as on Meridian, with
// @name parameters numbered $1, $2, ... and sent as text (the extended protocol, unnamed
// statements, as pgbench's default). Transactions run at --pg_isolation (default SERIALIZABLE,
// the guarantee Meridian gives) and are retried on serialization failures and deadlocks
// (SQLSTATE 40001, 40P01). Built only when libpq is found (MERIDIAN_HAVE_LIBPQ); otherwise
// --target=postgresql:// says how to get it.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "tools/tpcc.h"
#include "tools/tpcc_pg_params.h"

#ifdef MERIDIAN_HAVE_LIBPQ
#include <libpq-fe.h>
#endif

namespace meridian::tools::tpcc {

#ifndef MERIDIAN_HAVE_LIBPQ

absl::StatusOr<std::unique_ptr<Backend>> MakePostgresBackend(const Config& config) {
  (void)config;
  return absl::UnimplementedError(
      "this meridian was built without libpq: install libpq-dev (Debian) and rebuild to run "
      "--target=postgresql://");
}

#else

namespace {

// Oids of the result types the statements produce (pg_type.h).
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kFloat8Oid = 701,
              kNumericOid = 1700, kTimestampOid = 1114, kTimestampTzOid = 1184;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

sql::Value FromText(Oid type, const char* text) {
  switch (type) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid:
    case kNumericOid: {
      int64_t v = 0;
      if (absl::SimpleAtoi(text, &v)) return sql::Value::Int64(v);
      double d = 0;
      return absl::SimpleAtod(text, &d) ? sql::Value::Float64(d) : sql::Value::String(text);
    }
    case kFloat8Oid: {
      double d = 0;
      return absl::SimpleAtod(text, &d) ? sql::Value::Float64(d) : sql::Value::String(text);
    }
    case kBoolOid:
      return sql::Value::Bool(text[0] == 't');
    case kTimestampOid:
    case kTimestampTzOid:
    default:
      return sql::Value::String(text);  // only displayed
  }
}

// The statement's outcome: rows, or an error whose code says whether to retry (ABORTED).
absl::StatusOr<sql::ResultSet> Collect(PGconn* conn, Result r, const std::string& statement) {
  const ExecStatusType status = PQresultStatus(r.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(r.get(), PG_DIAG_SQLSTATE);
    const std::string code = state == nullptr ? "" : state;
    std::string message = absl::StrCat("postgresql: ", code, " ", PQerrorMessage(conn));
    absl::StripTrailingAsciiWhitespace(&message);
    if (code == "40001" || code == "40P01") return absl::AbortedError(message);
    if (PQstatus(conn) != CONNECTION_OK) return absl::UnavailableError(message);
    return absl::InternalError(absl::StrCat(message, " in: ", statement));
  }
  sql::ResultSet out;
  const int columns = PQnfields(r.get());
  for (int c = 0; c < columns; ++c) out.column_names.push_back(PQfname(r.get(), c));
  for (int row = 0; row < PQntuples(r.get()); ++row) {
    std::vector<sql::Value> values;
    for (int c = 0; c < columns; ++c) {
      values.push_back(PQgetisnull(r.get(), row, c)
                           ? sql::Value::Null()
                           : FromText(PQftype(r.get(), c), PQgetvalue(r.get(), row, c)));
    }
    out.rows.push_back(std::move(values));
  }
  const char* affected = PQcmdTuples(r.get());
  if (affected != nullptr && *affected != '\0')
    (void)absl::SimpleAtoi(affected, &out.rows_affected);
  return out;
}

class PgConnection : public Connection, public Txn {
 public:
  PgConnection(PGconn* conn, std::string isolation, absl::Duration deadline)
      : conn_(conn), isolation_(std::move(isolation)), deadline_(deadline) {
    // Notices (a ROLLBACK after a failed COMMIT warns that no transaction is open) are noise.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
  }
  ~PgConnection() override { PQfinish(conn_); }

  absl::StatusOr<sql::ResultSet> Execute(const std::string& statement,
                                         const sql::Params& params) override {
    auto it = numbered_.find(statement);
    if (it == numbered_.end()) it = numbered_.emplace(statement, NumberParameters(statement)).first;
    const NumberedStatement& n = it->second;
    std::vector<std::string> texts(n.names.size());
    std::vector<const char*> values(n.names.size(), nullptr);
    for (size_t i = 0; i < n.names.size(); ++i) {
      const auto p = params.find(n.names[i]);
      if (p == params.end()) {
        return absl::InvalidArgumentError(absl::StrCat("no value for @", n.names[i]));
      }
      if (p->second.is_null()) continue;
      texts[i] = ParameterText(p->second);
      values[i] = texts[i].c_str();
    }
    Result r(PQexecParams(conn_, n.text.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
    return Collect(conn_, std::move(r), statement);
  }

  absl::Status Run(bool read_only, const std::function<absl::Status(Txn&)>& fn,
                   int* attempts) override {
    const std::string begin =
        absl::StrCat("BEGIN ISOLATION LEVEL ", isolation_, read_only ? " READ ONLY" : "");
    // Retried until the deadline, as Meridian's RunTransaction retries.
    const absl::Time give_up = absl::Now() + deadline_;
    for (*attempts = 1;; ++*attempts) {
      RETURN_IF_ERROR(Simple(begin));
      absl::Status s = fn(*this);
      if (s.ok()) s = Simple("COMMIT");
      if (s.ok()) return s;
      (void)Simple("ROLLBACK");
      if (!absl::IsAborted(s) || absl::Now() > give_up) return s;
    }
  }

  absl::Status ExecuteAlone(const std::string& statement) override { return Simple(statement); }

  absl::StatusOr<sql::ResultSet> ReadAlone(const std::string& statement,
                                           const sql::Params& params) override {
    return Execute(statement, params);  // autocommit
  }

 private:
  absl::Status Simple(const std::string& statement) {
    return Collect(conn_, Result(PQexec(conn_, statement.c_str())), statement).status();
  }

  PGconn* conn_;
  const std::string isolation_;
  const absl::Duration deadline_;
  std::map<std::string, NumberedStatement, std::less<>> numbered_;
};

class PgBackend : public Backend {
 public:
  explicit PgBackend(const Config& config) : config_(config) {}

  std::string Describe() const override {
    return absl::StrCat("postgresql (", config_.pg_isolation, ")");
  }

  absl::Status CreateSchema(const Config& config) override {
    ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Connect());
    for (const std::string& statement : SchemaStatements(true)) {
      RETURN_IF_ERROR(c->ExecuteAlone(statement));
    }
    int attempts = 0;
    bool empty = true;
    RETURN_IF_ERROR(c->Run(
        true,
        [&](Txn& txn) -> absl::Status {
          ASSIGN_OR_RETURN(sql::ResultSet r, txn.Execute("SELECT w_id FROM warehouse LIMIT 1", {}));
          empty = r.rows.empty();
          return absl::OkStatus();
        },
        &attempts));
    (void)config;
    if (!empty) {
      return absl::FailedPreconditionError(
          "the PostgreSQL database already holds TPC-C data; --load needs empty tables (DROP "
          "TABLE warehouse, district, customer, history, orders, order_line, new_order, item, "
          "stock)");
    }
    return absl::OkStatus();
  }

  absl::Status PlaceWarehouses(const Config& config) override {
    (void)config;
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<Connection>> Connect() override {
    PGconn* conn = PQconnectdb(config_.target.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string message = PQerrorMessage(conn);
      absl::StripTrailingAsciiWhitespace(&message);
      PQfinish(conn);
      return absl::UnavailableError(absl::StrCat("postgresql: cannot connect: ", message));
    }
    return std::make_unique<PgConnection>(conn, IsolationSql(config_.pg_isolation),
                                          absl::Milliseconds(config_.txn_deadline_ms));
  }

 private:
  static std::string IsolationSql(const std::string& name) {
    if (name == "read_committed") return "READ COMMITTED";
    if (name == "repeatable_read") return "REPEATABLE READ";
    return "SERIALIZABLE";
  }

  const Config config_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> MakePostgresBackend(const Config& config) {
  if (config.pg_isolation != "serializable" && config.pg_isolation != "repeatable_read") {
    return absl::InvalidArgumentError(
        "--pg_isolation must be serializable or repeatable_read (the transactions read a row "
        "before updating it, which loses updates under read committed)");
  }
  return std::make_unique<PgBackend>(config);
}

#endif  // MERIDIAN_HAVE_LIBPQ

}  // namespace meridian::tools::tpcc
