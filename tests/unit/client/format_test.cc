#include <string>

#include "gtest/gtest.h"
#include "meridian/client.h"

namespace meridian {
namespace {

TEST(EscapeBytesTest, PrintableAsIsOthersEscaped) {
  EXPECT_EQ(EscapeBytes("hello world ~!"), "hello world ~!");
  EXPECT_EQ(EscapeBytes(""), "");
  EXPECT_EQ(EscapeBytes("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeBytes("l1\nl2\tx\r"), "l1\\nl2\\tx\\r");
  EXPECT_EQ(EscapeBytes(std::string("\0\x01\x7f\x80\xff", 5)), "\\x00\\x01\\x7f\\x80\\xff");
}

TEST(FormatTopologyTest, AlignedTables) {
  Topology t;
  t.bootstrapped = true;
  t.placement_leader = "127.0.0.1:7000";
  t.zones = {"a", "b"};
  t.servers = {{1, "a", "127.0.0.1:7101", true, "127.0.0.1:40001"},
               {12, "b", "127.0.0.1:7102", false, ""}};
  t.groups = {{1, {1, 12}, 12}, {2, {1, 12}, 0}};
  t.ranges = {{"", "m\x01", 1, 1}, {"m\x01", "", 2, 3}};
  EXPECT_EQ(FormatTopology(t),
            "Placement leader: 127.0.0.1:7000\n"
            "\n"
            "Zones (2): a, b\n"
            "\n"
            "Servers (2):\n"
            "  SERVER  ZONE  ADDRESS         ALIVE  PAXOS PEERS AT\n"
            "  1       a     127.0.0.1:7101  yes    127.0.0.1:40001\n"
            "  12      b     127.0.0.1:7102  NO     -\n"
            "\n"
            "Groups (2):\n"
            "  GROUP  REPLICAS       LEADER\n"
            "  1      1 (a), 12 (b)  12 (b)\n"
            "  2      1 (a), 12 (b)  -\n"
            "\n"
            "Ranges (2):\n"
            "  START        END      GROUP  GENERATION\n"
            "  (min)    ..  \"m\\x01\"  1      1\n"
            "  \"m\\x01\"  ..  (max)    2      3\n");
}

}  // namespace
}  // namespace meridian
