// parser.h's entry points, the Parser's token helpers, statement dispatch, transactions, SET and
// EXPLAIN.
#include "sql_lite/parser.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "sql_lite/parser_internal.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace internal {

Parser::Parser(std::string_view sql, std::vector<Token> tokens, const ParserOptions& options)
    : sql_(sql), tokens_(std::move(tokens)), options_(options) {
  CHECK(!tokens_.empty() && tokens_.back().kind == TokenKind::kEnd);
}

const Token& Parser::Peek(size_t k) const {
  return tokens_[std::min(next_ + k, tokens_.size() - 1)];
}

void Parser::Advance() {
  if (next_ + 1 < tokens_.size()) ++next_;
}

bool Parser::AtWord(std::string_view upper, size_t k) const {
  const Token& t = Peek(k);
  if (t.kind == TokenKind::kKeyword) return t.text == upper;
  return t.kind == TokenKind::kIdentifier && EqualsIgnoreCase(t.text, upper);
}

bool Parser::AtSymbol(std::string_view symbol, size_t k) const {
  const Token& t = Peek(k);
  return t.kind == TokenKind::kSymbol && t.text == symbol;
}

bool Parser::ConsumeWord(std::string_view upper) {
  if (!AtWord(upper)) return false;
  Advance();
  return true;
}

bool Parser::ConsumeSymbol(std::string_view symbol) {
  if (!AtSymbol(symbol)) return false;
  Advance();
  return true;
}

absl::Status Parser::ExpectWord(std::string_view upper) {
  if (ConsumeWord(upper)) return absl::OkStatus();
  return Unexpected(upper);
}

absl::Status Parser::ExpectSymbol(std::string_view symbol) {
  if (ConsumeSymbol(symbol)) return absl::OkStatus();
  return Unexpected(absl::StrCat("'", Sv(symbol), "'"));
}

std::string Parser::Describe(const Token& token) const {
  if (token.kind == TokenKind::kEnd) return "end of input";
  constexpr size_t kMaxShown = 40;
  std::string_view text = sql_.substr(token.pos.offset, token.length);
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return absl::StrCat("'", shown, "'");
}

absl::Status Parser::Unexpected(std::string_view expected) const {
  return SyntaxError(Peek().pos,
                     absl::StrCat("expected ", Sv(expected), " but found ", Describe(Peek())));
}

absl::StatusOr<std::string> Parser::ParseIdentifier(std::string_view what) {
  const Token& t = Peek();
  if (t.kind != TokenKind::kIdentifier && t.kind != TokenKind::kQuotedIdentifier) {
    if (t.kind == TokenKind::kKeyword) {
      return SyntaxError(t.pos, absl::StrCat("expected ", Sv(what), " but found reserved word ",
                                             Describe(t), " (quote it to use it as a name)"));
    }
    return Unexpected(what);
  }
  std::string name = t.text;
  Advance();
  return name;
}

absl::StatusOr<std::vector<std::string>> Parser::ParseIdentifierList(std::string_view what) {
  RETURN_IF_ERROR(ExpectSymbol("("));
  std::vector<std::string> names;
  do {
    ASSIGN_OR_RETURN(std::string name, ParseIdentifier(what));
    names.push_back(std::move(name));
  } while (ConsumeSymbol(","));
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return names;
}

absl::Status Parser::CheckDepth(int extra) const {
  if (depth_ + extra <= options_.max_depth || options_.testing_ignore_depth_limit) {
    return absl::OkStatus();
  }
  return SyntaxError(
      Peek().pos, absl::StrCat("nesting deeper than the limit of ", options_.max_depth, " levels"));
}

absl::StatusOr<Statement> Parser::ParseStatementBody(bool allow_explain) {
  if (AtWord("SELECT")) {
    ASSIGN_OR_RETURN(SelectStmt select, ParseSelect());
    return Statement{std::move(select)};
  }
  if (AtWord("INSERT")) return ParseInsert();
  if (AtWord("UPDATE")) return ParseUpdate();
  if (AtWord("DELETE")) return ParseDelete();
  if (AtWord("CREATE")) return ParseCreate();
  if (AtWord("DROP")) return ParseDrop();
  if (AtWord("BEGIN") || AtWord("COMMIT") || AtWord("ROLLBACK")) return ParseTransactionControl();
  if (AtWord("SET")) return ParseSet();
  if (AtWord("EXPLAIN")) {
    const SourcePos pos = Peek().pos;
    if (!allow_explain) return SyntaxError(pos, "EXPLAIN cannot be nested");
    Advance();
    ASSIGN_OR_RETURN(Statement inner, ParseStatementBody(/*allow_explain=*/false));
    return Statement{ExplainStmt{pos, std::make_unique<Statement>(std::move(inner))}};
  }
  return Unexpected("a statement");
}

