// TrueTime: Spanner's time API (§3) over a ClockSource, with the uncertainty guard and commit wait.
//
//   TrueTime tt(std::move(source), {.max_epsilon_us = 10'000});
//   ASSIGN_OR_RETURN(Interval now, tt.Now());       // absolute time is inside [earliest, latest]
//   const Timestamp s = now.latest + 1;            // a commit timestamp
//   ASSIGN_OR_RETURN(int64_t waited_us, tt.WaitUntilAfter(s, deadline));  // commit wait
//
// Guard: when the source's error exceeds Options::max_epsilon_us, or the source cannot bound its
// error at all, every call returns UNAVAILABLE. A server must then stop serving (leases, commit
// timestamps, reads at now) instead of breaking external consistency; clients retry elsewhere.
//
// Monotonicity guarantee, per TrueTime instance: across successful Now() calls (also those made
// inside After/Before/WaitUntilAfter), neither `earliest` nor `latest` ever decreases, even if the
// underlying clock steps backwards. This is sound: a previous earliest was <= absolute time then,
// hence <= absolute time now; a previous latest only widens the interval upwards. Lease logic can
// therefore rely on `latest` never going backwards, and commit wait on `earliest`. The cost is
// that after a backwards step the interval may be wider than twice the source's reported error
// (by at most the size of the step). If the clock falls so far back that the new `latest` is below
// a previously returned `earliest`, the source has provably broken its bound and Now() returns
// UNAVAILABLE. Different TrueTime instances (e.g. on different nodes) share no such state.
//
// Peers and floor (both optional, owned by the caller and outliving this object): with a
// PeerClockCheck (peer_clock_check.h) every interval is widened until it agrees with a majority of
// the server's peers, and a guard of kWidenedGuardFactor x max_epsilon_us then applies to the
// widened error, so a clock that lies makes TrueTime UNAVAILABLE rather than wrong. With a
// TimeFloor (time_floor.h) no `latest` above the persisted high-water mark is returned before the
// mark is raised, and the recorded mark is the lowest `latest` after a restart; an interval that
// this makes wider than twice the guard (the clock is far behind what was handed out before) is
// UNAVAILABLE.
//
// Thread safety: all methods are safe to call from many threads at once. Now() serialises reads
// of the source behind one mutex (a clock read is a syscall or two); WaitUntilAfter sleeps without
// holding it.
#ifndef MERIDIAN_TRUETIME_TRUETIME_H_
#define MERIDIAN_TRUETIME_TRUETIME_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "truetime/clock_source.h"
#include "truetime/interval.h"
#include "truetime/peer_clock_check.h"
#include "truetime/time_floor.h"

namespace meridian::truetime {

class TrueTime {
 public:
  struct Options {
    // The guard: the largest source error this server will serve with (flag
    // truetime_max_epsilon_us). The default drift model peaks at 7 ms.
    int64_t max_epsilon_us = 10'000;
    PeerClockCheck* peers = nullptr;  // see "Peers and floor" above
    TimeFloor* floor = nullptr;
  };

  // With peers: the widened interval's half-width may reach this many times max_epsilon_us
  // (honest clocks at opposite edges of their bounds widen each other by up to twice the error).
  static constexpr int64_t kWidenedGuardFactor = 3;

  // Longest single sleep inside WaitUntilAfter, so that clock failures and deadlines are noticed
  // at least this often.
  static constexpr int64_t kMaxWaitSliceUs = 1'000'000;

  // Takes ownership of `source` (non-null). CHECK-fails unless 0 <= max_epsilon_us <= 1e12.
  TrueTime(std::unique_ptr<ClockSource> source, Options options);

  TrueTime(const TrueTime&) = delete;
  TrueTime& operator=(const TrueTime&) = delete;

  // TT.now(): absolute time lies in the returned interval at some instant during the call.
  // UNAVAILABLE if the source fails, its error exceeds max_epsilon_us, or it broke its bound.
  absl::StatusOr<Interval> Now();

  // TT.after(t): t has definitely passed. Errors as Now().
  absl::StatusOr<bool> After(Timestamp t);
  // TT.before(t): t has definitely not arrived. Errors as Now().
  absl::StatusOr<bool> Before(Timestamp t);

  // Commit wait: returns once Now().earliest > t, i.e. After(t) holds, having slept through the
  // source (so simulated sources wait on virtual time). Returns the total time requested from the
  // source's SleepFor (0 if t had already passed). DEADLINE_EXCEEDED once After(deadline) holds
  // while After(t) does not yet; clock errors from Now() are returned as they are.
  absl::StatusOr<int64_t> WaitUntilAfter(Timestamp t, Timestamp deadline = kMaxTimestamp);

  // Raises the persisted high-water mark (Options::floor) to cover `ahead_us` past the latest
  // returned so far, so that Now() rarely has to wait for that sync itself; a background thread
  // calls it. OK without a floor; the write's error otherwise.
  absl::Status PersistAhead(int64_t ahead_us);

  ClockSource& source() const { return *source_; }
  const Options& options() const { return options_; }

 private:
  const std::unique_ptr<ClockSource> source_;
  const Options options_;

  // The source's reading, widened by the peer check; errors as Now().
  absl::StatusOr<Interval> WidenedReading() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  // The largest earliest and latest returned so far (kMinTimestamp before the first call).
  Timestamp max_earliest_ ABSL_GUARDED_BY(mu_) = kMinTimestamp;
  Timestamp max_latest_ ABSL_GUARDED_BY(mu_) = kMinTimestamp;
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_TRUETIME_H_
