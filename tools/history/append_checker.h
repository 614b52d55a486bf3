// The list-append checker: is a history (history.h) strictly serializable? After Elle (Kingsbury
// and Alvaro, "Elle: Inferring Isolation Anomalies from Experimental Observations", VLDB 2020).
//
// Because every append is unique and every read returns a whole list, a read reveals the order in
// which the appends it saw were installed. The checker:
//  1. checks each read of an ok transaction on its own: no repeated elements
//     ("duplicate-elements"), only appended values ("garbage-read"), none from a failed
//     transaction ("G1a"), none ending at another transaction's non-final append to that key
//     ("G1b"), and reads inside a transaction that agree with its own earlier ops ("internal");
//  2. takes, per key, the longest read as the version order; every other read must be a prefix of
//     it ("incompatible-order");
//  3. builds a graph over the committed transactions (ok ones, and info ones some ok read
//     observed; unobserved info transactions and failed ones are left out) with ww, wr and rw
//     edges from the version orders and reads, and rt edges for real-time order (a completion's
//     time_us before an invoke's), carried through one waypoint per distinct completion time so
//     that they cost O(n) edges, not O(n^2);
//  4. finds the strongly connected components, first without rt edges and then with them, and
//     in each searches for short cycles: G0 (ww only), G1c (ww and wr, at least one wr),
//     G-single (exactly one rw) and G2 (two or more rw). A cycle that needs rt edges gets the
//     "-realtime" suffix: serializable maybe, but not strictly serializable. Components with rt
//     edges are searched only if no cycle without rt edges touches them.
// Anomaly counts are exact for the read checks; cycle anomalies count one per component and
// type. Appends that no read observed have no place in any version order and give no edges, so a
// workload should end with a read of every key. commit_ts is only printed, never used.
//
// Thread safety: a pure function of its input.
#ifndef MERIDIAN_TOOLS_HISTORY_APPEND_CHECKER_H_
#define MERIDIAN_TOOLS_HISTORY_APPEND_CHECKER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/history/dependency_graph.h"
#include "tools/history/history.h"

namespace meridian::history {

inline constexpr char kG0[] = "G0";
inline constexpr char kG1a[] = "G1a";
inline constexpr char kG1b[] = "G1b";
inline constexpr char kG1c[] = "G1c";
inline constexpr char kGSingle[] = "G-single";
inline constexpr char kG2[] = "G2";
inline constexpr char kG0Realtime[] = "G0-realtime";
inline constexpr char kG1cRealtime[] = "G1c-realtime";
inline constexpr char kGSingleRealtime[] = "G-single-realtime";
inline constexpr char kG2Realtime[] = "G2-realtime";
inline constexpr char kIncompatibleOrder[] = "incompatible-order";
inline constexpr char kDuplicateElements[] = "duplicate-elements";
inline constexpr char kGarbageRead[] = "garbage-read";
inline constexpr char kInternal[] = "internal";

// A transaction as the report shows it.
struct TxnRef {
  int64_t process = 0;
  // The index (0-based line) of its completion; of its invoke if it never completed.
  int64_t index = 0;
  EventType outcome = EventType::kOk;  // kOk, kFail or kInfo (never completed counts as kInfo)
  bool completed = true;
  int64_t invoke_us = 0;
  int64_t complete_us = 0;  // when completed
  std::vector<Op> ops;      // with read results when ok
  std::optional<int64_t> commit_ts;

  // e.g. `process 3, index 17 (ok): [append "x" 5] [r "y" [1 2]]`.
  std::string ToString() const;
};

// One transaction of a cycle and the edge from it to the next one (the last step's edge goes back
// to the first step's transaction).
struct CycleStep {
  TxnRef txn;
  EdgeType edge = EdgeType::kWW;
  std::string why;  // the key and values, or the times, that justify the edge
};

struct Anomaly {
  std::string type;              // one of the k* names above
  std::string explanation;       // what was seen, in a sentence or two
  std::vector<TxnRef> txns;      // the transactions involved (non-cycle anomalies)
  std::vector<CycleStep> cycle;  // cycle anomalies only

  std::string ToString() const;
};

struct CheckOptions {
  // Anomalies kept in CheckResult::anomalies per type; all are counted.
  int max_report_per_type = 5;
  // Edges a cycle search may visit before it stops trying new start edges (see
  // dependency_graph.h); bounds the time spent on one huge component.
  int64_t cycle_search_budget = 1'000'000;
};

struct CheckResult {
  bool ok = true;                                 // no anomaly at all
  std::vector<Anomaly> anomalies;                 // at most max_report_per_type of each type
  std::map<std::string, int64_t> anomaly_counts;  // every anomaly found, by type
  int64_t txns_ok = 0;
  int64_t txns_failed = 0;
  int64_t txns_info = 0;           // info, or never completed
  int64_t txns_info_observed = 0;  // of those, the ones some ok read observed (so committed)
  int64_t keys = 0;
  int64_t edges_ww = 0;
  int64_t edges_wr = 0;
  int64_t edges_rw = 0;
  int64_t edges_rt = 0;  // including the waypoint chain
  std::string summary;   // one line: counts and verdict
  std::string report;    // the summary, then every kept anomaly
};

// INVALID_ARGUMENT "line N: ..." if the history breaks an invariant of history.h.
absl::StatusOr<CheckResult> CheckAppendHistory(const History& history,
                                               const CheckOptions& options = {});

}  // namespace meridian::history

#endif  // MERIDIAN_TOOLS_HISTORY_APPEND_CHECKER_H_
