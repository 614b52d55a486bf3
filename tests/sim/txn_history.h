// What the transaction workloads record for their checkers: one TxnRecord per logical client
// transaction (all its attempts), with invoke and completion in true simulated time, the outcome
// the client saw, the values it read and the writes it buffered; and, per attempt that reached
// the commit phase, the writes it sent (so the applied decisions can say what a transaction whose
// outcome the client never learned did).
//
// Seed/workload/faults: none (plain data). Checkers: txn_checkers.h consumes these, so a checker
// runs on a hand-made history as well as on a simulated one. Thread safety: plain values.
#ifndef MERIDIAN_TESTS_SIM_TXN_HISTORY_H_
#define MERIDIAN_TESTS_SIM_TXN_HISTORY_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "txn/transaction_manager.h"

namespace meridian::sim {

using Value = std::optional<std::string>;  // nullopt: no value (never written, or deleted)
using KeyValues = std::map<std::string, Value>;

enum class TxnOutcome : uint8_t {
  kOk,       // committed (read-write) or read (read-only), as the client was told
  kFail,     // definitely did not commit (ABORTED everywhere it was tried, refused, vanished)
  kUnknown,  // the commit's outcome never reached the client (timeout, UNAVAILABLE, crash)
};
const char* TxnOutcomeName(TxnOutcome outcome);

enum class TxnKind : uint8_t {
  kReadWrite,
  kReadOnlyLeader,  // ReadOnly at the leader of the one group involved
  kSnapshotNow,     // SnapshotRead at s_read = the client's TT.now().latest, any replica
  kSnapshotStale,   // SnapshotRead at an older timestamp (no real-time promise)
};
const char* TxnKindName(TxnKind kind);

struct TxnRecord {
  size_t client = 0;
  TxnKind kind = TxnKind::kReadWrite;
  std::string label;  // the workload's name for it ("transfer", "audit", "append", ...)
  uint64_t tag = 0;   // the workload's handle for its own details
  TrueUs invoke_us = 0;
  TrueUs complete_us = kNever;  // kNever unless the outcome is kOk or kFail
  TxnOutcome outcome = TxnOutcome::kUnknown;
  // Read-write: the attempt whose outcome is recorded (the last one). Earlier attempts aborted.
  txn::TxnId txn = 0;
  int attempts = 0;
  // Read-write ok: the commit timestamp. Read-only ok: the read timestamp.
  txn::Timestamp ts = 0;
  KeyValues reads;   // the last attempt's reads (ok outcomes only are trusted)
  KeyValues writes;  // the last attempt's buffered writes
  std::string note;  // why it failed or is unknown

  std::string ToString() const;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_HISTORY_H_
