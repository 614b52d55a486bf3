// Schema changes at a timestamp and the failure paths of index builds (docs/sql.md "Schema
// changes"), on the in-memory KV with a counter for a clock, so every run is the same.
//
// FutureSchemaTest: DDL with a 1 s delay; snapshots (SET READ_TIMESTAMP) just before and at each
//   version's effective timestamp must see the schema in effect there, and a write between a
//   change's registration and its effect must use the new schema and commit after it. Checker:
//   the tables, EXPLAIN lines and rows such reads return. Plant: --plant=snapshot_uses_pending_
//   schema (snapshots use a registered version before it takes effect); its ctest passes only
//   when a check here fails with "is not the one in effect".
// SchemaChangeTest: a duplicate for a unique index written during the build, DROP INDEX during a
//   build, DROP TABLE of an interleaved table, DDL inside transactions, a build on an empty table.
//   Checker: statuses, EXPLAIN, and the KV pairs left under the dropped objects' ids.
#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "meridian/sql.h"
#include "sql_lite/memory_kv.h"
#include "tests/unit/sql_lite/index_checker.h"

namespace meridian::sql {
namespace {

ResultSet Must(absl::StatusOr<ResultSet> r) {
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : ResultSet();
}

std::string Lines(const ResultSet& r) {
  std::vector<std::string> lines;
  for (const auto& row : r.rows) {
    std::vector<std::string> values;
    for (const Value& v : row) values.push_back(v.ToString());
    lines.push_back(absl::StrJoin(values, " "));
  }
  return absl::StrJoin(lines, "\n");
}

class SchemaChangeTestBase : public ::testing::Test {
 protected:
  SessionOptions Options(int64_t delay_us) {
    SessionOptions options;
    options.schema_change_delay_us = delay_us;
    options.schema_change_chunk_rows = 3;
    options.on_schema_change = [this](const SchemaChangeProgress& p) {
      steps_.push_back(p);
      if (hook_) hook_(p);
    };
    return options;
  }
  std::vector<std::string> StepNames() const {
    std::vector<std::string> out;
    for (const SchemaChangeProgress& p : steps_) out.push_back(p.step);
    return out;
  }
  // `sql` in reader_, at timestamp `ts`.
  absl::StatusOr<ResultSet> At(int64_t ts, const std::string& sql) {
    Must(reader_.Execute("SET READ_TIMESTAMP = @ts", {{"ts", Value::Int64(ts)}}));
    absl::StatusOr<ResultSet> r = reader_.Execute(sql);
    Must(reader_.Execute("SET READ_TIMESTAMP = DEFAULT"));
    return r;
  }

  std::atomic<int64_t> clock_{1'000'000};
  MemoryKv kv_{MemoryKvOptions{.now_us = [this] { return clock_.fetch_add(1); },
                               .max_attempts = 10,
                               .abort_every_first_attempt = false}};
  std::vector<SchemaChangeProgress> steps_;
  std::function<void(const SchemaChangeProgress&)> hook_;
  Session reader_{&kv_};
  Session other_{&kv_};
};

class FutureSchemaTest : public SchemaChangeTestBase {
 protected:
  // The effective timestamp of the last version step named `step`.
  int64_t Effective(const std::string& step) const {
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) {
      if (it->step == step && it->schema_version > 0) return it->effective_ts;
    }
    ADD_FAILURE() << "no step " << step;
    return 0;
  }
  // The last line of EXPLAIN `sql` at `ts`.
  std::string AccessPathAt(int64_t ts, const std::string& sql) {
    ResultSet r = Must(At(ts, "EXPLAIN " + sql));
    return r.rows.empty() ? "" : r.rows.back()[0].string_value();
  }

