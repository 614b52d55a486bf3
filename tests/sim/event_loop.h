// EventLoop: the simulator's single thread of control. Events run in (virtual time, insertion
// order); before each one, the shared SimulatedTime moves to the event's time, so every node's
// simulated clock reads that instant. Every traced event is folded into a 64-bit trace hash,
// which the determinism checker compares across two runs of one seed.
//
// Seed: the loop itself draws no randomness. Workload/faults: whatever schedules events.
// Checkers: determinism (trace_hash). Bounded: Run stops at a deadline or an event budget.
// Thread safety: none; one thread.
#ifndef MERIDIAN_TESTS_SIM_EVENT_LOOP_H_
#define MERIDIAN_TESTS_SIM_EVENT_LOOP_H_

#include <cstdint>
#include <functional>
#include <queue>
#include <string_view>
#include <vector>

#include "tests/sim/history.h"
#include "truetime/simulated_clock.h"

namespace meridian::sim {

class EventLoop {
 public:
  // `time` must outlive the loop. `trace_out`: print every traced line (--verbose) when true.
  EventLoop(truetime::SimulatedTime* time, bool trace_out, uint64_t max_events);

  TrueUs now() const { return now_us_; }
  // Schedules `fn` at absolute true time `t` (clamped to now).
  void At(TrueUs t, std::function<void()> fn);
  void After(int64_t delay_us, std::function<void()> fn) { At(now_us_ + delay_us, std::move(fn)); }

  // Runs events with time <= `deadline`; stops early once `done()` holds after an event. Returns
  // false when the event budget is exhausted (the run must then be reported as failed).
  bool RunUntil(TrueUs deadline, const std::function<bool()>& done = nullptr);

  // Folds one line into the trace hash; prints it with the time when tracing.
  void Trace(std::string_view line);
  // Prints `line` when tracing, without hashing it (details that only --verbose shows).
  void Detail(std::string_view line) const;
  bool tracing() const { return trace_out_; }
  uint64_t trace_hash() const { return hash_; }
  uint64_t events_run() const { return events_run_; }
  bool budget_exhausted() const { return events_run_ >= max_events_; }

 private:
  struct Event {
    TrueUs t;
    uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.t != b.t ? a.t > b.t : a.seq > b.seq;
    }
  };

  truetime::SimulatedTime* const time_;
  const bool trace_out_;
  const uint64_t max_events_;
  TrueUs now_us_;
  uint64_t seq_ = 0;
  uint64_t events_run_ = 0;
  uint64_t hash_ = 1469598103934665603ull;  // FNV-1a offset basis
  std::priority_queue<Event, std::vector<Event>, Later> queue_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_EVENT_LOOP_H_
