// Printing of transaction records; see txn_history.h.
//
// Seed/workload/faults/checkers: none; pure formatting.
#include "tests/sim/txn_history.h"

#include "absl/strings/str_cat.h"

namespace meridian::sim {

const char* TxnOutcomeName(TxnOutcome outcome) {
  switch (outcome) {
    case TxnOutcome::kOk:
      return "ok";
    case TxnOutcome::kFail:
      return "fail";
    case TxnOutcome::kUnknown:
      return "unknown";
  }
  return "?";
}

const char* TxnKindName(TxnKind kind) {
  switch (kind) {
    case TxnKind::kReadWrite:
      return "rw";
    case TxnKind::kReadOnlyLeader:
      return "ro_leader";
    case TxnKind::kSnapshotNow:
      return "snapshot_now";
    case TxnKind::kSnapshotStale:
      return "snapshot_stale";
  }
  return "?";
}

std::string TxnRecord::ToString() const {
  std::string s = absl::StrCat(
      "{client=", client, " ", TxnKindName(kind), " ", label, " txn=", txn, " attempts=", attempts,
      " ", TxnOutcomeName(outcome), " ts=", ts, " invoke=", invoke_us,
      " complete=", complete_us == kNever ? std::string("never") : absl::StrCat(complete_us));
  absl::StrAppend(&s, " reads=[");
  for (const auto& [k, v] : reads) absl::StrAppend(&s, " ", k, "=", v ? *v : "<none>");
  absl::StrAppend(&s, " ] writes=[");
  for (const auto& [k, v] : writes) absl::StrAppend(&s, " ", k, "=", v ? *v : "<delete>");
  absl::StrAppend(&s, " ]", note.empty() ? "" : " note=", note, "}");
  return s;
}

}  // namespace meridian::sim
