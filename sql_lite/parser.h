// The SQL parser: text -> ast.h trees. Recursive descent over lexer.h's tokens; the grammar is
// docs/sql.md.
//
// Errors are SyntaxErrors (error.h): INVALID_ARGUMENT naming what was expected, what was found and
// where ("expected ')' but found 'FROM' at line 2, column 14"), with the position as a payload.
// Limits keep hostile input cheap: text longer than max_sql_bytes is refused before lexing, and
// nesting deeper than max_depth (parentheses, NOT/unary minus chains, subqueries, function
// arguments) is an error instead of a stack overflow. Thread-safe: pure functions.
#ifndef MERIDIAN_SQL_LITE_PARSER_H_
#define MERIDIAN_SQL_LITE_PARSER_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/ast.h"

namespace meridian::sql {

struct ParserOptions {
  // Longest accepted text, in bytes.
  int64_t max_sql_bytes = 1 << 20;
  // Deepest accepted nesting of expressions and subqueries. Each level costs a few hundred bytes
  // of stack, so the default stays far below any thread's stack.
  int32_t max_depth = 200;
  // Planted bug for the fuzz test's self-check (tests/unit/sql_lite/parser_fuzz.cc): ignore
  // max_depth. Never set outside that test.
  bool testing_ignore_depth_limit = false;
};

// Exactly one statement, optionally followed by ';'.
absl::StatusOr<Statement> ParseStatement(std::string_view sql, const ParserOptions& options = {});

// Statements separated by ';' (empty statements are skipped; a trailing ';' is optional).
absl::StatusOr<std::vector<Statement>> ParseScript(std::string_view sql,
                                                   const ParserOptions& options = {});

// One expression and nothing after it.
absl::StatusOr<ExprPtr> ParseExpression(std::string_view sql, const ParserOptions& options = {});

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_PARSER_H_
