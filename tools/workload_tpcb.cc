// `meridian workload tpcb`: pgbench's built-in "TPC-B (sort of)" transaction through sql_lite, as
// a throughput and latency benchmark with TPC-B's consistency check (workload.h).
//
// Schema (database "tpcb", key prefix sql/tpcb/), pgbench's four tables and sizes per scale
// factor S: S branches, 10 S tellers, A S accounts (A = --accounts_per_branch, 100,000 as in
// pgbench; tests use fewer), and history. pgbench's rule that teller t belongs to branch
// (t-1)/10+1 and account a to branch (a-1)/A+1 is made the key: tellers and accounts are
// interleaved in their branch, so a branch and everything it owns is one directory (one range,
// one group) and a teller's or account's lookup is a point read of (bid, id).
//   branches (bid, bbalance)                 PRIMARY KEY (bid)
//   tellers  (bid, tid, tbalance)            PRIMARY KEY (bid, tid)  INTERLEAVE IN branches
//   accounts (bid, aid, abalance)            PRIMARY KEY (bid, aid)  INTERLEAVE IN branches
//   history  (bid, tid, run, client, seq, aid, delta, mtime)
//                                            PRIMARY KEY (bid, run, client, seq)
//                                            INTERLEAVE IN branches
// A history row goes under the branch its transaction chose and updated (pgbench's history.bid),
// next to a row the transaction already holds a lock on; (run, client, seq) — run the start time
// of the run in microseconds — keeps the inserts of all clients and runs from colliding. pgbench's
// filler columns are left out (they are NULL or blank there and would only pad the rows).
//
// With --spread (the default), before the run each branch's directory becomes a range of its own
// (split at Session::KeyPrefix("branches", {bid})) and the branches are placed evenly over the
// groups and the servers leading them (tools/spread.h).
//
// Transaction, as pgbench's tpcb-like script (closed loop, no think time): aid uniform in
// 1..A*S, bid uniform in 1..S, tid uniform in 1..10*S, delta uniform in [-5000, 5000]; as in
// pgbench the chosen bid is independent of the account's and teller's own branches, which are
// derived from aid and tid to form their keys:
//   UPDATE accounts SET abalance = abalance + @delta WHERE bid = @abid AND aid = @aid;
//   SELECT abalance FROM accounts WHERE bid = @abid AND aid = @aid;
//   UPDATE tellers SET tbalance = tbalance + @delta WHERE bid = @tbid AND tid = @tid;
//   UPDATE branches SET bbalance = bbalance + @delta WHERE bid = @bid;
//   INSERT INTO history (...) VALUES (...);
// all in one Session::RunTransaction (retried when aborted).
//
// Checker (--check): in one read-only snapshot, sum(abalance) = sum(tbalance) = sum(bbalance) =
// sum(history.delta) (TPC-B's consistency conditions); "VIOLATION: ..." and exit 1 otherwise.
// --testing_skip_history plants a bug it must catch: the transaction writes no history row.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "meridian/sql.h"
#include "sql_lite/client_kv.h"
#include "sql_lite/encoding.h"
#include "tools/command.h"
#include "tools/latency.h"
#include "tools/spread.h"
#include "tools/workload.h"

