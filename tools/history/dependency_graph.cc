#include "tools/history/dependency_graph.h"

#include <algorithm>
#include <deque>
#include <tuple>

#include "common/check.h"

namespace meridian::history {

const char* EdgeTypeName(EdgeType type) {
  switch (type) {
    case EdgeType::kWW:
      return "ww";
    case EdgeType::kWR:
      return "wr";
    case EdgeType::kRW:
      return "rw";
    case EdgeType::kRT:
      return "rt";
  }
  return "?";
}

DependencyGraph::DependencyGraph(int32_t num_txns) : num_txns_(num_txns), num_nodes_(num_txns) {}

int32_t DependencyGraph::AddWaypoint() {
  CHECK(!finalized_);
  return num_nodes_++;
}

void DependencyGraph::AddEdge(int32_t from, int32_t to, EdgeType type, int32_t why) {
  CHECK(!finalized_);
  CHECK(from >= 0 && from < num_nodes_ && to >= 0 && to < num_nodes_);
  if (from == to) return;
  edges_.push_back(Edge{.from = from, .to = to, .type = type, .why = why});
}

void DependencyGraph::Finalize() {
  CHECK(!finalized_);
  finalized_ = true;
  // Stable, so that of repeated (from, to, type) edges the first added (and its why) is kept.
  std::stable_sort(edges_.begin(), edges_.end(), [](const Edge& a, const Edge& b) {
    return std::tie(a.from, a.to, a.type) < std::tie(b.from, b.to, b.type);
  });
  edges_.erase(std::unique(edges_.begin(), edges_.end(),
                           [](const Edge& a, const Edge& b) {
                             return a.from == b.from && a.to == b.to && a.type == b.type;
                           }),
               edges_.end());
  edges_.shrink_to_fit();
  offsets_.assign(num_nodes_ + 1, 0);
  for (const Edge& e : edges_) ++offsets_[e.from + 1];
  for (int32_t n = 0; n < num_nodes_; ++n) offsets_[n + 1] += offsets_[n];
}

std::span<const Edge> DependencyGraph::OutEdges(int32_t node) const {
  return std::span<const Edge>(edges_.data() + offsets_[node], edges_.data() + offsets_[node + 1]);
}

int64_t DependencyGraph::CountEdges(EdgeType type) const {
  return std::count_if(edges_.begin(), edges_.end(),
                       [type](const Edge& e) { return e.type == type; });
}

std::vector<int32_t> DependencyGraph::StronglyConnectedComponents(EdgeMask mask) const {
  CHECK(finalized_);
  std::vector<int32_t> component(num_nodes_, -1);
  std::vector<int32_t> order(num_nodes_, -1);  // Tarjan's index
  std::vector<int32_t> low(num_nodes_, 0);
  std::vector<bool> on_stack(num_nodes_, false);
  std::vector<int32_t> stack;
  struct Frame {
    int32_t node;
    int32_t next_edge;
  };
  std::vector<Frame> frames;
  int32_t counter = 0;
  int32_t components = 0;
  auto visit = [&](int32_t node) {
    order[node] = low[node] = counter++;
    stack.push_back(node);
    on_stack[node] = true;
    frames.push_back(Frame{node, offsets_[node]});
  };
  for (int32_t root = 0; root < num_nodes_; ++root) {
    if (order[root] != -1) continue;
    visit(root);
    while (!frames.empty()) {
      const int32_t v = frames.back().node;
      if (frames.back().next_edge < offsets_[v + 1]) {
        const Edge& e = edges_[frames.back().next_edge++];
        if ((mask & MaskOf(e.type)) == 0) continue;
        if (order[e.to] == -1) {
          visit(e.to);
        } else if (on_stack[e.to]) {
          low[v] = std::min(low[v], order[e.to]);
        }
        continue;
      }
      if (low[v] == order[v]) {
        int32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          component[w] = components;
        } while (w != v);
        ++components;
      }
      frames.pop_back();
      if (!frames.empty()) {
        const int32_t u = frames.back().node;
        low[u] = std::min(low[u], low[v]);
      }
    }
  }
  return component;
}

CycleSearcher::CycleSearcher(const DependencyGraph& graph)
    : graph_(graph),
      seen_(graph.num_nodes(), 0),
      done_(graph.num_nodes(), 0),
      dist_(graph.num_nodes(), 0),
      parent_(graph.num_nodes(), -1) {}

std::optional<std::vector<int32_t>> CycleSearcher::Find(const std::vector<int32_t>& component,
                                                        int32_t component_id,
                                                        const std::vector<int32_t>& nodes,
                                                        EdgeMask first, EdgeMask path,
                                                        int64_t budget) {
  int64_t work = 0;
  std::vector<int32_t> cycle;
  for (const int32_t node : nodes) {
    if (graph_.IsWaypoint(node)) continue;
    const std::span<const Edge> out = graph_.OutEdges(node);
    for (size_t i = 0; i < out.size(); ++i) {
      const Edge& e = out[i];
      if ((first & MaskOf(e.type)) == 0 || component[e.to] != component_id) continue;
      cycle.assign(1, graph_.FirstOutEdge(node) + static_cast<int32_t>(i));
      if (ShortestPath(e.to, node, component, component_id, path, &work, &cycle)) return cycle;
      if (work > budget) return std::nullopt;
    }
  }
  return std::nullopt;
}

bool CycleSearcher::ShortestPath(int32_t src, int32_t dst, const std::vector<int32_t>& component,
                                 int32_t component_id, EdgeMask path, int64_t* work,
                                 std::vector<int32_t>* edges) {
  if (++stamp_ == 0) {  // wrapped: forget every old stamp
    std::fill(seen_.begin(), seen_.end(), 0);
    std::fill(done_.begin(), done_.end(), 0);
    stamp_ = 1;
  }
  std::deque<int32_t> queue;
  seen_[src] = stamp_;
  dist_[src] = 0;
  parent_[src] = -1;
  queue.push_back(src);
  const std::vector<Edge>& all = graph_.edges();
  while (!queue.empty()) {
    const int32_t u = queue.front();
    queue.pop_front();
    if (done_[u] == stamp_) continue;
    done_[u] = stamp_;
    if (u == dst) {
      const size_t start = edges->size();
      for (int32_t n = dst; n != src; n = all[parent_[n]].from) edges->push_back(parent_[n]);
      std::reverse(edges->begin() + start, edges->end());
      return true;
    }
    const std::span<const Edge> out = graph_.OutEdges(u);
    *work += static_cast<int64_t>(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const Edge& e = out[i];
      if ((path & MaskOf(e.type)) == 0 || component[e.to] != component_id) continue;
      if (done_[e.to] == stamp_) continue;
      const int32_t weight = graph_.IsWaypoint(e.to) ? 0 : 1;
      const int32_t d = dist_[u] + weight;
      if (seen_[e.to] == stamp_ && dist_[e.to] <= d) continue;
      seen_[e.to] = stamp_;
      dist_[e.to] = d;
      parent_[e.to] = graph_.FirstOutEdge(u) + static_cast<int32_t>(i);
      if (weight == 0) {
        queue.push_front(e.to);
      } else {
        queue.push_back(e.to);
      }
    }
  }
  return false;
}

}  // namespace meridian::history
