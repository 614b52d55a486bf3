// sql_bench: what sql_lite costs over the raw SDK, operation by operation (issue target: point
// SELECT and INSERT within 1.2x of the raw SDK's latency at one client).
//
//   build/bench/sql_bench                        # 1 client, 5 s per measurement, 3 rounds
//   build/bench/sql_bench --seconds=3 --rounds=5 --json=sql.json
//
// The bench starts its own local cluster (bench/own_cluster.h), creates the SQL tables in the
// database under sql/bench/ and loads --rows rows, and lays out the same data for the SDK under
// raw/. Then, for each operation, it runs the SQL form and the SDK form of the same work
// alternately, --rounds times each, --seconds each, with --clients closed-loop clients:
//   point_select  SELECT v FROM kv WHERE id = @id (autocommit)  |  Client::Get of one key
//   insert        INSERT INTO kv (id, v) VALUES (@id, @v)        |  RunTransaction: Get (is the
//                 key free?) then Put, as an INSERT must check
//   interleaved   one transaction: INSERT a customer, 1 order,   |  RunTransaction: Get + Put of
//                 3 order lines (interleaved: one directory)     |  the same 5 keys
//   join3         customers JOIN orders JOIN lines for one       |  a strong read-only Scan of
//                 customer (1 + 3 orders + 9 lines)             |  the customer's key prefix
// Output: per operation and side the median over rounds of ops/s and p50/p90/p99 latency (and
// the range over rounds), and the SQL/SDK ratio of the p50 medians; --json=FILE writes the same.
// Every load loop is bounded by its time window; Ctrl-C stops the bench and its cluster.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_util.h"
#include "bench/own_cluster.h"
#include "common/random.h"
#include "meridian/client.h"
#include "meridian/sql.h"
#include "sql_lite/client_kv.h"

namespace meridian {
namespace {

using SteadyClock = std::chrono::steady_clock;
std::atomic<bool> g_stop{false};

[[noreturn]] void Die(const std::string& what) { bench::Die("sql_bench", what); }

struct Flags {
  int clients = 1;
  int seconds = 5;
  int rounds = 3;
  int rows = 1000;
  int customers = 100;
  int value_bytes = 256;
  int base_port = 25100;
  uint64_t seed = 1;
  std::string json;
  std::string dir_root;
};

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  bench::ParseFlagTable(
      "sql_bench", argc, argv,
      {{"--clients", &f.clients},
       {"--seconds", &f.seconds},
       {"--rounds", &f.rounds},
       {"--rows", &f.rows},
       {"--customers", &f.customers},
       {"--value_bytes", &f.value_bytes},
       {"--base_port", &f.base_port},
       {"--seed", &f.seed},
       {"--dir_root", &f.dir_root},
       {"--json", &f.json}},
      "usage: sql_bench [--clients=1] [--seconds=5] [--rounds=3] [--rows=1000]\n"
      "                 [--customers=100] [--value_bytes=256] [--base_port=25100]\n"
      "                 [--seed=1] [--dir_root=DIR] [--json=FILE]\n"
      "Starts a local cluster and compares SQL statements on sql_lite with the same work\n"
      "through the raw SDK: point SELECT, single-row INSERT, an interleaved parent+children\n"
      "INSERT and a 3-way join, alternating SQL and SDK runs of --seconds each, --rounds\n"
      "times; prints medians and ranges of throughput and latency percentiles.\n");
  if (f.clients < 1 || f.clients > 64 || f.seconds < 1 || f.rounds < 1 || f.rows < 1 ||
      f.customers < 1 || f.value_bytes < 1 || f.value_bytes > (64 << 10)) {
    Die("flags out of range (see --help)");
  }
  return f;
}

// One measured window of one side of one operation.
struct Window {
  double ops_per_s = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  int64_t errors = 0;
};

// An operation's two forms. Each is called by one client thread with that client's own state
// (a Session is not thread-safe) and a per-call sequence number; it returns the op's status.
struct Operation {
  std::string name;
  std::function<absl::Status(int client, int64_t seq)> sql;
  std::function<absl::Status(int client, int64_t seq)> sdk;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string RawCustomerKey(int64_t cid) { return absl::StrFormat("raw/c/%08d", cid); }

class SqlBench {
 public:
  explicit SqlBench(Flags flags) : flags_(std::move(flags)) {}

