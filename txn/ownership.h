// txn::Ownership: which key ranges a data group serves, and at which generation of the range map
// — replicated state, changed only by ownership records (records.h) when ranges move between
// groups or split (proto/movement.proto has the protocol; placement/mover.h drives it).
//
// The map's generation (proto::RangeInfo.generation) of a range is bumped whenever its owner or
// bounds change. A request names the generation of the range it was routed by; the server's
// routing table checks that generation against its copy of the map, and this class checks it
// against the group's own log, so that a replica never serves a range before it applied the
// records that gave it the range, nor after it applied the one that took it away — whatever map
// the server holds. Check takes the generation at which the server's map gives the key's range
// to this group:
//   served   the covering claim is owned, at that generation or a later one (a replica may be
//            ahead of its server's map: it applied a split the map does not show yet);
//   stale    the claim is released: the range moved away, the client's map is old;
//   behind   the claim is owned at an older generation: the map gave the range to this group
//            anew (a move in) and this replica has not applied the adoption yet.
// A key no record ever named is owned at kInitialRangeGeneration (the map's bootstrap
// generation): a group that never adopted a range can pass only for its bootstrap owner.
//
// Claims are disjoint; setting one overwrites whatever part of others it overlaps.
//
// Thread safety: none; owned by the TransactionManager.
#ifndef MERIDIAN_TXN_OWNERSHIP_H_
#define MERIDIAN_TXN_OWNERSHIP_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "truetime/interval.h"

namespace meridian::txn {

// Must equal placement's kInitialGeneration (placement/planner.h).
inline constexpr uint64_t kInitialRangeGeneration = 1;

struct RangeClaim {
  std::string start;
  std::string end;  // empty: +infinity
  uint64_t generation = 0;
  friend bool operator==(const RangeClaim&, const RangeClaim&) = default;
};

class Ownership {
 public:
  enum class Verdict { kServed, kStale, kBehind };

  struct Claim {
    std::string end;  // empty: +infinity
    uint64_t generation = kInitialRangeGeneration;
    bool owned = true;
    truetime::Timestamp ts = 0;  // of the record that set it
    friend bool operator==(const Claim&, const Claim&) = default;
  };

  Verdict Check(std::string_view key, uint64_t map_generation) const;
  // The claim covering `key` (the default one when no record named it).
  Claim Find(std::string_view key) const;
  // The single claim covering all of [start, end), when one does.
  std::optional<Claim> Covering(std::string_view start, std::string_view end) const;
  // The highest generation of any claim overlapping [start, end) (the initial one for unclaimed
  // parts).
  uint64_t MaxGeneration(std::string_view start, std::string_view end) const;
  void Set(const std::string& start, const Claim& claim);

  // --- Checkpoints: every claim, by start.
  struct Entry {
    std::string start;
    Claim claim;
    friend bool operator==(const Entry&, const Entry&) = default;
  };
  std::vector<Entry> Save() const;
  void Restore(std::vector<Entry> entries);

  // "[a,b)@3 released ..." for logs.
  std::string DebugString() const;

 private:
  // start -> claim; disjoint.
  std::map<std::string, Claim, std::less<>> claims_;
};

// True when `key` is in [start, end) (empty end: +infinity).
bool InRange(std::string_view key, std::string_view start, std::string_view end);
// True when [a_start, a_end) and [b_start, b_end) share a key.
bool RangesOverlap(std::string_view a_start, std::string_view a_end, std::string_view b_start,
                   std::string_view b_end);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_OWNERSHIP_H_
