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
  t.servers = {{1, "a", "127.0.0.1:7101", true, "127.0.0.1:40001", false},
               {12, "b", "127.0.0.1:7102", false, "", false}};
  t.groups = {{1, {1, 12}, 12, {}, {{1, 40, false}, {12, 1200, true}}},
              {2, {1, 12}, 0, {}, {{1, 7, false}}}};
  t.ranges = {{"", "m\x01", 1, 1}, {"m\x01", "", 2, 3}};
  EXPECT_EQ(FormatTopology(t),
            "Placement leader: 127.0.0.1:7000\n"
            "\n"
            "Zones (2): a, b\n"
            "\n"
            "Servers (2):\n"
            "  SERVER  ZONE  ADDRESS         ALIVE  REPLICAS  PAXOS PEERS AT\n"
            "  1       a     127.0.0.1:7101  yes    2         127.0.0.1:40001\n"
            "  12      b     127.0.0.1:7102  NO     2         -\n"
            "\n"
            "Groups (2):\n"
            "  GROUP  REPLICAS       LIVE  LEADER  LOG ENTRIES  SNAPSHOTS  POLICY\n"
            "  1      1 (a), 12 (b)  1/2   12 (b)  40-1200      to 12 (b)  default\n"
            "  2      1 (a), 12 (b)  1/2   -       7            -          default\n"
            "\n"
            "Ranges (2):\n"
            "  START        END      GROUP  GENERATION  SIZE\n"
            "  (min)    ..  \"m\\x01\"  1      1           -\n"
            "  \"m\\x01\"  ..  (max)    2      3           -\n");
}

TEST(FormatTopologyTest, ListsMovesInProgress) {
  Topology t;
  t.bootstrapped = true;
  t.ranges = {{"", "m", 1, 1}, {"m", "", 2, 1}};
  EXPECT_EQ(FormatTopology(t).find("Moves"), std::string::npos);
  t.moves = {{1, RangeMove::Kind::kMove, "", "m", 1, 3, "", 2, false, "copying to group 3"},
             {2, RangeMove::Kind::kSplit, "m", "", 2, 0, "t\x01", 3, false, ""}};
  const std::string text = FormatTopology(t);
  EXPECT_NE(text.find("Moves in progress (2):\n"
                      "  MOVE  KIND   RANGE         GROUPS        PHASE\n"
                      "  1     move   (min) .. \"m\"  1 -> 3        copying to group 3\n"
                      "  2     split  \"m\" .. (max)  2 at \"t\\x01\"  -\n"),
            std::string::npos)
      << text;
}

TEST(FormatTopologyTest, SaysWhatNeedsAnOperator) {
  Topology t;
  t.bootstrapped = true;
  t.zones = {"a", "b", "c"};
  t.servers = {{1, "a", "h:1", true, "h:11", false},
               {2, "b", "h:2", false, "", /*removed=*/true},
               {3, "c", "h:3", true, "h:13", false},
               {4, "b", "h:2", true, "h:14", false}};
  t.groups = {{1, {1, 2, 3}, 1, {}, {}}, {2, {1, 3, 4}, 3, {{4, "disk holds none"}}, {}}};
  t.refused_registrations = {{"h:5", "c", 3, "address h:5 belongs to server 3"}};
  const std::string text = FormatTopology(t);
  EXPECT_NE(text.find("  2       b     h:2      removed  1         -\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  1      1 (a), 2 (b, removed), 3 (c)  2/3   1 (a)   -            -"
                      "          default\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  2      1 (a), 3 (c), 4 (b)           2/3   3 (c)   -            -"
                      "          default\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Needs an operator:\n"
                      "  - a server at h:5 (zone c) is refused registration: address h:5 belongs "
                      "to server 3\n"
                      "  - group 1 runs on 2 of its 3 replicas: server 2 was removed; placement is "
                      "moving the replica to a live server"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  - group 2: server 4 refuses to start its replica: disk holds none\n"),
            std::string::npos)
      << text;
}

TEST(FormatTopologyTest, ShowsPoliciesAndRangeSizes) {
  Topology t;
  t.bootstrapped = true;
  t.groups.resize(2);
  t.groups[0].id = 1;
  t.groups[1].id = 2;
  t.groups[1].policy = Policy{5, {"a", "b", "c", "d", "e"}, "a"};
  t.ranges.resize(3);
  t.ranges[0] = RangeInfo{"", "g", 1, 1, 512};
  t.ranges[1] = RangeInfo{"g", "t", 1, 2, (uint64_t{70} << 20) + (uint64_t{1} << 19)};
  t.ranges[2] = RangeInfo{"t", "", 2, 1, std::nullopt};
  const std::string text = FormatTopology(t);
  EXPECT_NE(text.find("  1                0/0   -       -            -          default\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("-          5 replicas; zones a,b,c,d,e; leader in a\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  (min)  ..  \"g\"    1      1           512 B\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  \"g\"    ..  \"t\"    1      2           70.5 MiB\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  \"t\"    ..  (max)  2      1           -\n"), std::string::npos) << text;
}

TEST(FormatServerHealthTest, ShowsClocksAndWhatDoesNotServe) {
  ServerHealth ok;
  ok.id = 1;
  ok.address = "127.0.0.1:7001";
  ok.clock_source = "fixed(epsilon=1000us)";
  ok.clock_error_us = 1000;
  ok.clock_widening_us = 40;
  ok.peer_clocks = {{2, -120, 200, true}, {3, 300'000, 200, true}, {4, 900'000, 0, false}};
  ok.placement_clock = PeerClockInfo{0, 50, 100, true};
  ServerHealth liar = ok;
  liar.id = 3;
  liar.address = "127.0.0.1:7003";
  liar.placement_clock.reset();
  liar.clock_unavailable = "this server's clock disagrees with its peers";
  liar.fenced_groups = {{7, "this server's storage failed"}};
  const std::string out = FormatServerHealth({ok, liar});
  EXPECT_NE(out.find("SERVER  ADDRESS         CLOCK"), std::string::npos) << out;
  // The largest fresh offset (the stale 900 ms one does not count), the widening, placement's.
  EXPECT_NE(out.find("300.00 ms (2/3 peers)"), std::string::npos) << out;
  EXPECT_NE(out.find("0.04 ms"), std::string::npos) << out;
  EXPECT_NE(out.find("0.05 ms"), std::string::npos) << out;
  EXPECT_NE(out.find("serving"), std::string::npos) << out;
  EXPECT_NE(out.find("UNAVAILABLE"), std::string::npos) << out;
  EXPECT_NE(out.find("  - server 3: TrueTime unavailable: this server's clock disagrees"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  - server 3 fenced group 7: this server's storage failed"),
            std::string::npos)
      << out;
  EXPECT_EQ(FormatServerHealth({ok}).find("Not serving"), std::string::npos);
}

}  // namespace
}  // namespace meridian
