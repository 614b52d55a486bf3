// `meridian check-history FILE`: checks a list-append history (docs/history-format.md) for
// strict serializability with the checker of tools/history/append_checker.h.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "tools/command.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"

namespace meridian::tools {
namespace {

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr,
                 "meridian check-history: expected one FILE, got %zu arguments\n"
                 "Run 'meridian check-history --help' for its flags.\n",
                 args.size());
    return kExitUsage;
  }
  history::CheckOptions options;
  if (!absl::SimpleAtoi(flags.at("max_report"), &options.max_report_per_type) ||
      options.max_report_per_type < 0) {
    std::fprintf(stderr, "meridian check-history: --max_report must be a non-negative integer\n");
    return kExitUsage;
  }
  absl::StatusOr<history::History> events = history::ReadHistoryFile(args[0]);
  if (!events.ok()) {
    std::fprintf(stderr, "meridian check-history: %s\n",
                 std::string(events.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(*events, options);
  if (!result.ok()) {
    std::fprintf(stderr, "meridian check-history: %s: %s\n", args[0].c_str(),
                 std::string(result.status().message()).c_str());
    return kExitUsage;
  }
  std::fputs(result->report.c_str(), stdout);
  return result->ok ? kExitOk : kExitError;
}

}  // namespace

Command CheckHistoryCommand() {
  return Command{
      .name = "check-history",
      .summary = "check a list-append history file for strict serializability",
      .description =
          "Reads FILE, a list-append history written by `meridian workload append\n"
          "--history=FILE` or by the simulator (JSON lines, see docs/history-format.md),\n"
          "and checks it Elle-style: per-key version orders from the reads, then cycles of\n"
          "ww/wr/rw dependencies and real-time order among committed transactions.\n"
          "Prints a summary line (transactions ok/failed/unknown, keys, edges), then each\n"
          "anomaly with the cycle or reads that show it.\n"
          "Exit status: 0 no anomaly, 1 anomalies found, 2 unreadable or malformed file\n"
          "(the error names the line).",
      .flags = {{"max_report", "5", "anomalies printed per type (all are counted)"}},
      .args_usage = "FILE",
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