  Session ddl_{&kv_, Options(1'000'000)};
};

TEST_F(FutureSchemaTest, ASnapshotUsesTheSchemaInEffectAtItsTimestamp) {
  Must(ddl_.Execute("CREATE TABLE t (k INT64 NOT NULL, v INT64) PRIMARY KEY (k)"));
  const int64_t created = Effective("CREATED");
  EXPECT_FALSE(At(created - 1, "SELECT COUNT(*) FROM t").ok())
      << "the schema at timestamp " << created - 1
      << " is not the one in effect: it has table t, created at " << created;
  EXPECT_EQ(Lines(Must(At(created, "SELECT COUNT(*) FROM t"))), "0");
  Must(ddl_.Execute("INSERT INTO t (k, v) VALUES (1, 1), (2, 0), (3, 1), (4, 0)"));
  Must(ddl_.Execute("CREATE INDEX t_v ON t (v)"));
  const std::string query = "SELECT k FROM t WHERE v = 1";
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {Effective("DELETE_ONLY") - 1, "    FullScan t"},
      {Effective("DELETE_ONLY"), "    FullScan t (not public: t_v DELETE_ONLY)"},
      {Effective("WRITE_ONLY"), "    FullScan t (not public: t_v WRITE_ONLY)"},
      {Effective("BACKFILLED"), "    FullScan t (not public: t_v BACKFILLED)"},
      {Effective("PUBLIC") - 1, "    FullScan t (not public: t_v BACKFILLED)"},
      {Effective("PUBLIC"), "    IndexScan t USING t_v [(v = 1)]"}};
  for (const auto& [ts, path] : expected) {
    EXPECT_EQ(AccessPathAt(ts, query), path)
        << "the schema at timestamp " << ts << " is not the one in effect";
    EXPECT_EQ(Lines(Must(At(ts, query + " ORDER BY k"))), "1\n3") << ts;
  }
  const int64_t before_drop = Effective("PUBLIC");
  Must(ddl_.Execute("DROP INDEX t_v"));
  EXPECT_EQ(AccessPathAt(Effective("ABSENT") - 1, query),
            "    FullScan t (not public: t_v DELETE_ONLY)")
      << "the schema at timestamp " << Effective("ABSENT") - 1 << " is not the one in effect";
  EXPECT_EQ(AccessPathAt(Effective("ABSENT"), query), "    FullScan t");
  // The dropped index's entries are gone now, but not at timestamps before the drop.
  EXPECT_EQ(AccessPathAt(before_drop, query), "    IndexScan t USING t_v [(v = 1)]");
  EXPECT_EQ(Lines(Must(At(before_drop, query + " ORDER BY k"))), "1\n3");
}

TEST_F(FutureSchemaTest, AWriteBeforeTheChangeTakesEffectWaitsAndUsesIt) {
  std::string seen_before;
  hook_ = [&](const SchemaChangeProgress& p) {
    if (p.step != "CREATED") return;
    // Registered, not yet in effect: a snapshot now still has no table t ...
    seen_before = other_.Execute("SELECT COUNT(*) FROM t").status().ToString();
    // ... and a write waits until the change is in effect, then uses it.
    Must(other_.Execute("INSERT INTO t (k) VALUES (7)"));
  };
  Must(ddl_.Execute("CREATE TABLE t (k INT64 NOT NULL) PRIMARY KEY (k)"));
  EXPECT_NE(seen_before.find("unknown table t"), std::string::npos)
      << seen_before << ": the schema of a snapshot before the change is not the one in effect";
  const int64_t created = Effective("CREATED");
  EXPECT_EQ(Lines(Must(At(created, "SELECT COUNT(*) FROM t"))), "0");  // it committed after
  EXPECT_EQ(Lines(Must(ddl_.Execute("SELECT k FROM t"))), "7");
}

class SchemaChangeTest : public SchemaChangeTestBase {
 protected:
  void SetUp() override {
    Must(ddl_.Execute("CREATE TABLE t (k INT64 NOT NULL, v INT64, w STRING(MAX)) PRIMARY KEY (k)"));
  }
  void Fill(int64_t rows) {
    for (int64_t k = 0; k < rows; ++k) {
      Must(ddl_.Execute("INSERT INTO t (k, v, w) VALUES (@k, @v, 'x')",
                        {{"k", Value::Int64(k)}, {"v", Value::Int64(k * 10)}}));
    }
  }
  std::string AccessPath(const std::string& sql) {
    ResultSet r = Must(other_.Execute("EXPLAIN " + sql));
    return r.rows.empty() ? "" : r.rows.back()[0].string_value();
  }

