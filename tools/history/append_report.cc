#include "tools/history/append_report.h"

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tools/history/json.h"

namespace meridian::history {
namespace {

constexpr size_t kListHead = 4;
constexpr size_t kListTail = 8;

// Every type, in report order.
constexpr const char* kTypeOrder[] = {kG0,
                                      kG1a,
                                      kG1b,
                                      kG1c,
                                      kGSingle,
                                      kG2,
                                      kG0Realtime,
                                      kG1cRealtime,
                                      kGSingleRealtime,
                                      kG2Realtime,
                                      kIncompatibleOrder,
                                      kDuplicateElements,
                                      kGarbageRead,
                                      kInternal};

int TypeRank(const std::string& type) {
  const auto it = std::find(std::begin(kTypeOrder), std::end(kTypeOrder), type);
  return static_cast<int>(it - std::begin(kTypeOrder));
}

std::string FormatOp(const Op& op) {
  if (op.kind == OpKind::kAppend)
    return absl::StrCat("[append ", QuoteKey(op.key), " ", op.value, "]");
  return absl::StrCat("[r ", QuoteKey(op.key), " ",
                      op.read.has_value() ? FormatList(*op.read) : "?", "]");
}

std::string CycleTypeOf(const std::vector<CycleEdge>& steps) {
  int rw = 0;
  int wr = 0;
  bool rt = false;
  for (const CycleEdge& s : steps) {
    rw += s.type == EdgeType::kRW;
    wr += s.type == EdgeType::kWR;
    rt = rt || s.type == EdgeType::kRT;
  }
  const char* base = rw >= 2 ? kG2 : rw == 1 ? kGSingle : wr > 0 ? kG1c : kG0;
  return rt ? absl::StrCat(base, "-realtime") : base;
}

std::string Explain(const std::string& type) {
  std::string base = type.substr(0, type.find("-realtime"));
  std::string text;
  if (base == kG0) {
    text = "Write cycle (G0): the transactions' appends are ordered both ways (ww edges only).";
  } else if (base == kG1c) {
    text = "Circular information flow (G1c): a cycle of ww and wr edges, at least one wr.";
  } else if (base == kGSingle) {
    text = "Read skew (G-single): a cycle with exactly one anti-dependency (rw) edge.";
  } else {
    text = "G2: a cycle with two or more anti-dependency (rw) edges (e.g. write skew).";
  }
  if (base != type) {
    absl::StrAppend(&text,
                    " The cycle needs real-time (rt) edges: the history may be serializable, but "
                    "it is not strictly serializable.");
  }
  return text;
}

std::string Why(const CycleEdge& s, const std::string& self, const std::string& next,
                const TxnRef& self_ref, const TxnRef& next_ref) {
  switch (s.type) {
    case EdgeType::kWW:
      return absl::StrCat("on ", QuoteKey(s.key), " ", self, " appended ", s.a, " and ", next,
                          " appended ", s.b, ", later in the version order");
    case EdgeType::kWR:
      return absl::StrCat("on ", QuoteKey(s.key), " ", next, " read ", s.a, ", appended by ", self,
                          ", as the last element from another transaction");
    case EdgeType::kRW:
      return absl::StrCat("on ", QuoteKey(s.key), " ", self,
                          s.empty_read ? std::string(" read no element of another transaction")
                                       : absl::StrCat(" read up to ", s.a),
                          " and missed ", s.b, ", which ", next,
                          " appended later in the version order");
    case EdgeType::kRT:
      return absl::StrCat(self, " completed at time_us ", self_ref.complete_us, ", before ", next,
                          " was invoked at time_us ", next_ref.invoke_us);
  }
  return "";
}

}  // namespace

std::string QuoteKey(std::string_view key) {
  std::string out;
  AppendJsonString(key, &out);
  return out;
}

std::string FormatList(const std::vector<int64_t>& list, bool brackets) {
  std::string body;
  if (list.size() <= kListHead + kListTail + 1) {
    body = absl::StrJoin(list, " ");
  } else {
    body = absl::StrCat(absl::StrJoin(list.begin(), list.begin() + kListHead, " "), " ... ",
                        absl::StrJoin(list.end() - kListTail, list.end(), " "));
  }
  if (!brackets) return body;
  std::string out = absl::StrCat("[", body, "]");
  if (list.size() > kListHead + kListTail + 1)
    absl::StrAppend(&out, " (", list.size(), " elements)");
  return out;
}

std::string TxnRef::ToString() const {
  std::string out = absl::StrCat("process ", process, ", index ", index, ", ");
  if (completed) {
    absl::StrAppend(&out, EventTypeName(outcome), ", time_us ", invoke_us, "..", complete_us);
  } else {
    absl::StrAppend(&out, "never completed, invoked at time_us ", invoke_us);
  }
  if (commit_ts.has_value()) absl::StrAppend(&out, ", commit_ts ", *commit_ts);
  absl::StrAppend(&out, ":");
  for (const Op& op : ops) absl::StrAppend(&out, " ", FormatOp(op));
  return out;
}

std::string Anomaly::ToString() const {
  std::string out = absl::StrCat(type, ": ", explanation, "\n");
  for (size_t i = 0; i < txns.size(); ++i) {
    const char* label = txns.size() == 1 ? "txn:    " : i == 0 ? "first:  " : "second: ";
    absl::StrAppend(&out, "  ", label, txns[i].ToString(), "\n");
  }
  for (size_t i = 0; i < cycle.size(); ++i) {
    const size_t next = (i + 1) % cycle.size();
    absl::StrAppend(&out, "  T", i + 1, " = ", cycle[i].txn.ToString(), "\n    -",
                    EdgeTypeName(cycle[i].edge), "-> T", next + 1, ": ", cycle[i].why, "\n");
  }
  return out;
}

Anomaly MakeCycleAnomaly(const std::vector<CycleEdge>& steps, const std::vector<TxnRef>& txns) {
  Anomaly anomaly;
  anomaly.type = CycleTypeOf(steps);
  anomaly.explanation = Explain(anomaly.type);
  for (size_t i = 0; i < steps.size(); ++i) {
    const size_t next = (i + 1) % steps.size();
    anomaly.cycle.push_back(
        CycleStep{.txn = txns[i],
                  .edge = steps[i].type,
                  .why = Why(steps[i], absl::StrCat("T", i + 1), absl::StrCat("T", next + 1),
                             txns[i], txns[next])});
  }
  return anomaly;
}

void SortAnomalies(std::vector<Anomaly>* anomalies) {
  std::stable_sort(anomalies->begin(), anomalies->end(), [](const Anomaly& a, const Anomaly& b) {
    return TypeRank(a.type) < TypeRank(b.type);
  });
}

void FormatReport(CheckResult* result) {
  int64_t total = 0;
  std::vector<std::string> counts;
  for (const char* type : kTypeOrder) {
    const auto it = result->anomaly_counts.find(type);
    if (it == result->anomaly_counts.end()) continue;
    total += it->second;
    counts.push_back(absl::StrCat(type, "=", it->second));
  }
  result->summary = absl::StrCat(
      result->txns_ok + result->txns_failed + result->txns_info, " txns: ", result->txns_ok,
      " ok, ", result->txns_failed, " failed, ", result->txns_info, " unknown (",
      result->txns_info_observed, " observed, so committed); ", result->keys,
      " keys; edges ww=", result->edges_ww, " wr=", result->edges_wr, " rw=", result->edges_rw,
      " rt=", result->edges_rt, "; ",
      result->ok ? "no anomalies: consistent with strict serializability"
                 : absl::StrCat(total, " anomalies (", absl::StrJoin(counts, " "),
                                "): NOT strictly serializable"));
  result->report = result->summary + "\n";
  for (const Anomaly& anomaly : result->anomalies) {
    absl::StrAppend(&result->report, "\n", anomaly.ToString());
  }
  std::vector<std::string> hidden;
  for (const auto& [type, count] : result->anomaly_counts) {
    const int64_t shown = std::count_if(result->anomalies.begin(), result->anomalies.end(),
                                        [&](const Anomaly& a) { return a.type == type; });
    if (shown < count) hidden.push_back(absl::StrCat(type, ": ", shown, " of ", count));
  }
  if (!hidden.empty()) {
    absl::StrAppend(&result->report, "\nShown ", absl::StrJoin(hidden, ", "),
                    " (raise CheckOptions::max_report_per_type, or --max_report, to see more).\n");
  }
}

}  // namespace meridian::history
