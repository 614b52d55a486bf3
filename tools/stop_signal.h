// Ctrl-C, SIGTERM and SIGHUP for the commands that run a cluster (`meridian demo`,
// `meridian failover-demo`): the handler only records the signal, and the command's loops poll
// StopRequested() and then stop every process they started themselves, so nothing is left behind.
//
// Thread safety: the flag is a sig_atomic_t written only by the handler; any thread may poll it.
// Install the handlers once, from the main thread, before starting other threads.
#ifndef MERIDIAN_TOOLS_STOP_SIGNAL_H_
#define MERIDIAN_TOOLS_STOP_SIGNAL_H_

#include "absl/time/time.h"

namespace meridian::tools {

// SIGINT, SIGTERM and SIGHUP set the flag (without SA_RESTART, so a blocked read or poll returns
// EINTR); SIGPIPE is ignored.
void InstallStopSignalHandlers();

// True once one of those signals arrived.
bool StopRequested();

// The signal that arrived, 0 if none.
int StopSignal();

// Sleeps up to `d`, waking early (within 50 ms) when a stop signal arrives.
void SleepUnlessStopping(absl::Duration d);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_STOP_SIGNAL_H_
