// Running and showing SQL for the shells (sql_print.h).
#include "tools/sql_print.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "meridian/client.h"
#include "sql_lite/error.h"
#include "sql_lite/lexer.h"

namespace meridian::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

double MillisSince(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

std::string_view TrimBlank(std::string_view text) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

// Line `number` (from 1) of `text` without its line break; nullopt past the end.
std::optional<std::string_view> LineOf(std::string_view text, int number) {
  for (int i = 1; i < number; ++i) {
    const size_t newline = text.find('\n');
    if (newline == std::string_view::npos) return std::nullopt;
    text.remove_prefix(newline + 1);
  }
  text = text.substr(0, text.find('\n'));
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

// The table name of `\d NAME` as SQL reads it: folded to lower case unless quoted.
absl::StatusOr<std::string> TableName(std::string_view text) {
  absl::StatusOr<std::vector<sql::Token>> tokens = sql::Tokenize(text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() != 2 || ((*tokens)[0].kind != sql::TokenKind::kIdentifier &&
                              (*tokens)[0].kind != sql::TokenKind::kQuotedIdentifier)) {
    return absl::InvalidArgumentError("\\d takes one table name (quote a reserved word)");
  }
  return (*tokens)[0].text;
}

ShellOutcome PrintError(const absl::Status& status, std::string_view statement,
                        std::string_view source, int first_line) {
  std::fputs(FormatError(status, statement, source, first_line).c_str(), stdout);
  return ShellOutcome::kError;
}

// `\d` or `\d NAME`.
ShellOutcome Describe(sql::Session& session, std::string_view name_text, std::string_view source,
                      int line) {
  const auto start = SteadyClock::now();
  if (name_text.empty()) {
    absl::StatusOr<sql::ResultSet> tables = session.ListTables();
    if (!tables.ok()) return PrintError(tables.status(), "", source, line);
    std::fputs(FormatResult(*tables, MillisSince(start)).c_str(), stdout);
    return ShellOutcome::kOk;
  }
  absl::StatusOr<std::string> name = TableName(name_text);
  if (!name.ok()) return PrintError(name.status(), "", source, line);
  absl::StatusOr<sql::TableDescription> table = session.DescribeTable(*name);
  if (!table.ok()) return PrintError(table.status(), "", source, line);
  std::printf("%s(%.1f ms)\n", FormatDescription(*table).c_str(), MillisSince(start));
  return ShellOutcome::kOk;
}

ShellOutcome RunMetaCommand(sql::Session& session, std::string_view text, std::string_view source,
                            int line) {
  if (!text.empty() && text.back() == ';') text = TrimBlank(text.substr(0, text.size() - 1));
  if (text == "\\q" || text == "quit" || text == "exit") return ShellOutcome::kQuit;
  if (text == "\\?" || text == "help") {
    std::printf("Meta-commands (SQL statements end with ';'):\n%s", kSqlMetaHelp);
    return ShellOutcome::kOk;
  }
  if (text == "\\d" || text.substr(0, 3) == "\\d " || text.substr(0, 3) == "\\d\t") {
    return Describe(session, TrimBlank(text.substr(2)), source, line);
  }
  return PrintError(
      absl::InvalidArgumentError("unknown meta-command " + std::string(text) + " (\\? lists them)"),
      "", source, line);
}

}  // namespace

std::string FormatTable(const sql::ResultSet& result) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const std::string& name : result.column_names) width.push_back(name.size());
  for (const std::vector<sql::Value>& row : result.rows) {
    std::vector<std::string>& line = cells.emplace_back();
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      line.push_back(EscapeBytes(row[i].ToString()));
      width[i] = std::max(width[i], line.back().size());
    }
  }
  std::string out;
  auto append_line = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      const size_t pad = i + 1 == line.size() ? 0 : width[i] - line[i].size();  // none at the end
      absl::StrAppend(&out, i ? " | " : "", line[i], std::string(pad, ' '));
    }
    out += "\n";
  };
  append_line(result.column_names);
  for (size_t i = 0; i < width.size(); ++i) {
    absl::StrAppend(&out, i ? "-+-" : "", std::string(width[i], '-'));
  }
  out += "\n";
  for (const std::vector<std::string>& line : cells) append_line(line);
  return out;
}

