// The Meridian side of TPC-C (tpcc.h): sql_lite sessions over the SDK, database "tpcc" (keys
// under sql/tpcc/). Read-write transactions are Session::RunTransaction (strict two-phase locking,
// retried when wounded or aborted); read-only ones are BEGIN READ ONLY blocks, lock-free snapshot
// reads at a timestamp the servers pick.
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/client_kv.h"
#include "tools/tpcc.h"
#include "tools/tpcc_placement.h"

namespace meridian::tools::tpcc {
namespace {

constexpr char kKeyPrefix[] = "sql/tpcc/";
// Attempts of a read-only block whose servers were briefly unavailable (a leader change).
constexpr int kReadOnlyAttempts = 5;

bool Transient(const absl::Status& s) {
  return absl::IsAborted(s) || absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

class RwTxn : public Txn {
 public:
  explicit RwTxn(sql::Transaction& t) : t_(t) {}
  absl::StatusOr<sql::ResultSet> Execute(const std::string& statement,
                                         const sql::Params& params) override {
    return t_.Execute(statement, params);
  }

 private:
  sql::Transaction& t_;
};

class BlockTxn : public Txn {
 public:
  explicit BlockTxn(sql::Session& s) : s_(s) {}
  absl::StatusOr<sql::ResultSet> Execute(const std::string& statement,
                                         const sql::Params& params) override {
    return s_.Execute(statement, params);
  }

 private:
  sql::Session& s_;
};

class MeridianConnection : public Connection {
 public:
  explicit MeridianConnection(sql::KvDatabase* db) : session_(db) {}

  absl::Status Run(bool read_only, const std::function<absl::Status(Txn&)>& fn,
                   int* attempts) override {
    *attempts = 0;
    if (!read_only) {
      return session_.RunTransaction([&](sql::Transaction& t) {
        ++*attempts;
        RwTxn txn(t);
        return fn(txn);
      });
    }
    absl::Status s;
    for (int i = 0; i < kReadOnlyAttempts; ++i) {
      ++*attempts;
      s = ReadOnlyOnce(fn);
      if (!Transient(s)) return s;
    }
    return s;
  }

  absl::Status ExecuteAlone(const std::string& statement) override {
    return session_.Execute(statement).status();
  }

  // An autocommit point read goes to the group's leader as one request and is served at its last
  // commit without waiting out TrueTime (sql_lite/prefetch.h).
  absl::StatusOr<sql::ResultSet> ReadAlone(const std::string& statement,
                                           const sql::Params& params) override {
    absl::StatusOr<sql::ResultSet> r;
    for (int i = 0; i < kReadOnlyAttempts; ++i) {
      r = session_.Execute(statement, params);
      if (r.ok() || !Transient(r.status())) return r;
    }
    return r;
  }

 private:
  absl::Status ReadOnlyOnce(const std::function<absl::Status(Txn&)>& fn) {
    RETURN_IF_ERROR(session_.Execute("BEGIN READ ONLY").status());
    BlockTxn txn(session_);
    absl::Status s = fn(txn);
    if (!s.ok()) {
      (void)session_.Execute("ROLLBACK");
      return s;
    }
    return session_.Execute("COMMIT").status();
  }

  sql::Session session_;
};

class MeridianBackend : public Backend {
 public:
  MeridianBackend(Client& client, const Config& config)
      : client_(client), db_(&client, Options(config)) {}

  std::string Describe() const override { return "meridian (sql_lite, database tpcc)"; }

  absl::Status CreateSchema(const Config& config) override {
    (void)config;
    sql::Session session(&db_);
    for (const std::string& statement : SchemaStatements(false)) {
      RETURN_IF_ERROR(session.Execute(statement).status());
    }
    ASSIGN_OR_RETURN(sql::ResultSet existing,
                     session.Execute("SELECT w_id FROM warehouse LIMIT 1"));
    if (!existing.rows.empty()) {
      return absl::FailedPreconditionError(
          "database 'tpcc' (sql/tpcc/) already holds data; --load needs empty tables (drop them "
          "with: meridian sql --database=tpcc, DROP TABLE warehouse; DROP TABLE item)");
    }
    return absl::OkStatus();
  }

  absl::Status PlaceWarehouses(const Config& config) override {
    if (!config.spread) return absl::OkStatus();
    return SpreadWarehouses(client_, db_, kKeyPrefix, config.warehouses);
  }

  absl::StatusOr<std::unique_ptr<Connection>> Connect() override {
    return std::make_unique<MeridianConnection>(&db_);
  }

 private:
  static sql::ClientKvOptions Options(const Config& config) {
    sql::ClientKvOptions options;
    options.key_prefix = kKeyPrefix;
    options.transaction.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
    return options;
  }

  Client& client_;
  sql::ClientKvDatabase db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Backend>> MakeMeridianBackend(Client& client, const Config& config) {
  return std::make_unique<MeridianBackend>(client, config);
}

}  // namespace meridian::tools::tpcc
