#include "tools/failover_report.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/history/json.h"
#include "tools/supervisor.h"

extern char** environ;

namespace meridian::tools {
namespace {

namespace fs = std::filesystem;

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::InternalError("cannot write " + path);
  return absl::OkStatus();
}

// Runs `gnuplot script` with its output in `log`; "" on success, else what went wrong.
std::string RunGnuplot(const std::string& gnuplot, const std::string& script,
                       const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> args = {gnuplot, script};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, gnuplot.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return absl::StrCat("cannot run ", gnuplot, ": ", std::strerror(spawned),
                        spawned == ENOENT ? " (install it: apt-get install gnuplot-nox)" : "");
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return absl::StrCat(gnuplot, " failed (", TailOfFile(log, 5), ")");
}

std::string Seconds(const std::optional<double>& s) {
  return s.has_value() ? absl::StrFormat("%.2f", *s) : "none";
}

const char* Verdict(const FailoverResult& result) {
  if (result.target.kind == FailoverTarget::Kind::kNone) return "";
  return TargetMet(result) ? ": met" : ": MISSED";
}

void AppendField(std::string* json, const char* name, const std::string& value, bool last) {
  absl::StrAppend(json, "  \"", name, "\": ", value, last ? "\n" : ",\n");
}

std::string JsonString(const std::string& s) {
  std::string out;
  history::AppendJsonString(s, &out);
  return out;
}

std::string JsonNumber(const std::optional<double>& value) {
  return value.has_value() ? absl::StrFormat("%.3f", *value) : "null";
}

}  // namespace

absl::StatusOr<FailoverFiles> WriteFailoverFiles(const std::string& dir,
                                                 const std::string& scenario,
                                                 const std::string& title, const Timeline& timeline,
                                                 const Recovery& recovery,
                                                 const RecoveryOptions& options,
                                                 const std::string& gnuplot) {
  const fs::path base = fs::path(dir) / absl::StrCat("failover-", scenario);
  FailoverFiles files;
  files.csv = base.string() + ".csv";
  files.gnuplot_script = base.string() + ".gp";
  const std::string png = base.string() + ".png";
  if (absl::Status s = WriteText(files.csv, timeline.Csv()); !s.ok()) return s;
  const std::string script = timeline.GnuplotScript(title, files.csv, png, recovery, options);
  if (absl::Status s = WriteText(files.gnuplot_script, script); !s.ok()) return s;
  const std::string how = absl::StrCat("draw it with: gnuplot ", files.gnuplot_script);
  if (gnuplot.empty()) {
    files.plot_note = absl::StrCat("not drawn (--gnuplot is empty); ", how);
    return files;
  }
  const std::string failed = RunGnuplot(gnuplot, files.gnuplot_script, base.string() + ".log");
  std::error_code error;
  if (failed.empty() && fs::exists(png, error)) {
    files.png = png;
  } else {
    files.plot_note = absl::StrCat("not drawn: ", failed.empty() ? "no image written" : failed,
                                   "; the CSV and the script are written; ", how);
  }
  return files;
}

bool TargetMet(const FailoverResult& result) {
  switch (result.target.kind) {
    case FailoverTarget::Kind::kRecovery:
      return result.recovery.recovery_s.has_value() &&
             *result.recovery.recovery_s <= result.target.limit_s;
    case FailoverTarget::Kind::kZeroWindow:
      return result.longest_zero_s <= result.target.limit_s;
    case FailoverTarget::Kind::kNone:
      break;
  }
  return true;
}

