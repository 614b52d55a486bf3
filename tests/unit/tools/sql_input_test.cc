#include "tools/sql_input.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace meridian::tools {
namespace {

using Kind = SqlInput::Item::Kind;

// Every item of `lines`, Finish's included, as "L:S text" (statement) or "L:M text" (meta).
std::string Items(const std::vector<std::string>& lines) {
  SqlInput input;
  std::string out;
  auto add = [&](const SqlInput::Item& item) {
    out += std::to_string(item.line) + (item.kind == Kind::kStatement ? ":S " : ":M ") + item.text +
           "\n";
  };
  for (const std::string& line : lines) {
    for (const SqlInput::Item& item : input.AddLine(line)) add(item);
  }
  if (std::optional<SqlInput::Item> last = input.Finish()) add(*last);
  return out;
}

TEST(SqlInputTest, StatementsEndAtSemicolonsAndKnowTheirLine) {
  EXPECT_EQ(Items({"SELECT 1; SELECT", "  2;", "", "-- a comment", "  SELECT 'a;", "b'", ";"}),
            "1:S SELECT 1\n"
            "1:S SELECT\n  2\n"
            "5:S SELECT 'a;\nb'\n");
}

TEST(SqlInputTest, AStatementIsPendingUntilItsSemicolon) {
  SqlInput input;
  EXPECT_FALSE(input.pending());
  EXPECT_TRUE(input.AddLine("SELECT 1").empty());
  EXPECT_TRUE(input.pending());
  EXPECT_TRUE(input.AddLine("/* an open comment;").empty());
  EXPECT_TRUE(input.AddLine("*/").empty());
  const std::vector<SqlInput::Item> items = input.AddLine("+ 1;");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].text, "SELECT 1\n/* an open comment;\n*/\n+ 1");
  EXPECT_FALSE(input.pending());
  EXPECT_FALSE(input.Finish().has_value());
}

TEST(SqlInputTest, MetaCommandsTakeALineWhenNothingIsPending) {
  // Inside a statement a backslash is a stray character: the statement ends there, with an error.
  EXPECT_EQ(Items({"\\d", "  \\d t  ", "help", "SELECT", "\\d", "", "quit;", "exit"}),
            "1:M \\d\n"
            "2:M \\d t\n"
            "3:M help\n"
            "4:S SELECT\n\\d\n"
            "7:M quit;\n"
            "8:M exit\n");
  EXPECT_TRUE(IsMetaCommand("\\q"));
  EXPECT_TRUE(IsMetaCommand("quit;"));
  EXPECT_FALSE(IsMetaCommand("helper"));
}

TEST(SqlInputTest, TheLastStatementNeedsNoSemicolon) {
  EXPECT_EQ(Items({"SELECT 1;", "", "  SELECT", "2  "}), "1:S SELECT 1\n3:S SELECT\n2\n");
}

TEST(SqlInputTest, AStrayCharacterEndsItsStatementAtOnce) {
  // No later line can fix it: the statement goes to the Session, which reports the error.
  EXPECT_EQ(Items({"SELECT 1; SELECT $ FROM", "SELECT 2;"}),
            "1:S SELECT 1\n1:S SELECT $ FROM\n2:S SELECT 2\n");
  EXPECT_EQ(Items({"", "  SELECT 'x' #"}), "2:S SELECT 'x' #\n");
}

}  // namespace
}  // namespace meridian::tools
