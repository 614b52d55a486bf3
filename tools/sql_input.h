// SqlInput: what `meridian sql` reads, cut into the items it runs. Lines go in one at a time
// (typed, piped, or from --execute / --file); out come SQL statements, each complete at its ';',
// and meta-commands (`\d`, `\q`, `help`, ...: a line of its own that starts when no statement is
// pending). Each item knows the input line it starts on, so an error's position inside the
// statement (relative to the item's text, which is what the Session gets) can be named in the
// whole input.
//
// A statement's text runs from its first token to before its ';' (sql_lite::SplitStatements).
// A line that leaves a string, quoted name or /* comment open waits for more lines. A line with a
// lexical error that no later line can fix (a stray character) ends the statement at once: it is
// handed on whole, so that running it reports the error with its position.
//
// Thread safety: a value type; one thread at a time.
#ifndef MERIDIAN_TOOLS_SQL_INPUT_H_
#define MERIDIAN_TOOLS_SQL_INPUT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meridian::tools {

class SqlInput {
 public:
  struct Item {
    enum class Kind : uint8_t { kStatement, kMetaCommand };
    Kind kind = Kind::kStatement;
    std::string text;  // a statement without its ';', or the meta-command's line trimmed
    int line = 1;      // the input line the text starts on (the first line added is 1)

    friend bool operator==(const Item&, const Item&) = default;
  };

  // Adds the next line of input (without its '\n'); returns the items it completes, in order.
  std::vector<Item> AddLine(std::string_view line);
  // At the end of input: the unfinished statement, if there is one (a missing ';' is fine).
  std::optional<Item> Finish();
  // True while a statement is unfinished (a shell shows a continuation prompt).
  bool pending() const { return !pending_.empty(); }

 private:
  // Cuts the complete statements off pending_ and keeps the rest there.
  std::vector<Item> Split();
  // pending_ from `offset` on, as one statement starting at its first non-blank character.
  Item Remainder(size_t offset) const;

  std::string pending_;   // the lines of an unfinished statement, each ended by '\n'
  int pending_line_ = 1;  // the input line pending_ starts on
  int next_line_ = 1;     // the number of the next line added
};

// True for a meta-command's line: `\` followed by a command, or help, quit or exit.
bool IsMetaCommand(std::string_view trimmed_line);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_SQL_INPUT_H_
