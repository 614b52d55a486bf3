#include "sql_lite/ast.h"

#include <utility>

namespace meridian::sql {

// Out of line: SubqueryExpr and friends hold a SelectStmt, complete only here.
Expr::Expr(SourcePos p, Node n) : pos(p), node(std::move(n)) {}
Expr::~Expr() = default;

SelectStmt::SelectStmt() = default;
SelectStmt::~SelectStmt() = default;
SelectStmt::SelectStmt(SelectStmt&&) noexcept = default;
SelectStmt& SelectStmt::operator=(SelectStmt&&) noexcept = default;

SourcePos Statement::pos() const {
  return std::visit([](const auto& s) { return s.pos; }, node);
}

}  // namespace meridian::sql