// BEGIN [TRANSACTION] [READ ONLY | READ WRITE] | COMMIT [TRANSACTION] | ROLLBACK [TRANSACTION]
absl::StatusOr<Statement> Parser::ParseTransactionControl() {
  const SourcePos pos = Peek().pos;
  if (ConsumeWord("COMMIT")) {
    ConsumeWord("TRANSACTION");
    return Statement{CommitStmt{pos}};
  }
  if (ConsumeWord("ROLLBACK")) {
    ConsumeWord("TRANSACTION");
    return Statement{RollbackStmt{pos}};
  }
  RETURN_IF_ERROR(ExpectWord("BEGIN"));
  ConsumeWord("TRANSACTION");
  BeginStmt begin{pos, false};
  if (ConsumeWord("READ")) {
    if (ConsumeWord("ONLY")) {
      begin.read_only = true;
    } else if (!ConsumeWord("WRITE")) {
      return Unexpected("ONLY or WRITE");
    }
  }
  return Statement{std::move(begin)};
}

// SET READ_TIMESTAMP = value | SET STALENESS = value
absl::StatusOr<Statement> Parser::ParseSet() {
  SetStmt set;
  set.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("SET"));
  if (ConsumeWord("READ_TIMESTAMP")) {
    set.variable = SetStmt::Variable::kReadTimestamp;
  } else if (ConsumeWord("STALENESS")) {
    set.variable = SetStmt::Variable::kStaleness;
  } else {
    return Unexpected("READ_TIMESTAMP or STALENESS");
  }
  RETURN_IF_ERROR(ExpectSymbol("="));
  ASSIGN_OR_RETURN(set.value, ParseSetValue(set.variable));
  return Statement{std::move(set)};
}

// DEFAULT (null) | @param | integer micros | TIMESTAMP 'text' (READ_TIMESTAMP only)
absl::StatusOr<ExprPtr> Parser::ParseSetValue(SetStmt::Variable variable) {
  const Token& t = Peek();
  if (ConsumeWord("DEFAULT")) return ExprPtr();
  if (t.kind == TokenKind::kParameter) {
    ExprPtr param = MakeExpr(t.pos, ParameterExpr{t.text});
    Advance();
    return param;
  }
  if (t.kind == TokenKind::kInteger) return ParseNumber(t.pos, /*negative=*/false);
  const bool read_timestamp = variable == SetStmt::Variable::kReadTimestamp;
  if (read_timestamp && AtWord("TIMESTAMP") && Peek(1).kind == TokenKind::kString) {
    return ParseTimestampLiteral();
  }
  return Unexpected(read_timestamp ? "TIMESTAMP '...', microseconds, a parameter or DEFAULT"
                                   : "microseconds, a parameter or DEFAULT");
}

}  // namespace internal

namespace {

absl::StatusOr<internal::Parser> MakeParser(std::string_view sql, const ParserOptions& options) {
  if (static_cast<int64_t>(sql.size()) > options.max_sql_bytes) {
    return SyntaxError(
        SourcePos{}, absl::StrCat("SQL text of ", sql.size(), " bytes is longer than the limit of ",
                                  options.max_sql_bytes));
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(sql));
  return internal::Parser(sql, std::move(tokens), options);
}

}  // namespace

absl::StatusOr<Statement> ParseStatement(std::string_view sql, const ParserOptions& options) {
  ASSIGN_OR_RETURN(internal::Parser parser, MakeParser(sql, options));
  ASSIGN_OR_RETURN(Statement statement, parser.ParseStatementBody(/*allow_explain=*/true));
  parser.ConsumeSymbol(";");
  if (!parser.AtEnd()) return parser.Unexpected("end of statement");
  return statement;
}

absl::StatusOr<std::vector<Statement>> ParseScript(std::string_view sql,
                                                   const ParserOptions& options) {
  ASSIGN_OR_RETURN(internal::Parser parser, MakeParser(sql, options));
  std::vector<Statement> statements;
  while (true) {
    while (parser.ConsumeSymbol(";")) {
    }
    if (parser.AtEnd()) return statements;
    ASSIGN_OR_RETURN(Statement statement, parser.ParseStatementBody(/*allow_explain=*/true));
    statements.push_back(std::move(statement));
    if (!parser.AtEnd() && !parser.AtSymbol(";")) return parser.Unexpected("';' or end of input");
  }
}

absl::StatusOr<ExprPtr> ParseExpression(std::string_view sql, const ParserOptions& options) {
  ASSIGN_OR_RETURN(internal::Parser parser, MakeParser(sql, options));
  ASSIGN_OR_RETURN(ExprPtr expr, parser.ParseExpr());
  if (!parser.AtEnd()) return parser.Unexpected("end of expression");
  return expr;
}

}  // namespace meridian::sql
