// txn::RangeGuard: the per-key checks of range moves and splits that every replica of a data group
// runs on each request before the transaction manager sees it — shared by the spanserver's
// TxnTablet and the simulator's TxnNode, so that the simulator exercises the real checks.
//
// A key is checked against two things: the generation at which the server's copy of the range
// map gives the key's range to this group (MapGeneration; 0: the map puts it in another group),
// and the group's own log (txn::Ownership, the manager's replicated claims). The answer:
//   OK            the claim covering the key is owned at that generation or a later one;
//   stale map     UNAVAILABLE with the kStaleMapPayload payload (StaleMapError): the map puts
//                 the key elsewhere, or the group released its range — the client refreshes
//                 its map and tries the range's new group;
//   not applied   UNAVAILABLE without the payload: the map gave the range to this group anew
//                 and this replica has not applied the adoption yet ("behind") — try again, or
//                 at another replica.
// A locking request (a read-write transaction's read, prepare or commit) is also refused while
// one of its keys lies in a fenced range: the leader fences a range it is about to release
// (Fence), so that its locks drain and the release can be logged; UNAVAILABLE, nothing done, the
// client backs off and tries again, by then at the range's new group. Fences are soft state of
// one replica, each until a TrueTime instant or until the group's log holds the range at the
// fence's generation or a later one (released: the stale-map check takes over; or moved back
// here since: a fence that outlived it kept a range that came back within its 10 s unwritable —
// bank simulator seed 201).
//
// Seed/faults: none (pure). Planted bug: RangeGuardOptions::testing_serve_before_adopt serves a
// key whose adoption this replica has not applied (the simulator's plant of that name shows its
// checkers catch it). Thread safety: none; one strand or thread drives a guard, like the manager
// whose ownership it reads.
#ifndef MERIDIAN_TXN_RANGE_GUARD_H_
#define MERIDIAN_TXN_RANGE_GUARD_H_

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "txn/ownership.h"
#include "txn/types.h"

namespace meridian::txn {

// A "stale map" refusal: UNAVAILABLE whose message starts with kStaleMapPrefix and that carries
// the kStaleMapPayload payload, from which the server adds the trailer that makes the client
// refresh its map (spanserver/server/admission.h).
inline constexpr char kStaleMapPrefix[] = "stale map: ";
inline constexpr char kStaleMapPayload[] = "type.meridian.dev/meridian.StaleMap";
absl::Status StaleMapError(std::string_view why);
bool IsStaleMap(const absl::Status& status);

struct RangeGuardOptions {
  // Planted bug, never set outside tests: a key whose range this replica is "behind" on (the
  // map gave it to this group at a generation whose adoption it has not applied) is served.
  bool testing_serve_before_adopt = false;
};

class RangeGuard {
 public:
  // The generation of the server map's range holding `key` when that range is this group's,
  // else 0. Unset: every key at kInitialRangeGeneration.
  using MapGeneration = std::function<uint64_t(std::string_view key)>;

  RangeGuard(GroupId group, MapGeneration map_generation, RangeGuardOptions options = {});

  // OK when this replica serves every key of a request, else the first refusal (see above);
  // `locking` requests are refused in fenced ranges too. `now_us` is TT.now().earliest: expired
  // fences are dropped.
  absl::Status CheckKeys(const Ownership& ownership, int64_t now_us,
                         const std::vector<std::string_view>& keys, bool locking);
  // OK when this replica serves every key of [start, end) (a scan within one range of the map);
  // a range whose parts are claimed differently (a split or move under way) is a stale map.
  absl::Status CheckServed(const Ownership& ownership, std::string_view start,
                           std::string_view end) const;
  // CheckKeys for the span of a scan: all of it served here alike (CheckServed) and, for a
  // locking scan, no fenced range overlapping it.
  absl::Status CheckRange(const Ownership& ownership, int64_t now_us, const KeyRange& range,
                          bool locking);
  // Refuses locking requests with a key in `range` until TT.now().earliest passes `until_us`
  // (a fence already there is extended). The caller wounds the range's lock holders.
  void Fence(const RangeClaim& range, int64_t until_us);

 private:
  struct FencedRange {
    RangeClaim range;
    int64_t until_us = 0;
  };
  // Drops the fences that ended, then refuses (UNAVAILABLE) when `touches` one of the others.
  absl::Status FenceRefusal(const Ownership& ownership, int64_t now_us,
                            const std::function<bool(const RangeClaim&)>& touches);
  // The refusal of one key, or OK.
  absl::Status Refusal(const Ownership& ownership, std::string_view key) const;
  uint64_t MapGenerationOf(std::string_view key) const;

  const GroupId group_;
  const MapGeneration map_generation_;
  const RangeGuardOptions options_;
  std::vector<FencedRange> fences_;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_RANGE_GUARD_H_