std::string FormatResult(const sql::ResultSet& result, double ms) {
  const size_t rows = result.rows.size();
  if (result.column_names.empty()) {
    return absl::StrFormat("OK, %d row%s affected (%.1f ms)\n", result.rows_affected,
                           result.rows_affected == 1 ? "" : "s", ms);
  }
  return FormatTable(result) +
         absl::StrFormat("(%d row%s, %.1f ms)\n", rows, rows == 1 ? "" : "s", ms);
}

std::string FormatDescription(const sql::TableDescription& description) {
  std::string out = "Table " + description.name + "\n" + FormatTable(description.columns) +
                    description.primary_key + "\n";
  if (!description.interleave.empty()) out += description.interleave + "\n";
  if (description.indexes.rows.empty()) return out + "(no indexes)\n";
  return out + "Indexes:\n" + FormatTable(description.indexes);
}

std::string FormatError(const absl::Status& status, std::string_view statement,
                        std::string_view source, int first_line) {
  const std::optional<sql::SourcePos> pos = sql::ErrorPosition(status);
  std::string out;
  if (!source.empty()) {
    absl::StrAppend(&out, std::string(source), ":", first_line + (pos ? pos->line - 1 : 0), ": ");
  }
  absl::StrAppend(&out, "ERROR: ", absl::StatusCodeToString(status.code()), ": ", status.message(),
                  "\n");
  const std::optional<std::string_view> line =
      pos.has_value() ? LineOf(statement, pos->line) : std::nullopt;
  if (!line.has_value()) return out;
  const std::string label = absl::StrCat("LINE ", pos->line, ": ");
  absl::StrAppend(&out, label, std::string(*line), "\n");
  std::string caret(label.size(), ' ');
  const size_t before = std::min(line->size(), static_cast<size_t>(std::max(pos->column - 1, 0)));
  for (char c : line->substr(0, before)) {
    if (c == '\t') {
      caret += '\t';
    } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {  // not a continuation byte
      caret += ' ';
    }
  }
  return out + caret + "^\n";
}

ShellOutcome RunItem(sql::Session& session, const SqlInput::Item& item, std::string_view source) {
  if (item.kind == SqlInput::Item::Kind::kMetaCommand) {
    return RunMetaCommand(session, item.text, source, item.line);
  }
  const auto start = SteadyClock::now();
  absl::StatusOr<sql::ResultSet> result = session.Execute(item.text);
  const double ms = MillisSince(start);
  if (!result.ok()) return PrintError(result.status(), item.text, source, item.line);
  std::fputs(FormatResult(*result, ms).c_str(), stdout);
  return ShellOutcome::kOk;
}

ShellOutcome RunText(sql::Session& session, std::string_view text, std::string_view source,
                     bool stop_on_error) {
  SqlInput input;
  bool failed = false;
  // Runs `items`; false when the run is over (quit, or an error when stopping at one).
  auto run = [&](const std::vector<SqlInput::Item>& items) {
    for (const SqlInput::Item& item : items) {
      const ShellOutcome outcome = RunItem(session, item, source);
      if (outcome == ShellOutcome::kQuit) return false;
      failed = failed || outcome == ShellOutcome::kError;
      if (failed && stop_on_error) return false;
    }
    return true;
  };
  bool quit = false;
  while (!quit && !text.empty()) {
    const size_t newline = std::min(text.find('\n'), text.size());
    quit = !run(input.AddLine(text.substr(0, newline)));
    text.remove_prefix(std::min(newline + 1, text.size()));
  }
  if (!quit) {
    std::optional<SqlInput::Item> last = input.Finish();
    if (last.has_value()) quit = !run({*last});
  }
  std::fflush(stdout);
  if (failed) return ShellOutcome::kError;
  return quit ? ShellOutcome::kQuit : ShellOutcome::kOk;
}

}  // namespace meridian::tools
