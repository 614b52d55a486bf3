// RoutingTable: what a spanserver knows about the cluster to check and route requests — its own
// identity, the range map and server addresses from the latest placement topology, and the
// GroupHosts it runs (one per data group listing this server).
//
// The KV service checks every request against it: the group must be hosted here, the request's
// generation must be the current generation of the group's range that holds the key, and the key
// must lie inside that range. Anything else means the client's map is stale.
//
// Thread safety: all methods are thread-safe (one mutex; no I/O under it). Hosts are handed out
// as shared_ptr so that a caller may keep using one while the table changes.
#ifndef MERIDIAN_SPANSERVER_SERVER_ROUTING_TABLE_H_
#define MERIDIAN_SPANSERVER_SERVER_ROUTING_TABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace meridian {
namespace replication {
class GroupHost;
}  // namespace replication

namespace spanserver {

// One range of the map: [start, end), empty end = +infinity.
struct RangeEntry {
  std::string start;
  std::string end;
  uint64_t group = 0;
  uint64_t generation = 0;

  bool Contains(std::string_view key) const {
    return key >= std::string_view(start) && (end.empty() || key < std::string_view(end));
  }
};

struct ServerIdentity {
  uint64_t id = 0;
  std::string zone;
  std::string address;
};

class RoutingTable {
 public:
  void SetIdentity(ServerIdentity identity);
  ServerIdentity identity() const;

  // Replaces the range map and the server addresses (from one topology).
  void SetTopology(std::vector<RangeEntry> ranges, std::map<uint64_t, std::string> addresses);

  // The range of `group` that contains `key` (an empty key: the group's lowest range), when its
  // generation is `generation`; nullopt when the map has no such range (the caller's map is
  // stale).
  std::optional<RangeEntry> FindRange(uint64_t group, uint64_t generation,
                                      std::string_view key) const;
  // The ranges of `group` in the map, in key order.
  std::vector<RangeEntry> RangesOf(uint64_t group) const;
  // The generation of the map's range holding `key` when that range is `group`'s; 0 otherwise.
  uint64_t GroupGeneration(uint64_t group, std::string_view key) const;
  // The address of server `id`; empty when unknown.
  std::string AddressOf(uint64_t id) const;

  // Hosts: added once per group, removed all at once at shutdown.
  void AddHost(uint64_t group, std::shared_ptr<replication::GroupHost> host);
  void RemoveHost(uint64_t group);
  std::shared_ptr<replication::GroupHost> FindHost(uint64_t group) const;
  std::vector<std::pair<uint64_t, std::shared_ptr<replication::GroupHost>>> Hosts() const;
  std::vector<std::shared_ptr<replication::GroupHost>> TakeHosts();

 private:
  mutable absl::Mutex mu_;
  ServerIdentity identity_ ABSL_GUARDED_BY(mu_);
  std::vector<RangeEntry> ranges_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::string> addresses_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::shared_ptr<replication::GroupHost>> hosts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spanserver
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_SERVER_ROUTING_TABLE_H_
