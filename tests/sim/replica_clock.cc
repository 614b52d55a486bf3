// ReplicaProcess's clocks: the machine clock TrueTime reads, the lies a fault can make it tell,
// and the time daemon that probes the other replicas' clocks for the peer clock check
// (truetime/peer_clock_check.h), as the spanserver's ClockMonitor does over its peer links.
//
// Seed: none drawn here (the probes' delays come from the host's own Random, see
// SendClockProbe). Faults: SetClockLie. Checkers: none here; a lie that the check lets through
// shows in the transaction checkers (realtime, snapshot, the workload's).
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/sim/replica_process.h"

namespace meridian::sim {
namespace {

// TrueTime owns its source; a process's TrueTime is rebuilt at every start over the machine
// clock, which outlives it.
class BorrowedClockSource : public truetime::ClockSource {
 public:
  explicit BorrowedClockSource(truetime::ClockSource* clock) : clock_(clock) {}
  absl::StatusOr<truetime::ClockReading> Read() override { return clock_->Read(); }
  std::string Describe() const override { return clock_->Describe(); }
  void SleepFor(int64_t us) override { clock_->SleepFor(us); }

 private:
  truetime::ClockSource* const clock_;
};

}  // namespace

std::unique_ptr<truetime::TrueTime> ReplicaProcess::MakeTrueTime() {
  truetime::TrueTime::Options options{.max_epsilon_us = 1'000'000'000};
  if (config_.clock_check) {
    options.max_epsilon_us = config_.clock_guard_us;
    options.peers = clock_check_.get();
  }
  return std::make_unique<truetime::TrueTime>(std::make_unique<BorrowedClockSource>(clock_.get()),
                                              options);
}

bool ReplicaProcess::ClockServes() {
  if (!config_.clock_check) return true;
  if (truetime_ == nullptr) return false;
  const absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (now.ok()) last_now_ = *now;
  if (now.ok() == !clock_fenced_) return now.ok();
  clock_fenced_ = !now.ok();
  loop_->Trace(absl::StrCat("clock ", Name(), now.ok() ? " serves again" : " fenced: ",
                            now.ok() ? "" : now.status().message()));
  return now.ok();
}

void ReplicaProcess::SetClockLie(int64_t excess_us) {
  clock_->SetViolation(excess_us);
  loop_->Trace(absl::StrCat("clock lie ", Name(), " ", excess_us, "us"));
}

void ReplicaProcess::StartClockDaemon() {
  if (!config_.clock_check) return;
  loop_->After(config_.clock_probe_us, [this] {
    ProbeClocks();
    StartClockDaemon();
  });
}

void ReplicaProcess::ProbeClocks() {
  const paxos::ReplicaId self = id();
  const int64_t sent_us = time_->NowUs();
  for (uint64_t peer : clock_check_->peers()) {
    SendClockProbe(static_cast<paxos::ReplicaId>(peer),
                   [self, sent_us](ReplicaProcess& p) { p.AnswerClockProbe(self, sent_us); });
  }
}

void ReplicaProcess::AnswerClockProbe(paxos::ReplicaId from, int64_t sent_us) {
  const truetime::ClockReading reading = clock_->ReadingAt(time_->NowUs());
  const paxos::ReplicaId self = id();
  SendClockProbe(from, [self, sent_us, reading](ReplicaProcess& prober) {
    if (prober.clock_check_ == nullptr) return;
    const int64_t now = prober.time_->NowUs();
    // Duplicated or reordered answers are harmless: each is a valid sample.
    prober.clock_check_
        ->AddSample(self,
                    truetime::ClockSample{.sent_mono_us = sent_us,
                                          .received_mono_us = now,
                                          .peer = reading,
                                          .received_wall_us = prober.clock_->ReadingAt(now).now_us})
        .IgnoreError();
  });
}

}  // namespace meridian::sim
