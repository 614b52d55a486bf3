// What the executor reads: a LIMIT pushed into a single table's key-order scan (planner.h
// PushedLimit) reads, and in a read-write transaction locks, only about as far as the rows the
// query returns; a lookup join's point lookups are one GetMany for all the outer rows.
#include <string>

#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

// A read-write transaction that counts the pairs its Scans return.
class CountingTransaction final : public KvTransaction {
 public:
  CountingTransaction(KvTransaction& inner, int64_t* pairs) : inner_(inner), pairs_(pairs) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    return inner_.Get(key);
  }
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override {
    absl::StatusOr<std::vector<KvPair>> r = inner_.Scan(start, end, limit);
    if (r.ok()) *pairs_ += static_cast<int64_t>(r->size());
    return r;
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys) override {
    ++get_many_calls;
    get_many_keys += static_cast<int64_t>(keys.size());
    return inner_.GetMany(keys);
  }
  void Put(std::string_view key, std::string_view value) override { inner_.Put(key, value); }
  static inline int64_t get_many_calls = 0;
  static inline int64_t get_many_keys = 0;
  void Delete(std::string_view key) override { inner_.Delete(key); }

 private:
  KvTransaction& inner_;
  int64_t* pairs_;
};

class CountingKv final : public KvDatabase {
 public:
  explicit CountingKv(KvDatabase* inner) : inner_(inner) {}
  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override {
    return inner_->RunTransaction([&](KvTransaction& txn) {
      CountingTransaction counting(txn, &scanned_pairs);
      return fn(counting);
    });
  }
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override {
    return inner_->RunReadOnly(bound, fn);
  }
  int64_t scanned_pairs = 0;

 private:
  KvDatabase* inner_;
};

// The rows of `sql` run in a read-write transaction.
ResultSet InTransaction(Session& session, const std::string& sql) {
  ResultSet rows;
  const absl::Status s = session.RunTransaction([&](Transaction& txn) -> absl::Status {
    absl::StatusOr<ResultSet> r = txn.Execute(sql);
    if (!r.ok()) return r.status();
    rows = *std::move(r);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << sql << ": " << s;
  return rows;
}

TEST(LimitPushdownTest, AScanStopsAtTheRowsTheQueryReturns) {
  int64_t now = 1000;
  MemoryKv kv(MemoryKvOptions{.now_us = [&now] { return now += 10; },
                              .max_attempts = 10,
                              .abort_every_first_attempt = false});
  CountingKv counting(&kv);
  Session session(&counting);
  ASSERT_TRUE(session.Execute("CREATE TABLE t (k INT64 NOT NULL, v INT64, PRIMARY KEY (k))").ok());
  for (int k = 0; k < 100; ++k) {
    ASSERT_TRUE(session
                    .Execute("INSERT INTO t (k, v) VALUES (@k, @v)",
                             {{"k", Value::Int64(k)}, {"v", Value::Int64(k % 2)}})
                    .ok());
  }
  // Returns the rows of `sql` run in a read-write transaction; `pairs` gets what it scanned.
  auto run = [&](const std::string& sql, int64_t* pairs) {
    counting.scanned_pairs = 0;
    ResultSet rows = InTransaction(session, sql);
    *pairs = counting.scanned_pairs;
    return rows;
  };
  int64_t pairs = 0;
  ResultSet r = run("SELECT k FROM t WHERE v = 1 LIMIT 3 OFFSET 1", &pairs);
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0][0].int64_value(), 3);
  EXPECT_EQ(r.rows[2][0].int64_value(), 7);
  EXPECT_LE(pairs, 16) << "the scan went past the rows it needed";
  r = run("SELECT k FROM t WHERE v = 1 ORDER BY v LIMIT 3", &pairs);  // a sort needs every row
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(pairs, 100);
}

TEST(BatchedLookupTest, ALookupJoinReadsEveryOuterRowsMatchInOneCall) {
  int64_t now = 1000;
  MemoryKv kv(MemoryKvOptions{.now_us = [&now] { return now += 10; },
                              .max_attempts = 10,
                              .abort_every_first_attempt = false});
  CountingKv counting(&kv);
  Session session(&counting);
  for (const char* sql : {"CREATE TABLE a (k INT64 NOT NULL, ref INT64, PRIMARY KEY (k))",
                          "CREATE TABLE b (k INT64 NOT NULL, w STRING(MAX), PRIMARY KEY (k))",
                          "INSERT INTO b (k, w) VALUES (1, 'one'), (2, 'two'), (4, 'four')",
                          "INSERT INTO a (k, ref) VALUES (10, 1), (11, 2), (12, 3), (13, NULL), "
                          "(14, 4), (15, 1)"}) {
    ASSERT_TRUE(session.Execute(sql).ok()) << sql;
  }
  CountingTransaction::get_many_calls = CountingTransaction::get_many_keys = 0;
  const ResultSet rows =
      InTransaction(session, "SELECT a.k, b.w FROM a LEFT JOIN b ON b.k = a.ref ORDER BY a.k");
  ASSERT_EQ(rows.rows.size(), 6u);
  EXPECT_EQ(rows.rows[0][1].ToString(), "one");
  EXPECT_TRUE(rows.rows[2][1].is_null());  // ref 3: no row
  EXPECT_TRUE(rows.rows[3][1].is_null());  // ref NULL
  EXPECT_EQ(rows.rows[5][1].ToString(), "one");
  EXPECT_EQ(CountingTransaction::get_many_calls, 1);
  EXPECT_EQ(CountingTransaction::get_many_keys, 5);  // the NULL ref reads nothing
}

}  // namespace
}  // namespace meridian::sql
