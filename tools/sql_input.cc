// SqlInput (sql_input.h): lines in, statements and meta-commands out.
#include "tools/sql_input.h"

#include <algorithm>
#include <cctype>

#include "absl/status/statusor.h"
#include "sql_lite/error.h"
#include "sql_lite/lexer.h"

namespace meridian::tools {
namespace {

int CountNewlines(std::string_view text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

bool IsBlank(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// True when `text` fails to tokenize only because it ends inside a string, quoted name or
// comment: closing that moves the error on or removes it, which closing cannot do for an error
// elsewhere (a stray character stays where it is).
bool EndsOpen(const std::string& text, const absl::Status& error) {
  const std::optional<sql::SourcePos> at = sql::ErrorPosition(error);
  if (!at.has_value()) return false;
  for (const char* closer : {"'", "\"", "`", "*/"}) {
    const absl::StatusOr<std::vector<sql::Token>> closed = sql::Tokenize(text + closer);
    if (closed.ok()) return true;
    const std::optional<sql::SourcePos> moved = sql::ErrorPosition(closed.status());
    if (moved.has_value() && moved->offset > at->offset) return true;
  }
  return false;
}

}  // namespace

bool IsMetaCommand(std::string_view trimmed_line) {
  if (!trimmed_line.empty() && trimmed_line.front() == '\\') return true;
  if (!trimmed_line.empty() && trimmed_line.back() == ';') trimmed_line.remove_suffix(1);
  return trimmed_line == "help" || trimmed_line == "quit" || trimmed_line == "exit";
}

std::vector<SqlInput::Item> SqlInput::AddLine(std::string_view line) {
  const int number = next_line_++;
  if (pending_.empty()) {
    const std::string_view trimmed = Trim(line);
    if (IsMetaCommand(trimmed)) {
      return {Item{.kind = Item::Kind::kMetaCommand, .text = std::string(trimmed), .line = number}};
    }
    if (trimmed.empty()) return {};
    pending_line_ = number;
  }
  pending_.append(line);
  pending_ += '\n';
  return Split();
}

std::optional<SqlInput::Item> SqlInput::Finish() {
  if (pending_.empty()) return std::nullopt;
  Item item = Remainder(0);
  pending_.clear();
  if (item.text.empty()) return std::nullopt;
  return item;
}

std::vector<SqlInput::Item> SqlInput::Split() {
  std::vector<Item> items;
  absl::StatusOr<sql::ScriptParts> parts = sql::SplitStatements(pending_);
  // Where the unfinished statement starts in pending_ (pending_.size(): there is none).
  size_t rest = pending_.size();
  std::optional<size_t> bad;  // a lexical error no later line can fix: its statement ends here
  if (parts.ok()) {
    rest -= parts->rest.size();
  } else {
    if (EndsOpen(pending_, parts.status())) return items;
    const std::optional<sql::SourcePos> at = sql::ErrorPosition(parts.status());
    bad = at.has_value() ? static_cast<size_t>(at->offset) : 0;
    parts = sql::SplitStatements(std::string_view(pending_).substr(0, *bad));
    if (!parts.ok()) parts = sql::ScriptParts{.statements = {}, .starts = {}, .rest = pending_};
    rest = parts->rest.empty() ? *bad : *bad - std::min(*bad, parts->rest.size());
  }
  for (size_t i = 0; i < parts->statements.size(); ++i) {
    items.push_back(Item{.kind = Item::Kind::kStatement,
                         .text = std::string(Trim(parts->statements[i])),
                         .line = pending_line_ + parts->starts[i].line - 1});
  }
  if (bad.has_value()) {
    items.push_back(Remainder(rest));
    pending_.clear();
  } else if (rest >= pending_.size()) {
    pending_.clear();
  } else {
    pending_line_ += CountNewlines(std::string_view(pending_).substr(0, rest));
    pending_.erase(0, rest);
  }
  return items;
}

SqlInput::Item SqlInput::Remainder(size_t offset) const {
  std::string_view text = std::string_view(pending_).substr(offset);
  int line = pending_line_ + CountNewlines(std::string_view(pending_).substr(0, offset));
  while (!text.empty() && IsBlank(text.front())) {
    if (text.front() == '\n') ++line;
    text.remove_prefix(1);
  }
  return Item{.kind = Item::Kind::kStatement, .text = std::string(Trim(text)), .line = line};
}

}  // namespace meridian::tools
