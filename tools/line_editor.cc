// LineEditor (line_editor.h) over libedit's readline compatibility interface.
#include "tools/line_editor.h"

#include <editline/readline.h>

#include <cstdlib>
#include <string>
#include <utility>

namespace meridian::tools {

LineEditor::LineEditor(std::string history_path, int max_history)
    : history_path_(std::move(history_path)) {
  rl_readline_name = "meridian_sql";
  using_history();
  stifle_history(max_history);
  if (!history_path_.empty()) read_history(history_path_.c_str());  // absent the first time
}

std::optional<std::string> LineEditor::ReadLine(const std::string& prompt) {
  char* raw = readline(prompt.c_str());
  if (raw == nullptr) return std::nullopt;
  std::string line(raw);
  std::free(raw);
  if (line.find_first_not_of(" \t") != std::string::npos) {
    add_history(line.c_str());
    if (!history_path_.empty()) write_history(history_path_.c_str());
  }
  return line;
}

}  // namespace meridian::tools
