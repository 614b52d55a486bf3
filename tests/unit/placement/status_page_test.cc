#include "placement/status_page.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace meridian::placement {
namespace {

proto::ServerInfo Server(uint64_t id, bool alive) {
  proto::ServerInfo s;
  s.set_id(id);
  s.set_zone("zone-" + std::string(1, static_cast<char>('a' + id - 1)));
  s.set_address("127.0.0.1:740" + std::to_string(id));
  s.set_alive(alive);
  return s;
}

proto::GroupInfo Group(uint64_t id, uint64_t leader) {
  proto::GroupInfo g;
  g.set_id(id);
  for (uint64_t r : {1, 2, 3}) g.add_replicas(r);
  g.set_leader(leader);
  return g;
}

proto::Topology ThreeServers() {
  proto::Topology t;
  t.set_bootstrapped(true);
  for (const char* z : {"zone-a", "zone-b", "zone-c"}) t.add_zones(z);
  for (uint64_t id : {1, 2, 3}) *t.add_servers() = Server(id, true);
  *t.add_groups() = Group(1, 1);
  proto::RangeInfo* r = t.add_ranges();
  r->set_group(1);
  r->set_end(std::string("\x80", 1));
  return t;
}

std::vector<std::string> Kinds(const StatusTracker& tracker) {
  std::vector<std::string> kinds;
  for (const StatusEvent& e : tracker.Events()) kinds.push_back(e.kind);
  return kinds;
}

TEST(StatusTrackerTest, TheFirstTopologyIsABaselineAndChangesBecomeEvents) {
  StatusTracker tracker;
  proto::Topology t = ThreeServers();
  tracker.Observe(t, /*leading=*/true, 1);
  EXPECT_EQ(Kinds(tracker), std::vector<std::string>{"leading"});

  *t.add_servers() = Server(4, true);
  t.mutable_servers(1)->set_alive(false);
  t.mutable_groups(0)->set_leader(3);
  proto::MoveInfo* move = t.add_moves();
  move->set_id(7);
  move->set_from_group(1);
  move->set_to_group(2);
  tracker.Observe(t, true, 2);
  t.clear_moves();
  tracker.Observe(t, true, 3);

  EXPECT_EQ(Kinds(tracker), (std::vector<std::string>{"leading", "down", "registered", "leader",
                                                      "move_started", "move_finished"}));
  const std::vector<StatusEvent> events = tracker.Events();
  EXPECT_EQ(events[1].text, "server 2 (zone-b, 127.0.0.1:7402) declared down: no heartbeat");
  EXPECT_EQ(events[2].text, "server 4 (zone-d, 127.0.0.1:7404) registered");
  EXPECT_EQ(events[3].text, "group 1 leader: server 3 (was 1)");
  EXPECT_EQ(events[5].text, "move 7 of [\"\", +inf) from group 1 to group 2 done");
}

TEST(StatusTrackerTest, AFollowerRecordsNoEventsAndTheRingIsBounded) {
  StatusTracker tracker(/*max_events=*/3);
  proto::Topology t = ThreeServers();
  tracker.Observe(t, /*leading=*/false, 1);
  t.mutable_groups(0)->set_leader(2);
  tracker.Observe(t, false, 2);
  EXPECT_TRUE(tracker.Events().empty());
  tracker.Observe(t, true, 3);
  for (uint64_t leader : {1, 2, 3, 1}) {
    t.mutable_groups(0)->set_leader(leader);
    tracker.Observe(t, true, 4);
  }
  const std::vector<StatusEvent> events = tracker.Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events.back().text, "group 1 leader: server 1 (was 3)");
}

TEST(StatusTrackerTest, JsonCarriesServersGroupsRangesAndEscapedText) {
  StatusTracker tracker;
  proto::Topology t = ThreeServers();
  t.mutable_servers(0)->set_zone("we\"ird\n");
  tracker.Observe(t, true, 5);
  const std::string json = tracker.StatusJson();
  EXPECT_NE(json.find(R"("zone":"we\"ird\u000a")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"({"id":1,"leader":1,"leader_address":"127.0.0.1:7401","replicas":[1,2,3])"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"j({"range":"[\"\", \"\\x80\")","group":1,"generation":0})j"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("leading":true)"), std::string::npos) << json;
}

TEST(StatusTrackerTest, MetricsFollowTheLatestTopology) {
  StatusTracker tracker;
  auto handles = tracker.RegisterMetrics();
  proto::Topology t = ThreeServers();
  t.mutable_servers(2)->set_alive(false);
  tracker.Observe(t, true, 1);
  const std::string page = metrics::DefaultRegistry().Render();
  EXPECT_NE(page.find("meridian_placement_servers{state=\"up\"} 2\n"), std::string::npos) << page;
  EXPECT_NE(page.find("meridian_placement_servers{state=\"down\"} 1\n"), std::string::npos);
  EXPECT_NE(page.find("meridian_placement_groups 1\n"), std::string::npos);
  EXPECT_NE(page.find("meridian_placement_leader 1\n"), std::string::npos);
  // Process-wide: the other tests' trackers counted too.
  EXPECT_NE(page.find("meridian_placement_events_total{kind=\"leading\"} "), std::string::npos);
}

// A fenced replica and a server whose storage failed show in the JSON, as events and in the
// metrics.
TEST(StatusTrackerTest, FencedReplicasAndFailedStorageAreShown) {
  StatusTracker tracker;
  auto handles = tracker.RegisterMetrics();
  proto::Topology t = ThreeServers();
  tracker.Observe(t, true, 1);
  proto::ReplicaFence* fence = t.mutable_groups(0)->add_fenced();
  fence->set_server(3);
  fence->set_reason("disk \"full\"");
  t.mutable_servers(2)->set_storage_failed("No space left on device");
  tracker.Observe(t, true, 2);
  tracker.Observe(t, true, 3);  // the same fence again: no new event

  EXPECT_EQ(Kinds(tracker), (std::vector<std::string>{"leading", "storage_failed", "fenced"}));
  const std::vector<StatusEvent> events = tracker.Events();
  EXPECT_EQ(events[1].text,
            "server 3 (zone-c, 127.0.0.1:7403)'s storage failed: No space left on device");
  EXPECT_EQ(events[2].text, "group 1's replica on server 3 is fenced: disk \"full\"");
  const std::string json = tracker.StatusJson();
  EXPECT_NE(json.find(R"("fenced":[{"server":3,"reason":"disk \"full\""}])"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("state":"storage_failed")"), std::string::npos) << json;
  const std::string page = metrics::DefaultRegistry().Render();
  EXPECT_NE(page.find("meridian_placement_fenced_replicas 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("meridian_placement_servers{state=\"storage_failed\"} 1\n"),
            std::string::npos);
}

TEST(StatusPageTest, ThePageFetchesStatusJsonAndMarksRows) {
  const std::string& html = StatusPageHtml();
  EXPECT_NE(html.find("fetch('/status.json'"), std::string::npos);
  EXPECT_NE(html.find("'<tr id=\"group-' + g.id"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);  // no external assets
}

}  // namespace
}  // namespace meridian::placement
