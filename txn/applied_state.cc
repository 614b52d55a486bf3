// AppliedState; see applied_state.h.
#include "txn/applied_state.h"

#include <algorithm>
#include <utility>

namespace meridian::txn {

absl::StatusOr<std::vector<Row>> Store::Scan(std::string_view, std::string_view, Timestamp,
                                             size_t) {
  return absl::UnimplementedError("this store cannot read ranges");
}

absl::Status AppliedState::Write(Timestamp ts, const std::vector<Mutation>& writes) {
  if (absl::Status st = store_->Write(ts, writes); !st.ok()) return st;
  last_write_ts_ = std::max(last_write_ts_, ts);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::optional<std::string>>> AppliedState::Read(
    const std::vector<std::string>& keys, Timestamp ts) const {
  std::vector<std::optional<std::string>> values;
  values.reserve(keys.size());
  for (const std::string& k : keys) {
    absl::StatusOr<std::optional<std::string>> v = store_->Get(k, ts);
    if (!v.ok()) return v.status();
    values.push_back(std::move(*v));
  }
  return values;
}

}  // namespace meridian::txn
