// ToSql: the canonical text of a syntax tree (ast.h says what "canonical" means).
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sql_lite/ast.h"
#include "sql_lite/lexer.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

std::string_view BinaryOpText(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr:
      return "OR";
    case BinaryOp::kAnd:
      return "AND";
    case BinaryOp::kEq:
      return "=";
    case BinaryOp::kNe:
      return "!=";
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    case BinaryOp::kGe:
      return ">=";
    case BinaryOp::kAdd:
      return "+";
    case BinaryOp::kSubtract:
      return "-";
    case BinaryOp::kConcat:
      return "||";
    case BinaryOp::kMultiply:
      return "*";
    case BinaryOp::kDivide:
      return "/";
    case BinaryOp::kModulo:
      return "%";
  }
  return "?";
}

std::string_view Not(bool negated) { return negated ? " NOT" : ""; }

std::string BackQuote(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

// Unquoted function names are upper-cased by the parser, so only those read back as themselves.
std::string FunctionName(const std::string& name) {
  bool bare = !name.empty() && !IsReservedKeyword(name) && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) {
    bare = bare && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  }
  return bare ? name : BackQuote(name);
}

std::string JoinExprs(const std::vector<ExprPtr>& exprs) {
  return absl::StrJoin(exprs, ", ",
                       [](std::string* out, const ExprPtr& e) { out->append(ToSql(*e)); });
}

std::string JoinNames(const std::vector<std::string>& names) {
  return absl::StrJoin(
      names, ", ", [](std::string* out, const std::string& n) { out->append(QuoteIdentifier(n)); });
}

std::string JoinKeyParts(const std::vector<KeyPart>& parts) {
  return absl::StrJoin(parts, ", ", [](std::string* out, const KeyPart& p) {
    out->append(QuoteIdentifier(p.column));
    if (p.descending) out->append(" DESC");
  });
}

std::string NegateToSql(const UnaryExpr& e) {
  std::string operand = ToSql(*e.operand);
  // A literal keeps its parentheses, or "-5" would read back as the literal -5.
  if (std::holds_alternative<LiteralExpr>(e.operand->node)) operand = "(" + operand + ")";
  return "(-" + operand + ")";
}

struct ExprRenderer {
  std::string operator()(const LiteralExpr& e) const { return e.value.ToSqlLiteral(); }
  std::string operator()(const ParameterExpr& e) const { return "@" + e.name; }
  std::string operator()(const ColumnRefExpr& e) const {
    if (e.table.empty()) return QuoteIdentifier(e.column);
    return absl::StrCat(QuoteIdentifier(e.table), ".", QuoteIdentifier(e.column));
  }
  std::string operator()(const UnaryExpr& e) const {
    if (e.op == UnaryOp::kNegate) return NegateToSql(e);
    return absl::StrCat("(NOT ", ToSql(*e.operand), ")");
  }
  std::string operator()(const BinaryExpr& e) const {
    return absl::StrCat("(", ToSql(*e.left), " ", Sv(BinaryOpText(e.op)), " ", ToSql(*e.right),
                        ")");
  }
  std::string operator()(const IsNullExpr& e) const {
    return absl::StrCat("(", ToSql(*e.operand), " IS", Sv(Not(e.negated)), " NULL)");
  }
  std::string operator()(const InListExpr& e) const {
    return absl::StrCat("(", ToSql(*e.operand), Sv(Not(e.negated)), " IN (", JoinExprs(e.list),
                        "))");
  }
  std::string operator()(const InSubqueryExpr& e) const {
    return absl::StrCat("(", ToSql(*e.operand), Sv(Not(e.negated)), " IN (", ToSql(*e.subquery),
                        "))");
  }
  std::string operator()(const BetweenExpr& e) const {
    return absl::StrCat("(", ToSql(*e.operand), Sv(Not(e.negated)), " BETWEEN ", ToSql(*e.low),
                        " AND ", ToSql(*e.high), ")");
  }
  std::string operator()(const LikeExpr& e) const {
    return absl::StrCat("(", ToSql(*e.operand), Sv(Not(e.negated)), " LIKE ", ToSql(*e.pattern),
                        ")");
  }
  std::string operator()(const FunctionCallExpr& e) const {
    const std::string args = e.star ? "*" : JoinExprs(e.args);
    return absl::StrCat(FunctionName(e.name), "(", e.distinct ? "DISTINCT " : "", args, ")");
  }
  std::string operator()(const CastExpr& e) const {
    return absl::StrCat("CAST(", ToSql(*e.operand), " AS ", Sv(TypeName(e.type)), ")");
  }
  std::string operator()(const SubqueryExpr& e) const {
    return absl::StrCat("(", ToSql(*e.subquery), ")");
  }
  std::string operator()(const ExistsExpr& e) const {
    return absl::StrCat("EXISTS (", ToSql(*e.subquery), ")");
  }
};

