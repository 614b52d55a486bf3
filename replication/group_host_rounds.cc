// GroupHostCore's rounds (RoundDriver::Env), their writes and answers, and fencing.
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "replication/group_host_core.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using paxos::Index;

}  // namespace

void GroupHostCore::Fence(const std::string& reason) {
  if (!fenced_.empty() || stopping_.load()) return;
  fenced_ = reason;
  Log("FENCED: stops serving this group until the server restarts: " + reason);
  timer_.cancel();
  FailWaiters(NotRunning());
  state_machine_->Stopped();
  std::lock_guard<std::mutex> lock(state_mu_);
  state_.role = paxos::Role::kFollower;
  state_.has_lease = false;
  if (state_.leader == state_.self) state_.leader = paxos::kNoReplica;
  state_.fenced = fenced_;
}

void GroupHostCore::Process(truetime::Interval now) {
  round_now_ = now;
  driver_->Process(now);
  PublishState(now);
}

void GroupHostCore::Send(std::vector<paxos::Message> messages) {
  transport_->Send(std::move(messages));
}

bool GroupHostCore::StartWrite(paxos::Ready& ready, bool sync) {
  storage::GroupCommitWriter::Round round;
  if (!ApplyToBatch(std::move(ready.committed), &round.data)) {
    return true;  // fenced: the round stays "in flight" for good (Fence)
  }
  // A state machine that wrote nothing to the batch has applied its entries already.
  if (round.data.empty()) AnswerApplied();
  if (sync) log_->AddToBatch(ready, &round.log);
  round.sync_log = sync;
  MaybeCheckpoint(&round);
  if (!sync && round.data.empty() && round.log.empty()) return false;
  persist_outstanding_ = true;
  SubmitRound(std::move(round));
  return true;
}

bool GroupHostCore::FinishApplying() {
  AnswerApplied();
  return true;
}

void GroupHostCore::AfterAdvance() {
  if (replica_->role() != paxos::Role::kLeader) {
    FailWaiters(absl::UnavailableError("lost leadership; outcome unknown"));
  }
}

void GroupHostCore::OnIdle() {
  while (!idle_work_.empty()) {
    std::vector<std::function<void()>> work = std::move(idle_work_);
    idle_work_.clear();
    for (auto& fn : work) fn();
  }
}

void GroupHostCore::SubmitRound(storage::GroupCommitWriter::Round round) {
  absl::StatusOr<bool> staged =
      writer_->StageRound(std::move(round), [self = shared_from_this()](absl::Status status) {
        asio::post(self->strand_, [self, status] {
          if (status.ok()) return self->OnPersisted();
          // persist_outstanding_ stays set: the round never ends (Fence), and nothing that
          // waited for this write is acknowledged.
          self->persist_outstanding_ = false;
          self->Fence(
              "the write of its Paxos log and applied entries failed (nothing of it "
              "was acknowledged): " +
              status.ToString());
          self->SettleStop();
        });
      });
  if (staged.ok()) {
    // The writer outlives the io_context's handlers (it is shut down after the hosts stop and
    // flushes what is staged itself then).
    if (*staged) asio::post(io_, [writer = writer_] { writer->Flush(); });
    return;
  }
  const absl::Status s = staged.status();
  // Not accepted: nothing was written and the callback will not run. The Ready is already
  // taken, so keep its batch and retry from a timer: the queue is full (flow control), or the
  // writer is shut down (the server is going away, and nothing may be acknowledged meanwhile).
  if (!retry_logged_) {
    retry_logged_ = true;
    Log("group-commit writer refused a batch, retrying: " + s.ToString());
  }
  auto pending = std::make_shared<storage::GroupCommitWriter::Round>(std::move(round));
  auto timer = std::make_shared<asio::steady_timer>(strand_);
  timer->expires_after(std::chrono::microseconds(options_.tick_interval_us));
  timer->async_wait(asio::bind_executor(
      strand_, [self = shared_from_this(), timer, pending](const boost::system::error_code&) {
        if (self->stopping_.load()) {
          self->persist_outstanding_ = false;
          self->SettleStop();
          return;
        }
        self->SubmitRound(std::move(*pending));
      }));
}

void GroupHostCore::OnPersisted() {
  persist_outstanding_ = false;
  retry_logged_ = false;
  if (stopping_.load()) {
    SettleStop();
    return;
  }
  // Without a clock reading the round's Advance waits for the next tick with a working clock.
  absl::StatusOr<truetime::Interval> now = Now();
  if (now.ok()) round_now_ = *now;
  driver_->Persisted(now.ok() ? &*now : nullptr);
  if (now.ok()) PublishState(*now);
}

