// The SQL lexer: text -> tokens, each with its byte offset, line and column.
//
// Token grammar (docs/sql.md has the whole language):
//   whitespace  := ' ' | '\t' | '\n' | '\r' | '\f' | '\v'
//   comment     := '--' to end of line | '/*' ... '*/'   (not nested)
//   word        := [A-Za-z_][A-Za-z0-9_]*     reserved ones are kKeyword (text upper-cased),
//                                             others kIdentifier (text lower-cased)
//   quoted-id   := '"' ( [^"] | '""' )+ '"' | '`' ( [^`] | '``' )+ '`'   kQuotedIdentifier, exact
//   integer     := [0-9]+                      kInteger; text is the digits (the parser converts,
//                                             so that -9223372036854775808 can be read)
//   float       := [0-9]+ '.' [0-9]* exp? | '.' [0-9]+ exp? | [0-9]+ exp     kFloat
//   exp         := [eE] [+-]? [0-9]+
//   string      := '\'' ( [^'] | '\'\'' )* '\''               kString; text is the value
//   bytes       := [bB] string | [xX] '\'' hex-pairs '\''     kBytes; text is the value
//   parameter   := '@' [A-Za-z_][A-Za-z0-9_]*   kParameter; text is the lower-cased name
//   symbol      := ( ) , ; . * + - / % = != <> < <= > >= ||  kSymbol ('<>' is read as '!=')
// A number directly followed by a letter ("12ab") is an error. Thread-safe: pure functions.
#ifndef MERIDIAN_SQL_LITE_LEXER_H_
#define MERIDIAN_SQL_LITE_LEXER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "sql_lite/error.h"

namespace meridian::sql {

enum class TokenKind : uint8_t {
  kEnd,  // after the last token
  kKeyword,
  kIdentifier,
  kQuotedIdentifier,
  kInteger,
  kFloat,
  kString,
  kBytes,
  kParameter,
  kSymbol,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // see the grammar above
  SourcePos pos;
  int32_t length = 0;  // bytes of source text the token spans
};

// True when `word` (any case) is reserved: it cannot be an unquoted identifier.
bool IsReservedKeyword(std::string_view word);

// All tokens of `sql`, ending with one kEnd token. On failure a SyntaxError (error.h) such as
// "unterminated string at line 1, column 8", positioned at the start of the bad token.
absl::StatusOr<std::vector<Token>> Tokenize(std::string_view sql);

// A script cut at its top-level ';' tokens (not those inside strings or comments): the text of
// every statement a ';' ended, from its first token to before the ';' (blank ones dropped), where
// each starts in the script, and what follows the last ';' when it holds a token (an unfinished
// statement, for a shell to read more of; "" otherwise). Tokenize's errors, e.g. for a string
// still open at the end.
struct ScriptParts {
  std::vector<std::string> statements;
  std::vector<SourcePos> starts;  // of each statement's first token
  std::string rest;               // a suffix of the script
};
absl::StatusOr<ScriptParts> SplitStatements(std::string_view script);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_LEXER_H_
