#include "sql_lite/prefetch.h"

#include <algorithm>
#include <limits>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace meridian::sql {
namespace {

constexpr char kNotPrefetchedPayload[] = "type.meridian.dev/meridian.sql.NotPrefetched";

}  // namespace

absl::Status NotPrefetched(const char* what) {
  absl::Status status = absl::UnavailableError(absl::StrCat("not prefetched: ", what));
  status.SetPayload(kNotPrefetchedPayload, absl::Cord());
  return status;
}

bool IsNotPrefetched(const absl::Status& status) {
  return status.GetPayload(kNotPrefetchedPayload).has_value();
}

PrefetchedSnapshot PrefetchedSnapshot::Discover(const KeyValues* guesses) {
  return PrefetchedSnapshot(guesses, std::numeric_limits<int64_t>::max(), false);
}

PrefetchedSnapshot PrefetchedSnapshot::Serve(const KeyValues* values, int64_t read_ts,
                                             bool at_last_commit) {
  return PrefetchedSnapshot(values, read_ts, at_last_commit);
}

absl::StatusOr<std::optional<std::string>> PrefetchedSnapshot::Get(std::string_view key) {
  if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.emplace_back(key);
  auto it = values_->find(key);
  if (it == values_->end()) return NotPrefetched("a key");
  return it->second;
}

absl::StatusOr<std::vector<KvPair>> PrefetchedSnapshot::Scan(std::string_view, std::string_view,
                                                             int64_t) {
  scanned_ = true;
  return NotPrefetched("a scan");
}

}  // namespace meridian::sql
