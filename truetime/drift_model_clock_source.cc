#include "truetime/drift_model_clock_source.h"

#include "absl/strings/str_cat.h"

namespace meridian::truetime {

absl::Status ValidateDriftModelOptions(const DriftModelOptions& options) {
  if (options.base_epsilon_us < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("drift model base_epsilon_us must be >= 0, got ", options.base_epsilon_us));
  }
  if (options.drift_us_per_s < 0 || options.drift_us_per_s > 1'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "drift model drift_us_per_s must be in [0, 1000000], got ", options.drift_us_per_s));
  }
  // The upper limit keeps drift * interval far from int64 overflow (1e6 * 1e12 = 1e18).
  if (options.sync_interval_us <= 0 || options.sync_interval_us > 1'000'000'000'000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "drift model sync_interval_us must be in (0, 1e12], got ", options.sync_interval_us));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DriftModelClockSource>> DriftModelClockSource::Create(
    const DriftModelOptions& options, PhysicalClock* clock) {
  if (absl::Status s = ValidateDriftModelOptions(options); !s.ok()) return s;
  return std::unique_ptr<DriftModelClockSource>(
      new DriftModelClockSource(options, clock != nullptr ? clock : SystemPhysicalClock()));
}

DriftModelClockSource::DriftModelClockSource(const DriftModelOptions& options, PhysicalClock* clock)
    : options_(options), clock_(clock), first_sync_mono_us_(clock->MonoNowUs()) {}

int64_t DriftModelClockSource::ErrorAtMonoUs(int64_t mono_us) const {
  int64_t since_sync_us = (mono_us - first_sync_mono_us_) % options_.sync_interval_us;
  if (since_sync_us < 0) since_sync_us = 0;  // a clock from before creation: just synced
  // Round the drift up: the bound must never be smaller than the model says.
  const int64_t drift_us = (options_.drift_us_per_s * since_sync_us + 999'999) / 1'000'000;
  return options_.base_epsilon_us + drift_us;
}

absl::StatusOr<ClockReading> DriftModelClockSource::Read() {
  // Wall first, then mono: the error is computed at the later instant, so it can only be larger.
  const Timestamp wall_us = clock_->WallNowUs();
  const int64_t mono_us = clock_->MonoNowUs();
  return ClockReading{wall_us, ErrorAtMonoUs(mono_us)};
}

std::string DriftModelClockSource::Describe() const {
  if (options_.drift_us_per_s == 0) {
    return absl::StrCat("fixed(epsilon=", options_.base_epsilon_us, "us)");
  }
  return absl::StrCat("drift_model(base=", options_.base_epsilon_us,
                      "us, drift=", options_.drift_us_per_s,
                      "us/s, sync_interval=", options_.sync_interval_us, "us)");
}

void DriftModelClockSource::SleepFor(int64_t us) { clock_->SleepFor(us); }

}  // namespace meridian::truetime
