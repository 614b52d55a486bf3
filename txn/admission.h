// Request admission for the transaction manager's parts: the limits on keys and values every
// client request is checked against before anything changes, and the error replies they share.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_TXN_ADMISSION_H_
#define MERIDIAN_TXN_ADMISSION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "txn/options.h"
#include "txn/types.h"

namespace meridian::txn {

// INVALID_ARGUMENT past max_keys_per_request keys, for an empty key, or past max_key_bytes.
absl::Status ValidateKeys(const TransactionManagerOptions& opt,
                          const std::vector<std::string>& keys);
// A read's keys or its scan (not both; neither reads nothing): INVALID_ARGUMENT for both, keys
// ValidateKeys refuses, or a scan whose bounds are longer than keys may be, whose end is not
// after its start, or whose limit is 0 or past max_scan_rows.
absl::Status ValidateRead(const TransactionManagerOptions& opt,
                          const std::vector<std::string>& keys,
                          const std::optional<ScanSpan>& scan);
// INVALID_ARGUMENT for a range that ValidateRead would refuse in a scan (bounds, order).
absl::Status ValidateRange(const TransactionManagerOptions& opt, const KeyRange& range);
// INVALID_ARGUMENT for a value past max_value_bytes, or keys ValidateKeys refuses.
absl::Status ValidateWrites(const TransactionManagerOptions& opt,
                            const std::vector<Mutation>& writes);

Reply ErrorReply(RequestId id, absl::Status status);
// ABORTED: the transaction was aborted (retry it as a whole).
absl::Status WasAborted(TxnId txn);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_ADMISSION_H_
