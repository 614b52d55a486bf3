// `meridian workload append --sql`: the list-append workload through SQL statements on sql_lite
// (append_backend.h), so that `meridian check-history` checks the SQL layer's transactions: its
// write buffer, its statement re-execution at COMMIT, and its retries, over real 2PC.
//
// Schema (database "append", key prefix sql/append/):
//   CREATE TABLE append_lists (k STRING(MAX) NOT NULL, v STRING(MAX) NOT NULL, PRIMARY KEY (k))
// A list is v: "" when empty, then ",1,5,..." — an append is
//   UPDATE append_lists SET v = v || @x WHERE k = @k        (@x = ",N")
// and a read is SELECT v FROM append_lists WHERE k = @k. Each worker runs half its read-write
// transactions through Session::RunTransaction (retried when aborted) and half as typed
// BEGIN ... COMMIT blocks (read from a snapshot, re-executed under locks at COMMIT); read-only
// transactions are autocommit SELECTs or BEGIN READ ONLY blocks.
//
// With --spread (the default) and several groups, Prepare splits the table's rows into up to
// three ranges at evenly spaced row keys and moves each range after the first to another group
// (tools/spread.h), so transactions span groups.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/random.h"
#include "meridian/sql.h"
#include "sql_lite/client_kv.h"
#include "tools/append_backend.h"
#include "tools/spread.h"

namespace meridian::tools {
namespace {

constexpr char kKeyPrefix[] = "sql/append/";
constexpr char kKeyEnd[] = "sql/append0";  // kKeyPrefix with its last byte + 1
constexpr char kSelect[] = "SELECT v FROM append_lists WHERE k = @k";
constexpr char kAppend[] = "UPDATE append_lists SET v = v || @x WHERE k = @k";
// A read of more keys than this scans the whole table instead of listing them in IN (...).
constexpr size_t kMaxInList = 3;

using ExecuteFn =
    std::function<absl::StatusOr<sql::ResultSet>(std::string_view, const sql::Params&)>;

// Carries out one read or append with `execute`; fills a read's list.
absl::Status RunOp(history::Op& op, const ExecuteFn& execute) {
  const sql::Params key{{"k", sql::Value::String(op.key)}};
  if (op.kind == history::OpKind::kRead) {
    absl::StatusOr<sql::ResultSet> r = execute(kSelect, key);
    if (!r.ok()) return r.status();
    if (r->rows.size() != 1) {
      return absl::DataLossError(absl::StrCat("the row of key ", op.key, " is missing"));
    }
    absl::StatusOr<std::vector<int64_t>> list =
        ParseAppendList(r->rows[0][0].string_value(), op.key);
    if (!list.ok()) return list.status();
    op.read = *std::move(list);
    return absl::OkStatus();
  }
  sql::Params params = key;
  params.emplace("x", sql::Value::String(absl::StrCat(",", op.value)));
  absl::StatusOr<sql::ResultSet> r = execute(kAppend, params);
  if (!r.ok()) return r.status();
  if (r->rows_affected != 1) {
    return absl::DataLossError(absl::StrCat("the row of key ", op.key, " is missing"));
  }
  return absl::OkStatus();
}

// Fills every read of `ops` from rows (k, v) of one snapshot.
absl::Status FillReads(const sql::ResultSet& rows, std::vector<history::Op>& ops) {
  std::map<std::string, std::string> by_key;
  for (const std::vector<sql::Value>& row : rows.rows) {
    by_key[row[0].string_value()] = row[1].string_value();
  }
  for (history::Op& op : ops) {
    auto it = by_key.find(op.key);
    if (it == by_key.end()) {
      return absl::DataLossError(absl::StrCat("the row of key ", op.key, " is missing"));
    }
    absl::StatusOr<std::vector<int64_t>> list = ParseAppendList(it->second, op.key);
    if (!list.ok()) return list.status();
    op.read = *std::move(list);
  }
  return absl::OkStatus();
}

class SqlAppendWorker final : public AppendWorker {
 public:
  SqlAppendWorker(sql::KvDatabase* db, uint64_t seed) : session_(db), random_(seed) {}

  absl::StatusOr<AppendOutcome> ReadWrite(const std::vector<history::Op>& ops,
                                          int* attempts) override {
    AppendOutcome outcome;
    if (random_.Bernoulli(0.5)) {
      absl::Status s = session_.RunTransaction([&](sql::Transaction& txn) -> absl::Status {
        ++*attempts;
        outcome.ops = ops;
        for (history::Op& op : outcome.ops) {
          absl::Status step = RunOp(op, [&](std::string_view statement, const sql::Params& p) {
            return txn.Execute(statement, p);
          });
          if (!step.ok()) return step;
        }
        return absl::OkStatus();
      });
      if (!s.ok()) return s;
      return outcome;
    }
    *attempts = 1;
    outcome.ops = ops;
    if (absl::Status s = Block("BEGIN", outcome.ops); !s.ok()) return s;
    return outcome;
  }

  absl::StatusOr<AppendOutcome> ReadOnly(const std::vector<history::Op>& ops) override {
    AppendOutcome outcome{.ops = ops, .ts = std::nullopt};
    if (ops.size() <= kMaxInList && random_.Bernoulli(0.5)) {
      if (absl::Status s = Block("BEGIN READ ONLY", outcome.ops); !s.ok()) return s;
      return outcome;
    }
    std::string sql = "SELECT k, v FROM append_lists";
    sql::Params params;
    if (ops.size() <= kMaxInList) {
      std::vector<std::string> names;
      for (size_t i = 0; i < ops.size(); ++i) {
        names.push_back(absl::StrCat("@k", i));
        params.emplace(absl::StrCat("k", i), sql::Value::String(ops[i].key));
      }
      absl::StrAppend(&sql, " WHERE k IN (", absl::StrJoin(names, ", "), ")");
    }
    absl::StatusOr<sql::ResultSet> rows = session_.Execute(sql, params);
    if (!rows.ok()) return rows.status();
    if (absl::Status s = FillReads(*rows, outcome.ops); !s.ok()) return s;
    return outcome;
  }

