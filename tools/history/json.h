// The tiny subset of JSON that history files use (docs/history-format.md): objects, arrays,
// strings (with every JSON escape), 64-bit integers and null. No floats, no true/false: the
// history format needs none, and rejecting them keeps a malformed file from being half-understood.
//
// ParseJson reads exactly one value (whitespace around it allowed) and names the byte column of
// the first error; nesting deeper than kMaxJsonDepth is rejected so hostile input cannot exhaust
// the stack. Strings are byte strings: raw bytes >= 0x80 pass through unchanged and \uXXXX
// escapes (surrogate pairs included) decode to UTF-8. AppendJsonString writes the inverse: it
// escapes '"', '\\' and control bytes and copies every other byte, so any byte string round-trips.
// Thread safety: pure functions over values.
#ifndef MERIDIAN_TOOLS_HISTORY_JSON_H_
#define MERIDIAN_TOOLS_HISTORY_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace meridian::history {

inline constexpr int kMaxJsonDepth = 16;

struct JsonValue {
  enum class Kind : uint8_t { kNull, kInt, kString, kArray, kObject };

  Kind kind = Kind::kNull;
  int64_t int_value = 0;                                  // kInt
  std::string string_value;                               // kString
  std::vector<JsonValue> items;                           // kArray
  std::vector<std::pair<std::string, JsonValue>> fields;  // kObject, in input order

  // The field named `name`, or nullptr (kObject only; the first one if repeated).
  const JsonValue* Find(std::string_view name) const;
};

// "null", "integer", "string", "array" or "object".
const char* JsonKindName(JsonValue::Kind kind);

// Parses `text` as one JSON value of the subset above. INVALID_ARGUMENT on error, with a message
// "column N: ..." (1-based byte column); an object with a repeated field name is an error.
absl::StatusOr<JsonValue> ParseJson(std::string_view text);

// Appends `s` to `out` as a quoted JSON string.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace meridian::history

#endif  // MERIDIAN_TOOLS_HISTORY_JSON_H_