std::string TableRefToSql(const TableRef& t) {
  std::string out = QuoteIdentifier(t.name);
  if (!t.alias.empty()) absl::StrAppend(&out, " AS ", QuoteIdentifier(t.alias));
  return out;
}

std::string FromToSql(const FromClause& from) {
  std::string out = TableRefToSql(from.table);
  for (const Join& j : from.joins) {
    switch (j.type) {
      case JoinType::kInner:
        absl::StrAppend(&out, " JOIN ", TableRefToSql(j.table), " ON ", ToSql(*j.on));
        break;
      case JoinType::kLeft:
        absl::StrAppend(&out, " LEFT JOIN ", TableRefToSql(j.table), " ON ", ToSql(*j.on));
        break;
      case JoinType::kCross:
        absl::StrAppend(&out, " CROSS JOIN ", TableRefToSql(j.table));
        break;
    }
  }
  return out;
}

std::string SelectItemToSql(const SelectItem& item) {
  switch (item.kind) {
    case SelectItem::Kind::kStar:
      return "*";
    case SelectItem::Kind::kTableStar:
      return QuoteIdentifier(item.table) + ".*";
    case SelectItem::Kind::kExpr:
      break;
  }
  std::string out = ToSql(*item.expr);
  if (!item.alias.empty()) absl::StrAppend(&out, " AS ", QuoteIdentifier(item.alias));
  return out;
}

std::string ColumnTypeToSql(const ColumnDef& c) {
  std::string out(TypeName(c.type));
  if (c.max_length > 0) absl::StrAppend(&out, "(", c.max_length, ")");
  return out;
}

struct StatementRenderer {
  std::string operator()(const SelectStmt& s) const { return ToSql(s); }
  std::string operator()(const InsertStmt& s) const {
    std::string out =
        absl::StrCat("INSERT ", s.or_update ? "OR UPDATE " : "", "INTO ", QuoteIdentifier(s.table),
                     " (", JoinNames(s.columns), ") VALUES ");
    for (size_t i = 0; i < s.rows.size(); ++i) {
      absl::StrAppend(&out, i > 0 ? ", " : "", "(", JoinExprs(s.rows[i]), ")");
    }
    return out;
  }
  std::string operator()(const UpdateStmt& s) const {
    std::string out = absl::StrCat("UPDATE ", QuoteIdentifier(s.table), " SET ");
    for (size_t i = 0; i < s.assignments.size(); ++i) {
      const Assignment& a = s.assignments[i];
      absl::StrAppend(&out, i > 0 ? ", " : "", QuoteIdentifier(a.column), " = ", ToSql(*a.value));
    }
    if (s.where) absl::StrAppend(&out, " WHERE ", ToSql(*s.where));
    return out;
  }
  std::string operator()(const DeleteStmt& s) const {
    std::string out = absl::StrCat("DELETE FROM ", QuoteIdentifier(s.table));
    if (s.where) absl::StrAppend(&out, " WHERE ", ToSql(*s.where));
    return out;
  }
  std::string operator()(const CreateTableStmt& s) const;
  std::string operator()(const CreateIndexStmt& s) const {
    std::string out =
        absl::StrCat("CREATE ", s.unique ? "UNIQUE " : "", "INDEX ",
                     s.if_not_exists ? "IF NOT EXISTS " : "", QuoteIdentifier(s.name), " ON ",
                     QuoteIdentifier(s.table), " (", JoinKeyParts(s.columns), ")");
    if (!s.storing.empty()) absl::StrAppend(&out, " STORING (", JoinNames(s.storing), ")");
    return out;
  }
  std::string operator()(const DropStmt& s) const {
    return absl::StrCat("DROP ", s.kind == DropStmt::Kind::kTable ? "TABLE " : "INDEX ",
                        s.if_exists ? "IF EXISTS " : "", QuoteIdentifier(s.name));
  }
  std::string operator()(const BeginStmt& s) const {
    return s.read_only ? "BEGIN READ ONLY" : "BEGIN";
  }
  std::string operator()(const CommitStmt&) const { return "COMMIT"; }
  std::string operator()(const RollbackStmt&) const { return "ROLLBACK"; }
  std::string operator()(const SetStmt& s) const {
    return absl::StrCat(
        "SET ", s.variable == SetStmt::Variable::kReadTimestamp ? "READ_TIMESTAMP" : "STALENESS",
        " = ", s.value ? ToSql(*s.value) : "DEFAULT");
  }
  std::string operator()(const ExplainStmt& s) const { return "EXPLAIN " + ToSql(*s.statement); }
};

