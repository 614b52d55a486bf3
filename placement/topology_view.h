// TopologyView: the lookups the balance planners share over one proto::Topology (servers by id,
// replicas per server, groups in id order, whether a group has settled). It points into the
// topology, which must outlive it and not change meanwhile.
//
// Thread safety: immutable after construction; safe to read from any thread.
#ifndef MERIDIAN_PLACEMENT_TOPOLOGY_VIEW_H_
#define MERIDIAN_PLACEMENT_TOPOLOGY_VIEW_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "proto/placement.pb.h"

namespace meridian::placement {

class TopologyView {
 public:
  explicit TopologyView(const proto::Topology& topology);

  const proto::Topology& topology() const { return topology_; }
  // The server with `id`, or null.
  const proto::ServerInfo* Server(uint64_t id) const;
  // Its zone; "" for an unknown server.
  std::string Zone(uint64_t id) const;
  // Alive, not draining, not removed and its storage has not failed: it may take a replica or a
  // leadership.
  bool Usable(uint64_t id) const;
  // Alive and not removed.
  bool Alive(uint64_t id) const;
  // How many groups list it as a replica.
  int Load(uint64_t id) const;
  // The groups, ordered by id.
  const std::vector<const proto::GroupInfo*>& groups() const { return groups_; }
  // The group with `id`, or null.
  const proto::GroupInfo* Group(uint64_t id) const;

  // Placement cannot see a group's Paxos configuration; it takes a group as settled when every
  // replica it lists is on a usable server that reports hosting it (a log in GroupInfo.logs), no
  // replica is installing a snapshot, and none is refused or fenced. A replica added or replaced
  // lately has not settled until its server started it; a dead or draining one is being replaced.
  bool Settled(const proto::GroupInfo& group) const;

 private:
  const proto::Topology& topology_;
  std::map<uint64_t, const proto::ServerInfo*> servers_;
  std::map<uint64_t, int> load_;
  std::vector<const proto::GroupInfo*> groups_;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_TOPOLOGY_VIEW_H_
