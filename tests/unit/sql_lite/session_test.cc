#include <thread>

#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/error.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

ResultSet Must(absl::StatusOr<ResultSet> r) {
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : ResultSet();
}

int64_t Count(Session& s, const std::string& table) {
  ResultSet r = Must(s.Execute("SELECT COUNT(*) FROM " + table));
  return r.rows.empty() ? -1 : r.rows[0][0].int64_value();
}

class SessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Must(session_.Execute("CREATE TABLE t (k INT64 NOT NULL, v INT64) PRIMARY KEY (k)"));
    Must(session_.Execute("INSERT INTO t (k, v) VALUES (1, 10), (2, 20)"));
  }
  int64_t now_ = 1000;
  MemoryKv kv_{MemoryKvOptions{
      .now_us = [this] { return now_; }, .max_attempts = 10, .abort_every_first_attempt = false}};
  Session session_{&kv_};
};

TEST_F(SessionTest, ResultSetsAreTypedAndParametersBind) {
  ResultSet r = Must(
      session_.Execute("SELECT k, v * 1.5 AS x FROM t WHERE k = @key", {{"key", Value::Int64(2)}}));
  EXPECT_EQ(r.column_names, (std::vector<std::string>{"k", "x"}));
  EXPECT_EQ(r.column_types, (std::vector<Type>{Type::kInt64, Type::kFloat64}));
  ASSERT_EQ(r.rows.size(), 1u);
  EXPECT_EQ(r.rows[0][1], Value::Float64(30));
  EXPECT_EQ(Must(session_.Execute("UPDATE t SET v = v + 1")).rows_affected, 2);
}

TEST_F(SessionTest, ErrorsCarryTheirPosition) {
  absl::StatusOr<ResultSet> r = session_.Execute("SELECT k\nFROM t WHERE nope = 1");
  ASSERT_TRUE(absl::IsInvalidArgument(r.status()));
  ASSERT_TRUE(ErrorPosition(r.status()).has_value());
  EXPECT_EQ(ErrorPosition(r.status())->line, 2);
  EXPECT_EQ(ErrorPosition(r.status())->column, 14);
  r = session_.Execute("INSERT INTO t (k, v) VALUES (3, 0), (1, 0)");
  EXPECT_TRUE(absl::IsAlreadyExists(r.status())) << r.status();
  EXPECT_EQ(Count(session_, "t"), 2);  // the statement wrote nothing
}