  void Run() {
    bench::OwnClusterOptions options;
    options.name = "sql_bench";
    options.dir_root = flags_.dir_root;
    options.base_port = flags_.base_port;
    options.seed = flags_.seed;
    own_.Start(options);
    sql::ClientKvOptions kv_options;
    kv_options.key_prefix = "sql/bench/";
    db_ = std::make_unique<sql::ClientKvDatabase>(&own_.client(), kv_options);
    for (int c = 0; c < flags_.clients; ++c) {
      sessions_.push_back(std::make_unique<sql::Session>(db_.get()));
    }
    Load();
    std::vector<Operation> ops = Operations();
    std::printf("\n%-13s %-4s %9s %8s %8s %8s %7s   (median of %d rounds; range)\n", "operation",
                "side", "ops/s", "p50 ms", "p90 ms", "p99 ms", "errors", flags_.rounds);
    for (const Operation& op : ops) {
      std::vector<Window> sql_windows;
      std::vector<Window> sdk_windows;
      for (int r = 0; r < flags_.rounds && !g_stop.load(); ++r) {
        sql_windows.push_back(Measure(op.sql));
        sdk_windows.push_back(Measure(op.sdk));
      }
      Summarize(op.name, sql_windows, sdk_windows);
    }
    WriteJson();
  }

 private:
  sql::Session& SessionOf(int client) { return *sessions_[client]; }

  absl::Status Exec(sql::Session& s, std::string_view statement, const sql::Params& p = {}) {
    absl::StatusOr<sql::ResultSet> r = s.Execute(statement, p);
    return r.ok() ? absl::OkStatus() : r.status();
  }

  std::string Value(int64_t seed) const {
    std::string v = absl::StrCat("v", seed, "-");
    v.resize(flags_.value_bytes, 'x');
    return v;
  }

  // The tables, --rows rows of kv and --customers customers with 3 orders of 3 lines each, in
  // both layouts.
  void Load() {
    sql::Session& s = SessionOf(0);
    for (const char* ddl :
         {"CREATE TABLE IF NOT EXISTS kv (id INT64 NOT NULL, v STRING(MAX), PRIMARY KEY (id))",
          "CREATE TABLE IF NOT EXISTS customers (cid INT64 NOT NULL, name STRING(MAX), "
          "PRIMARY KEY (cid))",
          "CREATE TABLE IF NOT EXISTS orders (cid INT64 NOT NULL, oid INT64 NOT NULL, "
          "amt INT64, PRIMARY KEY (cid, oid)) INTERLEAVE IN PARENT customers ON DELETE CASCADE",
          "CREATE TABLE IF NOT EXISTS lines (cid INT64 NOT NULL, oid INT64 NOT NULL, "
          "lid INT64 NOT NULL, item INT64, PRIMARY KEY (cid, oid, lid)) "
          "INTERLEAVE IN PARENT orders ON DELETE CASCADE"}) {
      if (absl::Status st = Exec(s, ddl); !st.ok()) Die(st.ToString());
    }
    std::printf("loading %d rows and %d customers (with 3 orders of 3 lines each)...\n",
                flags_.rows, flags_.customers);
    std::fflush(stdout);
    for (int64_t id = 0; id < flags_.rows; ++id) {
      const sql::Params p{{"id", sql::Value::Int64(id)}, {"v", sql::Value::String(Value(id))}};
      absl::Status st = Exec(s, "INSERT OR UPDATE INTO kv (id, v) VALUES (@id, @v)", p);
      if (st.ok()) st = own_.client().Put(absl::StrFormat("raw/kv/%08d", id), Value(id));
      if (!st.ok()) Die(absl::StrCat("loading: ", st.ToString()));
    }
    for (int64_t cid = 0; cid < flags_.customers; ++cid) {
      if (absl::Status st = InsertCustomerSql(s, cid); !st.ok()) Die(st.ToString());
      if (absl::Status st = InsertCustomerSdk(cid); !st.ok()) Die(st.ToString());
    }
  }

