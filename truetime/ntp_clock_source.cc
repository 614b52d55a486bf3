#include "truetime/ntp_clock_source.h"

#include <sys/timex.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace meridian::truetime {

absl::StatusOr<KernelNtpState> ReadKernelNtpState() {
  struct timex tx;
  std::memset(&tx, 0, sizeof(tx));
  tx.modes = 0;  // read only
  const int state = ntp_adjtime(&tx);
  if (state == -1) {
    const int err = errno;
    return absl::InternalError(absl::StrCat("ntp_adjtime failed: ", std::strerror(err)));
  }
  return KernelNtpState{state, tx.status, static_cast<int64_t>(tx.maxerror)};
}

absl::StatusOr<ClockReading> NtpReadingFromKernelState(const KernelNtpState& state,
                                                       Timestamp wall_us) {
  if (state.clock_state == TIME_ERROR || (state.status_bits & STA_UNSYNC) != 0) {
    return absl::UnavailableError(
        absl::StrCat("kernel clock is not synchronised by NTP (ntp_adjtime state ",
                     state.clock_state, ", status 0x", absl::Hex(state.status_bits), ", maxerror ",
                     state.maxerror_us, " us); no error bound is available"));
  }
  if (state.maxerror_us < 0) {
    return absl::UnavailableError(
        absl::StrCat("kernel reports a negative NTP maxerror (", state.maxerror_us, " us)"));
  }
  return ClockReading{wall_us, state.maxerror_us + kKernelMaxErrorGrowthUsPerSecond};
}

NtpClockSource::NtpClockSource(PhysicalClock* clock, KernelNtpReader reader)
    : clock_(clock != nullptr ? clock : SystemPhysicalClock()),
      reader_(reader != nullptr ? std::move(reader) : KernelNtpReader(ReadKernelNtpState)) {}

absl::StatusOr<ClockReading> NtpClockSource::Read() {
  const Timestamp wall_us = clock_->WallNowUs();
  ASSIGN_OR_RETURN(const KernelNtpState state, reader_());
  return NtpReadingFromKernelState(state, wall_us);
}

std::string NtpClockSource::Describe() const {
  return absl::StrCat("ntp(kernel maxerror + ", kKernelMaxErrorGrowthUsPerSecond, "us)");
}

void NtpClockSource::SleepFor(int64_t us) { clock_->SleepFor(us); }

}  // namespace meridian::truetime
