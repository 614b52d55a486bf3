#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace meridian::crc32c
