// The transaction workloads' checkers. Each takes recorded histories (txn_history.h) and the
// decisions the replicas applied (txn_cluster.h) and returns the first violation, or nullopt.
// They know nothing about the simulator, so txn_checkers_test.cc shows each one failing on a
// hand-made bad history.
//
// Together they check strict serializability with the commit timestamps as the witness order
// (Spanner's claim, SPANNER.md §4.1.2-4.2.2): every transaction is serialized at its timestamp
// (CheckSnapshots), the timestamps respect real time (CheckRealTime), and clients were told the
// truth (CheckOutcomes). The workload checkers (CheckBank, the list-append checker) check values
// without trusting any timestamp.
//
// Seed/workload/faults: independent of all three. Checkers:
//  * CheckOutcomes ("outcome"): an ok read-write transaction was decided committed at the
//    timestamp it was told; no failed attempt (ABORTED, refused, vanished before commit, or an
//    attempt that was retried) was decided committed, nor anything no client sent.
//  * CheckSnapshots ("snapshot"): with the versions of every transaction decided committed (its
//    writes at its timestamp), an ok read-only transaction at t read, for every key, the newest
//    version at or below t; an ok read-write transaction at s read the newest version below s;
//    no two committed transactions wrote one key at one timestamp.
//  * CheckRealTime ("realtime"): if W (ok read-write, commit timestamp s_W) completed before R
//    was invoked: R read-write => s_R > s_W; R read-only at the leader or at the client's now =>
//    t_R >= s_W when R read a key W wrote. Stale snapshot reads promise nothing here.
//  * CheckBank ("bank"): every ok transaction that read every account saw either no account yet
//    (before the setup transaction) or all of them, none negative, summing to the total.
// Thread safety: pure functions.
#ifndef MERIDIAN_TESTS_SIM_TXN_CHECKERS_H_
#define MERIDIAN_TESTS_SIM_TXN_CHECKERS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/sim/history.h"
#include "tests/sim/txn_cluster.h"
#include "tests/sim/txn_history.h"

namespace meridian::sim {

// Every attempt that sent a Prepare or Commit: its transaction id, writes and the record it
// belongs to.
struct AttemptWrites {
  size_t record = 0;
  KeyValues writes;
};
using AttemptMap = std::map<txn::TxnId, AttemptWrites>;

std::optional<Violation> CheckOutcomes(const std::vector<TxnRecord>& records,
                                       const std::map<txn::TxnId, Decision>& decisions,
                                       const AttemptMap& attempt_writes);

std::optional<Violation> CheckSnapshots(const std::vector<TxnRecord>& records,
                                        const std::map<txn::TxnId, Decision>& decisions,
                                        const AttemptMap& attempt_writes);

std::optional<Violation> CheckRealTime(const std::vector<TxnRecord>& records);

std::optional<Violation> CheckBank(const std::vector<TxnRecord>& records,
                                   const std::vector<std::string>& accounts, int64_t total);

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_CHECKERS_H_
