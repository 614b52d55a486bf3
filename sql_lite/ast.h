// The SQL syntax tree that the parser builds and the binder (later) consumes.
//
// Shape: plain structs owned through std::unique_ptr; an expression is an Expr holding a
// std::variant of node structs, a statement is a Statement holding a std::variant of statement
// structs. Every node carries the SourcePos of its first token, for error messages after parsing.
// The tree is purely syntactic: names are not resolved, types not checked. Names are already
// case-folded: an unquoted identifier is lower-cased, a quoted one kept exactly, so two names are
// the same when their strings are equal. Function names are upper-cased unless quoted.
//
// ToSql (render.cc) writes the canonical text of a tree: keywords upper-case, every compound
// expression in parentheses, literals in Value::ToSqlLiteral form, Spanner's CREATE TABLE form.
// Parsing ToSql(t) gives a tree whose ToSql is the same text (tests check this round trip). The
// added parentheses make the text nest deeper than the input did, up to about twice as deep, so a
// tree parsed near ParserOptions::max_depth needs a larger limit to be read back.
//
// Thread safety: a tree is a value; const access from several threads is safe.
#ifndef MERIDIAN_SQL_LITE_AST_H_
#define MERIDIAN_SQL_LITE_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "sql_lite/error.h"
#include "sql_lite/value.h"

namespace meridian::sql {

struct Expr;
struct SelectStmt;
struct Statement;
using ExprPtr = std::unique_ptr<Expr>;

// ---- Expressions ----

struct LiteralExpr {
  Value value;
};

// @name; the name is lower-cased, without the '@'.
struct ParameterExpr {
  std::string name;
};

// column or table.column; `table` is empty when unqualified.
struct ColumnRefExpr {
  std::string table;
  std::string column;
};

enum class UnaryOp : uint8_t { kNot, kNegate };

struct UnaryExpr {
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp : uint8_t {
  kOr,
  kAnd,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAdd,
  kSubtract,
  kConcat,
  kMultiply,
  kDivide,
  kModulo,
};

struct BinaryExpr {
  BinaryOp op;
  ExprPtr left;
  ExprPtr right;
};

// operand IS [NOT] NULL
struct IsNullExpr {
  ExprPtr operand;
  bool negated = false;
};

// operand [NOT] IN (list...)
struct InListExpr {
  ExprPtr operand;
  std::vector<ExprPtr> list;
  bool negated = false;
};

// operand [NOT] IN (SELECT ...)
struct InSubqueryExpr {
  ExprPtr operand;
  std::unique_ptr<SelectStmt> subquery;
  bool negated = false;
};

// operand [NOT] BETWEEN low AND high
struct BetweenExpr {
  ExprPtr operand;
  ExprPtr low;
  ExprPtr high;
  bool negated = false;
};

// operand [NOT] LIKE pattern
struct LikeExpr {
  ExprPtr operand;
  ExprPtr pattern;
  bool negated = false;
};

// name([DISTINCT] args) or COUNT(*) (star set, args empty). Aggregates are ordinary calls here;
// the binder knows which names aggregate.
struct FunctionCallExpr {
  std::string name;
  std::vector<ExprPtr> args;
  bool distinct = false;
  bool star = false;
};

// CAST(operand AS type)
struct CastExpr {
  ExprPtr operand;
  Type type;
};

// (SELECT ...) used as a value.
struct SubqueryExpr {
  std::unique_ptr<SelectStmt> subquery;
};

// EXISTS (SELECT ...)
struct ExistsExpr {
  std::unique_ptr<SelectStmt> subquery;
};

struct Expr {
  using Node = std::variant<LiteralExpr, ParameterExpr, ColumnRefExpr, UnaryExpr, BinaryExpr,
                            IsNullExpr, InListExpr, InSubqueryExpr, BetweenExpr, LikeExpr,
                            FunctionCallExpr, CastExpr, SubqueryExpr, ExistsExpr>;
  SourcePos pos;
  Node node;