TEST_F(SessionTest, RunTransactionRetriesAndIsAtomicPerStatement) {
  kv_.InjectAborts(2);
  int calls = 0;
  absl::Status s = session_.RunTransaction([&](Transaction& txn) -> absl::Status {
    ++calls;
    auto r = txn.Execute("SELECT v FROM t WHERE k = 1");
    if (!r.ok()) return r.status();
    const int64_t v = r->rows[0][0].int64_value();
    EXPECT_TRUE(absl::IsAlreadyExists(txn.Execute("INSERT INTO t (k) VALUES (3), (2)").status()));
    return txn.Execute("UPDATE t SET v = @v WHERE k = 2", {{"v", Value::Int64(v + 1)}}).status();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 2")).rows[0][0], Value::Int64(11));
  EXPECT_EQ(Count(session_, "t"), 2);
}

TEST_F(SessionTest, CommitFailsWhenWhatTheBlockReadChanged) {
  Session other(&kv_);
  Must(session_.Execute("BEGIN"));
  Must(session_.Execute("SELECT v FROM t WHERE k = 1"));
  Must(session_.Execute("UPDATE t SET v = 0 WHERE k = 2"));
  Must(other.Execute("UPDATE t SET v = 99 WHERE k = 1"));  // changes what the block read
  absl::StatusOr<ResultSet> commit = session_.Execute("COMMIT");
  EXPECT_TRUE(absl::IsAborted(commit.status())) << commit.status();
  EXPECT_FALSE(session_.in_transaction());
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 2")).rows[0][0], Value::Int64(20));
  // Unrelated writes do not abort it.
  Must(session_.Execute("BEGIN"));
  Must(session_.Execute("SELECT v FROM t WHERE k = 1"));
  Must(session_.Execute("UPDATE t SET v = 0 WHERE k = 2"));
  Must(other.Execute("INSERT INTO t (k, v) VALUES (5, 5)"));
  Must(session_.Execute("COMMIT"));
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 2")).rows[0][0], Value::Int64(0));
}

TEST_F(SessionTest, ReadTimestampAndStalenessReadThePast) {
  // After the CREATE TABLE of SetUp took effect (at 1 + the default 10 ms delay).
  now_ = 50'000;
  Must(session_.Execute("UPDATE t SET v = 11 WHERE k = 1"));  // commits at 50000
  Must(session_.Execute("SET READ_TIMESTAMP = 49999"));
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 1")).rows[0][0], Value::Int64(10));
  Must(session_.Execute("BEGIN READ ONLY"));
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 1")).rows[0][0], Value::Int64(10));
  Must(session_.Execute("COMMIT"));
  // Read-write statements ignore the bound.
  EXPECT_EQ(Must(session_.Execute("UPDATE t SET v = v + 1 WHERE k = 1")).rows_affected, 1);
  Must(session_.Execute("SET READ_TIMESTAMP = DEFAULT"));
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 1")).rows[0][0], Value::Int64(12));
  now_ = 90'000;
  Must(session_.Execute("SET STALENESS = 40001"));  // reads at 49999
  EXPECT_EQ(Must(session_.Execute("SELECT v FROM t WHERE k = 1")).rows[0][0], Value::Int64(10));
}

// Keys and rows past the servers' limits (kv.h) fail the statement before anything is written,
// naming the table or index; the transaction keeps what its earlier statements wrote.
TEST_F(SessionTest, KeysAndRowsTooLargeForTheServersAreRefused) {
  Must(session_.Execute(
      "CREATE TABLE s (name STRING(MAX) NOT NULL, body STRING(MAX), blob BYTES(MAX)) "
      "PRIMARY KEY (name)"));
  Must(session_.Execute("CREATE INDEX s_body ON s (body)"));
  const std::string long_key(kMaxSqlKeyBytes, 'k');
  absl::StatusOr<ResultSet> r =
      session_.Execute("INSERT INTO s (name) VALUES (@n)", {{"n", Value::String(long_key)}});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("the key of table s would be"), std::string::npos)
      << r.status();
  r = session_.Execute("INSERT INTO s (name, body) VALUES ('a', @b)",
                       {{"b", Value::String(std::string(kMaxSqlKeyBytes, 'b'))}});
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find("the key of index s_body"), std::string::npos) << r.status();
  const absl::Status in_txn = session_.RunTransaction([&](Transaction& txn) -> absl::Status {
    EXPECT_TRUE(txn.Execute("INSERT INTO s (name, body) VALUES ('ok', 'x')").ok());
    absl::StatusOr<ResultSet> big =
        txn.Execute("UPDATE s SET body = @b WHERE name = 'ok'",
                    {{"b", Value::String(std::string(kMaxSqlValueBytes, 'v'))}});
    EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument) << big.status();
    return absl::OkStatus();  // commit what the first statement wrote
  });
  ASSERT_TRUE(in_txn.ok()) << in_txn;
  EXPECT_EQ(Must(session_.Execute("SELECT name, body FROM s")).rows.size(), 1u);
  EXPECT_EQ(Count(session_, "s"), 1);
}

TEST(SessionConcurrencyTest, ConcurrentIncrementsAreSerializable) {
  MemoryKv kv;
  {
    Session setup(&kv);
    Must(setup.Execute("CREATE TABLE c (k INT64 NOT NULL, n INT64) PRIMARY KEY (k)"));
    Must(setup.Execute("INSERT INTO c (k, n) VALUES (1, 0)"));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&kv] {
      Session s(&kv);
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(s.RunTransaction([](Transaction& txn) -> absl::Status {
                       auto r = txn.Execute("SELECT n FROM c WHERE k = 1");
                       if (!r.ok()) return r.status();
                       return txn
                           .Execute("UPDATE c SET n = @n WHERE k = 1",
                                    {{"n", Value::Int64(r->rows[0][0].int64_value() + 1)}})
                           .status();
                     }).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  Session check(&kv);
  EXPECT_EQ(Must(check.Execute("SELECT n FROM c")).rows[0][0], Value::Int64(200));
}

}  // namespace
}  // namespace meridian::sql
