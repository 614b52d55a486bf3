// How `meridian sql` (sql.cc) and the demo shell's `sql` command (cluster_demo.cc) run and show
// SQL: results as aligned tables with their row count and time, DML as the rows it changed,
// errors as "ERROR: CODE: message" followed, when the error has a position, by the statement's
// line and a caret under the column (as psql does), and the meta-commands `\d`, `\d NAME`, `\?`
// (or help) and `\q` (or quit, exit).
//
// The Format functions are pure; the Run functions execute on a Session and print to stdout.
// Thread safety: the Session's (one thread).
#ifndef MERIDIAN_TOOLS_SQL_PRINT_H_
#define MERIDIAN_TOOLS_SQL_PRINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "meridian/sql.h"
#include "tools/sql_input.h"

namespace meridian::tools {

// The meta-commands, for `\?` and help texts.
inline constexpr char kSqlMetaHelp[] =
    "  \\d          list the tables (parent, primary key, number of indexes)\n"
    "  \\d NAME     describe a table: columns, primary key, interleaving, indexes\n"
    "  \\? or help  list these commands\n"
    "  \\q or quit  leave the shell\n";

// The rows as an aligned table under a header line; values are escaped when not printable.
std::string FormatTable(const sql::ResultSet& result);
// FormatTable and "(N rows, T ms)"; for a statement without columns "OK, N rows affected (T ms)".
std::string FormatResult(const sql::ResultSet& result, double ms);
// "Table NAME", its columns, primary key, interleaving and indexes.
std::string FormatDescription(const sql::TableDescription& description);

// "ERROR: CODE: message\n", and when `status` carries a position (sql_lite/error.h) inside
// `statement` (the text the Session got, to which the position is relative), the line it points
// at as "LINE L: text" and a caret under its column (columns count bytes; the caret line keeps
// tabs and skips UTF-8 continuation bytes so it lines up in a terminal). A non-empty `source`
// (a file name) prefixes "SOURCE:N: ", where N is the line of the error in that source, given
// that the statement starts on its line `first_line`.
std::string FormatError(const absl::Status& status, std::string_view statement,
                        std::string_view source = "", int first_line = 1);

enum class ShellOutcome : uint8_t { kOk, kError, kQuit };

// Runs one statement or meta-command and prints its result (or error) and time. `source` names
// the input for errors ("" for a terminal).
ShellOutcome RunItem(sql::Session& session, const SqlInput::Item& item, std::string_view source);

// Runs every item of `text` (lines of statements and meta-commands), the last statement also
// without its ';'. Stops at the first error or quit when `stop_on_error`; returns kError when an
// item failed, else kQuit or kOk.
ShellOutcome RunText(sql::Session& session, std::string_view text, std::string_view source,
                     bool stop_on_error);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_SQL_PRINT_H_
