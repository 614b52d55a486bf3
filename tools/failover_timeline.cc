#include "tools/failover_timeline.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace meridian::tools {

GapTracker::GapTracker(absl::Time start) : last_ack_(start) {}

void GapTracker::Close(absl::Time end) {
  const absl::Duration gap = std::max(end - last_ack_, absl::ZeroDuration());
  since_take_ = std::max(since_take_, gap);
  absl::Duration& longest = fault_.has_value() && end >= *fault_ ? longest_.after : longest_.before;
  longest = std::max(longest, gap);
}

void GapTracker::Ack(absl::Time now) {
  absl::MutexLock lock(&mu_);
  if (now <= last_ack_) return;  // a thread that read the clock before another's ack
  Close(now);
  last_ack_ = now;
}

void GapTracker::MarkFault(absl::Time fault) {
  absl::MutexLock lock(&mu_);
  fault_ = fault;
}

absl::Duration GapTracker::Take(absl::Time now) {
  absl::MutexLock lock(&mu_);
  const absl::Duration taken = std::max(since_take_, now - last_ack_);
  since_take_ = absl::ZeroDuration();
  return taken;
}

GapTracker::Longest GapTracker::LongestGaps(absl::Time now) {
  absl::MutexLock lock(&mu_);
  Longest longest = longest_;
  const absl::Duration open = std::max(now - last_ack_, absl::ZeroDuration());
  absl::Duration& side = fault_.has_value() && now >= *fault_ ? longest.after : longest.before;
  side = std::max(side, open);
  return longest;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower =
      *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

void Timeline::Mark(TimelineEvent event) {
  const auto at = std::upper_bound(events_.begin(), events_.end(), event.time_s,
                                   [](double t, const TimelineEvent& e) { return t < e.time_s; });
  events_.insert(at, std::move(event));
}

std::optional<TimelineEvent> Timeline::Find(const std::string& kind) const {
  for (const TimelineEvent& event : events_) {
    if (event.kind == kind) return event;
  }
  return std::nullopt;
}

Recovery Timeline::Analyze(const RecoveryOptions& options) const {
  Recovery recovery;
  const std::optional<TimelineEvent> fault = Find("fault");
  if (!fault.has_value()) return recovery;
  const double fault_s = fault->time_s;
  std::vector<double> baseline;
  for (const Sample& s : samples_) {
    if (s.time_s >= fault_s - options.baseline_s && s.time_s + interval_s_ <= fault_s) {
      baseline.push_back(static_cast<double>(s.ops) / interval_s_);
    }
  }
  recovery.baseline_samples = static_cast<int>(baseline.size());
  recovery.pre_fault_median_ops_per_s = Median(baseline);
  if (baseline.empty()) return recovery;
  const double target = options.fraction * recovery.pre_fault_median_ops_per_s;
  const size_t window = static_cast<size_t>(std::max(1, options.window));
  for (size_t j = 0; j + window <= samples_.size(); ++j) {
    if (samples_[j].time_s + interval_s_ <= fault_s) continue;
    if (static_cast<double>(samples_[j].ops) / interval_s_ < target) continue;
    std::vector<double> rates;
    for (size_t k = j; k < j + window; ++k) {
      rates.push_back(static_cast<double>(samples_[k].ops) / interval_s_);
    }
    if (Median(rates) >= target) {
      recovery.recovery_s = std::max(0.0, samples_[j].time_s - fault_s);
      break;
    }
  }
  return recovery;
}

namespace {

// A CSV field: quoted, with quotes doubled.
std::string CsvQuote(const std::string& text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

// A gnuplot string in single quotes (a quote inside is doubled).
std::string GnuplotQuote(const std::string& text) {
  return absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'");
}

// Colours of the event lines by kind.
const char* EventColour(const std::string& kind) {
  if (kind == "fault") return "#d62728";
  if (kind == "restart") return "#2ca02c";
  return "#7f7f7f";
}

}  // namespace

std::string Timeline::Csv() const {
  std::string csv = "time_s,ops_in_interval,ops_per_s,errors,longest_gap_ms,event\n";
  size_t next_event = 0;
  for (size_t i = 0; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    const bool last = i + 1 == samples_.size();
    std::vector<std::string> events;
    while (next_event < events_.size() &&
           (last || events_[next_event].time_s < s.time_s + interval_s_)) {
      events.push_back(absl::StrCat(events_[next_event].kind, ": ", events_[next_event].label));
      ++next_event;
    }
    absl::StrAppend(&csv, absl::StrFormat("%.3f,%d,%.0f,%d,%.1f,", s.time_s, s.ops,
                                          static_cast<double>(s.ops) / interval_s_, s.errors,
                                          s.longest_gap_s * 1000));
    if (!events.empty()) absl::StrAppend(&csv, CsvQuote(absl::StrJoin(events, "; ")));
    absl::StrAppend(&csv, "\n");
  }
  return csv;
}

std::string Timeline::GnuplotScript(const std::string& title, const std::string& csv_path,
                                    const std::string& png_path, const Recovery& recovery,
                                    const RecoveryOptions& options) const {
  std::string gp =
      absl::StrCat("# Throughput of a meridian failover-demo run: gnuplot ", GnuplotQuote(csv_path),
                   " rows -> ", GnuplotQuote(png_path), "\n",
                   "set datafile separator ','\n"
                   "set terminal pngcairo size 1200,500 font 'sans,10'\n",
                   "set output ", GnuplotQuote(png_path), "\n", "set title ", GnuplotQuote(title),
                   " noenhanced\n", "set xlabel 'seconds since the workload started'\n",
                   absl::StrFormat("set ylabel 'committed operations / s (%.0f ms samples)'\n",
                                   interval_s_ * 1000),
                   "set grid\nset key below\nset bmargin 5\nset yrange [0:*]\nset offsets 0, 0, "
                   "graph 0.15, 0\n");
  for (size_t i = 0; i < events_.size(); ++i) {
    const TimelineEvent& e = events_[i];
    absl::StrAppend(
        &gp,
        absl::StrFormat("set arrow from %.3f, graph 0 to %.3f, graph 1 nohead lw 2 lc rgb '%s'\n",
                        e.time_s, e.time_s, EventColour(e.kind)),
        absl::StrFormat("set label %s at %.3f, graph %.2f offset 0.5, 0 tc rgb '%s' noenhanced\n",
                        GnuplotQuote(absl::StrCat(e.kind, ": ", e.label)), e.time_s,
                        0.96 - 0.06 * static_cast<double>(i), EventColour(e.kind)));
  }
  std::string level;
  if (recovery.pre_fault_median_ops_per_s > 0) {
    level = absl::StrFormat(
        ", %.1f with lines dt 2 lc rgb '#7f7f7f' title %s",
        options.fraction * recovery.pre_fault_median_ops_per_s,
        GnuplotQuote(absl::StrFormat("%.0f%% of the pre-fault median (%.0f ops/s)",
                                     options.fraction * 100, recovery.pre_fault_median_ops_per_s)));
  }
  absl::StrAppend(&gp, "plot ", GnuplotQuote(csv_path),
                  " using 1:3 skip 1 with lines lw 1.5 lc rgb '#1f77b4' title 'committed ops/s'",
                  level, "\n");
  return gp;
}

}  // namespace meridian::tools
