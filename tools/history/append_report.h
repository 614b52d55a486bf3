// How the list-append checker (append_checker.h) words what it found: transactions, lists, cycle
// steps and the final report. Internal to meridian_history; split out so the checker's file holds
// only the analysis. Thread safety: pure functions.
#ifndef MERIDIAN_TOOLS_HISTORY_APPEND_REPORT_H_
#define MERIDIAN_TOOLS_HISTORY_APPEND_REPORT_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/history/append_checker.h"
#include "tools/history/dependency_graph.h"

namespace meridian::history {

// `key` as a JSON string.
std::string QuoteKey(std::string_view key);

// "[1 2 3]"; a long list shows its first and last elements and its length.
std::string FormatList(const std::vector<int64_t>& list, bool brackets = true);

// One edge of a cycle between two transactions, as found in the graph.
struct CycleEdge {
  int32_t from = 0;  // the transaction the edge leaves
  EdgeType type = EdgeType::kWW;
  std::string_view key;     // ww, wr, rw
  int64_t a = 0;            // ww: from's value; wr: the value read; rw: last value read
  int64_t b = 0;            // ww, rw: the later value, appended by the next transaction
  bool empty_read = false;  // rw: the read saw no element of other transactions
};

// The anomaly of a cycle: `steps[i]` leaves `txns[i]` for `txns[i + 1]` (the last for txns[0]).
// Its type follows the edges: G0, G1c, G-single or G2, with "-realtime" when any is rt.
Anomaly MakeCycleAnomaly(const std::vector<CycleEdge>& steps, const std::vector<TxnRef>& txns);

// Orders anomalies by type (cycles first, strongest first), keeping their order within a type.
void SortAnomalies(std::vector<Anomaly>* anomalies);

// Fills result->summary and result->report from the rest of *result.
void FormatReport(CheckResult* result);

}  // namespace meridian::history

#endif  // MERIDIAN_TOOLS_HISTORY_APPEND_REPORT_H_
