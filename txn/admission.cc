// Request admission; see admission.h.
#include "txn/admission.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace meridian::txn {

absl::Status ValidateKeys(const TransactionManagerOptions& opt,
                          const std::vector<std::string>& keys) {
  if (keys.size() > opt.max_keys_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat(keys.size(), " keys in one request; the limit is ", opt.max_keys_per_request));
  }
  for (const std::string& k : keys) {
    if (k.empty()) return absl::InvalidArgumentError("empty key");
    if (k.size() > opt.max_key_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("key of ", k.size(), " bytes; the limit is ", opt.max_key_bytes));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRange(const TransactionManagerOptions& opt, const KeyRange& range) {
  if (range.start.size() > opt.max_key_bytes || range.end.size() > opt.max_key_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a range bound is longer than a key may be (", opt.max_key_bytes, " bytes)"));
  }
  if (!range.end.empty() && range.end <= range.start) {
    return absl::InvalidArgumentError("a range's end must be after its start (or empty)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRead(const TransactionManagerOptions& opt,
                          const std::vector<std::string>& keys,
                          const std::optional<ScanSpan>& scan) {
  // No keys and no scan is a read of nothing (a strong read-only transaction's timestamp).
  if (!scan.has_value()) return ValidateKeys(opt, keys);
  if (!keys.empty()) return absl::InvalidArgumentError("a read names keys or a range, not both");
  if (scan->limit == 0 || scan->limit > opt.max_scan_rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("a scan's limit must be in [1, ", opt.max_scan_rows, "]"));
  }
  return ValidateRange(opt, scan->range);
}

absl::Status ValidateWrites(const TransactionManagerOptions& opt,
                            const std::vector<Mutation>& writes) {
  std::vector<std::string> keys;
  for (const Mutation& m : writes) {
    keys.push_back(m.key);
    if (m.value.has_value() && m.value->size() > opt.max_value_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("value of ", m.value->size(), " bytes; the limit is ", opt.max_value_bytes));
    }
  }
  return ValidateKeys(opt, keys);
}

Reply ErrorReply(RequestId id, absl::Status status) {
  Reply r;
  r.id = id;
  r.status = std::move(status);
  return r;
}

absl::Status WasAborted(TxnId txn) {
  return absl::AbortedError(absl::StrCat("transaction ", txn, " was aborted"));
}

}  // namespace meridian::txn
