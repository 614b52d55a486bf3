#include "tools/stop_signal.h"

#include <signal.h>

#include <algorithm>

#include "absl/time/clock.h"

namespace meridian::tools {
namespace {

volatile sig_atomic_t g_stop_signal = 0;

void OnStopSignal(int signal) { g_stop_signal = signal; }

}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocked read or poll returns EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

bool StopRequested() { return g_stop_signal != 0; }

int StopSignal() { return g_stop_signal; }

void SleepUnlessStopping(absl::Duration d) {
  const absl::Time end = absl::Now() + d;
  while (!StopRequested()) {
    const absl::Time now = absl::Now();
    if (now >= end) return;
    absl::SleepFor(std::min(end - now, absl::Milliseconds(50)));
  }
}

}  // namespace meridian::tools
