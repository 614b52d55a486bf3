// `meridian sql`: a SQL shell over a running cluster (sql_lite, docs/sql.md).
//   meridian sql --placement=ADDR [--database=NAME] [--execute="SQL; ..."] [--file=F]
// Statements end with ';'. With --execute or --file the statements run in order and the command
// exits (non-zero after the first error); otherwise it reads statements from stdin, with a
// prompt when stdin is a terminal, until end of input or \q.
#include "meridian/sql.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "meridian/client.h"
#include "sql_lite/client_kv.h"
#include "sql_lite/lexer.h"
#include "tools/command.h"

namespace meridian::tools {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Prints a result as an aligned table, or the rows a DML statement changed.
void PrintResult(const sql::ResultSet& r, double ms) {
  if (r.column_names.empty()) {
    std::printf("OK, %lld row%s affected (%.1f ms)\n", static_cast<long long>(r.rows_affected),
                r.rows_affected == 1 ? "" : "s", ms);
    return;
  }
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> width;
  for (const std::string& name : r.column_names) width.push_back(name.size());
  for (const std::vector<sql::Value>& row : r.rows) {
    std::vector<std::string>& line = cells.emplace_back();
    for (size_t i = 0; i < row.size(); ++i) {
      line.push_back(EscapeBytes(row[i].ToString()));
      if (i < width.size()) width[i] = std::max(width[i], line.back().size());
    }
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    for (size_t i = 0; i < line.size(); ++i) {
      std::printf("%s%-*s", i ? " | " : "", static_cast<int>(width[i]), line[i].c_str());
    }
    std::printf("\n");
  };
  print_line(r.column_names);
  for (size_t i = 0; i < width.size(); ++i) {
    std::printf("%s%s", i ? "-+-" : "", std::string(width[i], '-').c_str());
  }
  std::printf("\n");
  for (const std::vector<std::string>& line : cells) print_line(line);
  std::printf("(%zu row%s, %.1f ms)\n", r.rows.size(), r.rows.size() == 1 ? "" : "s", ms);
}

// "ERROR: CODE: message" (the message names the position; the payloads are for programs).
void PrintError(const absl::Status& status) {
  std::printf("ERROR: %s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
              std::string(status.message()).c_str());
}

// Runs one statement and prints its result or error; false on error.
bool RunStatement(sql::Session& session, const std::string& statement) {
  const auto start = SteadyClock::now();
  absl::StatusOr<sql::ResultSet> result = session.Execute(statement);
  const double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  if (!result.ok()) {
    PrintError(result.status());
    return false;
  }
  PrintResult(*result, ms);
  return true;
}

// Runs every statement of `script`; stops at the first error (false). An unterminated last
// statement runs too.
bool RunScript(sql::Session& session, const std::string& script) {
  absl::StatusOr<sql::ScriptParts> parts = sql::SplitStatements(script);
  if (!parts.ok()) {
    PrintError(parts.status());
    return false;
  }
  if (!parts->rest.empty()) parts->statements.push_back(parts->rest);
  for (const std::string& statement : parts->statements) {
    if (!RunStatement(session, statement)) return false;
  }
  return true;
}

// Reads statements from stdin as they are completed by ';'.
void Interactive(sql::Session& session) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  std::string pending;
  std::string line;
  while (true) {
    if (tty) {
      std::printf("%s",
                  pending.empty() ? (session.in_transaction() ? "sql*> " : "sql> ") : "  ...> ");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (pending.empty() && (line == "\\q" || line == "quit" || line == "exit")) break;
    pending += line + "\n";
    absl::StatusOr<sql::ScriptParts> parts = sql::SplitStatements(pending);
    if (!parts.ok()) continue;  // e.g. a string still open: read on
    for (const std::string& statement : parts->statements) RunStatement(session, statement);
    pending = parts->rest;
  }
  if (!pending.empty()) RunScript(session, pending);
}

int Run(const Flags& flags) {
  if (PlacementAddresses(flags).empty()) {
    return PrintUsage("sql", "",
                      "--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("sql", flags);
  if (client == nullptr) return kExitError;
  sql::ClientKvOptions options;
  options.key_prefix = absl::StrCat("sql/", flags.at("database"), "/");
  sql::ClientKvDatabase db(client.get(), options);
  sql::Session session(&db);
  if (!flags.at("execute").empty()) {
    return RunScript(session, flags.at("execute")) ? kExitOk : kExitError;
  }
  if (!flags.at("file").empty()) {
    std::ifstream in(flags.at("file"));
    if (!in) {
      std::fprintf(stderr, "meridian sql: cannot read %s\n", flags.at("file").c_str());
      return kExitError;
    }
    std::stringstream text;
    text << in.rdbuf();
    return RunScript(session, text.str()) ? kExitOk : kExitError;
  }
  Interactive(session);
  return kExitOk;
}

}  // namespace

Command SqlCommand() {
  return Command{
      .name = "sql",
      .summary = "a SQL shell over a running cluster",
      .description =
          "Runs SQL statements (docs/sql.md) against the cluster whose placementd is at\n"
          "--placement, in the database --database (its tables live under the key prefix\n"
          "sql/NAME/). Statements end with ';'. --execute or --file runs statements and exits\n"
          "(status 1 after the first error); otherwise statements are read from stdin until\n"
          "end of input or \\q. BEGIN ... COMMIT, BEGIN READ ONLY, SET READ_TIMESTAMP and SET\n"
          "STALENESS work as in any session.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default $MERIDIAN_PLACEMENT"},
                {"database", "default", "the database's name (its key prefix is sql/NAME/)"},
                {"execute", "", "statements to run, then exit"},
                {"file", "", "a file of statements to run, then exit"},
                {"deadline_ms", "10000", "give up on a call after this long"}},
      .run = Run,
  };
}

}  // namespace meridian::tools
