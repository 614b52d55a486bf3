// Expression precedence and associativity: the canonical rendering puts every compound
// expression in parentheses, so it shows how the parser grouped the input.
#include <string>

#include "gtest/gtest.h"
#include "sql_lite/parser.h"

namespace meridian::sql {
namespace {

std::string Group(const std::string& sql) {
  const absl::StatusOr<ExprPtr> e = ParseExpression(sql);
  if (!e.ok()) return "ERROR: " + std::string(e.status().message());
  return ToSql(**e);
}

TEST(ParserExprTest, Precedence) {
  const struct {
    const char* sql;
    const char* grouped;
  } cases[] = {
      {"1 + 2 * 3", "(1 + (2 * 3))"},
      {"1 * 2 + 3", "((1 * 2) + 3)"},
      {"1 - 2 - 3", "((1 - 2) - 3)"},
      {"8 / 4 / 2", "((8 / 4) / 2)"},
      {"7 % 3 * 2", "((7 % 3) * 2)"},
      {"(1 + 2) * 3", "((1 + 2) * 3)"},
      {"'a' || 'b' || 'c'", "(('a' || 'b') || 'c')"},
      {"a || b + c", "((a || b) + c)"},
      {"a + b * c || d", "((a + (b * c)) || d)"},
      {"a OR b AND c", "(a OR (b AND c))"},
      {"a AND b OR c AND d", "((a AND b) OR (c AND d))"},
      {"NOT a AND b", "((NOT a) AND b)"},
      {"NOT a = b", "(NOT (a = b))"},
      {"NOT NOT a", "(NOT (NOT a))"},
      {"a = 1 OR NOT b < 2 AND c", "((a = 1) OR ((NOT (b < 2)) AND c))"},
      {"a + 1 = b * 2", "((a + 1) = (b * 2))"},
      {"a <> b", "(a != b)"},
      {"a <= b AND a >= c AND a < d AND a > e",
       "((((a <= b) AND (a >= c)) AND (a < d)) AND (a > e))"},
      {"a IS NULL", "(a IS NULL)"},
      {"a + 1 IS NOT NULL AND b", "(((a + 1) IS NOT NULL) AND b)"},
      {"NOT a IS NULL", "(NOT (a IS NULL))"},
      {"a IN (1, 2, 3)", "(a IN (1, 2, 3))"},
      {"a NOT IN (1) OR b", "((a NOT IN (1)) OR b)"},
      {"a BETWEEN 1 AND 2 AND b", "((a BETWEEN 1 AND 2) AND b)"},
      {"a NOT BETWEEN b + 1 AND c * 2", "(a NOT BETWEEN (b + 1) AND (c * 2))"},
      {"a LIKE 'x%' OR a NOT LIKE '%y'", "((a LIKE 'x%') OR (a NOT LIKE '%y'))"},
      {"name || '!' LIKE 'a%'", "((name || '!') LIKE 'a%')"},
      {"-a * b", "((-a) * b)"},
      {"-2 * 3", "(-2 * 3)"},
      {"- 2", "-2"},
      {"-(2)", "(-(2))"},
      {"--2\n1", "1"},
      {"- -2", "(-(-2))"},
      {"a - -2", "(a - -2)"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"-1.5e3", "-1500.0"},
      {"1e2", "100.0"},
      {"-(-a)", "(-(-a))"},
      {"COUNT(*) + 1", "(COUNT(*) + 1)"},
      {"f(a, b + 1, g())", "F(a, (b + 1), G())"},
      {"\"f\"(1)", "`f`(1)"},
      {"`IF`(1)", "`IF`(1)"},
      {"CAST(a + 1 AS FLOAT64) / 2", "(CAST((a + 1) AS FLOAT64) / 2)"},
      {"(SELECT 1) + 1", "((SELECT 1) + 1)"},
      {"t.c = u.c", "(t.c = u.c)"},
      {"a = b = c", "((a = b) = c)"},
      {"((((a))))", "a"},
      {"EXISTS (SELECT * FROM t) OR FALSE", "(EXISTS (SELECT * FROM t) OR FALSE)"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Group(c.sql), c.grouped) << c.sql;
    EXPECT_EQ(Group(Group(c.sql)), Group(c.sql)) << c.sql;
  }
}

TEST(ParserExprTest, NegativeLiteralFoldsIntoValue) {
  const absl::StatusOr<ExprPtr> e = ParseExpression("-5");
  ASSERT_TRUE(e.ok());
  const auto* lit = std::get_if<LiteralExpr>(&(*e)->node);
  ASSERT_NE(lit, nullptr);
  EXPECT_EQ(lit->value, Value::Int64(-5));
  const absl::StatusOr<ExprPtr> neg = ParseExpression("-a");
  ASSERT_TRUE(neg.ok());
  const auto* unary = std::get_if<UnaryExpr>(&(*neg)->node);
  ASSERT_NE(unary, nullptr);
  EXPECT_EQ(unary->op, UnaryOp::kNegate);
}

TEST(ParserExprTest, FunctionCallFlags) {
  const absl::StatusOr<ExprPtr> e = ParseExpression("count(DISTINCT a)");
  ASSERT_TRUE(e.ok());
  const auto& call = std::get<FunctionCallExpr>((*e)->node);
  EXPECT_EQ(call.name, "COUNT");
  EXPECT_TRUE(call.distinct);
  EXPECT_FALSE(call.star);
  ASSERT_EQ(call.args.size(), 1u);
}

}  // namespace
}  // namespace meridian::sql
