// Sampler: the clock of `meridian failover-demo`'s timeline. On its own thread it reads a
// WorkloadMeter at every interval (100 ms) into a Timeline sample, and prints a progress line
// each second: time, phase, ops in that second, errors so far, and a note (a restarted server's
// catch-up).
//
// Thread safety: Mark, SetPhase, SetNote and SecondsAt may be called from any thread; Start,
// Stop and TakeTimeline from the owner's.
#ifndef MERIDIAN_TOOLS_FAILOVER_SAMPLER_H_
#define MERIDIAN_TOOLS_FAILOVER_SAMPLER_H_

#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/failover_timeline.h"
#include "tools/failover_workload.h"

namespace meridian::tools {

class Sampler {
 public:
  // Samples `meter` (not owned) every `interval` from `start` (the workload's start).
  Sampler(WorkloadMeter* meter, absl::Time start, absl::Duration interval);
  ~Sampler();  // Stop()

  void Start();
  // Stops sampling and waits for the thread (idempotent).
  void Stop();

  // Seconds from the start to `t`: the timeline's time axis.
  double SecondsAt(absl::Time t) const { return absl::ToDoubleSeconds(t - start_); }
  // Adds an event at `at` to the timeline.
  void Mark(absl::Time at, const std::string& kind, const std::string& label);
  void SetPhase(const std::string& phase);
  void SetNote(const std::string& note);
  // The timeline so far; call after Stop.
  Timeline TakeTimeline();

 private:
  void Run();

  WorkloadMeter* const meter_;
  const absl::Time start_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  Timeline timeline_ ABSL_GUARDED_BY(mu_);
  std::string phase_ ABSL_GUARDED_BY(mu_) = "warm-up";
  std::string note_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_SAMPLER_H_