void GroupHostCore::SettleStop() {
  if (!stopped_ || persist_outstanding_ || stop_settled_) return;
  stop_settled_ = true;
  stop_promise_.set_value();
}

bool GroupHostCore::ApplyToBatch(std::vector<paxos::Entry> entries, storage::WriteBatch* batch) {
  for (paxos::Entry& entry : entries) {
    const Index expected = applied_ + applying_.size() + 1;
    CHECK_MSG(entry.index == expected,
              absl::StrCat("group ", options_.paxos.group, ": applying slot ", entry.index,
                           " after ", expected - 1));
    applied_bytes_since_checkpoint_ += entry.command.size();
    absl::StatusOr<std::string> result = state_machine_->ApplyToBatch(entry, batch, round_now_);
    if (!result.ok()) {
      Fence(absl::StrCat("committed slot ", entry.index,
                         " cannot be applied: ", result.status().ToString()));
      return false;
    }
    applying_.push_back(Applying{std::move(entry), *std::move(result)});
  }
  return true;
}

void GroupHostCore::AnswerApplied() {
  state_machine_->Written();
  for (Applying& a : applying_) {
    applied_ = a.entry.index;
    auto it = proposals_.find(a.entry.index);
    if (it == proposals_.end()) continue;
    WaitingProposal p = std::move(it->second);
    proposals_.erase(it);
    if (a.entry.type == paxos::EntryType::kNormal && a.entry.command == p.command) {
      p.done(std::move(a.result));
    } else {
      p.done(absl::UnavailableError("lost leadership; outcome unknown"));
    }
  }
  applying_.clear();
  metrics_.OnApplied(applied_);
  while (!reads_.empty() && reads_.begin()->first <= applied_) {
    WaitingRead r = std::move(reads_.begin()->second);
    reads_.erase(reads_.begin());
    r.done(r.read());
  }
}

void GroupHostCore::OnSoftState(const paxos::SoftState& s) {
  if (s.role != last_role_ || s.leader != last_leader_) {
    Log(absl::StrCat("role ", paxos::RoleName(s.role), ", leader ", s.leader, ", ballot ",
                     s.ballot.ToString()));
    last_role_ = s.role;
    last_leader_ = s.leader;
  }
}

void GroupHostCore::FailWaiters(const absl::Status& status) {
  std::map<Index, WaitingProposal> proposals = std::move(proposals_);
  std::multimap<Index, WaitingRead> reads = std::move(reads_);
  proposals_.clear();
  reads_.clear();
  for (auto& [index, p] : proposals) p.done(status);
  for (auto& [index, r] : reads) r.done(status);
}

void GroupHostCore::StopOnStrand() {
  stopped_ = true;
  timer_.cancel();
  FailWaiters(absl::UnavailableError("group host stopped"));
  // A fenced group's state machine was told already.
  if (state_machine_ != nullptr && fenced_.empty()) state_machine_->Stopped();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    state_.role = paxos::Role::kFollower;
    state_.has_lease = false;
  }
  Log("stopped");
}

void GroupHostCore::PublishState(truetime::Interval now) {
  GroupState s;
  s.group = options_.paxos.group;
  s.self = options_.paxos.id;
  s.role = replica_->role();
  s.leader = replica_->leader();
  s.has_lease = replica_->HasLease(now);
  s.commit = replica_->commit();
  s.applied = applied_;
  s.last_index = replica_->last_index();
  s.compacted = replica_->compacted();
  s.installing_snapshot = installing_;
  s.removed = replica_->removed();
  s.dropped_messages = replica_->dropped_messages();
  s.refused_messages = replica_->refused_messages();
  if (!fenced_.empty()) {
    // It serves nothing, whatever the replica's view: no reads, no proposals, no lease.
    s.fenced = fenced_;
    s.role = paxos::Role::kFollower;
    s.has_lease = false;
    if (s.leader == s.self) s.leader = paxos::kNoReplica;
  }
  metrics_.OnPublished(s, replica_->lease_end(), now);
  const std::vector<paxos::ReplicaId>& members = replica_->config().voters;
  std::lock_guard<std::mutex> lock(state_mu_);
  // Runs after every event: copy the member list (an allocation) only when it changed.
  if (state_.members != members) state_.members = members;
  s.members = std::move(state_.members);
  state_ = std::move(s);
}

}  // namespace meridian::replication
