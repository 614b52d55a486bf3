// INSERT, UPDATE and DELETE:
//   insert := INSERT [OR UPDATE] INTO name ( name { , name } ) VALUES row { , row }
//   row    := ( expr { , expr } )                 one value per listed column
//   update := UPDATE name SET name = expr { , name = expr } [ WHERE expr ]
//   delete := DELETE [FROM] name [ WHERE expr ]
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/parser_internal.h"

namespace meridian::sql::internal {

absl::StatusOr<Statement> Parser::ParseInsert() {
  InsertStmt insert;
  insert.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("INSERT"));
  if (ConsumeWord("OR")) {
    RETURN_IF_ERROR(ExpectWord("UPDATE"));
    insert.or_update = true;
  }
  RETURN_IF_ERROR(ExpectWord("INTO"));
  ASSIGN_OR_RETURN(insert.table, ParseIdentifier("a table name"));
  ASSIGN_OR_RETURN(insert.columns, ParseIdentifierList("a column name"));
  RETURN_IF_ERROR(ExpectWord("VALUES"));
  do {
    ASSIGN_OR_RETURN(std::vector<ExprPtr> row, ParseValuesRow(insert.columns.size()));
    insert.rows.push_back(std::move(row));
  } while (ConsumeSymbol(","));
  return Statement{std::move(insert)};
}

absl::StatusOr<std::vector<ExprPtr>> Parser::ParseValuesRow(size_t columns) {
  const SourcePos pos = Peek().pos;
  RETURN_IF_ERROR(ExpectSymbol("("));
  ASSIGN_OR_RETURN(std::vector<ExprPtr> row, ParseExprList());
  RETURN_IF_ERROR(ExpectSymbol(")"));
  if (row.size() != columns) {
    return SyntaxError(
        pos, absl::StrCat("row has ", row.size(), " values but ", columns, " columns are listed"));
  }
  return row;
}

absl::StatusOr<Statement> Parser::ParseUpdate() {
  UpdateStmt update;
  update.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("UPDATE"));
  ASSIGN_OR_RETURN(update.table, ParseIdentifier("a table name"));
  RETURN_IF_ERROR(ExpectWord("SET"));
  do {
    Assignment assignment;
    assignment.pos = Peek().pos;
    ASSIGN_OR_RETURN(assignment.column, ParseIdentifier("a column name"));
    RETURN_IF_ERROR(ExpectSymbol("="));
    ASSIGN_OR_RETURN(assignment.value, ParseExpr());
    update.assignments.push_back(std::move(assignment));
  } while (ConsumeSymbol(","));
  ASSIGN_OR_RETURN(update.where, ParseOptionalWhere());
  return Statement{std::move(update)};
}

absl::StatusOr<Statement> Parser::ParseDelete() {
  DeleteStmt del;
  del.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("DELETE"));
  ConsumeWord("FROM");
  ASSIGN_OR_RETURN(del.table, ParseIdentifier("a table name"));
  ASSIGN_OR_RETURN(del.where, ParseOptionalWhere());
  return Statement{std::move(del)};
}

absl::StatusOr<ExprPtr> Parser::ParseOptionalWhere() {
  if (!ConsumeWord("WHERE")) return ExprPtr();
  return ParseExpr();
}

}  // namespace meridian::sql::internal
