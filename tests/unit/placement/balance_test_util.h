// Helpers of the balance tests: topologies as the balancer sees them (soft state laid over),
// written in a few lines. A group added with Group() has settled: every replica reports a log,
// and its leader is its first replica unless told otherwise.
#ifndef MERIDIAN_TESTS_UNIT_PLACEMENT_BALANCE_TEST_UTIL_H_
#define MERIDIAN_TESTS_UNIT_PLACEMENT_BALANCE_TEST_UTIL_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "proto/placement.pb.h"

namespace meridian::placement::testing {

inline constexpr uint64_t kMiB = uint64_t{1} << 20;
inline constexpr uint64_t kFirstReplica = ~uint64_t{0};

// A bootstrapped topology with `zones` servers: server i + 1 is in zone zones[i], alive.
inline proto::Topology Servers(const std::vector<std::string>& zones) {
  proto::Topology t;
  t.set_bootstrapped(true);
  std::set<std::string> names;
  for (size_t i = 0; i < zones.size(); ++i) {
    proto::ServerInfo* s = t.add_servers();
    s->set_id(i + 1);
    s->set_zone(zones[i]);
    s->set_address("h:" + std::to_string(i + 1));
    s->set_alive(true);
    names.insert(zones[i]);
  }
  for (const std::string& zone : names) t.add_zones(zone);
  return t;
}

inline proto::ServerInfo& ServerOf(proto::Topology& t, uint64_t id) {
  return *t.mutable_servers(static_cast<int>(id - 1));
}

// A settled group; `leader` kFirstReplica: its first replica.
inline proto::GroupInfo& Group(proto::Topology& t, uint64_t id,
                               const std::vector<uint64_t>& replicas,
                               uint64_t leader = kFirstReplica) {
  proto::GroupInfo* g = t.add_groups();
  g->set_id(id);
  for (uint64_t r : replicas) {
    g->add_replicas(r);
    proto::ReplicaLog* log = g->add_logs();
    log->set_server(r);
    log->set_entries(10);
  }
  g->set_leader(leader == kFirstReplica ? replicas.front() : leader);
  return *g;
}

inline proto::GroupInfo& GroupOf(proto::Topology& t, uint64_t id) {
  for (proto::GroupInfo& g : *t.mutable_groups()) {
    if (g.id() == id) return g;
  }
  return *t.mutable_groups(0);
}

// A range of `group`; with bytes >= 0 its leader reported that size (and `split_key`).
inline void Range(proto::Topology& t, const std::string& start, const std::string& end,
                  uint64_t group, int64_t bytes = -1, const std::string& split_key = "") {
  proto::RangeInfo* r = t.add_ranges();
  r->set_start(start);
  r->set_end(end);
  r->set_group(group);
  r->set_generation(1);
  if (bytes < 0) return;
  proto::RangeStats* stats = GroupOf(t, group).add_range_stats();
  stats->set_start(start);
  stats->set_approx_bytes(static_cast<uint64_t>(bytes));
  stats->set_split_key(split_key);
}

inline proto::Policy MakePolicy(uint32_t replicas, const std::vector<std::string>& zones = {},
                                const std::string& leader_zone = "") {
  proto::Policy p;
  p.set_replicas(replicas);
  for (const std::string& z : zones) p.add_zones(z);
  p.set_leader_zone(leader_zone);
  return p;
}

inline std::vector<uint64_t> Ids(const google::protobuf::RepeatedField<uint64_t>& ids) {
  return {ids.begin(), ids.end()};
}

}  // namespace meridian::placement::testing

#endif  // MERIDIAN_TESTS_UNIT_PLACEMENT_BALANCE_TEST_UTIL_H_
