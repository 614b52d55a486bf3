// MakeClockSource: builds the ClockSource a server runs on from --truetime_source=auto|ntp|fixed
// (the flag itself is defined by the servers).
//
//   ntp    NtpClockSource: the kernel's NTP error bound. If the kernel is not synchronised the
//          source is still returned; its reads fail with UNAVAILABLE, so the server refuses to
//          serve until the clock is disciplined.
//   fixed  a constant epsilon (DriftModelClockSource with drift 0). `meridian demo` uses 1 ms: all
//          its processes share one host clock.
//   auto   ntp if the kernel says it is synchronised right now, else the drift model.
//
// Thread safety: free functions with no shared state.
#ifndef MERIDIAN_TRUETIME_CLOCK_SOURCE_FACTORY_H_
#define MERIDIAN_TRUETIME_CLOCK_SOURCE_FACTORY_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "truetime/clock_source.h"
#include "truetime/drift_model_clock_source.h"
#include "truetime/ntp_clock_source.h"
#include "truetime/physical_clock.h"

namespace meridian::truetime {

enum class ClockSourceKind { kAuto, kNtp, kFixed };

// "auto", "ntp" or "fixed"; INVALID_ARGUMENT otherwise.
absl::StatusOr<ClockSourceKind> ParseClockSourceKind(const std::string& name);
std::string ClockSourceKindName(ClockSourceKind kind);

struct ClockSourceOptions {
  int64_t fixed_epsilon_us = 1000;       // kFixed: the constant epsilon
  DriftModelOptions drift_model = {};    // kAuto when the kernel is not synchronised
  PhysicalClock* clock = nullptr;        // null: SystemPhysicalClock(); must outlive the source
  KernelNtpReader ntp_reader = nullptr;  // null: the real ntp_adjtime
};

// INVALID_ARGUMENT for bad options. kNtp fails only if the kernel cannot be queried at all.
absl::StatusOr<std::unique_ptr<ClockSource>> MakeClockSource(ClockSourceKind kind,
                                                             const ClockSourceOptions& options);

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_CLOCK_SOURCE_FACTORY_H_
