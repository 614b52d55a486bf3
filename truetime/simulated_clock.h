// Simulated clocks: one virtual true timeline shared by many nodes, each with its own imperfect
// clock that reports an honest error bound (or, on request, a dishonest one).
//
// SimulatedTime is absolute ("true") time in a simulation: it moves only when a test or the
// simulator advances it. SimulatedClockSource is one node's clock on that timeline. It models
// Spanner's time daemon (§3): every `sync_interval_us` of true time the node syncs and its offset
// (local - true) is set to some value within ±base_error_us; between syncs it drifts at a constant
// `drift_ppm` (|drift_ppm| <= max_drift_ppm). The node does not know its own offset or drift, so
// it reports the bound:
//
//   error = base_error_us + ceil(max_drift_ppm * (true time since its last sync) / 1e6)
//
// and |local - true| <= error holds at every instant by construction. Sync points may be out of
// phase between nodes, and offsets jump at each sync (possibly backwards), as real clocks do.
//
// Planted bugs: SetViolation(excess_us) makes the node's clock lie: local time is then
// error + excess_us away from true time, outside the interval it reports. Checkers must catch it.
//
// Everything is deterministic: a node's behaviour is a pure function of its SimulatedClockParams
// and of true time, and RandomSimulatedClockParams draws those from an injected meridian::Random.
//
// Thread safety: SimulatedTime and SimulatedClockSource are safe to call from several threads at
// once. SleepFor on any node advances the shared timeline, i.e. every node's clock; a
// multi-node simulator normally advances SimulatedTime from its event loop instead.
#ifndef MERIDIAN_TRUETIME_SIMULATED_CLOCK_H_
#define MERIDIAN_TRUETIME_SIMULATED_CLOCK_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"
#include "truetime/clock_source.h"

namespace meridian::truetime {

class SimulatedTime {
 public:
  explicit SimulatedTime(Timestamp start_us) : now_us_(start_us) {}

  Timestamp NowUs() const;
  // Moves true time forward by `us` (ignored when <= 0).
  void Advance(int64_t us);
  // Moves true time forward to `t`; no-op if `t` is not in the future.
  void AdvanceTo(Timestamp t);

 private:
  mutable absl::Mutex mu_;
  Timestamp now_us_ ABSL_GUARDED_BY(mu_);
};

// The envelope every node's clock stays within; the reported error is computed from it.
struct SimulatedClockBounds {
  int64_t base_error_us = 1000;           // |offset| right after a sync; >= 0
  int64_t max_drift_ppm = 200;            // |drift| between syncs; 200 ppm = 200 µs/s; >= 0
  int64_t sync_interval_us = 30'000'000;  // > 0, <= 1e9 (keeps drift arithmetic exact)

  // The largest error a node ever reports: base + max drift over a whole sync interval.
  int64_t MaxErrorUs() const;
};

// One node's actual clock behaviour, inside the bounds.
struct SimulatedClockParams {
  int64_t offset_us = 0;      // local - true right after the first sync; |offset| <= base_error_us
  int64_t drift_ppm = 0;      // local runs (1 + drift_ppm / 1e6) times as fast as true time
  int64_t sync_phase_us = 0;  // the first sync was this long before creation; [0, sync_interval)
  // Unset: every sync restores offset_us (a clean sawtooth). Set: sync k >= 1 draws a fresh
  // offset in ±base_error_us from this seed and k, independently of when the clock is read.
  std::optional<uint64_t> resync_seed = std::nullopt;
};

// Draws params uniformly inside `bounds` (offset, drift, phase, resync seed). Deterministic in
// `rng`'s state.
SimulatedClockParams RandomSimulatedClockParams(const SimulatedClockBounds& bounds,
                                                meridian::Random& rng);

class SimulatedClockSource : public ClockSource {
 public:
  // `time` must outlive the source. CHECK-fails if params are outside bounds or bounds invalid.
  SimulatedClockSource(SimulatedTime* time, const SimulatedClockBounds& bounds,
                       const SimulatedClockParams& params);

  // Always OK: the reading at the current true time.
  absl::StatusOr<ClockReading> Read() override;
  std::string Describe() const override;
  // Advances the shared SimulatedTime by `us`.
  void SleepFor(int64_t us) override;

  // What Read() returns when true time is `true_us` (>= creation time). Pure.
  ClockReading ReadingAt(Timestamp true_us) const;

  // Planted bug: while `excess_us` > 0 the local clock sits error + excess_us away from true time,
  // outside its own reported bound. 0 restores honest behaviour.
  void SetViolation(int64_t excess_us) { violation_us_.store(excess_us); }

  SimulatedTime* time() const { return time_; }

 private:
  int64_t OffsetAfterSync(int64_t sync_index) const;

  SimulatedTime* const time_;
  const SimulatedClockBounds bounds_;
  const SimulatedClockParams params_;
  const Timestamp first_sync_true_us_;
  std::atomic<int64_t> violation_us_{0};
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_SIMULATED_CLOCK_H_
