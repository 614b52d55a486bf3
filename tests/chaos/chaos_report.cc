#include "tests/chaos/chaos_report.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "tools/history/json.h"

namespace meridian::chaos {
namespace {

std::string Quote(const std::string& s) {
  std::string out;
  history::AppendJsonString(s, &out);
  return out;
}

std::string QuoteList(const std::vector<std::string>& items) {
  std::vector<std::string> quoted;
  for (const std::string& item : items) quoted.push_back(Quote(item));
  return absl::StrCat("[", absl::StrJoin(quoted, ", "), "]");
}

std::string QuoteMap(const std::map<std::string, std::string>& items) {
  std::vector<std::string> fields;
  for (const auto& [key, value] : items)
    fields.push_back(absl::StrCat(Quote(key), ": ", Quote(value)));
  return absl::StrCat("{", absl::StrJoin(fields, ", "), "}");
}

}  // namespace

std::string ChaosSummaryJson(const ChaosSummary& s) {
  std::vector<std::string> events;
  std::map<std::string, int> counts;
  for (const FaultEvent& e : s.events) {
    ++counts[e.fault];
    events.push_back(
        absl::StrFormat("    {\"start_s\": %.3f, \"end_s\": %.3f, \"fault\": %s, \"detail\": %s}",
                        e.start_s, e.end_s, Quote(e.fault), Quote(e.detail)));
  }
  std::vector<std::string> count_fields;
  for (const auto& [fault, n] : counts) count_fields.push_back(absl::StrCat(Quote(fault), ": ", n));
  std::vector<std::string> checks;
  for (const CheckOutcome& c : s.checks) {
    checks.push_back(absl::StrCat("    {\"name\": ", Quote(c.name), ", \"ok\": ",
                                  c.ok ? "true" : "false", ", \"detail\": ", Quote(c.detail), "}"));
  }
  return absl::StrCat(
      "{\n  \"ok\": ", s.ok ? "true" : "false", ",\n  \"seed\": ", s.seed,
      ",\n  \"duration_s\": ", absl::StrFormat("%.1f", s.duration_s),
      ",\n  \"elapsed_s\": ", absl::StrFormat("%.1f", s.elapsed_s), ",\n  \"dir\": ", Quote(s.dir),
      ",\n  \"faults\": ", QuoteList(s.faults), ",\n  \"skipped_faults\": ", QuoteMap(s.skipped),
      ",\n  \"truetime_epsilon_us\": ", s.truetime_epsilon_us,
      ",\n  \"clock_step_max_us\": ", s.clock_step_max_us, ",\n  \"fault_counts\": {",
      absl::StrJoin(count_fields, ", "), "},\n  \"crashes\": ", QuoteList(s.crashes),
      ",\n  \"workloads\": ", QuoteMap(s.workloads), ",\n  \"checks\": [\n",
      absl::StrJoin(checks, ",\n"), "\n  ],\n  \"plants\": ", QuoteList(s.plants),
      ",\n  \"plant_verdicts\": ", QuoteList(s.plant_verdicts), ",\n  \"events\": [\n",
      absl::StrJoin(events, ",\n"), "\n  ]\n}\n");
}

}  // namespace meridian::chaos
