// Online index builds under concurrent writers (docs/sql.md "Schema changes").
//
// Seed: writer k draws its statements from std::mt19937_64(kSeed + k), kSeed = 19.
// Workload: table t (k INT64, v INT64, w STRING) starts with 60 rows; K = 3 writers, each a thread
//   with its own Session, run autocommit statements on keys 0..119 (INSERT; UPDATE of v, of w, of
//   the key; DELETE), a fixed number each, while CREATE [UNIQUE] INDEX t_v ON t (v) runs with
//   3-row chunks. For the unique index every v a writer writes is new, so the build must succeed.
// Interleaving: in WritersRunBetweenEveryStep the writers run a batch each, one after another, in
//   the build's progress callback, i.e. after every version step and every backfill chunk; the
//   store's clock is a counter, so a run is the same every time. In WritersRunFreely they run on
//   their threads at the same time as the build.
// Schema: the writers' statements lock the catalog's version row (NonUnique, Unique), or, where
//   the store honours commit bounds (…Leased), first attempts use a schema lease (catalog.h); the
//   store's clock is a counter, so a lease is never old by the clock and the bound alone (a commit
//   above it aborts) keeps a writer from using a version past the next one's effective time.
// Faults: none in the KV layer. --plant=skip_write_only (testing_plants.h) makes the build go
//   from DELETE_ONLY to the backfill, --plant=schema_change_ignores_leases registers versions
//   without the lease's delay: a ctest passes only when the checker then reports a row without
//   its entry.
// Checker: index_checker.h after the build and again after one more batch of writes; writers'
//   statements may fail only with ALREADY_EXISTS (a key taken).
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"
#include "tests/unit/sql_lite/index_checker.h"

namespace meridian::sql {
namespace {

constexpr uint64_t kSeed = 19;
constexpr int kWriters = 3;
constexpr int64_t kKeys = 120;
constexpr int64_t kInitialRows = 60;

// One writer's session and statement stream.
class Writer {
 public:
  Writer(KvDatabase* kv, int id, bool unique)
      : session_(kv), rng_(kSeed + id), id_(id), unique_(unique) {}

  void Run(int statements) {
    for (int i = 0; i < statements; ++i) Step();
  }
  // Statements that failed with anything but ALREADY_EXISTS.
  const std::vector<std::string>& errors() const { return errors_; }
  int64_t executed() const { return executed_; }

 private:
  Value NextV() {
    return unique_ ? Value::Int64(id_ * 1'000'000 + ++counter_) : Value::Int64(rng_() % 8);
  }

  void Step() {
    Params p{{"k", Value::Int64(rng_() % kKeys)},
             {"k2", Value::Int64(rng_() % kKeys)},
             {"v", NextV()},
             {"w", Value::String(absl::StrCat("w", rng_() % 100))}};
    const char* sql = nullptr;
    switch (rng_() % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
        sql = "INSERT INTO t (k, v, w) VALUES (@k, @v, @w)";
        break;
      case 4:
      case 5:
        sql = "UPDATE t SET v = @v WHERE k = @k";
        break;
      case 6:
        sql = "UPDATE t SET k = @k2 WHERE k = @k";
        break;
      case 7:
        sql = "UPDATE t SET w = @w WHERE k = @k";
        break;
      default:
        sql = "DELETE FROM t WHERE k = @k";
        break;
    }
    ++executed_;
    absl::StatusOr<ResultSet> r = session_.Execute(sql, p);
    if (!r.ok() && !absl::IsAlreadyExists(r.status())) {
      errors_.push_back(absl::StrCat(sql, ": ", r.status().ToString()));
    }
  }

  Session session_;
  std::mt19937_64 rng_;
  const int id_;
  const bool unique_;
  int64_t counter_ = 0;
  int64_t executed_ = 0;
  std::vector<std::string> errors_;
};

// Writer threads that run batches on request: in turn (RunInTurn) or all at once (StartAll).
class WriterThreads {
 public:
  WriterThreads(KvDatabase* kv, bool unique) : pending_(kWriters, 0) {
    for (int i = 0; i < kWriters; ++i) writers_.push_back(std::make_unique<Writer>(kv, i, unique));
    for (int i = 0; i < kWriters; ++i) threads_.emplace_back([this, i] { Loop(i); });
  }
  ~WriterThreads() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  // Writer 0 runs `n` statements, then writer 1, and so on; returns when all are done.
  void RunInTurn(int n) {
    for (int i = 0; i < kWriters; ++i) {
      Start(i, n);
      Wait(i);
    }
  }
  // Every writer runs `n` statements, at the same time as the others and the caller.
  void StartAll(int n) {
    for (int i = 0; i < kWriters; ++i) Start(i, n);
  }
  void WaitAll() {
    for (int i = 0; i < kWriters; ++i) Wait(i);
  }
  // Call when no batch runs.
  std::vector<std::string> Errors() const {
    std::vector<std::string> out;
    for (const auto& w : writers_) out.insert(out.end(), w->errors().begin(), w->errors().end());
    return out;
  }
  int64_t Executed() const {
    int64_t n = 0;
    for (const auto& w : writers_) n += w->executed();
    return n;
  }

