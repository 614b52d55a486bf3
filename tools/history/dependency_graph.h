// The dependency graph of the list-append checker and the searches it runs on it.
//
// Nodes 0..num_txns-1 are transactions; nodes added with AddWaypoint are "waypoints", which carry
// real-time order without one edge per pair of transactions (append_checker.cc chains one waypoint
// per distinct completion time). Edges are typed ww, wr, rw (Adya's write, read and
// anti-dependencies) or rt (real-time order), and carry an opaque justification index. Finalize
// sorts the edges by source, drops repeats of the same (from, to, type) and freezes the graph.
//
// Searches: StronglyConnectedComponents (iterative Tarjan, over the edge types of a mask) and
// CycleSearcher::Find, which looks for a short cycle through an edge of given types, with the rest
// of the path restricted to other given types and to one component. Paths are shortest by number
// of transactions (a 0-1 BFS: stepping onto a waypoint costs nothing). A search stops trying new
// start edges once it has visited `budget` edges, but always finishes the first try, so a search
// whose path types cover every edge of the component always finds a cycle.
// Thread safety: a finalized graph is immutable and may be read from many threads; a
// CycleSearcher has scratch state and belongs to one thread.
#ifndef MERIDIAN_TOOLS_HISTORY_DEPENDENCY_GRAPH_H_
#define MERIDIAN_TOOLS_HISTORY_DEPENDENCY_GRAPH_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace meridian::history {

enum class EdgeType : uint8_t { kWW, kWR, kRW, kRT };

// "ww", "wr", "rw", "rt".
const char* EdgeTypeName(EdgeType type);

using EdgeMask = uint8_t;
constexpr EdgeMask MaskOf(EdgeType type) { return EdgeMask{1} << static_cast<int>(type); }
inline constexpr EdgeMask kWWMask = MaskOf(EdgeType::kWW);
inline constexpr EdgeMask kWRMask = MaskOf(EdgeType::kWR);
inline constexpr EdgeMask kRWMask = MaskOf(EdgeType::kRW);
inline constexpr EdgeMask kRTMask = MaskOf(EdgeType::kRT);
inline constexpr EdgeMask kAllEdges = kWWMask | kWRMask | kRWMask | kRTMask;

struct Edge {
  int32_t from = 0;
  int32_t to = 0;
  EdgeType type = EdgeType::kWW;
  int32_t why = -1;  // the caller's justification index; -1 for none
};

class DependencyGraph {
 public:
  explicit DependencyGraph(int32_t num_txns);

  int32_t AddWaypoint();
  // Self-loops are ignored. Only before Finalize.
  void AddEdge(int32_t from, int32_t to, EdgeType type, int32_t why);
  void Finalize();

  int32_t num_txns() const { return num_txns_; }
  int32_t num_nodes() const { return num_nodes_; }
  bool IsWaypoint(int32_t node) const { return node >= num_txns_; }
  // After Finalize: edges sorted by `from`; edge ids index this vector.
  const std::vector<Edge>& edges() const { return edges_; }
  std::span<const Edge> OutEdges(int32_t node) const;
  // The id of the first out-edge of `node` (its out-edges are consecutive).
  int32_t FirstOutEdge(int32_t node) const { return offsets_[node]; }
  int64_t CountEdges(EdgeType type) const;

  // Component id of every node, using only edges whose type is in `mask`. Ids are dense from 0.
  std::vector<int32_t> StronglyConnectedComponents(EdgeMask mask) const;

 private:
  int32_t num_txns_;
  int32_t num_nodes_;
  bool finalized_ = false;
  std::vector<Edge> edges_;
  std::vector<int32_t> offsets_;  // node -> first edge; size num_nodes_ + 1
};

class CycleSearcher {
 public:
  explicit CycleSearcher(const DependencyGraph& graph);

  // A cycle inside the component `component_id` (per `component`, an output of
  // StronglyConnectedComponents) whose first edge has a type in `first` and whose other edges have
  // types in `path`: the edge ids in order, starting from a transaction node. Start edges are
  // tried in order of their source among `nodes` (the component's nodes).
  std::optional<std::vector<int32_t>> Find(const std::vector<int32_t>& component,
                                           int32_t component_id, const std::vector<int32_t>& nodes,
                                           EdgeMask first, EdgeMask path, int64_t budget);

 private:
  // Shortest path src -> dst (edge ids) inside the component over `path` edges; adds the edges it
  // visited to *work.
  bool ShortestPath(int32_t src, int32_t dst, const std::vector<int32_t>& component,
                    int32_t component_id, EdgeMask path, int64_t* work,
                    std::vector<int32_t>* edges);

  const DependencyGraph& graph_;
  uint32_t stamp_ = 0;
  std::vector<uint32_t> seen_;  // == stamp_: dist_ and parent_ are set in this search
  std::vector<uint32_t> done_;  // == stamp_: the node's distance is final
  std::vector<int32_t> dist_;
  std::vector<int32_t> parent_;  // edge id that reached the node
};

}  // namespace meridian::history

#endif  // MERIDIAN_TOOLS_HISTORY_DEPENDENCY_GRAPH_H_
