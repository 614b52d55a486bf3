// PeerClockCheck: TrueTime that holds when one server's clock lies. Each server probes its peers'
// clocks and widens its own interval until it agrees with a majority of the cluster, as Spanner's
// time daemons apply Marzullo's algorithm to their time masters: intervals widen, they do not lie.
// A clock so far off that the widening passes TrueTime's guard makes TT.now() UNAVAILABLE, and a
// server without TrueTime grants no lease votes, leads nothing and assigns no timestamps.
//
// Measurement (NTP's and CockroachDB's RemoteClockMonitor's round trip): a probe leaves at this
// server's monotonic time s and the answer, carrying the peer's raw source reading r ± e, comes
// back at monotonic time t. If the peer is honest, absolute time at its reading lay in
// [r - e, r + e], and that reading happened between s and t. So, projected along this server's
// monotonic clock, absolute time at monotonic time m >= t lies in
//
//   [r - e + (m - t) - drift(m - s),  r + e + (m - s) + drift(m - s)]
//
// where drift allows the monotonic clock to run off true rate by `mono_drift_ppm`. The monotonic
// clock is not stepped when the wall clock is (settimeofday, an NTP step), so a step of this
// server's wall clock shows at its very next TT.now(), not only at the next probe. Samples of one
// peer are intersected, newest first, for a tighter interval; an older sample that disagrees with
// the newer ones is dropped (the peer or this server's monotonic clock was stepped).
//
// Judgement (Marzullo): the sources are this server's own interval [now - err, now + err] and one
// projected interval per peer with a fresh sample. With N = 1 + peers servers and a majority
// m = N / 2 + 1, absolute time lies, if at most N - m clocks lie, in every point covered by at
// least m intervals. The returned interval is the hull of this server's own interval and that
// region; the widening is how far it reaches past the server's own. If no point is covered by m
// intervals (too few fresh peers, or a majority that cannot agree) the check fails: this server
// cannot tell whose clock is right. Peers without a fresh sample count in N but cover nothing, so
// a server cut off from its peers loses TrueTime after `sample_ttl_us` (it would have lost its
// leases by then), and a server that just started has none until its first answers arrive.
//
// An honest cluster pays for the check: the projected intervals are wider than the peers' own by
// the one-way delays, so the hull reaches past this server's interval by about the smaller of
// the one-way delays to its peers (tens of microseconds on a LAN). That is the price of proof;
// `widen_*_us` in the report shows it.
//
// Planted bug: `testing_ignore` makes Check() report no widening and never fail (the simulator's
// `testing_ignore_clock_offset`); the checkers must then find the anomalies a lying clock causes.
//
// Thread safety: every method is safe to call from several threads at once.
#ifndef MERIDIAN_TRUETIME_PEER_CLOCK_CHECK_H_
#define MERIDIAN_TRUETIME_PEER_CLOCK_CHECK_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "truetime/clock_source.h"

namespace meridian::truetime {

// One probe's result.
struct ClockSample {
  int64_t sent_mono_us = 0;        // this server's monotonic clock when the probe left
  int64_t received_mono_us = 0;    // ... when the answer arrived
  ClockReading peer;               // the peer's raw source reading, taken in between
  Timestamp received_wall_us = 0;  // this server's raw reading when the answer arrived (reports)
};

struct PeerClockOptions {
  // A sample whose answer arrived longer ago than this (monotonic) no longer counts.
  int64_t sample_ttl_us = 3'000'000;
  // How far the monotonic clock may run from the true rate (CLOCK_MONOTONIC is slewed by NTP by
  // at most 500 ppm; an undisciplined crystal is within 200).
  int64_t mono_drift_ppm = 500;
  // Samples kept per peer.
  size_t samples_per_peer = 8;
  // Planted bug (see the header comment).
  bool testing_ignore = false;
};

// How far TT.now() must reach past this server's own reading to agree with a majority.
struct ClockWidening {
  int64_t early_us = 0;  // the interval's earliest moves down by this much
  int64_t late_us = 0;   // its latest moves up by this much
  int64_t max_us() const { return early_us > late_us ? early_us : late_us; }
};

// What the check knows, for logs, status and metrics.
struct PeerClockReport {
  struct Peer {
    uint64_t id = 0;
    bool fresh = false;     // a sample within the time to live
    int64_t offset_us = 0;  // the peer's clock minus this one's, middle of the measured bound
    int64_t bound_us = 0;   // half-width of that bound: rtt / 2 plus both errors
    int64_t rtt_us = 0;     // of the newest sample
    int64_t age_us = 0;     // since the newest sample's answer arrived
  };
  std::vector<Peer> peers;
  ClockWidening widening;  // of the last Check()
  std::string failure;     // of the last Check(); empty when it succeeded
};

class PeerClockCheck {
 public:
  // `mono_now_us` is this server's monotonic clock (never stepped; the simulator passes true
  // time). CHECK-fails on a null function or negative options.
  explicit PeerClockCheck(std::function<int64_t()> mono_now_us, PeerClockOptions options = {});

  PeerClockCheck(const PeerClockCheck&) = delete;
  PeerClockCheck& operator=(const PeerClockCheck&) = delete;

  // The servers whose clocks this one is judged against, itself excluded: the other replicas of
  // its groups. Samples of servers no longer listed are forgotten.
  void SetPeers(const std::vector<uint64_t>& peers);
  std::vector<uint64_t> peers() const;

  // Records a probe's answer. INVALID_ARGUMENT (and nothing recorded) for a peer not listed, an
  // answer that arrived before its probe left or after now, or a negative error.
  absl::Status AddSample(uint64_t peer, const ClockSample& sample);

  // The widening this server's reading `own` (taken just now) needs. UNAVAILABLE, saying why,
  // when no majority of the cluster agrees on any point.
  absl::StatusOr<ClockWidening> Check(const ClockReading& own);

  PeerClockReport Report() const;
  int64_t MonoNowUs() const { return mono_now_us_(); }

 private:
  struct Range {
    Timestamp lo = 0;
    Timestamp hi = 0;
  };
  // The projected interval of `peer` at monotonic time `mono`, intersected over its samples;
  // false when it has no fresh sample.
  bool Project(std::deque<ClockSample>& samples, int64_t mono, Range* out) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::function<int64_t()> mono_now_us_;
  const PeerClockOptions options_;

  mutable absl::Mutex mu_;
  std::map<uint64_t, std::deque<ClockSample>> samples_ ABSL_GUARDED_BY(mu_);  // newest first
  ClockWidening last_widening_ ABSL_GUARDED_BY(mu_);
  std::string last_failure_ ABSL_GUARDED_BY(mu_);
};

// Marzullo's region: the lowest and highest points covered by at least `quorum` of `ranges`
// (closed intervals). False when no point is. Pure; exposed for tests.
bool MajorityRegion(const std::vector<std::pair<Timestamp, Timestamp>>& ranges, size_t quorum,
                    std::pair<Timestamp, Timestamp>* region);

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_PEER_CLOCK_CHECK_H_
