#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace meridian::crc32c {
namespace {

TEST(Crc32cTest, MatchesTheStandardCheckValues) {
  // RFC 3720 (iSCSI) B.4 and the usual "123456789" check value of CRC-32C.
  EXPECT_EQ(Value("123456789"), 0xE3069283u);
  EXPECT_EQ(Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Value(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Crc32cTest, ExtendingEqualsOneComputation) {
  const std::string a = "hello, ", b = "snapshot";
  EXPECT_EQ(Extend(Value(a), b), Value(a + b));
  EXPECT_NE(Value("snapshot"), Value("snapshoT"));
}

TEST(Crc32cTest, TheInstructionAndTheTableAgreeOnEveryLengthAndSplit) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (size_t len = 0; len <= data.size(); ++len) {
    const std::string_view part(data.data(), len);
    ASSERT_EQ(Value(part), ExtendPortable(0, part)) << len;
    ASSERT_EQ(Extend(Value(part.substr(0, len / 3)), part.substr(len / 3)), Value(part)) << len;
  }
}

}  // namespace
}  // namespace meridian::crc32c
