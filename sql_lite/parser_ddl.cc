// CREATE and DROP:
//   create-table := CREATE TABLE [IF NOT EXISTS] name ( element { , element } )
//                   [ primary-key ] [ [,] interleave ]
//   element      := column | primary-key                 (exactly one primary key in all)
//   column       := name type [ ( MAX | integer ) ] [ NOT NULL ]   (a length for STRING/BYTES)
//   primary-key  := PRIMARY KEY ( [ key-part { , key-part } ] )
//   key-part     := name [ ASC | DESC ]
//   interleave   := INTERLEAVE IN PARENT name [ ON DELETE ( CASCADE | NO ACTION ) ]
//   create-index := CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON name ( key-part { , key-part } )
//                   [ STORING ( name { , name } ) ]
//   drop         := DROP ( TABLE | INDEX ) [IF EXISTS] name
#include <charconv>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/parser_internal.h"

namespace meridian::sql::internal {

absl::StatusOr<Statement> Parser::ParseCreate() {
  const SourcePos pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("CREATE"));
  const bool unique = ConsumeWord("UNIQUE");
  if (ConsumeWord("INDEX")) return ParseCreateIndex(pos, unique);
  if (unique) return Unexpected("INDEX");
  if (ConsumeWord("TABLE")) return ParseCreateTable(pos);
  return Unexpected("TABLE or INDEX");
}

// After CREATE TABLE.
absl::StatusOr<Statement> Parser::ParseCreateTable(SourcePos pos) {
  CreateTableStmt table;
  table.pos = pos;
  ASSIGN_OR_RETURN(table.if_not_exists, ParseIfExists(/*with_not=*/true));
  ASSIGN_OR_RETURN(table.name, ParseIdentifier("a table name"));
  bool has_key = false;
  RETURN_IF_ERROR(ParseTableElements(&table, &has_key));
  if (AtWord("PRIMARY")) {
    ASSIGN_OR_RETURN(table.primary_key, ParsePrimaryKey(&has_key));
  }
  if (!has_key) return Unexpected("PRIMARY KEY");
  if (ConsumeSymbol(",") || AtWord("INTERLEAVE")) {
    ASSIGN_OR_RETURN(table.interleave, ParseInterleave());
  }
  return Statement{std::move(table)};
}

// ( element { , element } ); sets *has_key when one is a PRIMARY KEY.
absl::Status Parser::ParseTableElements(CreateTableStmt* table, bool* has_key) {
  RETURN_IF_ERROR(ExpectSymbol("("));
  do {
    if (AtWord("PRIMARY")) {
      ASSIGN_OR_RETURN(table->primary_key, ParsePrimaryKey(has_key));
    } else {
      ASSIGN_OR_RETURN(ColumnDef column, ParseColumnDef());
      table->columns.push_back(std::move(column));
    }
  } while (ConsumeSymbol(","));
  if (table->columns.empty()) {
    return SyntaxError(Peek().pos, "a table needs at least one column");
  }
  return ExpectSymbol(")");
}

absl::StatusOr<ColumnDef> Parser::ParseColumnDef() {
  ColumnDef column;
  column.pos = Peek().pos;
  ASSIGN_OR_RETURN(column.name, ParseIdentifier("a column name"));
  ASSIGN_OR_RETURN(column.type, ParseType());
  if (AtSymbol("(")) {
    if (column.type != Type::kString && column.type != Type::kBytes) {
      return SyntaxError(Peek().pos, "only STRING and BYTES columns take a length");
    }
    ASSIGN_OR_RETURN(column.max_length, ParseLengthLimit());
  }
  if (ConsumeWord("NOT")) {
    RETURN_IF_ERROR(ExpectWord("NULL"));
    column.not_null = true;
  }
  return column;
}

// ( MAX ) is 0; ( n ) is n > 0.
absl::StatusOr<int64_t> Parser::ParseLengthLimit() {
  RETURN_IF_ERROR(ExpectSymbol("("));
  int64_t length = 0;
  if (!ConsumeWord("MAX")) {
    const Token& t = Peek();
    if (t.kind != TokenKind::kInteger) return Unexpected("MAX or a length");
    const auto result = std::from_chars(t.text.data(), t.text.data() + t.text.size(), length);
    if (result.ec != std::errc() || length <= 0) {
      return SyntaxError(t.pos, absl::StrCat("length ", t.text, " is not a positive INT64"));
    }
    Advance();
  }
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return length;
}

