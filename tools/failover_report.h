// What `meridian failover-demo` leaves behind: the CSV of its samples, the gnuplot script and
// the PNG drawn from it, the printed result (target against measured) and the optional JSON
// summary.
//
// Thread safety: functions of their arguments; they write files and stdout.
#ifndef MERIDIAN_TOOLS_FAILOVER_REPORT_H_
#define MERIDIAN_TOOLS_FAILOVER_REPORT_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "tools/failover_timeline.h"
#include "tools/failover_workload.h"

namespace meridian::tools {

// The files of one run.
struct FailoverFiles {
  std::string csv;
  std::string gnuplot_script;
  std::string png;        // "" when not drawn
  std::string plot_note;  // why not, and how to draw it; "" when drawn
};

// Writes `dir`/failover-<scenario>.csv and .gp, and runs `gnuplot` (a command on PATH or a path;
// "" for none) on the script to draw the .png. A missing or failing gnuplot is not an error:
// plot_note says what happened and how to draw the plot later.
absl::StatusOr<FailoverFiles> WriteFailoverFiles(const std::string& dir,
                                                 const std::string& scenario,
                                                 const std::string& title, const Timeline& timeline,
                                                 const Recovery& recovery,
                                                 const RecoveryOptions& options,
                                                 const std::string& gnuplot);

// What the run is judged by.
struct FailoverTarget {
  enum class Kind { kRecovery, kZeroWindow, kNone };
  Kind kind = Kind::kNone;
  double limit_s = 0;
  std::string why;  // "one lease (2.00 s) + 0.5 s"
};

struct FailoverResult {
  std::string scenario;
  std::string workload;
  double fault_s = 0;
  Recovery recovery;
  double longest_zero_s = 0;
  double longest_zero_before_s = 0;
  std::optional<double> caught_up_s;  // restart: from the restart until it caught up
  // From the fault until every group that lost its leader had a new one with a lease.
  std::optional<double> leaders_back_s;
  FailoverTarget target;
  int64_t errors = 0;
  std::string error_kinds;  // WorkloadMeter::DescribeErrors
  VerifyReport verify;
  FailoverFiles files;
};

// True when the target is met (kNone: always).
bool TargetMet(const FailoverResult& result);

// Prints the result block and its one-line "summary: scenario=... recovery_s=... lost=N" form.
void PrintFailoverResult(const FailoverResult& result);

// Writes the result as one JSON object to `path`.
absl::Status WriteFailoverJson(const std::string& path, const FailoverResult& result);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_REPORT_H_
