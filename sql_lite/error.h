// Source positions and the errors that carry them.
//
// Every lexer and parser error is INVALID_ARGUMENT with a message that ends in
// "at line L, column C" and a typed payload holding the position, so that callers (the shell
// underlining the error, the fuzz test checking that every error has one) read the position
// without parsing message text. Lines and columns count from 1; a column counts bytes, not
// characters. Thread-safe: pure functions and a value type.
#ifndef MERIDIAN_SQL_LITE_ERROR_H_
#define MERIDIAN_SQL_LITE_ERROR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace meridian::sql {

struct SourcePos {
  int32_t offset = 0;  // bytes from the start of the text
  int32_t line = 1;
  int32_t column = 1;

  friend bool operator==(const SourcePos&, const SourcePos&) = default;
};

// "line 2, column 14".
std::string PosToString(SourcePos pos);

// INVALID_ARGUMENT "<message> at line L, column C" with `pos` as payload.
absl::Status SyntaxError(SourcePos pos, std::string_view message);

// `status` with " at line L, column C" appended and `pos` as payload, keeping its code; OK and
// statuses that already carry a position are returned unchanged.
absl::Status WithPosition(const absl::Status& status, SourcePos pos);

// The position a SyntaxError (or WithPosition) carries; nullopt for any other status.
std::optional<SourcePos> ErrorPosition(const absl::Status& status);

}  // namespace meridian::sql

#endif  // MERIDIAN_SQL_LITE_ERROR_H_
