// LineEditor: lines typed at a terminal, with line editing and a history kept across runs, through
// libedit's readline interface (Debian: libedit-dev). Only `meridian sql` uses it, and only when
// stdin is a terminal; libedit stays out of every other file.
//
// The history file holds at most `max_history` entries (one per line typed); it is read when the
// editor starts and rewritten after each entry, so a killed shell keeps what was typed.
//
// Thread safety: none; libedit's readline state is global, so one LineEditor per process.
#ifndef MERIDIAN_TOOLS_LINE_EDITOR_H_
#define MERIDIAN_TOOLS_LINE_EDITOR_H_

#include <optional>
#include <string>

namespace meridian::tools {

class LineEditor {
 public:
  // `history_path` "" keeps no history file.
  LineEditor(std::string history_path, int max_history);
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Shows `prompt` and returns the line typed (without '\n'); nullopt at end of input (Ctrl-D).
  std::optional<std::string> ReadLine(const std::string& prompt);

 private:
  std::string history_path_;
};

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_LINE_EDITOR_H_