void PrintFailoverResult(const FailoverResult& r) {
  const bool recovery_target = r.target.kind == FailoverTarget::Kind::kRecovery;
  const bool zero_target = r.target.kind == FailoverTarget::Kind::kZeroWindow;
  std::printf("\nResult (scenario %s, %s workload)\n", r.scenario.c_str(), r.workload.c_str());
  std::printf(
      "  pre-fault median     %.0f ops/s (median of %d samples of 100 ms before the fault)\n",
      r.recovery.pre_fault_median_ops_per_s, r.recovery.baseline_samples);
  std::printf("  recovery time        %s s%s\n", Seconds(r.recovery.recovery_s).c_str(),
              recovery_target ? absl::StrFormat("   target <= %.2f s (%s)%s", r.target.limit_s,
                                                r.target.why, Verdict(r))
                                    .c_str()
                              : "   (until throughput is back to 90% of that median)");
  if (r.leaders_back_s.has_value()) {
    std::printf(
        "  new leaders          %.2f s after the fault every group hit had a leader with "
        "a lease\n",
        *r.leaders_back_s);
  }
  std::printf("  longest zero window  %.3f s%s   (longest before the fault: %.3f s)\n",
              r.longest_zero_s,
              zero_target ? absl::StrFormat("   target <= %.3f s (%s)%s", r.target.limit_s,
                                            r.target.why, Verdict(r))
                                .c_str()
                          : "",
              r.longest_zero_before_s);
  std::printf("  client errors        %lld%s%s\n", static_cast<long long>(r.errors),
              r.error_kinds.empty() ? "" : ": ", r.error_kinds.c_str());
  if (r.caught_up_s.has_value()) {
    std::printf("  restarted server     caught up %.2f s after its restart\n", *r.caught_up_s);
  }
  std::printf(
      "  acknowledged writes  lost=%lld (%lld keys read back with strong reads; %lld "
      "writes of unknown outcome, either value allowed)\n",
      static_cast<long long>(r.verify.lost), static_cast<long long>(r.verify.keys),
      static_cast<long long>(r.verify.unknown_writes));
  for (const std::string& problem : r.verify.problems) std::printf("    %s\n", problem.c_str());
  std::printf("  csv                  %s\n", r.files.csv.c_str());
  std::printf("  plot                 %s\n",
              r.files.png.empty() ? r.files.plot_note.c_str() : r.files.png.c_str());
  std::printf(
      "summary: scenario=%s recovery_s=%s longest_zero_s=%.3f errors=%lld lost=%lld problems=%zu\n",
      r.scenario.c_str(), Seconds(r.recovery.recovery_s).c_str(), r.longest_zero_s,
      static_cast<long long>(r.errors), static_cast<long long>(r.verify.lost),
      r.verify.problems.size());
  std::fflush(stdout);
}

absl::Status WriteFailoverJson(const std::string& path, const FailoverResult& r) {
  std::string json = "{\n";
  AppendField(&json, "scenario", JsonString(r.scenario), false);
  AppendField(&json, "workload", JsonString(r.workload), false);
  AppendField(&json, "fault_s", JsonNumber(r.fault_s), false);
  AppendField(&json, "pre_fault_median_ops_per_s",
              absl::StrFormat("%.1f", r.recovery.pre_fault_median_ops_per_s), false);
  AppendField(&json, "recovery_s", JsonNumber(r.recovery.recovery_s), false);
  AppendField(&json, "longest_zero_s", JsonNumber(r.longest_zero_s), false);
  AppendField(&json, "longest_zero_before_s", JsonNumber(r.longest_zero_before_s), false);
  AppendField(&json, "caught_up_s", JsonNumber(r.caught_up_s), false);
  AppendField(&json, "leaders_back_s", JsonNumber(r.leaders_back_s), false);
  AppendField(&json, "target_s",
              r.target.kind == FailoverTarget::Kind::kNone ? "null" : JsonNumber(r.target.limit_s),
              false);
  AppendField(&json, "target_met", TargetMet(r) ? "true" : "false", false);
  AppendField(&json, "lost", absl::StrCat(r.verify.lost), false);
  AppendField(&json, "problems", absl::StrCat(r.verify.problems.size()), false);
  AppendField(&json, "errors", absl::StrCat(r.errors), false);
  AppendField(&json, "unknown_writes", absl::StrCat(r.verify.unknown_writes), false);
  AppendField(&json, "csv", JsonString(r.files.csv), false);
  AppendField(&json, "png", r.files.png.empty() ? "null" : JsonString(r.files.png), false);
  AppendField(&json, "gnuplot_script", JsonString(r.files.gnuplot_script), true);
  json += "}\n";
  return WriteText(path, json);
}

}  // namespace meridian::tools
