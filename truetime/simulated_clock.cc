#include "truetime/simulated_clock.h"

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::truetime {
namespace {

// ceil(a / 1e6) for a >= 0: error bounds round up, never down.
int64_t CeilDivMillion(int64_t a) { return (a + 999'999) / 1'000'000; }

}  // namespace

Timestamp SimulatedTime::NowUs() const {
  absl::MutexLock lock(&mu_);
  return now_us_;
}

void SimulatedTime::Advance(int64_t us) {
  if (us <= 0) return;
  absl::MutexLock lock(&mu_);
  now_us_ += us;
}

void SimulatedTime::AdvanceTo(Timestamp t) {
  absl::MutexLock lock(&mu_);
  if (t > now_us_) now_us_ = t;
}

int64_t SimulatedClockBounds::MaxErrorUs() const {
  return base_error_us + CeilDivMillion(max_drift_ppm * sync_interval_us);
}

SimulatedClockParams RandomSimulatedClockParams(const SimulatedClockBounds& bounds,
                                                meridian::Random& rng) {
  SimulatedClockParams p;
  p.offset_us = rng.Range(-bounds.base_error_us, bounds.base_error_us);
  p.drift_ppm = rng.Range(-bounds.max_drift_ppm, bounds.max_drift_ppm);
  p.sync_phase_us = rng.Range(0, bounds.sync_interval_us - 1);
  p.resync_seed = rng.Next();
  return p;
}

SimulatedClockSource::SimulatedClockSource(SimulatedTime* time, const SimulatedClockBounds& bounds,
                                           const SimulatedClockParams& params)
    : time_(time),
      bounds_(bounds),
      params_(params),
      first_sync_true_us_(time->NowUs() - params.sync_phase_us) {
  CHECK(bounds.base_error_us >= 0);
  CHECK(bounds.max_drift_ppm >= 0 && bounds.max_drift_ppm <= 1'000'000);
  CHECK(bounds.sync_interval_us > 0 && bounds.sync_interval_us <= 1'000'000'000);
  CHECK_MSG(params.offset_us >= -bounds.base_error_us && params.offset_us <= bounds.base_error_us,
            "simulated clock offset outside base_error_us");
  CHECK_MSG(params.drift_ppm >= -bounds.max_drift_ppm && params.drift_ppm <= bounds.max_drift_ppm,
            "simulated clock drift outside max_drift_ppm");
  CHECK(params.sync_phase_us >= 0 && params.sync_phase_us < bounds.sync_interval_us);
}

int64_t SimulatedClockSource::OffsetAfterSync(int64_t sync_index) const {
  if (sync_index == 0 || !params_.resync_seed.has_value()) return params_.offset_us;
  meridian::Random rng(*params_.resync_seed +
                       static_cast<uint64_t>(sync_index) * 0x9e3779b97f4a7c15ULL);
  return rng.Range(-bounds_.base_error_us, bounds_.base_error_us);
}

ClockReading SimulatedClockSource::ReadingAt(Timestamp true_us) const {
  const int64_t since_first_sync_us = true_us - first_sync_true_us_;
  CHECK_MSG(since_first_sync_us >= 0, "simulated clock read before its creation");
  const int64_t sync_index = since_first_sync_us / bounds_.sync_interval_us;
  const int64_t since_sync_us = since_first_sync_us % bounds_.sync_interval_us;
  // Truncation toward zero keeps |drift_us| <= the rounded-up bound below.
  const int64_t drift_us = params_.drift_ppm * since_sync_us / 1'000'000;
  const int64_t offset_us = OffsetAfterSync(sync_index) + drift_us;
  const int64_t error_us =
      bounds_.base_error_us + CeilDivMillion(bounds_.max_drift_ppm * since_sync_us);

  const int64_t violation_us = violation_us_.load();
  if (violation_us > 0) {
    const int64_t lie_us = error_us + violation_us;
    return ClockReading{true_us + (offset_us < 0 ? -lie_us : lie_us), error_us};
  }
  return ClockReading{true_us + offset_us, error_us};
}

absl::StatusOr<ClockReading> SimulatedClockSource::Read() { return ReadingAt(time_->NowUs()); }

std::string SimulatedClockSource::Describe() const {
  return absl::StrCat("simulated(offset=", params_.offset_us, "us, drift=", params_.drift_ppm,
                      "ppm, base_error=", bounds_.base_error_us,
                      "us, max_drift=", bounds_.max_drift_ppm,
                      "ppm, sync_interval=", bounds_.sync_interval_us, "us)");
}

void SimulatedClockSource::SleepFor(int64_t us) { time_->Advance(us); }

}  // namespace meridian::truetime