  // A customer with 3 orders of 3 lines (the load), or with 1 order of 3 lines (interleaved).
  absl::Status InsertCustomerSql(sql::Session& s, int64_t cid, int orders = 3) {
    return s.RunTransaction([&](sql::Transaction& txn) -> absl::Status {
      const sql::Params c{{"cid", sql::Value::Int64(cid)},
                          {"name", sql::Value::String(absl::StrCat("customer ", cid))}};
      absl::StatusOr<sql::ResultSet> r =
          txn.Execute("INSERT INTO customers (cid, name) VALUES (@cid, @name)", c);
      if (!r.ok()) return r.status();
      for (int64_t oid = 0; oid < orders; ++oid) {
        sql::Params o{{"cid", sql::Value::Int64(cid)}, {"oid", sql::Value::Int64(oid)}};
        r = txn.Execute("INSERT INTO orders (cid, oid, amt) VALUES (@cid, @oid, 10)", o);
        if (!r.ok()) return r.status();
        r = txn.Execute(
            "INSERT INTO lines (cid, oid, lid, item) VALUES (@cid, @oid, 0, 1), (@cid, @oid, 1, "
            "2), "
            "(@cid, @oid, 2, 3)",
            o);
        if (!r.ok()) return r.status();
      }
      return absl::OkStatus();
    });
  }

  // The same rows for the SDK: one key per row under the customer's prefix, each checked free.
  absl::Status InsertCustomerSdk(int64_t cid, int orders = 3) {
    std::vector<std::string> keys{RawCustomerKey(cid) + "/"};
    for (int oid = 0; oid < orders; ++oid) {
      keys.push_back(absl::StrFormat("%s/o%02d/", RawCustomerKey(cid), oid));
      for (int lid = 0; lid < 3; ++lid) {
        keys.push_back(absl::StrFormat("%s/o%02d/l%02d", RawCustomerKey(cid), oid, lid));
      }
    }
    absl::StatusOr<int64_t> ts = own_.client().RunTransaction([&](Transaction& txn) {
      for (const std::string& key : keys) {
        absl::StatusOr<std::optional<std::string>> v = txn.Get(key);
        if (!v.ok()) return v.status();
        if (v->has_value()) return absl::AlreadyExistsError(key);
        txn.Put(key, absl::StrCat("row ", key));
      }
      return absl::OkStatus();
    });
    return ts.ok() ? absl::OkStatus() : ts.status();
  }

