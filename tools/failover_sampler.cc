#include "tools/failover_sampler.h"

#include <cstdint>
#include <cstdio>
#include <utility>

#include "absl/time/clock.h"

namespace meridian::tools {

Sampler::Sampler(WorkloadMeter* meter, absl::Time start, absl::Duration interval)
    : meter_(meter),
      start_(start),
      interval_(interval),
      timeline_(absl::ToDoubleSeconds(interval)) {}

Sampler::~Sampler() { Stop(); }

void Sampler::Start() { thread_ = std::thread(&Sampler::Run, this); }

void Sampler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Sampler::Mark(absl::Time at, const std::string& kind, const std::string& label) {
  absl::MutexLock lock(&mu_);
  timeline_.Mark({.time_s = SecondsAt(at), .kind = kind, .label = label});
}

void Sampler::SetPhase(const std::string& phase) {
  absl::MutexLock lock(&mu_);
  phase_ = phase;
}

void Sampler::SetNote(const std::string& note) {
  absl::MutexLock lock(&mu_);
  note_ = note;
}

Timeline Sampler::TakeTimeline() {
  absl::MutexLock lock(&mu_);
  return std::move(timeline_);
}

void Sampler::Run() {
  const int64_t per_second = std::max<int64_t>(1, absl::Seconds(1) / interval_);
  int64_t committed = 0, errors = 0, second_ops = 0;
  for (int64_t i = 1;; ++i) {
    const absl::Time due = start_ + i * interval_;
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithDeadline(absl::Condition(&stop_), due)) return;
    const absl::Time now = absl::Now();
    const int64_t c = meter_->committed(), e = meter_->errors();
    timeline_.Add({.time_s = SecondsAt(due - interval_),
                   .ops = c - committed,
                   .errors = e - errors,
                   .longest_gap_s = absl::ToDoubleSeconds(meter_->gaps().Take(now))});
    second_ops += c - committed;
    committed = c;
    errors = e;
    if (i % per_second != 0) continue;
    std::printf("  %6.1f s  %-10s %7lld ops/s  errors %lld%s%s\n", SecondsAt(due), phase_.c_str(),
                static_cast<long long>(second_ops), static_cast<long long>(errors),
                note_.empty() ? "" : "  ", note_.c_str());
    std::fflush(stdout);
    second_ops = 0;
  }
}

}  // namespace meridian::tools
