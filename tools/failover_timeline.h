// The throughput timeline of `meridian failover-demo`: committed operations sampled at a fixed
// interval (100 ms), the events of the run (the fault, a restart), what is read off them — the
// recovery time and the longest window without a commit — and the CSV and gnuplot script that
// draw it (like Figure 5 of the Spanner paper). Pure: no clocks, files or threads; the demo feeds
// it times in seconds since the workload started.
//
// Definitions (over samples of interval_s; sample i covers [time_s, time_s + interval_s) and
// counts the operations acknowledged in it):
//  - Pre-fault median: the median ops/s of the samples lying wholly in
//    [fault_s - baseline_s, fault_s) (baseline 5 s: the end of the warm-up, past its ramp).
//  - Recovery time: r = max(0, time_s(j) - fault_s) for the first sample j that ends after the
//    fault such that sample j itself and the median of samples j .. j+window-1 (window 5: half a
//    second) are both at least `fraction` (90%) of the pre-fault median. The windowed median
//    ignores a lone sample, fast or slow, so r is when throughput is back to stay, not when a
//    burst of retried writes landed at once; sample j itself must be back too, or a window
//    whose last three samples are would date the recovery up to two samples early.
//    Resolution: one interval. None when no such window exists before the end.
//  - Longest zero window: the longest time between two consecutive acknowledged operations (of
//    any client) among the gaps that end at or after the fault (a gap still open at the end of the
//    run ends there). GapTracker measures it at each acknowledgement, so it is exact to the clock,
//    not rounded to samples; the longest gap before the fault is its normal level.
//
// Thread safety: Timeline and the functions are not thread-safe (one owner); GapTracker is.
#ifndef MERIDIAN_TOOLS_FAILOVER_TIMELINE_H_
#define MERIDIAN_TOOLS_FAILOVER_TIMELINE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace meridian::tools {

// The longest stretches without an acknowledged operation: per sample (Take), and over the whole
// run before and after the fault (Longest).
class GapTracker {
 public:
  // `start`: when the workload started (the first gap runs from there).
  explicit GapTracker(absl::Time start);
  // An operation was acknowledged at `now` (times never go backwards by more than the callers'
  // own reordering; a gap is never negative).
  void Ack(absl::Time now);
  // The fault happened at `fault`: gaps that end at or after it count as after the fault.
  void MarkFault(absl::Time fault);
  // The longest gap that ended since the last Take, or the gap still open at `now` if longer;
  // zero when operations were acknowledged throughout.
  absl::Duration Take(absl::Time now);

  struct Longest {
    absl::Duration before = absl::ZeroDuration();  // gaps that ended before the fault
    absl::Duration after = absl::ZeroDuration();   // ... at or after it (the open gap at `now`)
  };
  Longest LongestGaps(absl::Time now);

 private:
  // Records the gap [last_ack_, end). Requires mu_.
  void Close(absl::Time end) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  absl::Time last_ack_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Time> fault_ ABSL_GUARDED_BY(mu_);
  absl::Duration since_take_ ABSL_GUARDED_BY(mu_) = absl::ZeroDuration();
  Longest longest_ ABSL_GUARDED_BY(mu_);
};

struct Sample {
  double time_s = 0;  // start of the interval, seconds since the workload started
  int64_t ops = 0;    // operations acknowledged in the interval
  int64_t errors = 0;
  double longest_gap_s = 0;  // GapTracker::Take at the end of the interval
};

struct TimelineEvent {
  double time_s = 0;
  std::string kind;   // "fault", "restart", "caught_up": the CSV's event column
  std::string label;  // for people: "kill -9 span-a1 (leader of 5 of 8 groups)"
};

struct RecoveryOptions {
  double baseline_s = 5;
  int window = 5;
  double fraction = 0.9;
};

struct Recovery {
  double pre_fault_median_ops_per_s = 0;
  int baseline_samples = 0;
  std::optional<double> recovery_s;  // none: not back to fraction x median by the end
};

// The samples of one run, in order, and its events.
class Timeline {
 public:
  explicit Timeline(double interval_s) : interval_s_(interval_s) {}

  void Add(const Sample& sample) { samples_.push_back(sample); }
  // Events are kept in time order, whatever order they are marked in.
  void Mark(TimelineEvent event);

  double interval_s() const { return interval_s_; }
  const std::vector<Sample>& samples() const { return samples_; }
  const std::vector<TimelineEvent>& events() const { return events_; }
  // The first event of `kind`, if any.
  std::optional<TimelineEvent> Find(const std::string& kind) const;

  // The pre-fault median and the recovery from the first "fault" event (definitions above);
  // nothing when the run has no fault.
  Recovery Analyze(const RecoveryOptions& options) const;

  // time_s,ops_in_interval,ops_per_s,errors,longest_gap_ms,event — one row per sample; an
  // event's kind and label go in the row of the sample that contains it (quoted).
  std::string Csv() const;

  // A gnuplot script that plots `csv_path` into `png_path`: ops/s over time, each event as a
  // labelled vertical line, the 90% level of the pre-fault median as a dashed line.
  std::string GnuplotScript(const std::string& title, const std::string& csv_path,
                            const std::string& png_path, const Recovery& recovery,
                            const RecoveryOptions& options) const;

 private:
  double interval_s_;
  std::vector<Sample> samples_;
  std::vector<TimelineEvent> events_;
};

// The median of `values` (the mean of the middle two for an even count); 0 for none.
double Median(std::vector<double> values);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_TIMELINE_H_
