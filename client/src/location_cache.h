// LocationCache: the client's map of where key ranges live (range -> group, generation; group ->
// replica addresses, leader address). Pure: no I/O, no clock; the Client fills it from placementd
// answers and invalidates it on "meridian-stale-map" and failed connections.
//
// Ranges are [start, end) with an empty end meaning +infinity; cached ranges never overlap (an
// update drops every cached range it overlaps). The cache may have holes: a key in a hole is a
// miss and the client asks placement.
//
// Thread safety: not thread-safe; the Client guards it with its mutex.
#ifndef MERIDIAN_CLIENT_SRC_LOCATION_CACHE_H_
#define MERIDIAN_CLIENT_SRC_LOCATION_CACHE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace meridian::client {

struct Location {
  std::string start;
  std::string end;  // exclusive; empty = +infinity
  uint64_t group = 0;
  uint64_t generation = 0;
  std::vector<std::string> replica_addresses;
  std::string leader_address;  // empty when unknown
};

class LocationCache {
 public:
  // The cached location of the range holding `key`, or nullopt on a miss.
  std::optional<Location> Lookup(const std::string& key) const;

  // Caches `location`, replacing every cached range it overlaps, and sets its group's replicas and
  // leader. Ignored when an overlapping cached range has a higher generation (a late answer).
  void Update(const Location& location);

  // Replaces the whole cache (a full topology).
  void ReplaceAll(const std::vector<Location>& locations);

  // Drops the cached range holding `key`, if any.
  void Invalidate(const std::string& key);

  // Records `address` as the leader of `group` (a "meridian-leader" hint). No-op for an unknown
  // group.
  void SetLeader(uint64_t group, const std::string& address);

  // Forgets the leader of `group` if it is `address` (it could not be reached).
  void ForgetLeader(uint64_t group, const std::string& address);

  size_t range_count() const { return ranges_.size(); }

  // One line per range, "[start, end) g=G gen=N leader=A replicas=A,B", keys escaped; for tests.
  std::string DebugString() const;

 private:
  struct Range {
    std::string end;
    uint64_t group = 0;
    uint64_t generation = 0;
  };
  struct Group {
    std::vector<std::string> replica_addresses;
    std::string leader_address;
  };

  // The cached range holding `key`, or ranges_.end().
  std::map<std::string, Range>::const_iterator Find(const std::string& key) const;

  std::map<std::string, Range> ranges_;  // by start key
  std::map<uint64_t, Group> groups_;
};

}  // namespace meridian::client

#endif  // MERIDIAN_CLIENT_SRC_LOCATION_CACHE_H_
