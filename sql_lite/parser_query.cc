// SELECT:
//   select    := SELECT [DISTINCT | ALL] item { , item } [ FROM from ] [ WHERE expr ]
//                [ GROUP BY expr { , expr } ] [ HAVING expr ]
//                [ ORDER BY expr [ASC | DESC] { , ... } ] [ LIMIT count [ OFFSET count ] ]
//   item      := * | name . * | expr [ [AS] alias ]
//   from      := table-ref { join }
//   table-ref := name [ [AS] alias ]
//   join      := [INNER] JOIN table-ref ON expr | LEFT [OUTER] JOIN table-ref ON expr
//              | CROSS JOIN table-ref | , table-ref
//   count     := integer | @param
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/parser_internal.h"
#include "sql_lite/text_util.h"

namespace meridian::sql::internal {
namespace {

bool IsName(const Token& t) {
  return t.kind == TokenKind::kIdentifier || t.kind == TokenKind::kQuotedIdentifier;
}

}  // namespace

absl::StatusOr<SelectStmt> Parser::ParseSelect() {
  NestingGuard guard(this);
  RETURN_IF_ERROR(CheckDepth());
  SelectStmt select;
  select.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("SELECT"));
  if (ConsumeWord("DISTINCT")) {
    select.distinct = true;
  } else {
    ConsumeWord("ALL");
  }
  RETURN_IF_ERROR(ParseSelectItems(&select));
  if (ConsumeWord("FROM")) {
    ASSIGN_OR_RETURN(FromClause from, ParseFrom());
    select.from = std::move(from);
  }
  RETURN_IF_ERROR(ParseSelectTail(&select));
  return select;
}

absl::Status Parser::ParseSelectItems(SelectStmt* select) {
  do {
    ASSIGN_OR_RETURN(SelectItem item, ParseSelectItem());
    select->items.push_back(std::move(item));
  } while (ConsumeSymbol(","));
  return absl::OkStatus();
}

absl::StatusOr<SelectItem> Parser::ParseSelectItem() {
  SelectItem item;
  item.pos = Peek().pos;
  if (ConsumeSymbol("*")) {
    item.kind = SelectItem::Kind::kStar;
    return item;
  }
  if (IsName(Peek()) && AtSymbol(".", 1) && AtSymbol("*", 2)) {
    item.kind = SelectItem::Kind::kTableStar;
    item.table = Peek().text;
    Advance();
    Advance();
    Advance();
    return item;
  }
  ASSIGN_OR_RETURN(item.expr, ParseExpr());
  if (ConsumeWord("AS")) {
    ASSIGN_OR_RETURN(item.alias, ParseIdentifier("an alias"));
  } else if (IsName(Peek())) {
    item.alias = Peek().text;
    Advance();
  }
  return item;
}

absl::StatusOr<FromClause> Parser::ParseFrom() {
  FromClause from;
  ASSIGN_OR_RETURN(from.table, ParseTableRef());
  while (true) {
    ASSIGN_OR_RETURN(const bool joined, ParseJoin(&from));
    if (!joined) return from;
  }
}

absl::StatusOr<TableRef> Parser::ParseTableRef() {
  TableRef ref;
  ref.pos = Peek().pos;
  ASSIGN_OR_RETURN(ref.name, ParseIdentifier("a table name"));
  if (ConsumeWord("AS")) {
    ASSIGN_OR_RETURN(ref.alias, ParseIdentifier("an alias"));
  } else if (IsName(Peek())) {
    ref.alias = Peek().text;
    Advance();
  }
  return ref;
}

// One join after the first table; false (and nothing consumed) when none follows.
absl::StatusOr<bool> Parser::ParseJoin(FromClause* from) {
  Join join;
  join.pos = Peek().pos;
  if (ConsumeSymbol(",")) {
    join.type = JoinType::kCross;
  } else if (ConsumeWord("CROSS")) {
    join.type = JoinType::kCross;
    RETURN_IF_ERROR(ExpectWord("JOIN"));
  } else if (ConsumeWord("LEFT")) {
    join.type = JoinType::kLeft;
    ConsumeWord("OUTER");
    RETURN_IF_ERROR(ExpectWord("JOIN"));
  } else if (ConsumeWord("INNER")) {
    RETURN_IF_ERROR(ExpectWord("JOIN"));
  } else if (AtWord("RIGHT") || AtWord("FULL")) {
    return SyntaxError(join.pos, "RIGHT and FULL joins are not supported");
  } else if (!ConsumeWord("JOIN")) {
    return false;
  }
  ASSIGN_OR_RETURN(join.table, ParseTableRef());
  if (join.type != JoinType::kCross) {
    RETURN_IF_ERROR(ExpectWord("ON"));
    ASSIGN_OR_RETURN(join.on, ParseExpr());
  }
  from->joins.push_back(std::move(join));
  return true;
}

// WHERE, GROUP BY, HAVING, ORDER BY, LIMIT and OFFSET, each optional, in this order.
absl::Status Parser::ParseSelectTail(SelectStmt* select) {
  if (ConsumeWord("WHERE")) {
    ASSIGN_OR_RETURN(select->where, ParseExpr());
  }
  if (ConsumeWord("GROUP")) {
    RETURN_IF_ERROR(ExpectWord("BY"));
    ASSIGN_OR_RETURN(select->group_by, ParseExprList());
  }
  if (ConsumeWord("HAVING")) {
    ASSIGN_OR_RETURN(select->having, ParseExpr());
  }
  if (ConsumeWord("ORDER")) {
    RETURN_IF_ERROR(ExpectWord("BY"));
    ASSIGN_OR_RETURN(select->order_by, ParseOrderBy());
  }
  if (ConsumeWord("LIMIT")) {
    ASSIGN_OR_RETURN(select->limit, ParseLimitValue("LIMIT"));
    if (ConsumeWord("OFFSET")) {
      ASSIGN_OR_RETURN(select->offset, ParseLimitValue("OFFSET"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<OrderItem>> Parser::ParseOrderBy() {
  std::vector<OrderItem> items;
  do {
    OrderItem item;
    ASSIGN_OR_RETURN(item.expr, ParseExpr());
    if (ConsumeWord("DESC")) {
      item.descending = true;
    } else {
      ConsumeWord("ASC");
    }
    items.push_back(std::move(item));
  } while (ConsumeSymbol(","));
  return items;
}

absl::StatusOr<ExprPtr> Parser::ParseLimitValue(std::string_view clause) {
  const Token& t = Peek();
  if (t.kind == TokenKind::kInteger) return ParseNumber(t.pos, /*negative=*/false);
  if (t.kind == TokenKind::kParameter) {
    ExprPtr param = MakeExpr(t.pos, ParameterExpr{t.text});
    Advance();
    return param;
  }
  return Unexpected(absl::StrCat("an integer or a parameter after ", Sv(clause)));
}

}  // namespace meridian::sql::internal
