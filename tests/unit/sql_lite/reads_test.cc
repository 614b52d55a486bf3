// What the executor reads: a LIMIT pushed into a single table's key-order scan (planner.h
// PushedLimit) reads, and in a read-write transaction locks, only about as far as the rows the
// query returns; a lookup join's point lookups are one GetMany for all the outer rows.
#include <string>

#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

// What read-write transactions read, counted.
struct ReadCounts {
  int64_t scanned_pairs = 0;   // pairs the Scans returned
  int64_t get_many_calls = 0;  // GetMany calls
  int64_t get_many_keys = 0;   // keys they asked for
};

// A read-write transaction that counts its Scans' pairs and its GetMany calls.
class CountingTransaction final : public KvTransaction {
 public:
  CountingTransaction(KvTransaction& inner, ReadCounts* counts) : inner_(inner), counts_(counts) {}
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key) override {
    return inner_.Get(key);
  }
  absl::StatusOr<std::vector<KvPair>> Scan(std::string_view start, std::string_view end,
                                           int64_t limit) override {
    absl::StatusOr<std::vector<KvPair>> r = inner_.Scan(start, end, limit);
    if (r.ok()) counts_->scanned_pairs += static_cast<int64_t>(r->size());
    return r;
  }
  absl::StatusOr<std::vector<std::optional<std::string>>> GetMany(
      const std::vector<std::string>& keys) override {
    ++counts_->get_many_calls;
    counts_->get_many_keys += static_cast<int64_t>(keys.size());
    return inner_.GetMany(keys);
  }
  void Put(std::string_view key, std::string_view value) override { inner_.Put(key, value); }
  void Delete(std::string_view key) override { inner_.Delete(key); }

 private:
  KvTransaction& inner_;
  ReadCounts* counts_;
};

class CountingKv final : public KvDatabase {
 public:
  explicit CountingKv(KvDatabase* inner) : inner_(inner) {}
  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override {
    return inner_->RunTransaction([&](KvTransaction& txn) {
      CountingTransaction counting(txn, &counts);
      return fn(counting);
    });
  }
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override {
    return inner_->RunReadOnly(bound, fn);
  }
  ReadCounts counts;

 private:
  KvDatabase* inner_;
};

class ReadsTest : public ::testing::Test {
 protected:
  void Exec(const std::string& sql, const Params& params = {}) {
    absl::StatusOr<ResultSet> r = session_.Execute(sql, params);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.status();
  }
  // The rows of `sql` run in a read-write transaction, with what it read counted afresh.
  ResultSet InTransaction(const std::string& sql) {
    counting_.counts = ReadCounts();
    ResultSet rows;
    const absl::Status s = session_.RunTransaction([&](Transaction& txn) -> absl::Status {
      absl::StatusOr<ResultSet> r = txn.Execute(sql);
      if (!r.ok()) return r.status();
      rows = *std::move(r);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << sql << ": " << s;
    return rows;
  }

  int64_t now_ = 1000;
  MemoryKv kv_{MemoryKvOptions{.now_us = [this] { return now_ += 10; },
                               .max_attempts = 10,
                               .abort_every_first_attempt = false}};
  CountingKv counting_{&kv_};
  Session session_{&counting_};
};

TEST_F(ReadsTest, ALimitStopsTheScanAtTheRowsTheQueryReturns) {
  Exec("CREATE TABLE t (k INT64 NOT NULL, v INT64, PRIMARY KEY (k))");
  for (int k = 0; k < 100; ++k) {
    Exec("INSERT INTO t (k, v) VALUES (@k, @v)",
         {{"k", Value::Int64(k)}, {"v", Value::Int64(k % 2)}});
  }
  ResultSet r = InTransaction("SELECT k FROM t WHERE v = 1 LIMIT 3 OFFSET 1");
  ASSERT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.rows[0][0].int64_value(), 3);
  EXPECT_EQ(r.rows[2][0].int64_value(), 7);
  EXPECT_LE(counting_.counts.scanned_pairs, 16) << "the scan went past the rows it needed";
  r = InTransaction("SELECT k FROM t WHERE v = 1 ORDER BY v LIMIT 3");  // a sort needs every row
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(counting_.counts.scanned_pairs, 100);
}

TEST_F(ReadsTest, ALookupJoinReadsEveryOuterRowsMatchInOneCall) {
  for (const char* sql : {"CREATE TABLE a (k INT64 NOT NULL, ref INT64, PRIMARY KEY (k))",
                          "CREATE TABLE b (k INT64 NOT NULL, w STRING(MAX), PRIMARY KEY (k))",
                          "INSERT INTO b (k, w) VALUES (1, 'one'), (2, 'two'), (4, 'four')",
                          "INSERT INTO a (k, ref) VALUES (10, 1), (11, 2), (12, 3), (13, NULL), "
                          "(14, 4), (15, 1)"}) {
    Exec(sql);
  }
  const ResultSet rows =
      InTransaction("SELECT a.k, b.w FROM a LEFT JOIN b ON b.k = a.ref ORDER BY a.k");
  ASSERT_EQ(rows.rows.size(), 6u);
  EXPECT_EQ(rows.rows[0][1].ToString(), "one");
  EXPECT_TRUE(rows.rows[2][1].is_null());  // ref 3: no row
  EXPECT_TRUE(rows.rows[3][1].is_null());  // ref NULL
  EXPECT_EQ(rows.rows[5][1].ToString(), "one");
  EXPECT_EQ(counting_.counts.get_many_calls, 1);
  EXPECT_EQ(counting_.counts.get_many_keys, 5);  // the NULL ref reads nothing
}

}  // namespace
}  // namespace meridian::sql