  Expr(SourcePos p, Node n);
  ~Expr();
};

// ---- Queries ----

struct TableRef {
  SourcePos pos;
  std::string name;
  std::string alias;  // empty when none
};

enum class JoinType : uint8_t { kInner, kLeft, kCross };

struct Join {
  SourcePos pos;
  JoinType type = JoinType::kInner;
  TableRef table;
  ExprPtr on;  // null for kCross
};

struct FromClause {
  TableRef table;
  std::vector<Join> joins;  // applied left to right
};

struct SelectItem {
  enum class Kind : uint8_t { kExpr, kStar, kTableStar };
  SourcePos pos;
  Kind kind = Kind::kExpr;
  ExprPtr expr;       // kExpr only
  std::string table;  // kTableStar only: the t of t.*
  std::string alias;  // kExpr only; empty when none
};

struct OrderItem {
  ExprPtr expr;
  bool descending = false;
};

struct SelectStmt {
  SourcePos pos;
  bool distinct = false;
  std::vector<SelectItem> items;
  std::optional<FromClause> from;  // nullopt: SELECT 1 + 1
  ExprPtr where;                   // each clause below is null/empty when absent
  std::vector<ExprPtr> group_by;
  ExprPtr having;
  std::vector<OrderItem> order_by;
  ExprPtr limit;   // an INT64 literal or a parameter
  ExprPtr offset;  // likewise; only with limit

  SelectStmt();
  ~SelectStmt();
  SelectStmt(SelectStmt&&) noexcept;
  SelectStmt& operator=(SelectStmt&&) noexcept;
};

// ---- DML ----

// INSERT [OR UPDATE] INTO table (columns) VALUES (row), ...; every row has one value per column.
struct InsertStmt {
  SourcePos pos;
  bool or_update = false;
  std::string table;
  std::vector<std::string> columns;
  std::vector<std::vector<ExprPtr>> rows;
};

struct Assignment {
  SourcePos pos;
  std::string column;
  ExprPtr value;
};

struct UpdateStmt {
  SourcePos pos;
  std::string table;
  std::vector<Assignment> assignments;
  ExprPtr where;  // null: every row
};

struct DeleteStmt {
  SourcePos pos;
  std::string table;
  ExprPtr where;  // null: every row
};

// ---- DDL ----

struct ColumnDef {
  SourcePos pos;
  std::string name;
  Type type = Type::kInt64;
  int64_t max_length = 0;  // STRING(n) / BYTES(n); 0 for MAX or none given
  bool not_null = false;
};

struct KeyPart {
  SourcePos pos;
  std::string column;
  bool descending = false;
};

enum class OnDelete : uint8_t { kNoAction, kCascade };

struct InterleaveClause {
  SourcePos pos;
  std::string parent;
  OnDelete on_delete = OnDelete::kNoAction;
};

struct CreateTableStmt {
  SourcePos pos;
  bool if_not_exists = false;
  std::string name;
  std::vector<ColumnDef> columns;
  std::vector<KeyPart> primary_key;  // may be empty: a table of at most one row
  std::optional<InterleaveClause> interleave;
};

struct CreateIndexStmt {
  SourcePos pos;
  bool unique = false;
  bool if_not_exists = false;
  std::string name;
  std::string table;
  std::vector<KeyPart> columns;
  std::vector<std::string> storing;  // STORING (...): extra columns kept in the index
};

struct DropStmt {
  enum class Kind : uint8_t { kTable, kIndex };
  SourcePos pos;
  Kind kind = Kind::kTable;
  bool if_exists = false;
  std::string name;
};

// ---- Transactions and session ----

struct BeginStmt {
  SourcePos pos;
  bool read_only = false;
};

struct CommitStmt {
  SourcePos pos;
};

struct RollbackStmt {
  SourcePos pos;
};

// SET READ_TIMESTAMP = ... / SET STALENESS = ... (docs/sql.md, "Reads in the past"). `value` is
// null for DEFAULT; otherwise a TIMESTAMP or INT64 literal (micros) for READ_TIMESTAMP, an INT64
// literal (micros) for STALENESS, or a parameter.
struct SetStmt {
  enum class Variable : uint8_t { kReadTimestamp, kStaleness };
  SourcePos pos;
  Variable variable = Variable::kReadTimestamp;
  ExprPtr value;
};

// EXPLAIN statement; the explained statement is never itself an EXPLAIN.
struct ExplainStmt {
  SourcePos pos;
  std::unique_ptr<Statement> statement;
};

struct Statement {
  using Node =
      std::variant<SelectStmt, InsertStmt, UpdateStmt, DeleteStmt, CreateTableStmt, CreateIndexStmt,
                   DropStmt, BeginStmt, CommitStmt, RollbackStmt, SetStmt, ExplainStmt>;
  Node node;

  // The position of the statement's first token.
  SourcePos pos() const;
};

// Canonical SQL text (see the top of this file).
std::string ToSql(const Expr& expr);
std::string ToSql(const SelectStmt& select);
std::string ToSql(const Statement& statement);

// An identifier as SQL text: bare when it reads back as itself (lower-case word, not reserved),
// otherwise in backquotes with '`' doubled.
std::string QuoteIdentifier(std::string_view name);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_AST_H_