 private:
  void Start(int i, int n) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_[i] = n;
    }
    cv_.notify_all();
  }
  void Wait(int i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return pending_[i] == 0; });
  }
  void Loop(int i) {
    while (true) {
      int n = 0;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return stop_ || pending_[i] > 0; });
        if (pending_[i] == 0) return;  // stopped
        n = pending_[i];
      }
      writers_[i]->Run(n);
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_[i] = 0;
      }
      cv_.notify_all();
    }
  }

  std::vector<std::unique_ptr<Writer>> writers_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> pending_;  // guarded by mu_: statements writer i still has to run
  bool stop_ = false;         // guarded by mu_
};

// (unique index, schema leases)
class OnlineIndexTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  void SetUp() override {
    Session setup(&kv_);
    ASSERT_TRUE(
        setup.Execute("CREATE TABLE t (k INT64 NOT NULL, v INT64, w STRING(MAX)) PRIMARY KEY (k)")
            .ok());
    for (int64_t k = 0; k < kInitialRows; ++k) {
      const int64_t v = unique() ? 1'000'000'000 + k : k % 8;
      ASSERT_TRUE(setup
                      .Execute("INSERT INTO t (k, v, w) VALUES (@k, @v, 'x')",
                               {{"k", Value::Int64(k * 2)}, {"v", Value::Int64(v)}})
                      .ok());
    }
  }
  bool unique() const { return std::get<0>(GetParam()); }
  std::string CreateIndex() const {
    return unique() ? "CREATE UNIQUE INDEX t_v ON t (v)" : "CREATE INDEX t_v ON t (v)";
  }
  void ExpectConsistent(const std::string& when) {
    const std::vector<std::string> problems = CheckIndex(kv_, "t", "t_v");
    EXPECT_TRUE(problems.empty()) << when << ":\n" << absl::StrJoin(problems, "\n");
  }

  std::atomic<int64_t> clock_{1'000'000};
  MemoryKv kv_{MemoryKvOptions{.now_us = [this] { return clock_.fetch_add(1); },
                               .max_attempts = 10,
                               .abort_every_first_attempt = false,
                               .commit_bounds = std::get<1>(GetParam())}};
};

TEST_P(OnlineIndexTest, WritersRunBetweenEveryStep) {
  WriterThreads writers(&kv_, unique());
  std::vector<std::string> steps;
  SessionOptions options;
  options.schema_change_chunk_rows = 3;
  options.on_schema_change = [&](const SchemaChangeProgress& p) {
    steps.push_back(p.step);
    writers.RunInTurn(3);
  };
  Session ddl(&kv_, options);
  const absl::StatusOr<ResultSet> created = ddl.Execute(CreateIndex());
  ASSERT_TRUE(created.ok()) << created.status();
  ExpectConsistent("after CREATE INDEX");
  writers.RunInTurn(10);
  ExpectConsistent("after more writes");
  EXPECT_TRUE(writers.Errors().empty()) << absl::StrJoin(writers.Errors(), "\n");
  // DELETE_ONLY, WRITE_ONLY, at least 20 backfill chunks (60 rows, 3 per chunk), BACKFILLED,
  // PUBLIC; writers ran after each.
  ASSERT_GE(steps.size(), 24u);
  EXPECT_EQ(steps[0], "DELETE_ONLY");
  EXPECT_EQ(steps[1], "WRITE_ONLY");
  EXPECT_EQ(steps[2], "backfill");
  EXPECT_EQ(steps[steps.size() - 2], "BACKFILLED");
  EXPECT_EQ(steps.back(), "PUBLIC");
  EXPECT_EQ(writers.Executed(), static_cast<int64_t>(steps.size()) * kWriters * 3 + kWriters * 10);
}

TEST_P(OnlineIndexTest, WritersRunFreely) {
  WriterThreads writers(&kv_, unique());
  SessionOptions options;
  options.schema_change_chunk_rows = 2;
  Session ddl(&kv_, options);
  writers.StartAll(150);
  const absl::StatusOr<ResultSet> created = ddl.Execute(CreateIndex());
  writers.WaitAll();
  ASSERT_TRUE(created.ok()) << created.status();
  ExpectConsistent("after CREATE INDEX and the writers");
  EXPECT_TRUE(writers.Errors().empty()) << absl::StrJoin(writers.Errors(), "\n");
}

INSTANTIATE_TEST_SUITE_P(Kinds, OnlineIndexTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const ::testing::TestParamInfo<std::tuple<bool, bool>>& info) {
                           return absl::StrCat(std::get<0>(info.param) ? "Unique" : "NonUnique",
                                               std::get<1>(info.param) ? "Leased" : "");
                         });

}  // namespace
}  // namespace meridian::sql