  // Ids: t is 1, the first index 2.
  static constexpr uint64_t kIndexId = 2;
  Session ddl_{&kv_, Options(10'000)};
};

TEST_F(SchemaChangeTest, AnIndexOnAnEmptyTableStillGoesThroughItsStates) {
  steps_.clear();
  Must(ddl_.Execute("CREATE INDEX t_v ON t (v)"));
  EXPECT_EQ(StepNames(), (std::vector<std::string>{"DELETE_ONLY", "WRITE_ONLY", "backfill",
                                                   "BACKFILLED", "PUBLIC"}));
  EXPECT_EQ(steps_[2].chunks, 1);
  EXPECT_EQ(steps_[2].rows, 0);
}

TEST_F(SchemaChangeTest, ProgressCountsChunksAndRows) {
  Fill(10);
  steps_.clear();
  Must(ddl_.Execute("CREATE INDEX t_v ON t (v)"));
  std::vector<std::pair<int64_t, int64_t>> backfill;  // (chunks, rows)
  for (const SchemaChangeProgress& p : steps_) {
    if (p.step == "backfill") backfill.emplace_back(p.chunks, p.rows);
  }
  EXPECT_EQ(backfill, (std::vector<std::pair<int64_t, int64_t>>{{1, 3}, {2, 6}, {3, 9}, {4, 10}}));
}

TEST_F(SchemaChangeTest, AUniqueIndexWithADuplicateFailsAndIsRemoved) {
  Fill(30);
  std::vector<std::string> during;
  hook_ = [&](const SchemaChangeProgress& p) {
    if (p.step != "backfill" || p.chunks != 1) return;
    during.push_back(AccessPath("SELECT k FROM t WHERE v = 0"));
    // Row 0 has its entry already: a duplicate of it is refused, as once the index is public.
    during.push_back(other_.Execute("INSERT INTO t (k, v) VALUES (101, 0)").status().ToString());
    // Row 25 has none yet: this one gets in, and the backfill finds it.
    during.push_back(other_.Execute("INSERT INTO t (k, v) VALUES (100, 250)").status().ToString());
    during.push_back(other_.Execute("CREATE INDEX t_v ON t (w)").status().ToString());
  };
  const absl::Status built = ddl_.Execute("CREATE UNIQUE INDEX t_v ON t (v)").status();
  EXPECT_TRUE(absl::IsAlreadyExists(built)) << built;
  EXPECT_NE(built.message().find("unique index t_v already has (250)"), std::string::npos) << built;
  ASSERT_EQ(during.size(), 4u);
  EXPECT_EQ(during[0], "    FullScan t (not public: t_v WRITE_ONLY)");
  EXPECT_NE(during[1].find("ALREADY_EXISTS: unique index t_v already has (0)"), std::string::npos)
      << during[1];
  EXPECT_EQ(during[2], "OK");
  EXPECT_NE(during[3].find("index t_v already exists in state WRITE_ONLY"), std::string::npos)
      << during[3];
  // Lowered and removed: WRITE_ONLY -> DELETE_ONLY -> ABSENT, then its entries are deleted.
  const std::vector<std::string> names = StepNames();
  const auto absent = std::find(names.begin(), names.end(), "ABSENT");
  ASSERT_NE(absent, names.end());
  EXPECT_EQ(*(absent - 1), "DELETE_ONLY");
  EXPECT_EQ(*(absent - 2), "backfill");
  EXPECT_EQ(names.back(), "cleanup");
  EXPECT_EQ(AccessPath("SELECT k FROM t WHERE v = 0"), "    FullScan t");
  EXPECT_EQ(CountKeysUnder(kv_, kIndexId), 0);
  Must(ddl_.Execute("INSERT INTO t (k, v) VALUES (102, 0)"));
}

TEST_F(SchemaChangeTest, DropIndexDuringTheBuildStopsIt) {
  Fill(12);
  hook_ = [&](const SchemaChangeProgress& p) {
    if (p.step == "backfill" && p.chunks == 2) Must(other_.Execute("DROP INDEX t_v"));
  };
  const absl::Status built = ddl_.Execute("CREATE INDEX t_v ON t (v)").status();
  EXPECT_TRUE(absl::IsFailedPrecondition(built)) << built;
  EXPECT_NE(built.message().find("index t_v was dropped or changed"), std::string::npos) << built;
  EXPECT_EQ(AccessPath("SELECT k FROM t WHERE v = 0"), "    FullScan t");
  EXPECT_EQ(CountKeysUnder(kv_, kIndexId), 0);
  // The name is free again, and a new build completes.
  hook_ = nullptr;
  Must(ddl_.Execute("CREATE INDEX t_v ON t (v)"));
  EXPECT_TRUE(CheckIndex(kv_, "t", "t_v").empty());
}

TEST_F(SchemaChangeTest, DropTableDeletesItsRowsInChunksAndThoseOfItsChildren) {
  // Ids: p 2 (t is 1), c 3, g 4, s 5, c_x 6.
  Must(ddl_.Execute("CREATE TABLE p (a INT64 NOT NULL) PRIMARY KEY (a)"));
  Must(
      ddl_.Execute("CREATE TABLE c (a INT64 NOT NULL, b INT64 NOT NULL, x INT64) "
                   "PRIMARY KEY (a, b), INTERLEAVE IN PARENT p ON DELETE CASCADE"));
  Must(
      ddl_.Execute("CREATE TABLE g (a INT64 NOT NULL, b INT64 NOT NULL, d INT64 NOT NULL) "
                   "PRIMARY KEY (a, b, d), INTERLEAVE IN PARENT c ON DELETE CASCADE"));
  Must(
      ddl_.Execute("CREATE TABLE s (a INT64 NOT NULL, e INT64 NOT NULL) "
                   "PRIMARY KEY (a, e), INTERLEAVE IN PARENT p ON DELETE CASCADE"));
  Must(ddl_.Execute("CREATE INDEX c_x ON c (x)"));
  for (int a = 0; a < 4; ++a) {
    Must(ddl_.Execute("INSERT INTO p (a) VALUES (@a)", {{"a", Value::Int64(a)}}));
    for (int b = 0; b < 3; ++b) {
      const Params params = {{"a", Value::Int64(a)}, {"b", Value::Int64(b)}};
      Must(ddl_.Execute("INSERT INTO c (a, b, x) VALUES (@a, @b, @b)", params));
      Must(ddl_.Execute("INSERT INTO g (a, b, d) VALUES (@a, @b, 1)", params));
      Must(ddl_.Execute("INSERT INTO s (a, e) VALUES (@a, @b)", params));
    }
  }
  EXPECT_EQ(CountKeysUnder(kv_, 2), 4 + 12 + 12 + 12);
  EXPECT_EQ(CountKeysUnder(kv_, 6), 12);
  steps_.clear();
  Must(ddl_.Execute("DROP TABLE c"));
  const int64_t dropped = steps_.at(0).effective_ts;
  EXPECT_EQ(steps_[0].step, "DROPPED");
  EXPECT_EQ(CountKeysUnder(kv_, 2), 4 + 12);  // p and s rows stay
  EXPECT_EQ(CountKeysUnder(kv_, 6), 0);
  int64_t cleanup_chunks = 0;
  for (const SchemaChangeProgress& p : steps_) cleanup_chunks += p.step == "cleanup" ? 1 : 0;
  EXPECT_GE(cleanup_chunks, 40 / 3);  // 3 pairs per chunk
  EXPECT_EQ(Lines(Must(other_.Execute("SELECT COUNT(*) FROM s"))), "12");
  EXPECT_EQ(Lines(Must(At(dropped - 1, "SELECT COUNT(*) FROM g"))), "12");
  EXPECT_FALSE(At(dropped, "SELECT COUNT(*) FROM g").ok());
}

TEST_F(SchemaChangeTest, DdlRunsOutsideTransactionsOnly) {
  const absl::Status in_fn = ddl_.RunTransaction([](Transaction& txn) {
    return txn.Execute("CREATE TABLE u (k INT64) PRIMARY KEY (k)").status();
  });
  EXPECT_TRUE(absl::IsFailedPrecondition(in_fn)) << in_fn;
  Must(ddl_.Execute("BEGIN"));
  EXPECT_TRUE(absl::IsFailedPrecondition(ddl_.Execute("DROP TABLE t").status()));
  Must(ddl_.Execute("COMMIT"));
  Must(ddl_.Execute("SELECT COUNT(*) FROM t"));
}

}  // namespace
}  // namespace meridian::sql
