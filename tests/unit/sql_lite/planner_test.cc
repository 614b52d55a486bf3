// The binder and planner together: which access path a query gets, and the binder's errors.
#include "sql_lite/planner.h"

#include "gtest/gtest.h"
#include "sql_lite/binder.h"
#include "sql_lite/parser.h"

namespace meridian::sql {
namespace {

std::shared_ptr<const Schema> MakeSchema() {
  auto schema = std::make_shared<Schema>();
  TableSchema t;
  t.name = "t";
  t.id = 1;
  t.columns = {{"a", 1, Type::kInt64, 0, true},
               {"b", 2, Type::kString, 0, true},
               {"c", 3, Type::kInt64, 0, false},
               {"d", 4, Type::kInt64, 0, false}};
  t.primary_key = {{0, false}, {1, false}};
  t.indexes = {{.name = "t_cd",
                .id = 2,
                .unique = false,
                .columns = {{2, false}, {3, false}},
                .storing = {}}};
  schema->tables.emplace("t", t);
  t.name = "u";
  t.id = 3;
  t.indexes.clear();
  schema->tables.emplace("u", t);
  return schema;
}

class PlannerTest : public ::testing::Test {
 protected:
  absl::StatusOr<std::shared_ptr<SelectPlan>> Plan(const std::string& sql) {
    absl::StatusOr<Statement> stmt = ParseStatement(sql);
    EXPECT_TRUE(stmt.ok()) << stmt.status();
    const BindContext ctx{.schema = schema_, .params = &params_};
    return BindSelect(std::get<SelectStmt>(stmt->node), ctx, nullptr);
  }
  AccessPath::Kind Path(const std::string& sql, size_t source = 0) {
    auto plan = Plan(sql);
    EXPECT_TRUE(plan.ok()) << plan.status();
    return plan.ok() ? (*plan)->sources[source].path.kind : AccessPath::Kind::kFullScan;
  }
  std::shared_ptr<const Schema> schema_ = MakeSchema();
  Params params_ = {{"p", Value::Int64(3)}};
};

TEST_F(PlannerTest, ChoosesTheNarrowestPath) {
  using K = AccessPath::Kind;
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1 AND b = 'x'"), K::kPointLookup);
  EXPECT_EQ(Path("SELECT * FROM t WHERE 'x' = b AND a = @p"), K::kPointLookup);
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1"), K::kKeyRange);
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1 AND b > 'm'"), K::kKeyRange);
  EXPECT_EQ(Path("SELECT * FROM t WHERE a BETWEEN 1 AND 5"), K::kKeyRange);
  EXPECT_EQ(Path("SELECT * FROM t WHERE c = 4"), K::kIndexScan);
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1 AND c = 4 AND d = 5"), K::kIndexScan);
  EXPECT_EQ(Path("SELECT * FROM t WHERE b = 'x'"), K::kFullScan);  // not a key prefix
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1.5"), K::kFullScan);  // another type
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = 1 OR a = 2"), K::kFullScan);
  EXPECT_EQ(Path("SELECT * FROM t WHERE a = (SELECT 1)"), K::kFullScan);
}

TEST_F(PlannerTest, LookupJoinsReadTheInnerSidePerOuterRow) {
  auto plan = Plan("SELECT * FROM t JOIN u ON u.a = t.c AND u.b = t.b");
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ((*plan)->sources[1].path.kind, AccessPath::Kind::kPointLookup);
  EXPECT_TRUE((*plan)->sources[1].path.per_left_row);
  // A LEFT JOIN's inner side takes no WHERE conjunct as a key.
  auto left = Plan("SELECT * FROM t LEFT JOIN u ON u.c = t.c WHERE u.a = 1");
  ASSERT_TRUE(left.ok());
  EXPECT_EQ((*left)->sources[1].path.kind, AccessPath::Kind::kFullScan);
  ASSERT_EQ((*left)->sources[1].filters.size(), 1u);
}

TEST_F(PlannerTest, CorrelatedSubqueriesAreMarked) {
  auto plan = Plan("SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)");
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ((*plan)->late_filters.size(), 1u);
  EXPECT_TRUE((*plan)->late_filters[0]->subquery->correlated);
  EXPECT_FALSE((*plan)->correlated);
  auto uncorrelated = Plan("SELECT a FROM t WHERE a IN (SELECT c FROM u)");
  ASSERT_TRUE(uncorrelated.ok());
  EXPECT_FALSE((*uncorrelated)->late_filters[0]->subquery->correlated);
}

TEST_F(PlannerTest, BinderErrorsNameTheProblemAndItsPlace) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"SELECT a FROM t JOIN u ON t.a = u.a", "column name a is ambiguous at line 1, column 8"},
      {"SELECT x FROM t", "unknown column x at line 1, column 8"},
      {"SELECT t.a FROM t AS s", "unknown column t.a"},
      {"SELECT a, COUNT(*) FROM t", "column a must appear in GROUP BY"},
      {"SELECT a FROM t WHERE b + 1 = 2", "cannot do arithmetic on STRING and INT64"},
      {"SELECT a FROM t WHERE c", "WHERE must be a BOOL, not INT64"},
      {"SELECT a FROM t LIMIT @q", "no value for parameter @q"},
      {"SELECT NOPE(a) FROM t", "unknown function NOPE"},
      {"SELECT (SELECT a, b FROM u) FROM t", "must return one column"},
  };
  for (const auto& [sql, want] : cases) {
    auto plan = Plan(sql);
    ASSERT_FALSE(plan.ok()) << sql;
    EXPECT_NE(plan.status().message().find(want), std::string::npos)
        << sql << " -> " << plan.status();
  }
}

TEST_F(PlannerTest, ExplainPrintsTheTree) {
  auto plan = Plan("SELECT t.a, COUNT(*) FROM t JOIN u ON u.a = t.c WHERE t.a = 1 GROUP BY t.a");
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<std::string> want = {
      "Project [t.a, COUNT(*)]",
      "  Aggregate [COUNT(*)] GROUP BY [t.a]",
      "    NestedLoopJoin INNER ON [(u.a = t.c)]",
      "      Filter [(t.a = 1)]",
      "        KeyRangeScan t [(t.a = 1)]",
      "      KeyRangeScan u [(u.a = t.c)] (per outer row)",
  };
  EXPECT_EQ(ExplainSelect(**plan), want);
}

}  // namespace
}  // namespace meridian::sql
