// Expressions, loosest binding first:
//   expr           := or
//   or             := and { OR and }
//   and            := not { AND not }
//   not            := NOT not | predicate
//   predicate      := additive { compare-op additive | IS [NOT] NULL
//                               | [NOT] IN ( ( select | expr-list ) )
//                               | [NOT] BETWEEN additive AND additive | [NOT] LIKE additive }
//   additive       := multiplicative { ( + | - | || ) multiplicative }
//   multiplicative := unary { ( * | / | % ) unary }
//   unary          := - unary | primary          (- followed by a number is a negative literal)
//   primary        := literal | @param | ( expr ) | ( select ) | CAST ( expr AS type )
//                   | EXISTS ( select ) | name ( [DISTINCT] args | * ) | name [ . name ]
//                   | TIMESTAMP 'text'
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/parser_internal.h"
#include "sql_lite/text_util.h"
#include "sql_lite/timestamp.h"

namespace meridian::sql::internal {
namespace {

std::optional<BinaryOp> CompareOpOf(const Token& t) {
  if (t.kind != TokenKind::kSymbol) return std::nullopt;
  if (t.text == "=") return BinaryOp::kEq;
  if (t.text == "!=") return BinaryOp::kNe;
  if (t.text == "<") return BinaryOp::kLt;
  if (t.text == "<=") return BinaryOp::kLe;
  if (t.text == ">") return BinaryOp::kGt;
  if (t.text == ">=") return BinaryOp::kGe;
  return std::nullopt;
}

ExprPtr MakeBinary(BinaryOp op, ExprPtr left, ExprPtr right) {
  const SourcePos pos = left->pos;
  return MakeExpr(pos, BinaryExpr{op, std::move(left), std::move(right)});
}

}  // namespace

absl::StatusOr<ExprPtr> Parser::ParseExpr() {
  NestingGuard guard(this);
  RETURN_IF_ERROR(CheckDepth());
  return ParseOr();
}

absl::StatusOr<ExprPtr> Parser::ParseOr() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
  for (int chain = 1; ConsumeWord("OR"); ++chain) {
    RETURN_IF_ERROR(CheckDepth(chain));
    ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
    left = MakeBinary(BinaryOp::kOr, std::move(left), std::move(right));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseAnd() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
  for (int chain = 1; ConsumeWord("AND"); ++chain) {
    RETURN_IF_ERROR(CheckDepth(chain));
    ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
    left = MakeBinary(BinaryOp::kAnd, std::move(left), std::move(right));
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseNot() {
  if (!AtWord("NOT")) return ParsePredicate();
  const SourcePos pos = Peek().pos;
  Advance();
  NestingGuard guard(this);
  RETURN_IF_ERROR(CheckDepth());
  ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
  return MakeExpr(pos, UnaryExpr{UnaryOp::kNot, std::move(operand)});
}

absl::StatusOr<ExprPtr> Parser::ParsePredicate() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseAdditive());
  for (int chain = 0;; ++chain) {
    if (chain > 0) RETURN_IF_ERROR(CheckDepth(chain));
    const SourcePos pos = left->pos;
    if (const std::optional<BinaryOp> op = CompareOpOf(Peek()); op.has_value()) {
      Advance();
      ASSIGN_OR_RETURN(ExprPtr right, ParseAdditive());
      left = MakeBinary(*op, std::move(left), std::move(right));
      continue;
    }
    if (ConsumeWord("IS")) {
      const bool negated = ConsumeWord("NOT");
      RETURN_IF_ERROR(ExpectWord("NULL"));
      left = MakeExpr(pos, IsNullExpr{std::move(left), negated});
      continue;
    }
    bool negated = false;
    if (AtWord("NOT") && (AtWord("IN", 1) || AtWord("BETWEEN", 1) || AtWord("LIKE", 1))) {
      Advance();
      negated = true;
    }
    if (ConsumeWord("IN")) {
      ASSIGN_OR_RETURN(left, ParseInTail(std::move(left), negated));
    } else if (ConsumeWord("BETWEEN")) {
      ASSIGN_OR_RETURN(ExprPtr low, ParseAdditive());
      RETURN_IF_ERROR(ExpectWord("AND"));
      ASSIGN_OR_RETURN(ExprPtr high, ParseAdditive());
      left = MakeExpr(pos, BetweenExpr{std::move(left), std::move(low), std::move(high), negated});
    } else if (ConsumeWord("LIKE")) {
      ASSIGN_OR_RETURN(ExprPtr pattern, ParseAdditive());
      left = MakeExpr(pos, LikeExpr{std::move(left), std::move(pattern), negated});
    } else {
      return left;
    }
  }
}

// After [NOT] IN: ( select ) or ( expr, ... ).
absl::StatusOr<ExprPtr> Parser::ParseInTail(ExprPtr operand, bool negated) {
  const SourcePos pos = operand->pos;
  if (AtSymbol("(") && AtWord("SELECT", 1)) {
    ASSIGN_OR_RETURN(std::unique_ptr<SelectStmt> subquery, ParseSubquery());
    return MakeExpr(pos, InSubqueryExpr{std::move(operand), std::move(subquery), negated});
  }
  RETURN_IF_ERROR(ExpectSymbol("("));
  ASSIGN_OR_RETURN(std::vector<ExprPtr> list, ParseExprList());
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return MakeExpr(pos, InListExpr{std::move(operand), std::move(list), negated});
}

absl::StatusOr<ExprPtr> Parser::ParseAdditive() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseMultiplicative());
  for (int chain = 1;; ++chain) {
    BinaryOp op;
    if (ConsumeSymbol("+")) {
      op = BinaryOp::kAdd;
    } else if (ConsumeSymbol("-")) {
      op = BinaryOp::kSubtract;
    } else if (ConsumeSymbol("||")) {
      op = BinaryOp::kConcat;
    } else {
      return left;
    }
    RETURN_IF_ERROR(CheckDepth(chain));
    ASSIGN_OR_RETURN(ExprPtr right, ParseMultiplicative());
    left = MakeBinary(op, std::move(left), std::move(right));
  }
}

