#include "placement/topology_view.h"

#include <algorithm>

namespace meridian::placement {

TopologyView::TopologyView(const proto::Topology& topology) : topology_(topology) {
  for (const proto::ServerInfo& s : topology.servers()) servers_[s.id()] = &s;
  for (const proto::GroupInfo& g : topology.groups()) {
    groups_.push_back(&g);
    for (const uint64_t id : g.replicas()) ++load_[id];
  }
  std::sort(groups_.begin(), groups_.end(),
            [](const proto::GroupInfo* a, const proto::GroupInfo* b) { return a->id() < b->id(); });
}

const proto::ServerInfo* TopologyView::Server(uint64_t id) const {
  const auto it = servers_.find(id);
  return it == servers_.end() ? nullptr : it->second;
}

std::string TopologyView::Zone(uint64_t id) const {
  const proto::ServerInfo* server = Server(id);
  return server == nullptr ? "" : server->zone();
}

bool TopologyView::Usable(uint64_t id) const {
  const proto::ServerInfo* server = Server(id);
  return server != nullptr && server->alive() && !server->draining() && !server->removed() &&
         server->storage_failed().empty();
}

bool TopologyView::Alive(uint64_t id) const {
  const proto::ServerInfo* server = Server(id);
  return server != nullptr && server->alive() && !server->removed();
}

int TopologyView::Load(uint64_t id) const {
  const auto it = load_.find(id);
  return it == load_.end() ? 0 : it->second;
}

const proto::GroupInfo* TopologyView::Group(uint64_t id) const {
  for (const proto::GroupInfo* g : groups_) {
    if (g->id() == id) return g;
  }
  return nullptr;
}

bool TopologyView::Settled(const proto::GroupInfo& group) const {
  if (!group.refusals().empty() || !group.fenced().empty()) return false;
  for (const uint64_t id : group.replicas()) {
    if (!Usable(id)) return false;
    const auto log = std::find_if(group.logs().begin(), group.logs().end(),
                                  [id](const proto::ReplicaLog& l) { return l.server() == id; });
    if (log == group.logs().end() || log->installing_snapshot()) return false;
  }
  return true;
}

}  // namespace meridian::placement
