#include "truetime/truetime.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status_macros.h"

namespace meridian::truetime {

TrueTime::TrueTime(std::unique_ptr<ClockSource> source, Options options)
    : source_(std::move(source)), options_(options) {
  CHECK(source_ != nullptr);
  CHECK(options_.max_epsilon_us >= 0 && options_.max_epsilon_us <= 1'000'000'000'000);
}

absl::StatusOr<Interval> TrueTime::WidenedReading() {
  ASSIGN_OR_RETURN_CTX(const ClockReading reading, source_->Read(),
                       absl::StrCat("TrueTime source ", source_->Describe()));
  if (reading.error_us < 0) {
    return absl::InternalError(absl::StrCat("TrueTime source ", source_->Describe(),
                                            " reported a negative error ", reading.error_us,
                                            " us"));
  }
  if (reading.error_us > options_.max_epsilon_us) {
    return absl::UnavailableError(absl::StrCat(
        "clock uncertainty ", reading.error_us, " us exceeds maximum ", options_.max_epsilon_us,
        " us; refusing to serve (source ", source_->Describe(), ")"));
  }
  ClockWidening widening;
  if (options_.peers != nullptr) {
    ASSIGN_OR_RETURN_CTX(widening, options_.peers->Check(reading), "refusing to serve");
    // Honest clocks at opposite edges of their bounds widen each other by up to twice the
    // error, so the widened guard allows three times the source's.
    const int64_t max_widened_us = kWidenedGuardFactor * options_.max_epsilon_us;
    if (reading.error_us + widening.max_us() > max_widened_us) {
      return absl::UnavailableError(absl::StrCat(
          "this server's clock disagrees with its peers: agreeing with a majority of them takes ",
          widening.early_us, " us more uncertainty below and ", widening.late_us,
          " us above its own ", reading.error_us, " us, beyond the maximum ", max_widened_us,
          " us; refusing to serve (source ", source_->Describe(), ")"));
    }
  }
  return Interval{reading.now_us - reading.error_us - widening.early_us,
                  reading.now_us + reading.error_us + widening.late_us};
}

absl::StatusOr<Interval> TrueTime::Now() {
  absl::MutexLock lock(&mu_);
  if (options_.floor != nullptr && max_latest_ == kMinTimestamp) {
    max_latest_ = options_.floor->recorded();
  }
  ASSIGN_OR_RETURN(const Interval raw, WidenedReading());
  if (raw.latest < max_earliest_) {
    return absl::UnavailableError(absl::StrCat(
        "clock source ", source_->Describe(), " broke its error bound: latest ", raw.latest,
        " is below an earliest ", max_earliest_, " returned before; refusing to serve"));
  }
  max_earliest_ = std::max(max_earliest_, raw.earliest);
  max_latest_ = std::max(max_latest_, raw.latest);
  if (max_latest_ - max_earliest_ > 2 * (kWidenedGuardFactor + 1) * options_.max_epsilon_us) {
    return absl::UnavailableError(absl::StrCat(
        "the clock reads ", max_latest_ - raw.latest,
        " us behind a time this server handed out before (the persisted time high-water mark ",
        options_.floor != nullptr ? options_.floor->path() : std::string("(none)"),
        ", or a step back); refusing to serve until it catches up"));
  }
  if (options_.floor != nullptr) {
    RETURN_IF_ERROR_CTX(options_.floor->Cover(max_latest_), "refusing to serve");
  }
  return Interval{max_earliest_, max_latest_};
}

absl::Status TrueTime::PersistAhead(int64_t ahead_us) {
  if (options_.floor == nullptr) return absl::OkStatus();
  Timestamp latest;
  {
    absl::MutexLock lock(&mu_);
    if (max_latest_ == kMinTimestamp) return absl::OkStatus();
    latest = max_latest_;
  }
  // Outside mu_: Now() goes on while the mark is synced.
  return options_.floor->Cover(latest + ahead_us);
}

absl::StatusOr<bool> TrueTime::After(Timestamp t) {
  ASSIGN_OR_RETURN(const Interval now, Now());
  return now.After(t);
}

absl::StatusOr<bool> TrueTime::Before(Timestamp t) {
  ASSIGN_OR_RETURN(const Interval now, Now());
  return now.Before(t);
}

absl::StatusOr<int64_t> TrueTime::WaitUntilAfter(Timestamp t, Timestamp deadline) {
  int64_t waited_us = 0;
  while (true) {
    ASSIGN_OR_RETURN_CTX(const Interval now, Now(), absl::StrCat("commit wait for ", t));
    if (now.After(t)) return waited_us;
    if (now.After(deadline)) {
      return absl::DeadlineExceededError(
          absl::StrCat("commit wait for ", t, " passed its deadline ", deadline, " after ",
                       waited_us, " us; TrueTime now [", now.earliest, ", ", now.latest, "]"));
    }
    // earliest must move past `target`; it moves at most as fast as the clock, so sleep at least
    // the gap (target >= earliest here, as After(target) is false) and then look again.
    const Timestamp target = std::min(t, deadline);
    const int64_t slice_us =
        target >= now.earliest + kMaxWaitSliceUs ? kMaxWaitSliceUs : target - now.earliest + 1;
    source_->SleepFor(slice_us);
    waited_us += slice_us;
  }
}

}  // namespace meridian::truetime
