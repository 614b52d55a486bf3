#include "tools/history/json.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::history {
namespace {

using ::testing::HasSubstr;

TEST(JsonTest, ParsesTheSubset) {
  absl::StatusOr<JsonValue> v = ParseJson(R"( {"a": [1, -2, null, "s"], "b": {}} )");
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->kind, JsonValue::Kind::kObject);
  const JsonValue* a = v->Find("a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->items.size(), 4u);
  EXPECT_EQ(a->items[0].int_value, 1);
  EXPECT_EQ(a->items[1].int_value, -2);
  EXPECT_EQ(a->items[2].kind, JsonValue::Kind::kNull);
  EXPECT_EQ(a->items[3].string_value, "s");
  EXPECT_EQ(v->Find("b")->kind, JsonValue::Kind::kObject);
  EXPECT_EQ(v->Find("c"), nullptr);
}

TEST(JsonTest, Int64Bounds) {
  EXPECT_EQ(ParseJson("9223372036854775807")->int_value, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseJson("-9223372036854775808")->int_value, std::numeric_limits<int64_t>::min());
  EXPECT_THAT(std::string(ParseJson("9223372036854775808").status().message()),
              HasSubstr("64-bit range"));
  EXPECT_THAT(std::string(ParseJson("-9223372036854775809").status().message()),
              HasSubstr("64-bit range"));
}

TEST(JsonTest, StringEscapes) {
  EXPECT_EQ(ParseJson(R"("a\"b\\c\/d\b\f\n\r\t")")->string_value, "a\"b\\c/d\b\f\n\r\t");
  EXPECT_EQ(ParseJson(R"("\u0041\u00e9\u20ac")")->string_value, "A\xC3\xA9\xE2\x82\xAC");
  EXPECT_EQ(ParseJson(R"("\ud83d\ude00")")->string_value, "\xF0\x9F\x98\x80");  // U+1F600
  EXPECT_EQ(ParseJson("\"raw \xC3\xA9\"")->string_value, "raw \xC3\xA9");
}

TEST(JsonTest, AnyByteStringRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string encoded;
  AppendJsonString(all, &encoded);
  absl::StatusOr<JsonValue> v = ParseJson(encoded);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->string_value, all);
}

TEST(JsonTest, ErrorsNameTheColumn) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"", "column 1: unexpected end of line"},
      {"[1,", "column 4: unexpected end of line"},
      {"[1 2]", "column 4: expected ',' or ']'"},
      {"{\"a\" 1}", "column 6: expected ':'"},
      {"{a:1}", "column 2: expected a field name"},
      {"{\"a\":1,\"a\":2}", "repeated"},
      {"1.5", "only integers"},
      {"1e3", "only integers"},
      {"01", "leading zeros"},
      {"true", "booleans"},
      {"\"abc", "unterminated string"},
      {"\"a\\x\"", "column 3: unknown escape"},
      {"\"\\u12\"", "four hex digits"},
      {"\"\\ud800\"", "unpaired high surrogate"},
      {"\"\\udc00\"", "unpaired low surrogate"},
      {"\"a\tb\"", "control character"},
      {"[1] x", "column 5: unexpected text after"},
      {"-", "expected a digit"},
      {"[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]", "nested too deeply"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<JsonValue> v = ParseJson(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(v.status().message()), HasSubstr(c.error)) << c.text;
  }
}

}  // namespace
}  // namespace meridian::history