  std::vector<Operation> Operations() {
    // New ids for inserts: above every loaded one, distinct per client and call.
    auto fresh = [this](int client, int64_t /*seq*/, int64_t base) {
      return base + static_cast<int64_t>(next_fresh_++) * 64 + client;
    };
    return {
        {"point_select",
         [this](int c, int64_t seq) {
           const int64_t id = (seq * 7919 + c) % flags_.rows;
           absl::StatusOr<sql::ResultSet> r = SessionOf(c).Execute(
               "SELECT v FROM kv WHERE id = @id", {{"id", sql::Value::Int64(id)}});
           if (!r.ok()) return r.status();
           return r->rows.size() == 1 ? absl::OkStatus() : absl::NotFoundError("no row");
         },
         [this](int c, int64_t seq) {
           const int64_t id = (seq * 7919 + c) % flags_.rows;
           absl::StatusOr<std::optional<std::string>> v =
               own_.client().Get(absl::StrFormat("raw/kv/%08d", id));
           if (!v.ok()) return v.status();
           return v->has_value() ? absl::OkStatus() : absl::NotFoundError("no row");
         }},
        {"insert",
         [this, fresh](int c, int64_t seq) {
           const int64_t id = fresh(c, seq, 1'000'000'000);
           return Exec(SessionOf(c), "INSERT INTO kv (id, v) VALUES (@id, @v)",
                       {{"id", sql::Value::Int64(id)}, {"v", sql::Value::String(Value(id))}});
         },
         [this, fresh](int c, int64_t seq) {
           const std::string key = absl::StrFormat("raw/kv/%016d", fresh(c, seq, 1'000'000'000));
           absl::StatusOr<int64_t> ts = own_.client().RunTransaction([&](Transaction& txn) {
             absl::StatusOr<std::optional<std::string>> v = txn.Get(key);
             if (!v.ok()) return v.status();
             if (v->has_value()) return absl::AlreadyExistsError(key);
             txn.Put(key, Value(0));
             return absl::OkStatus();
           });
           return ts.ok() ? absl::OkStatus() : ts.status();
         }},
        {"interleaved",
         [this, fresh](int c, int64_t seq) {
           return InsertCustomerSql(SessionOf(c), fresh(c, seq, 1'000'000), 1);
         },
         [this, fresh](int c, int64_t seq) {
           return InsertCustomerSdk(fresh(c, seq, 1'000'000), 1);
         }},
        {"join3",
         [this](int c, int64_t seq) {
           const int64_t cid = (seq * 31 + c) % flags_.customers;
           absl::StatusOr<sql::ResultSet> r = SessionOf(c).Execute(
               "SELECT c.name, o.oid, l.item FROM customers c JOIN orders o ON o.cid = c.cid "
               "JOIN lines l ON l.cid = o.cid AND l.oid = o.oid WHERE c.cid = @cid",
               {{"cid", sql::Value::Int64(cid)}});
           if (!r.ok()) return r.status();
           return r->rows.size() == 9 ? absl::OkStatus()
                                      : absl::InternalError(absl::StrCat(r->rows.size(), " rows"));
         },
         [this](int c, int64_t seq) {
           const int64_t cid = (seq * 31 + c) % flags_.customers;
           absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> ro = own_.client().BeginReadOnly();
           if (!ro.ok()) return ro.status();
           const std::string prefix = RawCustomerKey(cid) + "/";
           absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
               (*ro)->Scan(prefix, RawCustomerKey(cid) + "0", 100);
           if (!rows.ok()) return rows.status();
           return rows->size() == 13 ? absl::OkStatus()
                                     : absl::InternalError(absl::StrCat(rows->size(), " rows"));
         }},
    };
  }

  // Runs `fn` from --clients threads for --seconds; latency percentiles over every call.
  Window Measure(const std::function<absl::Status(int, int64_t)>& fn) {
    std::mutex mu;
    std::vector<int64_t> latencies_us;
    std::atomic<int64_t> errors{0};
    const auto start = SteadyClock::now();
    const auto end = start + std::chrono::seconds(flags_.seconds);
    std::vector<std::thread> threads;
    for (int c = 0; c < flags_.clients; ++c) {
      threads.emplace_back([&, c] {
        std::vector<int64_t> mine;
        for (int64_t seq = 0; SteadyClock::now() < end && !g_stop.load(); ++seq) {
          const auto t0 = SteadyClock::now();
          const absl::Status st = fn(c, seq);
          const auto t1 = SteadyClock::now();
          if (!st.ok()) {
            if (errors.fetch_add(1) < 3) std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
            continue;
          }
          mine.push_back(std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count());
        }
        std::lock_guard<std::mutex> lock(mu);
        latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
      });
    }
    for (std::thread& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    std::sort(latencies_us.begin(), latencies_us.end());
    return Window{.ops_per_s = latencies_us.size() / seconds,
                  .p50_ms = bench::PercentileMs(latencies_us, 0.50, 1000),
                  .p90_ms = bench::PercentileMs(latencies_us, 0.90, 1000),
                  .p99_ms = bench::PercentileMs(latencies_us, 0.99, 1000),
                  .errors = errors.load()};
  }

  struct Side {
    double ops_per_s, p50, p50_lo, p50_hi, p90, p99;
    int64_t errors;
  };

  static Side Reduce(const std::vector<Window>& w) {
    std::vector<double> ops, p50, p90, p99;
    int64_t errors = 0;
    for (const Window& x : w) {
      ops.push_back(x.ops_per_s);
      p50.push_back(x.p50_ms);
      p90.push_back(x.p90_ms);
      p99.push_back(x.p99_ms);
      errors += x.errors;
    }
    return Side{Median(ops),
                Median(p50),
                *std::min_element(p50.begin(), p50.end()),
                *std::max_element(p50.begin(), p50.end()),
                Median(p90),
                Median(p99),
                errors};
  }

  void Summarize(const std::string& name, const std::vector<Window>& sql_w,
                 const std::vector<Window>& sdk_w) {
    if (sql_w.empty() || sdk_w.empty()) return;
    const Side sql = Reduce(sql_w);
    const Side sdk = Reduce(sdk_w);
    for (const auto& [side, s] : {std::pair<const char*, const Side&>{"sql", sql}, {"sdk", sdk}}) {
      std::printf("%-13s %-4s %9.0f %8.2f %8.2f %8.2f %7lld   (p50 %.2f..%.2f)\n", name.c_str(),
                  side, s.ops_per_s, s.p50, s.p90, s.p99, static_cast<long long>(s.errors),
                  s.p50_lo, s.p50_hi);
    }
    const double ratio = sdk.p50 > 0 ? sql.p50 / sdk.p50 : 0;
    std::printf("%-13s SQL/SDK p50 latency %.2fx\n", name.c_str(), ratio);
    std::fflush(stdout);
    results_.push_back({name, sql, sdk, ratio});
  }

  void WriteJson() {
    if (flags_.json.empty()) return;
    std::ofstream out(flags_.json);
    out << "{\"bench\":\"sql_bench\",\"clients\":" << flags_.clients
        << ",\"seconds\":" << flags_.seconds << ",\"rounds\":" << flags_.rounds
        << ",\"operations\":[";
    for (size_t i = 0; i < results_.size(); ++i) {
      const Result& r = results_[i];
      out << (i ? "," : "") << "{\"name\":" << bench::JsonString(r.name)
          << ",\"sql_to_sdk_p50\":" << r.ratio;
      for (const auto& [side, s] :
           {std::pair<const char*, const Side&>{"sql", r.sql}, {"sdk", r.sdk}}) {
        out << ",\"" << side << "\":{\"ops_per_s\":" << s.ops_per_s << ",\"p50_ms\":" << s.p50
            << ",\"p50_min_ms\":" << s.p50_lo << ",\"p50_max_ms\":" << s.p50_hi
            << ",\"p90_ms\":" << s.p90 << ",\"p99_ms\":" << s.p99 << ",\"errors\":" << s.errors
            << "}";
      }
      out << "}";
    }
    out << "]}\n";
  }

  struct Result {
    std::string name;
    Side sql;
    Side sdk;
    double ratio;
  };

  const Flags flags_;
  bench::OwnCluster own_;
  std::unique_ptr<sql::ClientKvDatabase> db_;
  std::vector<std::unique_ptr<sql::Session>> sessions_;
  std::atomic<uint64_t> next_fresh_{0};
  std::vector<Result> results_;
};

}  // namespace
}  // namespace meridian

int main(int argc, char** argv) {
  std::signal(SIGINT, [](int) { meridian::g_stop = true; });
  meridian::SqlBench bench(meridian::ParseFlags(argc, argv));
  bench.Run();
  return 0;
}