std::string StatementRenderer::operator()(const CreateTableStmt& s) const {
  std::string out = absl::StrCat("CREATE TABLE ", s.if_not_exists ? "IF NOT EXISTS " : "",
                                 QuoteIdentifier(s.name), " (");
  for (size_t i = 0; i < s.columns.size(); ++i) {
    const ColumnDef& c = s.columns[i];
    absl::StrAppend(&out, i > 0 ? ", " : "", QuoteIdentifier(c.name), " ", ColumnTypeToSql(c),
                    c.not_null ? " NOT NULL" : "");
  }
  absl::StrAppend(&out, ") PRIMARY KEY (", JoinKeyParts(s.primary_key), ")");
  if (s.interleave.has_value()) {
    absl::StrAppend(&out, ", INTERLEAVE IN PARENT ", QuoteIdentifier(s.interleave->parent));
    if (s.interleave->on_delete == OnDelete::kCascade) out += " ON DELETE CASCADE";
  }
  return out;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  bool bare = !name.empty() && !(name[0] >= '0' && name[0] <= '9') && !IsReservedKeyword(name);
  for (char c : name) {
    bare = bare && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
  }
  return bare ? std::string(name) : BackQuote(name);
}

std::string ToSql(const Expr& expr) { return std::visit(ExprRenderer{}, expr.node); }

std::string ToSql(const SelectStmt& s) {
  std::string out =
      absl::StrCat("SELECT ", s.distinct ? "DISTINCT " : "",
                   absl::StrJoin(s.items, ", ", [](std::string* o, const SelectItem& item) {
                     o->append(SelectItemToSql(item));
                   }));
  if (s.from.has_value()) absl::StrAppend(&out, " FROM ", FromToSql(*s.from));
  if (s.where) absl::StrAppend(&out, " WHERE ", ToSql(*s.where));
  if (!s.group_by.empty()) absl::StrAppend(&out, " GROUP BY ", JoinExprs(s.group_by));
  if (s.having) absl::StrAppend(&out, " HAVING ", ToSql(*s.having));
  if (!s.order_by.empty()) {
    absl::StrAppend(&out, " ORDER BY ",
                    absl::StrJoin(s.order_by, ", ", [](std::string* o, const OrderItem& item) {
                      o->append(ToSql(*item.expr));
                      if (item.descending) o->append(" DESC");
                    }));
  }
  if (s.limit) absl::StrAppend(&out, " LIMIT ", ToSql(*s.limit));
  if (s.offset) absl::StrAppend(&out, " OFFSET ", ToSql(*s.offset));
  return out;
}

std::string ToSql(const Statement& statement) {
  return std::visit(StatementRenderer{}, statement.node);
}

}  // namespace meridian::sql
