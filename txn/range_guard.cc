// RangeGuard implementation; see range_guard.h.
#include "txn/range_guard.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace meridian::txn {
namespace {

absl::string_view AV(std::string_view s) { return {s.data(), s.size()}; }

std::string RangeText(std::string_view start, std::string_view end) {
  return absl::StrCat("[", absl::CHexEscape(AV(start)), ", ",
                      end.empty() ? "+inf" : absl::CHexEscape(AV(end)), ")");
}

}  // namespace

absl::Status StaleMapError(std::string_view why) {
  absl::Status status = absl::UnavailableError(absl::StrCat(kStaleMapPrefix, AV(why)));
  status.SetPayload(kStaleMapPayload, absl::Cord());
  return status;
}

bool IsStaleMap(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable &&
         status.GetPayload(kStaleMapPayload).has_value();
}

RangeGuard::RangeGuard(GroupId group, MapGeneration map_generation, RangeGuardOptions options)
    : group_(group), map_generation_(std::move(map_generation)), options_(options) {}

uint64_t RangeGuard::MapGenerationOf(std::string_view key) const {
  return map_generation_ ? map_generation_(key) : kInitialRangeGeneration;
}

absl::Status RangeGuard::Refusal(const Ownership& ownership, std::string_view key) const {
  const uint64_t map_generation = MapGenerationOf(key);
  if (map_generation == 0) {
    return StaleMapError(
        absl::StrCat("the map does not place ", absl::CHexEscape(AV(key)), " in group ", group_));
  }
  switch (ownership.Check(key, map_generation)) {
    case Ownership::Verdict::kServed:
      return absl::OkStatus();
    case Ownership::Verdict::kStale:
      return StaleMapError(absl::StrCat("group ", group_, " released the range of ",
                                        absl::CHexEscape(AV(key)), " at generation ",
                                        ownership.Find(key).generation));
    case Ownership::Verdict::kBehind:
      if (options_.testing_serve_before_adopt) return absl::OkStatus();
      break;
  }
  return absl::UnavailableError(
      absl::StrCat("group ", group_, ": this replica has not applied generation ", map_generation,
                   " of the range of ", absl::CHexEscape(AV(key)), " yet; try again"));
}

absl::Status RangeGuard::CheckKeys(const Ownership& ownership, int64_t now_us,
                                   const std::vector<std::string_view>& keys, bool locking) {
  for (std::string_view key : keys) {
    absl::Status refusal = Refusal(ownership, key);
    if (!refusal.ok()) return refusal;
  }
  if (!locking) return absl::OkStatus();
  return FenceRefusal(ownership, now_us, [&](const RangeClaim& fenced) {
    return std::any_of(keys.begin(), keys.end(),
                       [&](std::string_view k) { return InRange(k, fenced.start, fenced.end); });
  });
}

absl::Status RangeGuard::CheckRange(const Ownership& ownership, int64_t now_us,
                                    const KeyRange& range, bool locking) {
  if (absl::Status refusal = CheckServed(ownership, range.start, range.end); !refusal.ok()) {
    return refusal;
  }
  if (!locking) return absl::OkStatus();
  return FenceRefusal(ownership, now_us, [&](const RangeClaim& fenced) {
    return RangesOverlap(range.start, range.end, fenced.start, fenced.end);
  });
}

absl::Status RangeGuard::FenceRefusal(const Ownership& ownership, int64_t now_us,
                                      const std::function<bool(const RangeClaim&)>& touches) {
  // A fence ends when it expires, or once the group's log holds the release it was for (or a
  // later change of the range: it moved back here), whose own checks then take over.
  std::erase_if(fences_, [&](const FencedRange& f) {
    return f.until_us < now_us ||
           ownership.MaxGeneration(f.range.start, f.range.end) >= f.range.generation;
  });
  for (const FencedRange& f : fences_) {
    if (touches(f.range)) {
      return absl::UnavailableError(absl::StrCat("group ", group_, ": range ",
                                                 RangeText(f.range.start, f.range.end),
                                                 " is moving to another group; try again shortly"));
    }
  }
  return absl::OkStatus();
}

absl::Status RangeGuard::CheckServed(const Ownership& ownership, std::string_view start,
                                     std::string_view end) const {
  if (!ownership.Covering(start, end).has_value()) {
    return StaleMapError(
        absl::StrCat("group ", group_, " does not serve all of ", RangeText(start, end), " alike"));
  }
  return Refusal(ownership, start);
}

void RangeGuard::Fence(const RangeClaim& range, int64_t until_us) {
  for (FencedRange& f : fences_) {
    if (f.range.start == range.start && f.range.end == range.end) {
      f.until_us = std::max(f.until_us, until_us);
      return;
    }
  }
  fences_.push_back(FencedRange{range, until_us});
}

}  // namespace meridian::txn