absl::StatusOr<ExprPtr> Parser::ParseMultiplicative() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseUnary());
  for (int chain = 1;; ++chain) {
    BinaryOp op;
    if (ConsumeSymbol("*")) {
      op = BinaryOp::kMultiply;
    } else if (ConsumeSymbol("/")) {
      op = BinaryOp::kDivide;
    } else if (ConsumeSymbol("%")) {
      op = BinaryOp::kModulo;
    } else {
      return left;
    }
    RETURN_IF_ERROR(CheckDepth(chain));
    ASSIGN_OR_RETURN(ExprPtr right, ParseUnary());
    left = MakeBinary(op, std::move(left), std::move(right));
  }
}

absl::StatusOr<ExprPtr> Parser::ParseUnary() {
  if (!AtSymbol("-")) return ParsePrimary();
  const SourcePos pos = Peek().pos;
  Advance();
  const TokenKind next = Peek().kind;
  if (next == TokenKind::kInteger || next == TokenKind::kFloat) {
    return ParseNumber(pos, /*negative=*/true);
  }
  NestingGuard guard(this);
  RETURN_IF_ERROR(CheckDepth());
  ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary());
  return MakeExpr(pos, UnaryExpr{UnaryOp::kNegate, std::move(operand)});
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  const Token& t = Peek();
  const SourcePos pos = t.pos;
  switch (t.kind) {
    case TokenKind::kInteger:
    case TokenKind::kFloat:
      return ParseNumber(pos, /*negative=*/false);
    case TokenKind::kString:
    case TokenKind::kBytes:
    case TokenKind::kParameter: {
      Expr::Node node = t.kind == TokenKind::kParameter ? Expr::Node(ParameterExpr{t.text})
                        : t.kind == TokenKind::kString
                            ? Expr::Node(LiteralExpr{Value::String(t.text)})
                            : Expr::Node(LiteralExpr{Value::Bytes(t.text)});
      Advance();
      return std::make_unique<Expr>(pos, std::move(node));
    }
    case TokenKind::kIdentifier:
    case TokenKind::kQuotedIdentifier:
      return ParseNamed();
    default:
      break;
  }
  if (AtSymbol("(")) return ParseParenthesized();
  if (AtWord("CAST")) return ParseCast();
  if (AtWord("EXISTS")) return ParseExists();
  Value value;
  if (AtWord("TRUE") || AtWord("FALSE")) {
    value = Value::Bool(AtWord("TRUE"));
  } else if (!AtWord("NULL")) {
    return Unexpected("an expression");
  }
  Advance();
  return MakeExpr(pos, LiteralExpr{std::move(value)});
}

// ( expr ) or ( select ).
absl::StatusOr<ExprPtr> Parser::ParseParenthesized() {
  const SourcePos pos = Peek().pos;
  if (AtWord("SELECT", 1)) {
    ASSIGN_OR_RETURN(std::unique_ptr<SelectStmt> subquery, ParseSubquery());
    return MakeExpr(pos, SubqueryExpr{std::move(subquery)});
  }
  RETURN_IF_ERROR(ExpectSymbol("("));
  ASSIGN_OR_RETURN(ExprPtr inner, ParseExpr());
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return inner;
}