 private:
  // `begin`, one statement per op, COMMIT, typed as a shell user would; ROLLBACK after an error
  // before COMMIT (the transaction then certainly did not commit).
  absl::Status Block(const char* begin, std::vector<history::Op>& ops) {
    if (absl::StatusOr<sql::ResultSet> r = session_.Execute(begin); !r.ok()) return r.status();
    for (history::Op& op : ops) {
      absl::Status s = RunOp(op, [&](std::string_view statement, const sql::Params& p) {
        return session_.Execute(statement, p);
      });
      if (!s.ok()) {
        (void)session_.Execute("ROLLBACK");
        return s;
      }
    }
    absl::StatusOr<sql::ResultSet> committed = session_.Execute("COMMIT");
    return committed.ok() ? absl::OkStatus() : committed.status();
  }

  sql::Session session_;
  Random random_;
};

// Splits the table's rows into up to three ranges and moves each after the first to its own
// group (see the top of this file). Returns where they went.
absl::StatusOr<SpreadResult> SpreadRows(Client& client) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> pairs =
      client.Scan(kKeyPrefix, kKeyEnd, 1'000'000);
  if (!pairs.ok()) return pairs.status();
  const std::string catalog = absl::StrCat(kKeyPrefix, std::string(8, '\0'));
  std::vector<std::string> rows;
  for (const auto& [key, value] : *pairs) {
    if (!absl::StartsWith(key, catalog)) rows.push_back(key);
  }
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  const size_t pieces = std::min<size_t>({3, topology->groups.size(), rows.size()});
  if (pieces == 0) return SpreadResult{};
  // Piece 0 stays with the catalog (SpreadOptions::keep_first).
  std::vector<std::string> bounds;
  for (size_t i = 0; i < pieces; ++i) bounds.push_back(rows[i * rows.size() / pieces]);
  bounds.push_back(kKeyEnd);
  return SpreadPieces(client, bounds);
}

class SqlAppendBackend final : public AppendBackend {
 public:
  SqlAppendBackend(Client& client, const WorkloadConfig& config)
      : client_(client), config_(config), db_(&client, Options(config)) {}

  absl::StatusOr<std::vector<std::string>> Prepare(int count) override {
    sql::Session session(&db_);
    for (const char* statement :
         {"CREATE TABLE IF NOT EXISTS append_lists (k STRING(MAX) NOT NULL, "
          "v STRING(MAX) NOT NULL, PRIMARY KEY (k))",
          "DELETE FROM append_lists"}) {
      if (absl::StatusOr<sql::ResultSet> r = session.Execute(statement); !r.ok()) return r.status();
    }
    std::vector<std::string> keys;
    for (int i = 0; i < count; ++i) keys.push_back(absl::StrCat("k", i));
    for (size_t first = 0; first < keys.size(); first += 200) {
      std::vector<std::string> values;
      for (size_t i = first; i < std::min(keys.size(), first + 200); ++i) {
        values.push_back(absl::StrCat("('", keys[i], "', '')"));
      }
      absl::StatusOr<sql::ResultSet> r = session.Execute(
          absl::StrCat("INSERT INTO append_lists (k, v) VALUES ", absl::StrJoin(values, ", ")));
      if (!r.ok()) return r.status();
    }
    std::set<uint64_t> groups;
    SpreadResult spread;
    if (config_.spread) {
      absl::StatusOr<SpreadResult> placed = SpreadRows(client_);
      if (!placed.ok()) {
        return absl::Status(
            placed.status().code(),
            absl::StrCat("spreading the table over groups: ", placed.status().message()));
      }
      spread = *std::move(placed);
      for (const SpreadResult::Piece& piece : spread.pieces) groups.insert(piece.group);
    }
    std::printf("append --sql: table append_lists (database under %s), %d rows in group(s) %s\n",
                kKeyPrefix, count,
                groups.empty() ? "as placed" : absl::StrJoin(groups, ",").c_str());
    if (!spread.pieces.empty()) {
      std::printf("append --sql: leaders of its pieces:\n%s\n",
                  DescribeLeaders(spread, "piece", 1, "  ").c_str());
    }
    return keys;
  }

  std::unique_ptr<AppendWorker> NewWorker() override {
    return std::make_unique<SqlAppendWorker>(&db_, config_.seed * 1'000 + workers_++);
  }

 private:
  static sql::ClientKvOptions Options(const WorkloadConfig& config) {
    sql::ClientKvOptions options;
    options.key_prefix = kKeyPrefix;
    options.transaction.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
    options.testing_unlocked_reads = config.testing_sql_unlocked_reads;
    return options;
  }

  Client& client_;
  const WorkloadConfig config_;
  sql::ClientKvDatabase db_;
  std::atomic<uint64_t> workers_{0};
};

}  // namespace

std::unique_ptr<AppendBackend> NewSqlAppendBackend(Client& client, const WorkloadConfig& config) {
  return std::make_unique<SqlAppendBackend>(client, config);
}

}  // namespace meridian::tools
