#include "sql_lite/lexer.h"

#include <algorithm>
#include <array>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

// GoogleSQL's reserved words that this grammar uses or may use, sorted for binary search.
constexpr std::array<std::string_view, 52> kReserved = {
    "ALL",     "AND",        "AS",     "ASC",  "BETWEEN",  "BY",     "CASE",  "CAST",    "CREATE",
    "CROSS",   "DEFAULT",    "DELETE", "DESC", "DISTINCT", "DROP",   "ELSE",  "END",     "EXISTS",
    "EXPLAIN", "FALSE",      "FROM",   "FULL", "GROUP",    "HAVING", "IF",    "IN",      "INNER",
    "INSERT",  "INTERLEAVE", "INTO",   "IS",   "JOIN",     "LEFT",   "LIKE",  "LIMIT",   "NOT",
    "NULL",    "OF",         "OFFSET", "ON",   "OR",       "ORDER",  "OUTER", "PRIMARY", "RIGHT",
    "SELECT",  "SET",        "TABLE",  "THEN", "TRUE",     "UNION",  "WHERE"};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || IsDigit(c); }
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int HexDigit(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A printable rendering of one source byte for messages.
std::string DescribeChar(char c) {
  if (c >= 0x21 && c < 0x7f) return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
}

class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      RETURN_IF_ERROR(SkipSpaceAndComments());
      Token token;
      token.pos = pos_;
      if (AtEnd()) {
        tokens.push_back(std::move(token));
        return tokens;
      }
      RETURN_IF_ERROR(Lex(&token));
      token.length = pos_.offset - token.pos.offset;
      tokens.push_back(std::move(token));
    }
  }

 private:
  bool AtEnd() const { return static_cast<size_t>(pos_.offset) >= sql_.size(); }
  char Peek(size_t k = 0) const {
    const size_t i = static_cast<size_t>(pos_.offset) + k;
    return i < sql_.size() ? sql_[i] : '\0';
  }
  void Advance(size_t n = 1) {
    for (size_t i = 0; i < n && !AtEnd(); ++i) {
      if (sql_[pos_.offset] == '\n') {
        ++pos_.line;
        pos_.column = 1;
      } else {
        ++pos_.column;
      }
      ++pos_.offset;
    }
  }

  absl::Status SkipSpaceAndComments() {
    while (!AtEnd()) {
      if (IsSpace(Peek())) {
        Advance();
      } else if (Peek() == '-' && Peek(1) == '-') {
        while (!AtEnd() && Peek() != '\n') Advance();
      } else if (Peek() == '/' && Peek(1) == '*') {
        const SourcePos start = pos_;
        Advance(2);
        while (!AtEnd() && !(Peek() == '*' && Peek(1) == '/')) Advance();
        if (AtEnd()) return SyntaxError(start, "unterminated comment");
        Advance(2);
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Lex(Token* token) {
    const char c = Peek();
    if ((c == 'b' || c == 'B') && Peek(1) == '\'') {
      token->kind = TokenKind::kBytes;
      Advance();
      return LexQuoted('\'', "bytes literal", &token->text);
    }
    if ((c == 'x' || c == 'X') && Peek(1) == '\'') return LexHexBytes(token);
    if (IsIdentStart(c)) {
      LexWord(token);
      return absl::OkStatus();
    }
    if (IsDigit(c) || (c == '.' && IsDigit(Peek(1)))) return LexNumber(token);
    switch (c) {
      case '\'':
        token->kind = TokenKind::kString;
        return LexQuoted('\'', "string", &token->text);
      case '"':
      case '`':
        token->kind = TokenKind::kQuotedIdentifier;
        RETURN_IF_ERROR(LexQuoted(c, "quoted identifier", &token->text));
        if (token->text.empty()) return SyntaxError(token->pos, "empty quoted identifier");
        return absl::OkStatus();
      case '@':
        return LexParameter(token);
      default:
        return LexSymbol(token);
    }
  }

  void LexWord(Token* token) {
    const size_t start = pos_.offset;
    while (IsIdentChar(Peek())) Advance();
    std::string word(sql_.substr(start, pos_.offset - start));
    if (IsReservedKeyword(word)) {
      token->kind = TokenKind::kKeyword;
      std::transform(word.begin(), word.end(), word.begin(), Upper);
    } else {
      token->kind = TokenKind::kIdentifier;
      std::transform(word.begin(), word.end(), word.begin(), Lower);
    }
    token->text = std::move(word);
  }

  // Reads `quote` ... `quote` with a doubled quote standing for one; the cursor is on the opening
  // quote.
  absl::Status LexQuoted(char quote, std::string_view what, std::string* out) {
    const SourcePos start = pos_;
    Advance();
    while (true) {
      if (AtEnd()) return SyntaxError(start, absl::StrCat("unterminated ", Sv(what)));
      const char c = Peek();
      Advance();
      if (c == quote) {
        if (Peek() != quote) return absl::OkStatus();
        Advance();
      }
      out->push_back(c);
    }
  }

  absl::Status LexHexBytes(Token* token) {
    token->kind = TokenKind::kBytes;
    Advance();
    std::string hex;
    RETURN_IF_ERROR(LexQuoted('\'', "bytes literal", &hex));
    if (hex.size() % 2 != 0) {
      return SyntaxError(token->pos, "hex bytes literal needs an even number of digits");
    }
    for (size_t i = 0; i < hex.size(); i += 2) {
      const int hi = HexDigit(hex[i]);
      const int lo = HexDigit(hex[i + 1]);
      if (hi < 0 || lo < 0) return SyntaxError(token->pos, "invalid hex digit in bytes literal");
      token->text.push_back(static_cast<char>(hi * 16 + lo));
    }
    return absl::OkStatus();
  }

  absl::Status LexNumber(Token* token) {
    const size_t start = pos_.offset;
    token->kind = TokenKind::kInteger;
    while (IsDigit(Peek())) Advance();
    if (Peek() == '.') {
      token->kind = TokenKind::kFloat;
      Advance();
      while (IsDigit(Peek())) Advance();
    }
    if ((Peek() == 'e' || Peek() == 'E') &&
        (IsDigit(Peek(1)) || ((Peek(1) == '+' || Peek(1) == '-') && IsDigit(Peek(2))))) {
      token->kind = TokenKind::kFloat;
      Advance(2);
      while (IsDigit(Peek())) Advance();
    }
    if (IsIdentChar(Peek()) || Peek() == '.') {
      return SyntaxError(token->pos, absl::StrCat("invalid number: unexpected ",
                                                  DescribeChar(Peek()), " after the digits"));
    }
    token->text = std::string(sql_.substr(start, pos_.offset - start));
    return absl::OkStatus();
  }

  absl::Status LexParameter(Token* token) {
    Advance();
    if (!IsIdentStart(Peek())) {
      return SyntaxError(token->pos, "expected a parameter name after '@'");
    }
    token->kind = TokenKind::kParameter;
    while (IsIdentChar(Peek())) {
      token->text.push_back(Lower(Peek()));
      Advance();
    }
    return absl::OkStatus();
  }

  absl::Status LexSymbol(Token* token) {
    static constexpr std::string_view kTwoChar[] = {"!=", "<>", "<=", ">=", "||"};
    token->kind = TokenKind::kSymbol;
    const std::string_view rest = sql_.substr(pos_.offset);
    for (std::string_view s : kTwoChar) {
      if (rest.substr(0, 2) == s) {
        token->text = s == "<>" ? "!=" : std::string(s);
        Advance(2);
        return absl::OkStatus();
      }
    }
    static constexpr std::string_view kOneChar = "(),;.*+-/%=<>";
    if (kOneChar.find(Peek()) == std::string_view::npos) {
      return SyntaxError(pos_, absl::StrCat("unexpected character ", DescribeChar(Peek())));
    }
    token->text = std::string(1, Peek());
    Advance();
    return absl::OkStatus();
  }

  std::string_view sql_;
  SourcePos pos_;
};

}  // namespace

bool IsReservedKeyword(std::string_view word) {
  std::string upper(word);
  std::transform(upper.begin(), upper.end(), upper.begin(), Upper);
  return std::binary_search(kReserved.begin(), kReserved.end(), std::string_view(upper));
}

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view sql) { return Lexer(sql).Run(); }

absl::StatusOr<ScriptParts> SplitStatements(std::string_view script) {
  absl::StatusOr<std::vector<Token>> tokens = Tokenize(script);
  if (!tokens.ok()) return tokens.status();
  ScriptParts parts;
  size_t after_semicolon = 0;
  std::optional<SourcePos> first;  // the first token since the last ';'
  for (const Token& t : *tokens) {
    if (t.kind == TokenKind::kEnd) break;
    if (t.kind != TokenKind::kSymbol || t.text != ";") {
      if (!first.has_value()) first = t.pos;
      continue;
    }
    if (first.has_value()) {
      const size_t begin = static_cast<size_t>(first->offset);
      parts.statements.emplace_back(script.substr(begin, t.pos.offset - begin));
      parts.starts.push_back(*first);
    }
    after_semicolon = static_cast<size_t>(t.pos.offset) + 1;
    first.reset();
  }
  if (first.has_value()) parts.rest = std::string(script.substr(after_semicolon));
  return parts;
}

}  // namespace meridian::sql
