// The recursive-descent Parser behind parser.h, shared by parser*.cc and nothing else. Its methods
// are split by responsibility: tokens, statements and transactions (parser.cc), SELECT
// (parser_query.cc), INSERT/UPDATE/DELETE (parser_dml.cc), CREATE/DROP (parser_ddl.cc) and
// expressions (parser_expr.cc). Each ParseX method starts on the first token of X and leaves the
// cursor on the first token after it; on error the cursor is unspecified. Not thread-safe: one
// Parser per call of the parser.h functions.
#ifndef MERIDIAN_SQL_LITE_PARSER_INTERNAL_H_
#define MERIDIAN_SQL_LITE_PARSER_INTERNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sql_lite/ast.h"
#include "sql_lite/lexer.h"
#include "sql_lite/parser.h"

namespace meridian::sql::internal {

class Parser {
 public:
  Parser(std::string_view sql, std::vector<Token> tokens, const ParserOptions& options);

  // ---- Tokens (parser.cc) ----
  const Token& Peek(size_t k = 0) const;
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  void Advance();
  // True when token k is the word `upper` (a reserved keyword, or an unquoted identifier that
  // spells it in any case: READ, ONLY, CASCADE ... are not reserved).
  bool AtWord(std::string_view upper, size_t k = 0) const;
  bool AtSymbol(std::string_view symbol, size_t k = 0) const;
  bool ConsumeWord(std::string_view upper);
  bool ConsumeSymbol(std::string_view symbol);
  absl::Status ExpectWord(std::string_view upper);
  absl::Status ExpectSymbol(std::string_view symbol);
  // "expected <expected> but found <the current token> at line L, column C".
  absl::Status Unexpected(std::string_view expected) const;
  // An unquoted (not reserved) or quoted identifier; `what` names it in the error.
  absl::StatusOr<std::string> ParseIdentifier(std::string_view what);
  absl::StatusOr<std::vector<std::string>> ParseIdentifierList(std::string_view what);

  // Counts one level of nesting for as long as it lives; CheckDepth() then refuses too deep.
  // A chain of binary operators (a + b + c ...) builds a tree as tall as the chain, so the loops
  // that build one pass its length as `extra`: the renderer and destructors recurse that deep.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser* parser) : parser_(parser) { ++parser_->depth_; }
    ~NestingGuard() { --parser_->depth_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser* parser_;
  };
  absl::Status CheckDepth(int extra = 0) const;

  // ---- Statements (parser.cc) ----
  absl::StatusOr<Statement> ParseStatementBody(bool allow_explain);
  absl::StatusOr<Statement> ParseTransactionControl();
  absl::StatusOr<Statement> ParseSet();
  absl::StatusOr<ExprPtr> ParseSetValue(SetStmt::Variable variable);

  // ---- SELECT (parser_query.cc) ----
  absl::StatusOr<SelectStmt> ParseSelect();
  absl::Status ParseSelectItems(SelectStmt* select);
  absl::StatusOr<SelectItem> ParseSelectItem();
  absl::StatusOr<FromClause> ParseFrom();
  absl::StatusOr<TableRef> ParseTableRef();
  absl::StatusOr<bool> ParseJoin(FromClause* from);
  absl::Status ParseSelectTail(SelectStmt* select);
  absl::StatusOr<std::vector<OrderItem>> ParseOrderBy();
  absl::StatusOr<ExprPtr> ParseLimitValue(std::string_view clause);

  // ---- INSERT, UPDATE, DELETE (parser_dml.cc) ----
  absl::StatusOr<Statement> ParseInsert();
  absl::StatusOr<std::vector<ExprPtr>> ParseValuesRow(size_t columns);
  absl::StatusOr<Statement> ParseUpdate();
  absl::StatusOr<Statement> ParseDelete();
  absl::StatusOr<ExprPtr> ParseOptionalWhere();

  // ---- CREATE, DROP (parser_ddl.cc) ----
  absl::StatusOr<Statement> ParseCreate();
  absl::StatusOr<Statement> ParseCreateTable(SourcePos pos);
  absl::Status ParseTableElements(CreateTableStmt* table, bool* has_key);
  absl::StatusOr<ColumnDef> ParseColumnDef();
  absl::StatusOr<int64_t> ParseLengthLimit();
  absl::StatusOr<std::vector<KeyPart>> ParsePrimaryKey(bool* has_key);
  absl::StatusOr<std::vector<KeyPart>> ParseKeyParts(bool allow_empty);
  absl::StatusOr<InterleaveClause> ParseInterleave();
  absl::StatusOr<Statement> ParseCreateIndex(SourcePos pos, bool unique);
  absl::StatusOr<Statement> ParseDrop();
  absl::StatusOr<bool> ParseIfExists(bool with_not);
  absl::StatusOr<Type> ParseType();

  // ---- Expressions (parser_expr.cc) ----
  absl::StatusOr<ExprPtr> ParseExpr();
  absl::StatusOr<ExprPtr> ParseOr();
  absl::StatusOr<ExprPtr> ParseAnd();
  absl::StatusOr<ExprPtr> ParseNot();
  absl::StatusOr<ExprPtr> ParsePredicate();
  absl::StatusOr<ExprPtr> ParseInTail(ExprPtr operand, bool negated);
  absl::StatusOr<ExprPtr> ParseAdditive();
  absl::StatusOr<ExprPtr> ParseMultiplicative();
  absl::StatusOr<ExprPtr> ParseUnary();
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> ParseParenthesized();
  absl::StatusOr<ExprPtr> ParseNamed();
  absl::StatusOr<ExprPtr> ParseFunctionCall(SourcePos pos, std::string name);
  absl::StatusOr<ExprPtr> ParseCast();
  absl::StatusOr<ExprPtr> ParseExists();
  absl::StatusOr<std::unique_ptr<SelectStmt>> ParseSubquery();
  // The literal of the current kInteger or kFloat token, negated when `negative`.
  absl::StatusOr<ExprPtr> ParseNumber(SourcePos pos, bool negative);
  absl::StatusOr<ExprPtr> ParseTimestampLiteral();
  absl::StatusOr<std::vector<ExprPtr>> ParseExprList();

 private:
  std::string Describe(const Token& token) const;

  std::string_view sql_;
  std::vector<Token> tokens_;  // ends with a kEnd token
  size_t next_ = 0;
  int depth_ = 0;
  ParserOptions options_;
};

// Builds an expression node.
template <typename Node>
ExprPtr MakeExpr(SourcePos pos, Node node) {
  return std::make_unique<Expr>(pos, Expr::Node(std::move(node)));
}

}  // namespace meridian::sql::internal

#endif  // MERIDIAN_SQL_LITE_PARSER_INTERNAL_H_