// A word that is not reserved: TIMESTAMP 'text', a function call, or a column reference.
absl::StatusOr<ExprPtr> Parser::ParseNamed() {
  const Token& t = Peek();
  const SourcePos pos = t.pos;
  if (t.kind == TokenKind::kIdentifier && t.text == "timestamp" &&
      Peek(1).kind == TokenKind::kString) {
    return ParseTimestampLiteral();
  }
  if (AtSymbol("(", 1)) {
    // Function names are case-insensitive unless quoted: upper-case the unquoted ones.
    std::string name = t.text;
    if (t.kind == TokenKind::kIdentifier) {
      for (char& c : name) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    Advance();
    return ParseFunctionCall(pos, std::move(name));
  }
  ASSIGN_OR_RETURN(std::string first, ParseIdentifier("a column name"));
  if (!ConsumeSymbol(".")) return MakeExpr(pos, ColumnRefExpr{"", std::move(first)});
  ASSIGN_OR_RETURN(std::string column, ParseIdentifier("a column name"));
  return MakeExpr(pos, ColumnRefExpr{std::move(first), std::move(column)});
}

// After the name: ( [DISTINCT] expr, ... ) | ( * ) for COUNT | ( ).
absl::StatusOr<ExprPtr> Parser::ParseFunctionCall(SourcePos pos, std::string name) {
  NestingGuard guard(this);
  RETURN_IF_ERROR(CheckDepth());
  RETURN_IF_ERROR(ExpectSymbol("("));
  FunctionCallExpr call;
  call.name = std::move(name);
  if (call.name == "COUNT" && ConsumeSymbol("*")) {
    call.star = true;
  } else if (ConsumeWord("DISTINCT")) {
    call.distinct = true;
    ASSIGN_OR_RETURN(call.args, ParseExprList());
  } else if (!AtSymbol(")")) {
    ASSIGN_OR_RETURN(call.args, ParseExprList());
  }
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return MakeExpr(pos, std::move(call));
}

absl::StatusOr<ExprPtr> Parser::ParseCast() {
  const SourcePos pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("CAST"));
  RETURN_IF_ERROR(ExpectSymbol("("));
  ASSIGN_OR_RETURN(ExprPtr operand, ParseExpr());
  RETURN_IF_ERROR(ExpectWord("AS"));
  ASSIGN_OR_RETURN(const Type type, ParseType());
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return MakeExpr(pos, CastExpr{std::move(operand), type});
}

absl::StatusOr<ExprPtr> Parser::ParseExists() {
  const SourcePos pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("EXISTS"));
  if (!AtSymbol("(") || !AtWord("SELECT", 1)) return Unexpected("'(SELECT' after EXISTS");
  ASSIGN_OR_RETURN(std::unique_ptr<SelectStmt> subquery, ParseSubquery());
  return MakeExpr(pos, ExistsExpr{std::move(subquery)});
}

// ( select )
absl::StatusOr<std::unique_ptr<SelectStmt>> Parser::ParseSubquery() {
  RETURN_IF_ERROR(ExpectSymbol("("));
  ASSIGN_OR_RETURN(SelectStmt select, ParseSelect());
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return std::make_unique<SelectStmt>(std::move(select));
}

absl::StatusOr<ExprPtr> Parser::ParseNumber(SourcePos pos, bool negative) {
  const Token& t = Peek();
  const std::string text = (negative ? "-" : "") + t.text;
  const char* begin = text.data();
  const char* end = begin + text.size();
  Value value;
  std::from_chars_result result;
  if (t.kind == TokenKind::kInteger) {
    int64_t v = 0;
    result = std::from_chars(begin, end, v);
    value = Value::Int64(v);
  } else {
    double v = 0;
    result = std::from_chars(begin, end, v);
    value = Value::Float64(v);
  }
  if (result.ec == std::errc::result_out_of_range) {
    return SyntaxError(pos, absl::StrCat(t.kind == TokenKind::kInteger ? "integer" : "float",
                                         " literal ", text, " is out of range"));
  }
  if (result.ec != std::errc() || result.ptr != end) return Unexpected("a number");
  Advance();
  return MakeExpr(pos, LiteralExpr{std::move(value)});
}

// TIMESTAMP 'text'
absl::StatusOr<ExprPtr> Parser::ParseTimestampLiteral() {
  const SourcePos pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("TIMESTAMP"));
  const Token& text = Peek();
  if (text.kind != TokenKind::kString) return Unexpected("a string after TIMESTAMP");
  const absl::StatusOr<int64_t> micros = ParseTimestamp(text.text);
  if (!micros.ok()) return SyntaxError(text.pos, std::string(micros.status().message()));
  Advance();
  return MakeExpr(pos, LiteralExpr{Value::Timestamp(*micros)});
}

absl::StatusOr<std::vector<ExprPtr>> Parser::ParseExprList() {
  std::vector<ExprPtr> list;
  do {
    ASSIGN_OR_RETURN(ExprPtr e, ParseExpr());
    list.push_back(std::move(e));
  } while (ConsumeSymbol(","));
  return list;
}

absl::StatusOr<Type> Parser::ParseType() {
  const Token& t = Peek();
  if (t.kind == TokenKind::kIdentifier) {
    if (const std::optional<Type> type = TypeFromName(t.text); type.has_value()) {
      Advance();
      return *type;
    }
  }
  return Unexpected("a type (INT64, FLOAT64, BOOL, STRING, BYTES or TIMESTAMP)");
}

}  // namespace meridian::sql::internal
