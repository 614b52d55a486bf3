// EventLoop implementation; see event_loop.h.
//
// Seed/workload/faults: none drawn here. Checker: the trace hash for determinism.
#include "tests/sim/event_loop.h"

#include <cstdio>
#include <utility>

namespace meridian::sim {

EventLoop::EventLoop(truetime::SimulatedTime* time, bool trace_out, uint64_t max_events)
    : time_(time), trace_out_(trace_out), max_events_(max_events), now_us_(time->NowUs()) {}

void EventLoop::At(TrueUs t, std::function<void()> fn) {
  queue_.push(Event{t < now_us_ ? now_us_ : t, seq_++, std::move(fn)});
}

bool EventLoop::RunUntil(TrueUs deadline, const std::function<bool()>& done) {
  while (!queue_.empty() && queue_.top().t <= deadline) {
    if (events_run_ >= max_events_) return false;
    Event e = std::move(const_cast<Event&>(queue_.top()));
    queue_.pop();
    now_us_ = e.t;
    time_->AdvanceTo(now_us_);
    ++events_run_;
    e.fn();
    if (done && done()) return true;
  }
  if (deadline > now_us_) {
    now_us_ = deadline;
    time_->AdvanceTo(now_us_);
  }
  return true;
}

void EventLoop::Trace(std::string_view line) {
  auto mix = [this](uint64_t byte) {
    hash_ ^= byte;
    hash_ *= 1099511628211ull;
  };
  for (int i = 0; i < 8; ++i) mix((static_cast<uint64_t>(now_us_) >> (8 * i)) & 0xff);
  for (char c : line) mix(static_cast<unsigned char>(c));
  mix('\n');
  if (trace_out_) {
    std::printf("%12.6f %.*s\n", static_cast<double>(now_us_) / 1e6, static_cast<int>(line.size()),
                line.data());
  }
}

}  // namespace meridian::sim

namespace meridian::sim {

void EventLoop::Detail(std::string_view line) const {
  if (trace_out_) std::printf("%12s   %.*s\n", "", static_cast<int>(line.size()), line.data());
}

}  // namespace meridian::sim