// PRIMARY KEY ( [key-part, ...] ); refuses a second one.
absl::StatusOr<std::vector<KeyPart>> Parser::ParsePrimaryKey(bool* has_key) {
  if (*has_key) return SyntaxError(Peek().pos, "a table has only one PRIMARY KEY");
  *has_key = true;
  RETURN_IF_ERROR(ExpectWord("PRIMARY"));
  RETURN_IF_ERROR(ExpectWord("KEY"));
  return ParseKeyParts(/*allow_empty=*/true);
}

absl::StatusOr<std::vector<KeyPart>> Parser::ParseKeyParts(bool allow_empty) {
  RETURN_IF_ERROR(ExpectSymbol("("));
  std::vector<KeyPart> parts;
  if (allow_empty && ConsumeSymbol(")")) return parts;
  do {
    KeyPart part;
    part.pos = Peek().pos;
    ASSIGN_OR_RETURN(part.column, ParseIdentifier("a column name"));
    if (ConsumeWord("DESC")) {
      part.descending = true;
    } else {
      ConsumeWord("ASC");
    }
    parts.push_back(std::move(part));
  } while (ConsumeSymbol(","));
  RETURN_IF_ERROR(ExpectSymbol(")"));
  return parts;
}

absl::StatusOr<InterleaveClause> Parser::ParseInterleave() {
  InterleaveClause interleave;
  interleave.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("INTERLEAVE"));
  RETURN_IF_ERROR(ExpectWord("IN"));
  RETURN_IF_ERROR(ExpectWord("PARENT"));
  ASSIGN_OR_RETURN(interleave.parent, ParseIdentifier("a parent table name"));
  if (ConsumeWord("ON")) {
    RETURN_IF_ERROR(ExpectWord("DELETE"));
    if (ConsumeWord("CASCADE")) {
      interleave.on_delete = OnDelete::kCascade;
    } else if (ConsumeWord("NO")) {
      RETURN_IF_ERROR(ExpectWord("ACTION"));
    } else {
      return Unexpected("CASCADE or NO ACTION");
    }
  }
  return interleave;
}

// After CREATE [UNIQUE] INDEX.
absl::StatusOr<Statement> Parser::ParseCreateIndex(SourcePos pos, bool unique) {
  CreateIndexStmt index;
  index.pos = pos;
  index.unique = unique;
  ASSIGN_OR_RETURN(index.if_not_exists, ParseIfExists(/*with_not=*/true));
  ASSIGN_OR_RETURN(index.name, ParseIdentifier("an index name"));
  RETURN_IF_ERROR(ExpectWord("ON"));
  ASSIGN_OR_RETURN(index.table, ParseIdentifier("a table name"));
  ASSIGN_OR_RETURN(index.columns, ParseKeyParts(/*allow_empty=*/false));
  if (ConsumeWord("STORING")) {
    ASSIGN_OR_RETURN(index.storing, ParseIdentifierList("a column name"));
  }
  return Statement{std::move(index)};
}

absl::StatusOr<Statement> Parser::ParseDrop() {
  DropStmt drop;
  drop.pos = Peek().pos;
  RETURN_IF_ERROR(ExpectWord("DROP"));
  if (ConsumeWord("INDEX")) {
    drop.kind = DropStmt::Kind::kIndex;
  } else if (!ConsumeWord("TABLE")) {
    return Unexpected("TABLE or INDEX");
  }
  ASSIGN_OR_RETURN(drop.if_exists, ParseIfExists(/*with_not=*/false));
  ASSIGN_OR_RETURN(
      drop.name,
      ParseIdentifier(drop.kind == DropStmt::Kind::kTable ? "a table name" : "an index name"));
  return Statement{std::move(drop)};
}

// [IF NOT EXISTS] (with_not) or [IF EXISTS]; true when present.
absl::StatusOr<bool> Parser::ParseIfExists(bool with_not) {
  if (!ConsumeWord("IF")) return false;
  if (with_not) RETURN_IF_ERROR(ExpectWord("NOT"));
  RETURN_IF_ERROR(ExpectWord("EXISTS"));
  return true;
}

}  // namespace meridian::sql::internal
