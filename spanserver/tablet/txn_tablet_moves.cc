// TxnTablet: the checks and hooks of range moves and splits; see txn_tablet.h.
#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "spanserver/tablet/txn_tablet.h"

namespace meridian::tablet {
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

namespace {

// The refusal of `key`, which the server's map gives this group at `map_generation` (0: another
// group), or OK.
absl::Status Refusal(uint64_t group, const txn::Ownership& ownership, std::string_view key,
                     uint64_t map_generation) {
  if (map_generation == 0) {
    return StaleMapError(
        absl::StrCat("the map does not place ", absl::CHexEscape(AV(key)), " in group ", group));
  }
  switch (ownership.Check(key, map_generation)) {
    case txn::Ownership::Verdict::kServed:
      return absl::OkStatus();
    case txn::Ownership::Verdict::kStale:
      return StaleMapError(absl::StrCat("group ", group, " released the range of ",
                                        absl::CHexEscape(AV(key)), " at generation ",
                                        ownership.Find(key).generation));
    case txn::Ownership::Verdict::kBehind:
      break;
  }
  return absl::UnavailableError(
      absl::StrCat("group ", group, ": this replica has not applied generation ", map_generation,
                   " of the range of ", absl::CHexEscape(AV(key)), " yet; try again"));
}

}  // namespace

uint64_t TxnTablet::MapGeneration(std::string_view key) const {
  return hooks_.map_generation ? hooks_.map_generation(key) : txn::kInitialRangeGeneration;
}

bool TxnTablet::RefuseKeys(truetime::Interval now, const std::vector<std::string_view>& keys,
                           bool locking, ReplyFn& done) {
  absl::Status refusal;
  for (std::string_view key : keys) {
    refusal = Refusal(group_, manager_->ownership(), key, MapGeneration(key));
    if (!refusal.ok()) break;
  }
  if (refusal.ok() && locking) {
    std::erase_if(fences_, [&](const FencedRange& f) { return f.until_us < now.earliest; });
    for (const FencedRange& f : fences_) {
      const auto inside = [&](std::string_view k) {
        return txn::InRange(k, f.range.start, f.range.end);
      };
      if (std::any_of(keys.begin(), keys.end(), inside)) {
        // UNAVAILABLE, which did nothing: the client backs off and tries again, by then at the
        // range's new group.
        refusal = absl::UnavailableError(
            absl::StrCat("group ", group_, ": range ", RangeText(f.range.start, f.range.end),
                         " is moving to another group; try again shortly"));
        break;
      }
    }
  }
  if (refusal.ok()) return false;
  txn::Reply r;
  r.status = std::move(refusal);
  done(std::move(r));
  return true;
}

absl::Status TxnTablet::CheckServed(std::string_view start, std::string_view end) const {
  const std::optional<txn::Ownership::Claim> claim = manager_->ownership().Covering(start, end);
  if (!claim.has_value()) {
    // Parts of the range are claimed differently: a split or a move is under way.
    return StaleMapError(
        absl::StrCat("group ", group_, " does not serve all of ", RangeText(start, end), " alike"));
  }
  return Refusal(group_, manager_->ownership(), start, MapGeneration(start));
}

void TxnTablet::Fence(paxos::Replica& r, truetime::Interval now, const txn::RangeClaim& range,
                      int64_t until_us) {
  bool known = false;
  for (FencedRange& f : fences_) {
    if (f.range.start == range.start && f.range.end == range.end) {
      f.until_us = std::max(f.until_us, until_us);
      known = true;
    }
  }
  if (!known) fences_.push_back(FencedRange{range, until_us});
  txn::Actions a;
  txn::PaxosReplicaPort port(r);
  manager_->WoundIn(port, now, range.start, range.end, &a);
  Dispatch(std::move(a));
}

size_t TxnTablet::BusyIn(std::string_view start, std::string_view end) const {
  return manager_->BusyIn(start, end);
}

}  // namespace meridian::tablet
