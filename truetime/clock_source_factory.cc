#include "truetime/clock_source_factory.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace meridian::truetime {

absl::StatusOr<ClockSourceKind> ParseClockSourceKind(const std::string& name) {
  if (name == "auto") return ClockSourceKind::kAuto;
  if (name == "ntp") return ClockSourceKind::kNtp;
  if (name == "fixed") return ClockSourceKind::kFixed;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown truetime source '", name, "'; expected auto, ntp or fixed"));
}

std::string ClockSourceKindName(ClockSourceKind kind) {
  switch (kind) {
    case ClockSourceKind::kAuto:
      return "auto";
    case ClockSourceKind::kNtp:
      return "ntp";
    case ClockSourceKind::kFixed:
      return "fixed";
  }
  return "unknown";
}

absl::StatusOr<std::unique_ptr<ClockSource>> MakeClockSource(ClockSourceKind kind,
                                                             const ClockSourceOptions& options) {
  switch (kind) {
    case ClockSourceKind::kFixed: {
      DriftModelOptions fixed;
      fixed.base_epsilon_us = options.fixed_epsilon_us;
      fixed.drift_us_per_s = 0;
      ASSIGN_OR_RETURN(std::unique_ptr<DriftModelClockSource> source,
                       DriftModelClockSource::Create(fixed, options.clock));
      return std::unique_ptr<ClockSource>(std::move(source));
    }
    case ClockSourceKind::kNtp:
    case ClockSourceKind::kAuto: {
      auto ntp = std::make_unique<NtpClockSource>(options.clock, options.ntp_reader);
      const absl::StatusOr<ClockReading> probe = ntp->Read();
      if (probe.ok()) return std::unique_ptr<ClockSource>(std::move(ntp));
      if (kind == ClockSourceKind::kNtp) {
        // Unsynchronised is a state the server waits out; a failing syscall is a setup error.
        if (absl::IsUnavailable(probe.status()))
          return std::unique_ptr<ClockSource>(std::move(ntp));
        return probe.status();
      }
      ASSIGN_OR_RETURN(std::unique_ptr<DriftModelClockSource> model,
                       DriftModelClockSource::Create(options.drift_model, options.clock));
      return std::unique_ptr<ClockSource>(std::move(model));
    }
  }
  return absl::InvalidArgumentError("unknown ClockSourceKind");
}

}  // namespace meridian::truetime
