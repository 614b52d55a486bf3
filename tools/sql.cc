// `meridian sql`: a SQL shell over a running cluster (sql_lite, docs/sql.md).
//   meridian sql --placement=ADDR [--database=NAME] [-e|--execute="SQL; ..."] [--file=F]
// Statements end with ';'; meta-commands (\d, \d NAME, \?, \q) take a line of their own. With
// --execute or --file the input runs in order and the command exits (status 1 after the first
// error); otherwise it reads stdin until end of input or \q: with line editing and a history kept
// in $HOME/.meridian_sql_history when stdin is a terminal (line_editor.h), line by line when it
// is not. sql_input.h cuts the input into statements; sql_print.h runs and prints them.
#include "meridian/sql.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "meridian/client.h"
#include "sql_lite/client_kv.h"
#include "tools/command.h"
#include "tools/line_editor.h"
#include "tools/sql_input.h"
#include "tools/sql_print.h"

namespace meridian::tools {
namespace {

constexpr int kHistoryLines = 1000;

std::string HistoryPath() {
  const char* home = std::getenv("HOME");
  return home == nullptr || *home == '\0' ? "" : std::string(home) + "/.meridian_sql_history";
}

// Reads stdin until end of input or \q, running each statement as its ';' completes it and going
// on after errors: typed with line editing and prompts at a terminal, else line by line (errors
// then name their line of "<stdin>").
void RunStdin(sql::Session& session) {
  const bool tty = isatty(STDIN_FILENO) != 0;
  std::optional<LineEditor> editor;
  if (tty) editor.emplace(HistoryPath(), kHistoryLines);
  const std::string source = tty ? "" : "<stdin>";
  SqlInput input;
  while (true) {
    std::optional<std::string> line;
    if (tty) {
      line = editor->ReadLine(input.pending()            ? "  ...> "
                              : session.in_transaction() ? "sql*> "
                                                         : "sql> ");
    } else if (std::string text; std::getline(std::cin, text)) {
      line = std::move(text);
    }
    if (!line.has_value()) break;
    for (const SqlInput::Item& item : input.AddLine(*line)) {
      if (RunItem(session, item, source) == ShellOutcome::kQuit) return;
    }
    std::fflush(stdout);
  }
  if (tty) std::printf("\n");
  if (std::optional<SqlInput::Item> last = input.Finish()) RunItem(session, *last, source);
}

int Run(const Flags& flags) {
  if (PlacementAddresses(flags).empty()) {
    return PrintUsage("sql", "",
                      "--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  const std::string& database = flags.at("database");
  if (database.empty() || database.size() > 200 || database.find('/') != std::string::npos) {
    return PrintUsage("sql", "", "--database must be 1 to 200 bytes without '/'");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("sql", flags);
  if (client == nullptr) return kExitError;
  sql::ClientKvOptions options;
  options.key_prefix = absl::StrCat("sql/", database, "/");
  sql::ClientKvDatabase db(client.get(), options);
  sql::Session session(&db);
  if (!flags.at("execute").empty()) {
    return RunText(session, flags.at("execute"), "", true) == ShellOutcome::kError ? kExitError
                                                                                   : kExitOk;
  }
  if (!flags.at("file").empty()) {
    std::ifstream in(flags.at("file"));
    if (!in) {
      std::fprintf(stderr, "meridian sql: cannot read %s\n", flags.at("file").c_str());
      return kExitError;
    }
    std::stringstream text;
    text << in.rdbuf();
    return RunText(session, text.str(), flags.at("file"), true) == ShellOutcome::kError ? kExitError
                                                                                        : kExitOk;
  }
  RunStdin(session);
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
          "sql/NAME/), and prints each result as a table with its row count and time. Statements\n"
          "end with ';'; an error names its line and column and shows them with a caret.\n"
          "--execute (-e) or --file runs statements and exits (status 1 after the first error);\n"
          "otherwise statements are read from stdin until end of input or \\q, with line editing\n"
          "and a history ($HOME/.meridian_sql_history) when stdin is a terminal. BEGIN ...\n"
          "COMMIT, BEGIN READ ONLY, SET READ_TIMESTAMP and SET STALENESS work as in any session.\n"
          "Meta-commands, each on a line of its own:\n" +
          std::string(absl::StripTrailingAsciiWhitespace(kSqlMetaHelp)),
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default $MERIDIAN_PLACEMENT"},
                {"database", "default", "the database's name (its key prefix is sql/NAME/)"},
                {.name = "execute",
                 .default_value = "",
                 .help = "statements (or a meta-command) to run, then exit",
                 .alias = "e"},
                {"file", "", "a file of statements to run, then exit"},
                {"deadline_ms", "10000", "give up on a call after this long"}},
      .run = Run,
  };
}

}  // namespace meridian::tools
