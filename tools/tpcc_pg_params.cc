#include "tools/tpcc_pg_params.h"

#include <cctype>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace meridian::tools::tpcc {

NumberedStatement NumberParameters(const std::string& statement) {
  NumberedStatement out;
  bool quoted = false;
  for (size_t i = 0; i < statement.size(); ++i) {
    const char c = statement[i];
    if (c == '\'') quoted = !quoted;  // '' inside a literal toggles twice
    const bool name_start =
        i + 1 < statement.size() &&
        (std::isalpha(static_cast<unsigned char>(statement[i + 1])) || statement[i + 1] == '_');
    if (quoted || c != '@' || !name_start) {
      out.text.push_back(c);
      continue;
    }
    size_t end = i + 1;
    while (end < statement.size() &&
           (std::isalnum(static_cast<unsigned char>(statement[end])) || statement[end] == '_')) {
      ++end;
    }
    const std::string name = statement.substr(i + 1, end - i - 1);
    size_t k = 0;
    while (k < out.names.size() && out.names[k] != name) ++k;
    if (k == out.names.size()) out.names.push_back(name);
    absl::StrAppend(&out.text, "$", k + 1);
    i = end - 1;
  }
  return out;
}

std::string ParameterText(const sql::Value& value) {
  switch (value.type()) {
    case sql::Type::kInt64:
      return absl::StrCat(value.int64_value());
    case sql::Type::kFloat64:
      return absl::StrCat(value.float64_value());
    case sql::Type::kBool:
      return value.bool_value() ? "true" : "false";
    case sql::Type::kString:
      return value.string_value();
    case sql::Type::kBytes:
      return value.bytes_value();
    case sql::Type::kTimestamp:
      return absl::FormatTime("%Y-%m-%d %H:%M:%E6S+00",
                              absl::FromUnixMicros(value.timestamp_micros()), absl::UTCTimeZone());
    case sql::Type::kNull:
      return "";
  }
  return "";
}

}  // namespace meridian::tools::tpcc
