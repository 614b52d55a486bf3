// libFuzzer entry point for the SQL parser, built only when the compiler is clang (see
// CMakeLists.txt): `CXX=clang++ cmake ... && ninja sql_lite_parser_libfuzzer &&
// ./sql_lite_parser_libfuzzer`. Accepted scripts must render to text that parses back to the same
// rendering; anything else aborts, and libFuzzer keeps the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "sql_lite/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto script = meridian::sql::ParseScript(input);
  if (!script.ok()) {
    if (!meridian::sql::ErrorPosition(script.status()).has_value()) std::abort();
    return 0;
  }
  std::string rendered;
  for (const auto& s : *script) rendered += meridian::sql::ToSql(s) + ";\n";
  const auto again = meridian::sql::ParseScript(rendered);
  if (!again.ok()) std::abort();
  std::string rerendered;
  for (const auto& s : *again) rerendered += meridian::sql::ToSql(s) + ";\n";
  if (rerendered != rendered) std::abort();
  return 0;
}
