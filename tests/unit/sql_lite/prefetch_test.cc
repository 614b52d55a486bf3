// Session's point-read path for autocommit reads (sql_lite/prefetch.h): a point SELECT reads its
// keys in one KvDatabase::ReadKeys call and no read-only transaction, and still sees the latest
// data and schema, which the values it guessed its keys from may not hold.
#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"

namespace meridian::sql {
namespace {

// Counts what the session asks of the KV layer.
class CountingKv final : public KvDatabase {
 public:
  explicit CountingKv(KvDatabase* inner) : inner_(inner) {}
  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override {
    return inner_->RunTransaction(fn);
  }
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override {
    ++read_only_runs;
    return inner_->RunReadOnly(bound, fn);
  }
  absl::StatusOr<KvPointReads> ReadKeys(const ReadBound& bound,
                                        const std::vector<std::string>& keys) override {
    ++point_reads;
    return inner_->ReadKeys(bound, keys);
  }
  int read_only_runs = 0;
  int point_reads = 0;

 private:
  KvDatabase* inner_;
};

// Point reads as a cluster's single-group leader does them: at its last commit's timestamp.
class LastCommitKv final : public KvDatabase {
 public:
  explicit LastCommitKv(KvDatabase* inner) : inner_(inner) {}
  absl::StatusOr<int64_t> RunTransaction(const TransactionFn& fn) override {
    absl::StatusOr<int64_t> ts = inner_->RunTransaction(fn);
    if (ts.ok()) last_commit_ = std::max(last_commit_, *ts);
    return ts;
  }
  absl::StatusOr<int64_t> RunReadOnly(const ReadBound& bound, const SnapshotFn& fn) override {
    return inner_->RunReadOnly(bound, fn);
  }
  absl::StatusOr<KvPointReads> ReadKeys(const ReadBound& bound,
                                        const std::vector<std::string>& keys) override {
    if (bound.mode != ReadBound::Mode::kStrong) return inner_->ReadKeys(bound, keys);
    return inner_->ReadKeys(ReadBound::Exact(last_commit_), keys);
  }

 private:
  KvDatabase* inner_;
  int64_t last_commit_ = 0;
};

SessionOptions NoDelay() {
  SessionOptions options;
  options.schema_change_delay_us = 0;
  return options;
}

class PrefetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Exec(other_, "CREATE TABLE t (k INT64 NOT NULL, v STRING(MAX), PRIMARY KEY (k))");
    Exec(other_, "INSERT INTO t (k, v) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
  }
  static ResultSet Exec(Session& s, const std::string& sql) {
    absl::StatusOr<ResultSet> r = s.Execute(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
    return r.ok() ? *r : ResultSet();
  }
  // The one value a query returns, as text.
  std::string One(const std::string& sql) {
    ResultSet r = Exec(session_, sql);
    if (r.rows.size() != 1 || r.rows[0].size() != 1)
      return "<" + std::to_string(r.rows.size()) + " rows>";
    return r.rows[0][0].ToString();
  }

  int64_t now_ = 1000;
  MemoryKv kv_{MemoryKvOptions{.now_us = [this] { return now_ += 10; },
                               .max_attempts = 10,
                               .abort_every_first_attempt = false}};
  CountingKv counting_{&kv_};
  Session session_{&counting_, NoDelay()};
  Session other_{&kv_, NoDelay()};
};

TEST_F(PrefetchTest, APointSelectIsOneReadOfItsKeys) {
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 1"), "a");  // learns its keys
  counting_.point_reads = counting_.read_only_runs = 0;
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 2"), "b");
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 3"), "c");
  EXPECT_EQ(counting_.point_reads, 2);
  EXPECT_EQ(counting_.read_only_runs, 0);
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 4"), "<0 rows>");
}

TEST_F(PrefetchTest, ItReadsTheLatestValueNotTheOneItGuessedFrom) {
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 1"), "a");
  Exec(other_, "UPDATE t SET v = 'z' WHERE k = 1");
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 1"), "z");
  Exec(other_, "DELETE FROM t WHERE k = 1");
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 1"), "<0 rows>");
}

TEST_F(PrefetchTest, ItFollowsASchemaChangeMadeElsewhere) {
  EXPECT_EQ(One("SELECT v FROM t WHERE k = 1"), "a");
  Exec(other_, "DROP TABLE t");
  Exec(other_, "CREATE TABLE t (k INT64 NOT NULL, w INT64, PRIMARY KEY (k))");
  Exec(other_, "INSERT INTO t (k, w) VALUES (1, 7)");
  EXPECT_EQ(One("SELECT w FROM t WHERE k = 1"), "7");
  absl::StatusOr<ResultSet> r = session_.Execute("SELECT v FROM t WHERE k = 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("v"), std::string::npos) << r.status();
}

TEST_F(PrefetchTest, ScansRunAsReadOnlyTransactions) {
  EXPECT_EQ(One("SELECT COUNT(*) FROM t"), "3");
  counting_.point_reads = counting_.read_only_runs = 0;
  EXPECT_EQ(One("SELECT COUNT(*) FROM t WHERE v >= 'b'"), "2");
  EXPECT_EQ(counting_.read_only_runs, 1);
}

// A schema change takes effect some time after its commit (SessionOptions::schema_change_delay_us)
// and its statement returns once it has; a read at the group's last commit is below that time, and
// must not see the old schema.
TEST(PrefetchAtLastCommitTest, AReadAfterASchemaChangeSeesIt) {
  int64_t now = 1000;
  MemoryKv kv(MemoryKvOptions{.now_us = [&now] { return now += 10; },
                              .max_attempts = 10,
                              .abort_every_first_attempt = false});
  LastCommitKv last_commit(&kv);
  Session session(&last_commit);  // the default delay
  for (const char* sql :
       {"CREATE TABLE t (k INT64 NOT NULL, PRIMARY KEY (k))", "INSERT INTO t (k) VALUES (1)",
        "SELECT k FROM t WHERE k = 1", "CREATE TABLE d (k INT64 NOT NULL, PRIMARY KEY (k))",
        "SELECT k FROM d WHERE k = 1", "SELECT k FROM t WHERE k = 1"}) {
    absl::StatusOr<ResultSet> r = session.Execute(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status();
  }
}

}  // namespace
}  // namespace meridian::sql