namespace meridian::tools {
namespace {

constexpr char kKeyPrefix[] = "sql/tpcb/";
constexpr int64_t kTellersPerBranch = 10;
constexpr int64_t kRowsPerInsert = 500;
constexpr int kLoadThreads = 4;
constexpr int64_t kErrorsShown = 5;

constexpr const char* kCreate[] = {
    "CREATE TABLE IF NOT EXISTS branches (bid INT64 NOT NULL, bbalance INT64 NOT NULL, "
    "PRIMARY KEY (bid))",
    "CREATE TABLE IF NOT EXISTS tellers (bid INT64 NOT NULL, tid INT64 NOT NULL, "
    "tbalance INT64 NOT NULL, PRIMARY KEY (bid, tid)) INTERLEAVE IN PARENT branches",
    "CREATE TABLE IF NOT EXISTS accounts (bid INT64 NOT NULL, aid INT64 NOT NULL, "
    "abalance INT64 NOT NULL, PRIMARY KEY (bid, aid)) INTERLEAVE IN PARENT branches",
    "CREATE TABLE IF NOT EXISTS history (bid INT64 NOT NULL, run INT64 NOT NULL, "
    "client INT64 NOT NULL, seq INT64 NOT NULL, tid INT64 NOT NULL, aid INT64 NOT NULL, "
    "delta INT64 NOT NULL, mtime TIMESTAMP, PRIMARY KEY (bid, run, client, seq)) "
    "INTERLEAVE IN PARENT branches",
};

sql::Value Int(int64_t v) { return sql::Value::Int64(v); }

sql::ClientKvOptions DatabaseOptions(const WorkloadConfig& config) {
  sql::ClientKvOptions options;
  options.key_prefix = kKeyPrefix;
  options.transaction.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
  return options;
}

// Rows of one table to load: INSERT statements of up to kRowsPerInsert rows, row i (1-based)
// written by `row(i)` as "(v, v, ...)".
struct LoadTable {
  std::string insert;  // "INSERT INTO t (a, b) VALUES "
  int64_t rows;
  std::function<std::string(int64_t)> row;
};

// Inserts `table`'s rows with kLoadThreads threads, one transaction per batch, and prints
// progress each second. Returns the first error.
absl::Status LoadRows(sql::KvDatabase& db, const LoadTable& table, const std::string& name) {
  std::atomic<int64_t> next_batch{0};
  std::atomic<int64_t> loaded{0};
  absl::Mutex mu;
  absl::Status error;  // guarded by mu
  std::atomic<bool> failed{false};
  const int64_t batches = (table.rows + kRowsPerInsert - 1) / kRowsPerInsert;
  std::vector<std::thread> threads;
  for (int t = 0; t < std::min<int64_t>(kLoadThreads, batches); ++t) {
    threads.emplace_back([&] {
      sql::Session session(&db);
      for (int64_t b = next_batch++; b < batches && !failed.load(); b = next_batch++) {
        std::vector<std::string> values;
        const int64_t first = b * kRowsPerInsert + 1;
        const int64_t last = std::min(table.rows, first + kRowsPerInsert - 1);
        for (int64_t i = first; i <= last; ++i) values.push_back(table.row(i));
        absl::StatusOr<sql::ResultSet> r =
            session.Execute(absl::StrCat(table.insert, absl::StrJoin(values, ", ")));
        if (!r.ok()) {
          absl::MutexLock lock(&mu);
          if (error.ok()) error = r.status();
          failed = true;
          return;
        }
        loaded += last - first + 1;
      }
    });
  }
  const absl::Time start = absl::Now();
  absl::Notification done;
  std::thread progress([&] {
    while (!done.WaitForNotificationWithTimeout(absl::Seconds(1))) {
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
      std::printf("load %s: %lld / %lld rows, %.0f rows/s\n", name.c_str(),
                  static_cast<long long>(loaded.load()), static_cast<long long>(table.rows),
                  static_cast<double>(loaded.load()) / seconds);
      std::fflush(stdout);
    }
  });
  for (std::thread& t : threads) t.join();
  done.Notify();
  progress.join();
  absl::MutexLock lock(&mu);
  return error;
}

// --load: creates the tables and loads them; refuses when branches has rows (every other
// table's rows need a branch row, their interleaving parent).
absl::Status Load(sql::KvDatabase& db, const WorkloadConfig& config) {
  sql::Session session(&db);
  for (const char* statement : kCreate) {
    if (absl::StatusOr<sql::ResultSet> r = session.Execute(statement); !r.ok()) return r.status();
  }
  absl::StatusOr<sql::ResultSet> existing = session.Execute("SELECT bid FROM branches LIMIT 1");
  if (!existing.ok()) return existing.status();
  if (!existing->rows.empty()) {
    return absl::FailedPreconditionError(
        "database 'tpcb' (sql/tpcb/) already holds data; --load needs empty tables (drop them "
        "with: meridian sql --database=tpcb -e 'DROP TABLE history; DROP TABLE tellers; DROP "
        "TABLE accounts; DROP TABLE branches')");
  }
  const int64_t apb = config.tpcb_accounts_per_branch;
  const std::vector<std::pair<std::string, LoadTable>> tables = {
      {"branches",
       {"INSERT INTO branches (bid, bbalance) VALUES ", config.tpcb_scale,
        [](int64_t i) { return absl::StrCat("(", i, ", 0)"); }}},
      {"tellers",
       {"INSERT INTO tellers (bid, tid, tbalance) VALUES ", kTellersPerBranch * config.tpcb_scale,
        [](int64_t i) {
          return absl::StrCat("(", (i - 1) / kTellersPerBranch + 1, ", ", i, ", 0)");
        }}},
      {"accounts",
       {"INSERT INTO accounts (bid, aid, abalance) VALUES ", apb * config.tpcb_scale,
        [apb](int64_t i) { return absl::StrCat("(", (i - 1) / apb + 1, ", ", i, ", 0)"); }}},
  };
  const absl::Time start = absl::Now();
  int64_t total = 0;
  for (const auto& [name, table] : tables) {
    if (absl::Status s = LoadRows(db, table, name); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("loading ", name, ": ", s.message()));
    }
    total += table.rows;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("load: %lld rows (scale %lld, %lld accounts per branch) in %.1f s, %.0f rows/s\n",
              static_cast<long long>(total), static_cast<long long>(config.tpcb_scale),
              static_cast<long long>(apb), seconds, static_cast<double>(total) / seconds);
  std::fflush(stdout);
  return absl::OkStatus();
}

// --check: TPC-B's consistency conditions in one snapshot. Returns false on a violation (printed);
// an error when the sums could not be read.
absl::StatusOr<bool> Check(sql::KvDatabase& db) {
  sql::Session session(&db);
  if (absl::StatusOr<sql::ResultSet> r = session.Execute("BEGIN READ ONLY"); !r.ok()) {
    return r.status();
  }
  const std::vector<std::pair<const char*, const char*>> sums = {
      {"accounts", "SELECT COUNT(*), SUM(abalance) FROM accounts"},
      {"tellers", "SELECT COUNT(*), SUM(tbalance) FROM tellers"},
      {"branches", "SELECT COUNT(*), SUM(bbalance) FROM branches"},
      {"history", "SELECT COUNT(*), SUM(delta) FROM history"}};
  std::vector<int64_t> totals;
  std::vector<std::string> shown;
  for (const auto& [table, statement] : sums) {
    absl::StatusOr<sql::ResultSet> r = session.Execute(statement);
    if (!r.ok()) {
      (void)session.Execute("ROLLBACK");
      return r.status();
    }
    const std::vector<sql::Value>& row = r->rows.at(0);
    totals.push_back(row[1].is_null() ? 0 : row[1].int64_value());
    shown.push_back(absl::StrCat(table, ": ", row[0].int64_value(), " rows, sum ", totals.back()));
  }
  (void)session.Execute("COMMIT");
  std::printf("check: %s\n", absl::StrJoin(shown, "; ").c_str());
  if (std::all_of(totals.begin(), totals.end(), [&](int64_t t) { return t == totals[0]; })) {
    std::printf("check: ok (sum(abalance) = sum(tbalance) = sum(bbalance) = sum(delta))\n");
    return true;
  }
  std::printf(
      "VIOLATION: sum(abalance) %lld, sum(tbalance) %lld, sum(bbalance) %lld, "
      "sum(history.delta) %lld are not all equal\n",
      static_cast<long long>(totals[0]), static_cast<long long>(totals[1]),
      static_cast<long long>(totals[2]), static_cast<long long>(totals[3]));
  return false;
}

// The group holding `key` and its leader (0s when unknown).
std::pair<uint64_t, uint64_t> GroupAndLeader(const Topology& topology, const std::string& key) {
  for (const RangeInfo& range : topology.ranges) {
    if (range.start > key || (!range.end.empty() && key >= range.end)) continue;
    for (const GroupInfo& group : topology.groups) {
      if (group.id == range.group) return {group.id, group.leader};
    }
    return {range.group, 0};
  }
  return {0, 0};
}

// --spread: one range per branch (its directory: the branch, its tellers and accounts and the
// history rows under it), placed evenly over the groups and their leaders' servers. Prints where
// the branches and the catalog went: a retried attempt reads the catalog's version row under a
// lock (first attempts hold a schema lease instead, sql_lite/catalog.h), which brings the
// catalog's group into its commit.
absl::Status Spread(Client& client, sql::KvDatabase& db, const WorkloadConfig& config) {
  sql::Session session(&db);
  std::vector<std::string> bounds;  // the start of branch 1, 2, ..., scale + 1
  for (int64_t bid = 1; bid <= config.tpcb_scale + 1; ++bid) {
    absl::StatusOr<std::string> key = session.KeyPrefix("branches", {Int(bid)});
    if (!key.ok()) return key.status();
    bounds.push_back(absl::StrCat(kKeyPrefix, *key));
  }
  SpreadOptions options;
  options.keep_first = false;
  const absl::Time start = absl::Now();
  absl::StatusOr<SpreadResult> spread = SpreadPieces(client, bounds, options);
  if (!spread.ok()) {
    return absl::Status(spread.status().code(), absl::StrCat("spreading the branches over groups: ",
                                                             spread.status().message()));
  }
  absl::StatusOr<Topology> topology = client.GetTopology();
  if (!topology.ok()) return topology.status();
  const auto [catalog_group, catalog_leader] =
      GroupAndLeader(*topology, absl::StrCat(kKeyPrefix, sql::CatalogKey("version")));
  std::set<uint64_t> groups;
  for (const SpreadResult::Piece& piece : spread->pieces) groups.insert(piece.group);
  std::printf(
      "spread: %lld branches, a range each, over %zu groups (%d splits, %d moves, %.1f s); the "
      "catalog in group %llu, led by server %llu; branches by leader:\n%s\n",
      static_cast<long long>(config.tpcb_scale), groups.size(), spread->splits, spread->moves,
      absl::ToDoubleSeconds(absl::Now() - start), static_cast<unsigned long long>(catalog_group),
      static_cast<unsigned long long>(catalog_leader),
      DescribeLeaders(*spread, "branch", 1, "  ").c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

struct RunStats {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> retried{0};  // transactions that took more than one attempt
  std::atomic<int64_t> retries{0};  // attempts beyond the first
  absl::Mutex mu;
  std::vector<int64_t> latencies_us;  // of committed transactions; guarded by mu
};

// One client: pgbench's transaction, back to back, until `stop`.
void RunClient(sql::KvDatabase& db, const WorkloadConfig& config, int client, int64_t run,
               Random random, const std::atomic<bool>& stop, RunStats& stats) {
  sql::Session session(&db);
  const int64_t scale = config.tpcb_scale;
  const int64_t apb = config.tpcb_accounts_per_branch;
  for (int64_t seq = 0; !stop.load(); ++seq) {
    const int64_t aid = random.Range(1, apb * scale);
    const int64_t bid = random.Range(1, scale);
    const int64_t tid = random.Range(1, kTellersPerBranch * scale);
    const int64_t delta = random.Range(-5000, 5000);
    const sql::Params params = {{"aid", Int(aid)},
                                {"abid", Int((aid - 1) / apb + 1)},
                                {"bid", Int(bid)},
                                {"tid", Int(tid)},
                                {"tbid", Int((tid - 1) / kTellersPerBranch + 1)},
                                {"delta", Int(delta)},
                                {"run", Int(run)},
                                {"client", Int(client)},
                                {"seq", Int(seq)},
                                {"mtime", sql::Value::Timestamp(WallMicros())}};
    int attempts = 0;
    const absl::Time start = absl::Now();
    absl::Status s = session.RunTransaction([&](sql::Transaction& txn) -> absl::Status {
      ++attempts;
      std::vector<const char*> statements = {
          "UPDATE accounts SET abalance = abalance + @delta WHERE bid = @abid AND aid = @aid",
          "SELECT abalance FROM accounts WHERE bid = @abid AND aid = @aid",
          "UPDATE tellers SET tbalance = tbalance + @delta WHERE bid = @tbid AND tid = @tid",
          "UPDATE branches SET bbalance = bbalance + @delta WHERE bid = @bid"};
      if (!config.testing_tpcb_skip_history) {
        statements.push_back(
            "INSERT INTO history (bid, run, client, seq, tid, aid, delta, mtime) VALUES "
            "(@bid, @run, @client, @seq, @tid, @aid, @delta, @mtime)");
      }
      for (const char* statement : statements) {
        absl::StatusOr<sql::ResultSet> r = txn.Execute(statement, params);
        if (!r.ok()) return r.status();
      }
      return absl::OkStatus();
    });
    const int64_t latency_us = absl::ToInt64Microseconds(absl::Now() - start);
    if (attempts > 1) {
      ++stats.retried;
      stats.retries += attempts - 1;
    }
    if (!s.ok()) {
      if (stats.failed++ < kErrorsShown) {
        std::fprintf(stderr, "client %d: transaction failed: %s\n", client, s.ToString().c_str());
      }
      continue;
    }
    ++stats.ok;
    absl::MutexLock lock(&stats.mu);
    stats.latencies_us.push_back(latency_us);
  }
}

struct Summary {
  double seconds, tps, p50_ms, p90_ms, p99_ms;
  int64_t ok, failed, retried, retries;
};

Summary Summarize(RunStats& stats, double seconds) {
  std::vector<int64_t> latencies;
  {
    absl::MutexLock lock(&stats.mu);
    latencies = stats.latencies_us;
  }
  Summary s{};
  s.seconds = seconds;
  s.ok = stats.ok.load();
  s.failed = stats.failed.load();
  s.retried = stats.retried.load();
  s.retries = stats.retries.load();
  s.tps = seconds > 0 ? static_cast<double>(s.ok) / seconds : 0;
  s.p50_ms = PercentileMs(latencies, 50);
  s.p90_ms = PercentileMs(latencies, 90);
  s.p99_ms = PercentileMs(latencies, 99);
  return s;
}

absl::Status WriteJson(const std::string& path, const WorkloadConfig& config, const Summary& s) {
  std::ofstream out(path);
  out << absl::StrFormat(
      "{\"workload\": \"tpcb\", \"scale\": %d, \"accounts_per_branch\": %d, \"clients\": %d, "
      "\"duration_s\": %.3f, \"closed_loop\": true, \"think_time_ms\": 0, \"tps\": %.2f, "
      "\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f}, "
      "\"transactions\": {\"ok\": %d, \"failed\": %d, \"retried\": %d}, \"retries\": %d}\n",
      config.tpcb_scale, config.tpcb_accounts_per_branch, config.clients, s.seconds, s.tps,
      s.p50_ms, s.p90_ms, s.p99_ms, s.ok, s.failed, s.retried, s.retries);
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("could not write ", path));
  return absl::OkStatus();
}

// The timed run: --clients threads for --duration, progress each second, then the summary.
absl::Status Run(sql::KvDatabase& db, const WorkloadConfig& config) {
  std::printf("tpcb: %d clients for %s, scale %lld; closed loop, no think time\n", config.clients,
              absl::FormatDuration(config.duration).c_str(),
              static_cast<long long>(config.tpcb_scale));
  std::fflush(stdout);
  RunStats stats;
  std::atomic<bool> stop{false};
  Random seeds(config.seed);
  const int64_t run = WallMicros();
  std::vector<std::thread> threads;
  const absl::Time start = absl::Now();
  for (int c = 0; c < config.clients; ++c) {
    threads.emplace_back(
        [&, c, random = seeds.Fork()] { RunClient(db, config, c, run, random, stop, stats); });
  }
  const absl::Time end = start + config.duration;
  int64_t last_ok = 0;
  for (int second = 1; absl::Now() < end; ++second) {
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
    Summary now = Summarize(stats, absl::ToDoubleSeconds(absl::Now() - start));
    std::printf(
        "t=%ds tps=%lld (mean %.1f) p50=%.1fms p99=%.1fms ok=%lld failed=%lld "
        "retried=%lld\n",
        second, static_cast<long long>(now.ok - last_ok), now.tps, now.p50_ms, now.p99_ms,
        static_cast<long long>(now.ok), static_cast<long long>(now.failed),
        static_cast<long long>(now.retried));
    std::fflush(stdout);
    last_ok = now.ok;
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  const Summary s = Summarize(stats, absl::ToDoubleSeconds(absl::Now() - start));
  std::printf(
      "summary: closed loop, %d clients, no think time: tps=%.1f p50=%.1fms p90=%.1fms "
      "p99=%.1fms ok=%lld failed=%lld retried=%lld (retries %lld)\n",
      config.clients, s.tps, s.p50_ms, s.p90_ms, s.p99_ms, static_cast<long long>(s.ok),
      static_cast<long long>(s.failed), static_cast<long long>(s.retried),
      static_cast<long long>(s.retries));
  std::fflush(stdout);
  if (!config.json_path.empty()) return WriteJson(config.json_path, config, s);
  return absl::OkStatus();
}

}  // namespace

int RunTpcbWorkload(Client& client, const WorkloadConfig& config) {
  sql::ClientKvDatabase db(&client, DatabaseOptions(config));
  if (config.tpcb_load) {
    if (absl::Status s = Load(db, config); !s.ok()) {
      std::fprintf(stderr, "meridian workload tpcb: %s\n", s.ToString().c_str());
      return kExitError;
    }
  }
  if (config.spread && (config.tpcb_load || config.duration > absl::ZeroDuration())) {
    if (absl::Status s = Spread(client, db, config); !s.ok()) {
      std::fprintf(stderr, "meridian workload tpcb: %s\n", s.ToString().c_str());
      return kExitError;
    }
  }
  bool consistent = true;
  if (config.tpcb_check && config.tpcb_load) {
    absl::StatusOr<bool> ok = Check(db);
    if (!ok.ok()) {
      std::fprintf(stderr, "meridian workload tpcb: check: %s\n", ok.status().ToString().c_str());
      return kExitError;
    }
    consistent = *ok;
  }
  if (config.duration > absl::ZeroDuration()) {
    if (absl::Status s = Run(db, config); !s.ok()) {
      std::fprintf(stderr, "meridian workload tpcb: %s\n", s.ToString().c_str());
      return kExitError;
    }
  }
  if (config.tpcb_check && (!config.tpcb_load || config.duration > absl::ZeroDuration())) {
    absl::StatusOr<bool> ok = Check(db);
    if (!ok.ok()) {
      std::fprintf(stderr, "meridian workload tpcb: check: %s\n", ok.status().ToString().c_str());
      return kExitError;
    }
    consistent = consistent && *ok;
  }
  return consistent ? kExitOk : kExitError;
}

}  // namespace meridian::tools
