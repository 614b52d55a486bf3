#include "tools/history/dependency_graph.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace meridian::history {
namespace {

using ::testing::ElementsAre;

std::vector<int32_t> Nodes(const std::vector<int32_t>& component, int32_t id) {
  std::vector<int32_t> nodes;
  for (size_t n = 0; n < component.size(); ++n) {
    if (component[n] == id) nodes.push_back(static_cast<int32_t>(n));
  }
  return nodes;
}

TEST(DependencyGraphTest, ComponentsDependOnTheEdgeMask) {
  DependencyGraph g(4);
  g.AddEdge(0, 1, EdgeType::kWW, -1);
  g.AddEdge(1, 0, EdgeType::kRW, -1);
  g.AddEdge(2, 3, EdgeType::kWR, -1);
  g.AddEdge(1, 1, EdgeType::kWW, -1);  // self-loops are dropped
  g.AddEdge(0, 1, EdgeType::kWW, 7);   // a repeat is dropped
  g.Finalize();
  EXPECT_EQ(g.CountEdges(EdgeType::kWW), 1);
  EXPECT_EQ(g.OutEdges(0)[0].why, -1);
  const std::vector<int32_t> all = g.StronglyConnectedComponents(kAllEdges);
  EXPECT_EQ(all[0], all[1]);
  EXPECT_NE(all[2], all[3]);
  const std::vector<int32_t> ww = g.StronglyConnectedComponents(kWWMask);
  EXPECT_NE(ww[0], ww[1]);
}

TEST(DependencyGraphTest, FindsAShortCycleThroughTheRequiredEdgeType) {
  // 0 -ww-> 1 -ww-> 2 -ww-> 0, and a shortcut 1 -rw-> 0.
  DependencyGraph g(3);
  g.AddEdge(0, 1, EdgeType::kWW, -1);
  g.AddEdge(1, 2, EdgeType::kWW, -1);
  g.AddEdge(2, 0, EdgeType::kWW, -1);
  g.AddEdge(1, 0, EdgeType::kRW, -1);
  g.Finalize();
  const std::vector<int32_t> component = g.StronglyConnectedComponents(kAllEdges);
  const std::vector<int32_t> nodes = Nodes(component, component[0]);
  CycleSearcher searcher(g);
  auto types = [&](const std::vector<int32_t>& cycle) {
    std::vector<EdgeType> out;
    for (const int32_t e : cycle) out.push_back(g.edges()[e].type);
    return out;
  };
  std::optional<std::vector<int32_t>> ww =
      searcher.Find(component, component[0], nodes, kWWMask, kWWMask, 1000);
  ASSERT_TRUE(ww.has_value());
  EXPECT_THAT(types(*ww), ElementsAre(EdgeType::kWW, EdgeType::kWW, EdgeType::kWW));
  std::optional<std::vector<int32_t>> rw =
      searcher.Find(component, component[0], nodes, kRWMask, kWWMask, 1000);
  ASSERT_TRUE(rw.has_value());
  EXPECT_THAT(types(*rw), ElementsAre(EdgeType::kRW, EdgeType::kWW));
  EXPECT_FALSE(searcher.Find(component, component[0], nodes, kWRMask, kAllEdges, 1000).has_value());
}

TEST(DependencyGraphTest, WaypointsCostNothing) {
  // 0 -rw-> 1; back from 1 to 0 either through three waypoints (one transaction) or through
  // transaction 2 directly: the waypoint path has fewer transactions and wins.
  DependencyGraph g(3);
  const int32_t w1 = g.AddWaypoint();
  const int32_t w2 = g.AddWaypoint();
  const int32_t w3 = g.AddWaypoint();
  EXPECT_TRUE(g.IsWaypoint(w1));
  EXPECT_FALSE(g.IsWaypoint(2));
  g.AddEdge(0, 1, EdgeType::kRW, -1);
  g.AddEdge(1, 2, EdgeType::kWW, -1);
  g.AddEdge(2, 0, EdgeType::kWW, -1);
  g.AddEdge(1, w1, EdgeType::kRT, -1);
  g.AddEdge(w1, w2, EdgeType::kRT, -1);
  g.AddEdge(w2, w3, EdgeType::kRT, -1);
  g.AddEdge(w3, 0, EdgeType::kRT, -1);
  g.Finalize();
  const std::vector<int32_t> component = g.StronglyConnectedComponents(kAllEdges);
  CycleSearcher searcher(g);
  std::optional<std::vector<int32_t>> cycle = searcher.Find(
      component, component[0], Nodes(component, component[0]), kRWMask, kAllEdges, 1000);
  ASSERT_TRUE(cycle.has_value());
  EXPECT_EQ(cycle->size(), 5u);  // rw, then four rt hops
  EXPECT_EQ(g.edges()[cycle->back()].to, 0);
}

TEST(DependencyGraphTest, BudgetStopsNewTriesButFinishesTheFirst) {
  // One component 0 -> 1 -> 2 -> 3 -> 0 of rw edges, plus 3 -ww-> 2: only the third rw edge tried
  // (2 -> 3) closes a cycle through ww edges.
  DependencyGraph g(4);
  g.AddEdge(0, 1, EdgeType::kRW, -1);
  g.AddEdge(1, 2, EdgeType::kRW, -1);
  g.AddEdge(2, 3, EdgeType::kRW, -1);
  g.AddEdge(3, 0, EdgeType::kRW, -1);
  g.AddEdge(3, 2, EdgeType::kWW, -1);
  g.Finalize();
  const std::vector<int32_t> component = g.StronglyConnectedComponents(kAllEdges);
  const std::vector<int32_t> nodes = Nodes(component, component[0]);
  CycleSearcher searcher(g);
  EXPECT_FALSE(searcher.Find(component, component[0], nodes, kRWMask, kWWMask, 0).has_value());
  EXPECT_TRUE(searcher.Find(component, component[0], nodes, kRWMask, kWWMask, 1000).has_value());
}

}  // namespace
}  // namespace meridian::history
