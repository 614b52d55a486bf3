// DriftModelClockSource: wall time from a PhysicalClock, error from a configured model.
//
// The model is Spanner's time-daemon assumption (§3): right after a sync the clock is within
// `base_epsilon_us` of absolute time, and between syncs it drifts at most `drift_us_per_s`
// (200 µs/s by default). Syncs are assumed every `sync_interval_us` of the monotonic clock, counted
// from the moment the source is created, so the error is a sawtooth:
//
//   error = base_epsilon_us + ceil(drift_us_per_s * (mono_now - last_sync_point) / 1 s)
//
// which with the defaults rises from 1 ms to 7 ms every 30 s. The model is an assumption, not a
// measurement: it is only as honest as the claim that something really does discipline the clock
// that often (or, for `meridian demo`, that all processes share one host clock). With
// drift_us_per_s = 0 it is the "fixed" source: a constant epsilon.
//
// Thread safety: immutable after construction; safe to call from several threads at once if the
// injected PhysicalClock is (the system clock is).
#ifndef MERIDIAN_TRUETIME_DRIFT_MODEL_CLOCK_SOURCE_H_
#define MERIDIAN_TRUETIME_DRIFT_MODEL_CLOCK_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "truetime/clock_source.h"
#include "truetime/physical_clock.h"

namespace meridian::truetime {

struct DriftModelOptions {
  int64_t base_epsilon_us = 1000;         // error right after a sync; >= 0
  int64_t drift_us_per_s = 200;           // worst-case drift between syncs; >= 0
  int64_t sync_interval_us = 30'000'000;  // > 0
};

// INVALID_ARGUMENT naming the bad field, or OK.
absl::Status ValidateDriftModelOptions(const DriftModelOptions& options);

class DriftModelClockSource : public ClockSource {
 public:
  // `clock` must outlive the source; null means SystemPhysicalClock(). The first sync point is the
  // clock's monotonic time now. INVALID_ARGUMENT on bad options.
  static absl::StatusOr<std::unique_ptr<DriftModelClockSource>> Create(
      const DriftModelOptions& options, PhysicalClock* clock = nullptr);

  absl::StatusOr<ClockReading> Read() override;
  std::string Describe() const override;
  void SleepFor(int64_t us) override;

  // The modelled error at monotonic time `mono_us` (pure; used by Read and by tests).
  int64_t ErrorAtMonoUs(int64_t mono_us) const;

 private:
  DriftModelClockSource(const DriftModelOptions& options, PhysicalClock* clock);

  const DriftModelOptions options_;
  PhysicalClock* const clock_;
  const int64_t first_sync_mono_us_;
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_DRIFT_MODEL_CLOCK_SOURCE_H_
