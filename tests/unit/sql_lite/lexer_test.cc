#include "sql_lite/lexer.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"

namespace meridian::sql {
namespace {

std::string KindName(TokenKind kind) {
  switch (kind) {
    case TokenKind::kEnd:
      return "end";
    case TokenKind::kKeyword:
      return "kw";
    case TokenKind::kIdentifier:
      return "id";
    case TokenKind::kQuotedIdentifier:
      return "qid";
    case TokenKind::kInteger:
      return "int";
    case TokenKind::kFloat:
      return "float";
    case TokenKind::kString:
      return "str";
    case TokenKind::kBytes:
      return "bytes";
    case TokenKind::kParameter:
      return "param";
    case TokenKind::kSymbol:
      return "sym";
  }
  return "?";
}

// "kind:text" for each token but the final kEnd, joined by spaces.
std::string Lex(const std::string& sql) {
  const absl::StatusOr<std::vector<Token>> tokens = Tokenize(sql);
  if (!tokens.ok()) return std::string(tokens.status().message());
  std::vector<std::string> parts;
  for (const Token& t : *tokens) {
    if (t.kind != TokenKind::kEnd) parts.push_back(absl::StrCat(KindName(t.kind), ":", t.text));
  }
  return absl::StrJoin(parts, " ");
}

TEST(LexerTest, Tokens) {
  const struct {
    std::string sql;
    std::string tokens;
  } cases[] = {
      {"SELECT a FROM T", "kw:SELECT id:a kw:FROM id:t"},
      {"select Read only", "kw:SELECT id:read id:only"},
      {"\"MyTable\" `from` \"a\"\"b\"", "qid:MyTable qid:from qid:a\"b"},
      {"'it''s' ''", "str:it's str:"},
      {"b'ab' B'''' x'00FF' X''", std::string("bytes:ab bytes:' bytes:\0\xff bytes:", 32)},
      {"1 12.5 .5 5. 1e3 2E-2 1.5e+7",
       "int:1 float:12.5 float:.5 float:5. float:1e3 float:2E-2 "
       "float:1.5e+7"},
      {"@Name @p_1", "param:name param:p_1"},
      {"a<>b != <= >= || < > = ( ) , ; . * + - / %",
       "id:a sym:!= id:b sym:!= sym:<= sym:>= sym:|| sym:< sym:> sym:= sym:( sym:) sym:, sym:; "
       "sym:. sym:* sym:+ sym:- sym:/ sym:%"},
      {"a -- comment\n b /* multi\n line */ c", "id:a id:b id:c"},
      {"1-1 a--b", "int:1 sym:- int:1 id:a"},
      {"x y b c", "id:x id:y id:b id:c"},
      {"", ""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Lex(c.sql), c.tokens) << c.sql;
  }
}

TEST(LexerTest, Positions) {
  const absl::StatusOr<std::vector<Token>> tokens = Tokenize("SELECT\n  a,\n\tbc");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 5u);
  const SourcePos want[] = {{0, 1, 1}, {9, 2, 3}, {10, 2, 4}, {13, 3, 2}, {15, 3, 4}};
  const int32_t lengths[] = {6, 1, 1, 2, 0};
  for (size_t i = 0; i < tokens->size(); ++i) {
    EXPECT_EQ((*tokens)[i].pos, want[i]) << i;
    EXPECT_EQ((*tokens)[i].length, lengths[i]) << i;
  }
}

TEST(LexerTest, Errors) {
  const struct {
    const char* sql;
    const char* message;
    SourcePos pos;
  } cases[] = {
      {"SELECT 'abc", "unterminated string at line 1, column 8", {7, 1, 8}},
      {"SELECT\n  \"abc", "unterminated quoted identifier at line 2, column 3", {9, 2, 3}},
      {"a /* x", "unterminated comment at line 1, column 3", {2, 1, 3}},
      {"b'ab", "unterminated bytes literal at line 1, column 2", {1, 1, 2}},
      {"x'abc'", "hex bytes literal needs an even number of digits at line 1, column 1", {0, 1, 1}},
      {"x'zz'", "invalid hex digit in bytes literal at line 1, column 1", {0, 1, 1}},
      {"12ab", "invalid number: unexpected 'a' after the digits at line 1, column 1", {0, 1, 1}},
      {"1.2.3", "invalid number: unexpected '.' after the digits at line 1, column 1", {0, 1, 1}},
      {"a # b", "unexpected character '#' at line 1, column 3", {2, 1, 3}},
      {"a\x01", "unexpected character byte 0x01 at line 1, column 2", {1, 1, 2}},
      {"@ x", "expected a parameter name after '@' at line 1, column 1", {0, 1, 1}},
      {"``", "empty quoted identifier at line 1, column 1", {0, 1, 1}},
      {"a | b", "unexpected character '|' at line 1, column 3", {2, 1, 3}},
  };
  for (const auto& c : cases) {
    const absl::StatusOr<std::vector<Token>> tokens = Tokenize(c.sql);
    ASSERT_FALSE(tokens.ok()) << c.sql;
    EXPECT_EQ(tokens.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(tokens.status().message(), c.message) << c.sql;
    EXPECT_EQ(ErrorPosition(tokens.status()), c.pos) << c.sql;
  }
}

TEST(LexerTest, ReservedWords) {
  EXPECT_TRUE(IsReservedKeyword("select"));
  EXPECT_TRUE(IsReservedKeyword("Interleave"));
  EXPECT_FALSE(IsReservedKeyword("read"));
  EXPECT_FALSE(IsReservedKeyword("key"));
  EXPECT_FALSE(IsReservedKeyword("timestamp"));
}

TEST(LexerTest, SplitStatementsCutsAtTopLevelSemicolons) {
  absl::StatusOr<ScriptParts> parts =
      SplitStatements("SELECT ';'; ;\n  -- note\n  SELECT 2 /* ; */;\nSELECT\n  3");
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(parts->statements, (std::vector<std::string>{"SELECT ';'", "SELECT 2 /* ; */"}));
  ASSERT_EQ(parts->starts.size(), 2u);
  EXPECT_EQ(parts->starts[0], (SourcePos{.offset = 0, .line = 1, .column = 1}));
  EXPECT_EQ(parts->starts[1], (SourcePos{.offset = 26, .line = 3, .column = 3}));
  EXPECT_EQ(parts->rest, "\nSELECT\n  3");
  parts = SplitStatements("SELECT 1; -- done\n");
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->rest, "");
  EXPECT_FALSE(SplitStatements("SELECT 'open;").ok());
}

}  // namespace
}  // namespace meridian::sql
