// NtpClockSource: wall time from CLOCK_REALTIME, error bound from the kernel's NTP discipline.
//
// The kernel keeps `maxerror` (µs), the worst-case error of CLOCK_REALTIME, which the NTP daemon
// (chrony, ntpd, systemd-timesyncd) sets at each poll and the kernel grows by 500 µs every second
// between polls. We read it with ntp_adjtime(modes = 0), which needs no privileges. Because the
// kernel raises maxerror once per second, the true error can exceed the published value by up to
// one second's growth, so the reported error adds that 500 µs.
//
// When the kernel says the clock is not synchronised (STA_UNSYNC or the TIME_ERROR state) Read()
// returns UNAVAILABLE: there is then no bound to report, and a server must not pretend it has one.
//
// The kernel query is injectable (KernelNtpReader) so that tests and MakeClockSource(kAuto) can be
// exercised on both the synchronised and the unsynchronised path.
//
// Thread safety: safe to call from several threads at once if the injected PhysicalClock and
// reader are (the defaults are).
#ifndef MERIDIAN_TRUETIME_NTP_CLOCK_SOURCE_H_
#define MERIDIAN_TRUETIME_NTP_CLOCK_SOURCE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "truetime/clock_source.h"
#include "truetime/physical_clock.h"

namespace meridian::truetime {

// What ntp_adjtime(modes = 0) reports, reduced to the fields we use.
struct KernelNtpState {
  int clock_state = 0;      // ntp_adjtime's return value: TIME_OK, TIME_INS, ..., TIME_ERROR
  int status_bits = 0;      // timex.status: STA_* flags
  int64_t maxerror_us = 0;  // timex.maxerror
};

using KernelNtpReader = std::function<absl::StatusOr<KernelNtpState>()>;

// The real kernel query. INTERNAL if the syscall fails.
absl::StatusOr<KernelNtpState> ReadKernelNtpState();

// Growth of the kernel's maxerror per second between polls (kernel/time/ntp.c: MAXFREQ).
inline constexpr int64_t kKernelMaxErrorGrowthUsPerSecond = 500;

// Turns a kernel state and a CLOCK_REALTIME reading into a ClockReading; UNAVAILABLE when the
// kernel reports the clock unsynchronised. Pure; exposed for tests.
absl::StatusOr<ClockReading> NtpReadingFromKernelState(const KernelNtpState& state,
                                                       Timestamp wall_us);

class NtpClockSource : public ClockSource {
 public:
  // `clock` must outlive the source; null means SystemPhysicalClock(). A null `reader` means
  // ReadKernelNtpState.
  explicit NtpClockSource(PhysicalClock* clock = nullptr, KernelNtpReader reader = nullptr);

  absl::StatusOr<ClockReading> Read() override;
  std::string Describe() const override;
  void SleepFor(int64_t us) override;

 private:
  PhysicalClock* const clock_;
  const KernelNtpReader reader_;
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_NTP_CLOCK_SOURCE_H_
