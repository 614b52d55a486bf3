// Ownership implementation; see ownership.h.
#include "txn/ownership.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "txn/types.h"

namespace meridian::txn {

bool InRange(std::string_view key, std::string_view start, std::string_view end) {
  return key >= start && (end.empty() || key < end);
}

bool RangesOverlap(std::string_view a_start, std::string_view a_end, std::string_view b_start,
                   std::string_view b_end) {
  return (b_end.empty() || a_start < b_end) && (a_end.empty() || b_start < a_end);
}

Ownership::Verdict Ownership::Check(std::string_view key, uint64_t map_generation) const {
  const Claim c = Find(key);
  if (!c.owned) return c.generation >= map_generation ? Verdict::kStale : Verdict::kBehind;
  return c.generation >= map_generation ? Verdict::kServed : Verdict::kBehind;
}

Ownership::Claim Ownership::Find(std::string_view key) const {
  auto it = claims_.upper_bound(key);
  if (it == claims_.begin()) return Claim{};
  --it;
  if (!InRange(key, it->first, it->second.end)) return Claim{};
  return it->second;
}

std::optional<Ownership::Claim> Ownership::Covering(std::string_view start,
                                                    std::string_view end) const {
  auto it = claims_.upper_bound(start);
  if (it != claims_.begin()) {
    auto prev = std::prev(it);
    if (InRange(start, prev->first, prev->second.end)) {
      const Claim& c = prev->second;
      if (c.end.empty() || (!end.empty() && end <= c.end)) return c;
      return std::nullopt;
    }
  }
  // No claim holds `start`: the default covers the range unless a claim starts inside it.
  if (it != claims_.end() && (end.empty() || it->first < end)) return std::nullopt;
  return Claim{};
}

uint64_t Ownership::MaxGeneration(std::string_view start, std::string_view end) const {
  uint64_t max = 0;
  std::string_view covered = start;  // every key in [start, covered) is claimed
  bool gap = false;
  auto it = claims_.upper_bound(start);
  if (it != claims_.begin()) --it;
  for (; it != claims_.end() && (end.empty() || it->first < end); ++it) {
    if (!RangesOverlap(it->first, it->second.end, start, end)) continue;
    if (it->first > covered) gap = true;
    max = std::max(max, it->second.generation);
    if (it->second.end.empty()) return max;  // claimed up to +infinity
    covered = std::max(covered, std::string_view(it->second.end));
  }
  if (gap || end.empty() || covered < end) max = std::max(max, kInitialRangeGeneration);
  return max;
}

void Ownership::Set(const std::string& start, const Claim& claim) {
  const std::string& end = claim.end;
  auto it = claims_.upper_bound(start);
  if (it != claims_.begin()) --it;
  std::vector<std::pair<std::string, Claim>> keep;  // the parts of overlapped claims left over
  while (it != claims_.end() && (end.empty() || it->first < end)) {
    if (!RangesOverlap(it->first, it->second.end, start, end)) {
      ++it;
      continue;
    }
    Claim old = it->second;
    if (it->first < start) {
      Claim left = old;
      left.end = start;
      keep.emplace_back(it->first, left);
    }
    if (!end.empty() && (old.end.empty() || end < old.end)) keep.emplace_back(end, old);
    it = claims_.erase(it);
  }
  for (auto& [s, c] : keep) claims_[s] = std::move(c);
  claims_[start] = claim;
}

std::vector<Ownership::Entry> Ownership::Save() const {
  std::vector<Entry> out;
  out.reserve(claims_.size());
  for (const auto& [start, claim] : claims_) out.push_back(Entry{start, claim});
  return out;
}

void Ownership::Restore(std::vector<Entry> entries) {
  claims_.clear();
  for (Entry& e : entries) claims_[std::move(e.start)] = std::move(e.claim);
}

std::string Ownership::DebugString() const {
  std::string out;
  for (const auto& [start, c] : claims_) {
    absl::StrAppend(&out, out.empty() ? "" : " ", "[", absl::CHexEscape(start), ",",
                    c.end.empty() ? "+inf" : absl::CHexEscape(c.end), ")@", c.generation,
                    c.owned ? "" : " released");
  }
  return out;
}

}  // namespace meridian::txn

// ---- Store: a store without range moves ------------------------------------------------------

namespace meridian::txn {

absl::Status Store::WriteVersions(const std::vector<Version>&) {
  return absl::UnimplementedError("this store cannot take copied versions (range moves)");
}

absl::StatusOr<uint64_t> Store::EraseVersions(std::string_view, std::string_view, uint64_t) {
  return absl::UnimplementedError("this store cannot erase ranges (range moves)");
}

absl::Status Store::RaiseHorizon(Timestamp) {
  return absl::UnimplementedError("this store has no garbage-collection horizon");
}

}  // namespace meridian::txn
