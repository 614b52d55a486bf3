#include "replication/round_driver.h"

#include <utility>

namespace meridian::replication {

void RoundDriver::Process(truetime::Interval now) {
  for (int round = 0; round < kMaxRoundsPerProcess; ++round) {
    if (writing_ || advance_pending_) return;
    env_->OnIdle();
    if (!replica_->HasReady()) return;
    round_ = replica_->TakeReady();
    if (round_.soft_state) env_->OnSoftState(*round_.soft_state);
    if (!round_.messages.empty()) env_->Send(std::move(round_.messages));
    const bool sync = round_.MustSync();
    if (env_->StartWrite(round_, sync)) {
      writing_ = true;
      return;
    }
    if (!EndRound()) return;
    Advance(now);
  }
}

void RoundDriver::Persisted(const truetime::Interval* now) {
  writing_ = false;
  if (!EndRound()) return;
  advance_pending_ = true;
  if (now == nullptr) return;
  Advance(*now);
  Process(*now);
}

void RoundDriver::AdvanceIfPending(truetime::Interval now) {
  if (advance_pending_) Advance(now);
}

bool RoundDriver::EndRound() {
  std::vector<paxos::Message> after = std::move(round_.messages_after_persist);
  snapshot_request_ = round_.snapshot_request;
  round_ = paxos::Ready{};
  if (!after.empty()) env_->Send(std::move(after));
  return env_->FinishApplying();
}

void RoundDriver::Advance(truetime::Interval now) {
  advance_pending_ = false;
  replica_->Advance(now);
  env_->AfterAdvance();
  if (snapshot_request_) {
    const paxos::SnapshotRequest request = *snapshot_request_;
    snapshot_request_.reset();
    env_->OnSnapshotRequest(request);
  }
}

}  // namespace meridian::replication
