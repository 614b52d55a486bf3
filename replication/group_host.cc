#include "replication/group_host.h"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "replication/config_step.h"
#include "replication/group_host_core.h"
#include "spanserver/storage/group_commit_writer.h"
#include "truetime/truetime.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using paxos::Index;
constexpr size_t kMaxWaiting = kMaxGroupHostWaiting;

}  // namespace

// Lifecycle, requests and timers.

absl::Status GroupHostCore::Start() {
  std::lock_guard<std::mutex> lock(lifecycle_mu_);
  if (stop_requested_) return absl::FailedPreconditionError("GroupHost was stopped");
  if (started_) return absl::FailedPreconditionError("GroupHost already started");
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (!now.ok()) return now.status();
  absl::StatusOr<Index> restored = RestoreStateMachine();
  if (!restored.ok()) return restored.status();
  if (writer_->paxos_log() == nullptr) {
    return absl::FailedPreconditionError("GroupHost needs a group-commit writer with a Paxos log");
  }
  auto log = std::make_unique<GroupLogStorage>(writer_->paxos_log(), options_.paxos.group);
  paxos::Options paxos_options = options_.paxos;
  paxos_options.applied = *restored;  // the log is replayed after the checkpoint (header)
  auto replica = std::make_unique<paxos::Replica>(paxos_options, log.get(), *now);
  started_ = true;
  applied_ = *restored;
  checkpoint_index_ = *restored;
  Log(absl::StrCat("started; checkpoint at ", *restored, ", log compacted through ",
                   replica->compacted(), " and ending at ", replica->last_index(), ", promised ",
                   replica->hard_state().promised.ToString(),
                   replica->snapshot_needed() ? "; needs a snapshot" : ""));
  // Installed on the strand: handlers posted before (e.g. early Deliver calls) saw no replica
  // and dropped their event.
  asio::post(strand_, [self = shared_from_this(), log = std::move(log),
                       replica = std::move(replica)]() mutable {
    self->log_ = std::move(log);
    self->replica_ = std::move(replica);
    RoundDriver::Env* env = self.get();  // private base: converted here, where it is visible
    self->driver_ = std::make_unique<RoundDriver>(self->replica_.get(), env);
    self->state_machine_->Bind(self->replica_.get());
    self->OnTick({});
  });
  return absl::OkStatus();
}

void GroupHostCore::Stop() {
  CHECK_MSG(!strand_.running_in_this_thread(), "GroupHost::Stop() called on its own strand");
  std::future<void> drained;
  {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (stop_requested_) return;
    stop_requested_ = true;
    if (!started_) return;
    drained = stop_promise_.get_future();
  }
  // From here on every handler of this host returns at once, also those already queued.
  stopping_.store(true);
  if (io_.stopped()) {
    // No handler runs any more (nor will a write completion's): finish here, without waiting.
    StopOnStrand();
    return;
  }
  // A write in flight completes later (the writer always completes what it accepted); its
  // handler then settles the stop, so the next host on this Engine reads a settled log.
  asio::post(strand_, [self = shared_from_this()] {
    self->StopOnStrand();
    self->SettleStop();
  });
  if (io_.get_executor().running_in_this_thread()) {
    // Waiting here could block the very thread that would run the handler above. Handlers
    // that start from now on do nothing, so the caller may still destroy the host.
    Log("stopping from an io_context thread; not waiting for the strand to drain");
    return;
  }
  drained.wait();
}

void GroupHostCore::Deliver(paxos::Message message) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.messages.push_back(std::move(message));
    if (drain_posted_) return;
    drain_posted_ = true;
  }
  asio::post(strand_, [self = shared_from_this()] { self->DrainInbox(); });
}

void GroupHostCore::Propose(GroupHost::MakeCommand make_command, GroupHost::ProposeCallback done) {
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.proposals.push_back(PendingProposal{std::move(make_command), std::move(done)});
    if (drain_posted_) return;
    drain_posted_ = true;
  }
  asio::post(strand_, [self = shared_from_this()] { self->DrainInbox(); });
}

void GroupHostCore::Read(GroupHost::ReadFn read, GroupHost::ProposeCallback done) {
  asio::post(strand_,
             [self = shared_from_this(), read = std::move(read), done = std::move(done)]() mutable {
               self->DoRead(std::move(read), std::move(done));
             });
}

void GroupHostCore::WithReplica(GroupHost::ReplicaFn fn, int64_t delay_us) {
  auto run = [self = shared_from_this(), fn = std::move(fn)]() mutable {
    if (!self->Running()) return fn(nullptr, truetime::Interval{});
    absl::StatusOr<truetime::Interval> now = self->Now();
    if (!now.ok()) return fn(nullptr, truetime::Interval{});
    fn(self->replica_.get(), *now);
    self->Process(*now);
  };
  if (delay_us <= 0) {
    asio::post(strand_, std::move(run));
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(strand_);
  timer->expires_after(std::chrono::microseconds(delay_us));
  timer->async_wait(asio::bind_executor(
      strand_, [timer, run = std::move(run)](const boost::system::error_code&) mutable { run(); }));
}

void GroupHostCore::TransferLeadership(paxos::ReplicaId target,
                                       std::function<void(absl::Status)> done) {
  asio::post(strand_, [self = shared_from_this(), target, done = std::move(done)] {
    if (!self->Running()) return done(self->NotRunning());
    absl::StatusOr<truetime::Interval> now = self->Now();
    if (!now.ok()) return done(now.status());
    absl::Status s = self->replica_->TransferLeadership(target, *now);
    self->Process(*now);
    done(s);
  });
}

void GroupHostCore::OpenSnapshot(Index at_least, GroupHost::SnapshotCallback done) {
  asio::post(strand_, [self = shared_from_this(), at_least, done = std::move(done)]() mutable {
    if (!self->Running()) return done(self->NotRunning());
    self->idle_work_.push_back(
        [self, at_least, done = std::move(done)] { self->ServeSnapshot(at_least, done); });
    absl::StatusOr<truetime::Interval> now = self->Now();
    if (now.ok()) self->Process(*now);
  });
}

void GroupHostCore::ReconcileConfig(std::vector<paxos::ReplicaId> wanted) {
  WithReplica(
      [self = shared_from_this(), wanted = std::move(wanted)](paxos::Replica* r,
                                                              truetime::Interval now) {
        if (r == nullptr || !r->HasLease(now) || self->installing_) return;
        // Placement's first replica is the preferred leader: it may be a new one.
        if (!wanted.empty()) r->SetPreferredLeader(wanted.front());
        const std::string done = TakeConfigStep(*r, wanted, now);
        if (!done.empty()) self->Log(done);
      },
      0);
}

absl::StatusOr<truetime::Interval> GroupHostCore::Now() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (!now.ok()) {
    if (!clock_failed_) {
      clock_failed_ = true;
      Log("TrueTime unavailable, not serving: " + now.status().ToString());
    }
    FailWaiters(absl::UnavailableError("TrueTime unavailable: " + now.status().ToString()));
    return now.status();
  }
  if (clock_failed_) {
    clock_failed_ = false;
    Log("TrueTime available again");
  }
  return now;
}

void GroupHostCore::ArmTimer() {
  using std::chrono::steady_clock;
  const auto period = std::chrono::duration_cast<steady_clock::duration>(
      std::chrono::microseconds(std::max<int64_t>(options_.tick_interval_us, 1)));
  const steady_clock::duration since_epoch = steady_clock::now().time_since_epoch();
  timer_.expires_at(steady_clock::time_point((since_epoch / period + 1) * period));
  timer_.async_wait(asio::bind_executor(
      strand_,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnTick(ec); }));
}

void GroupHostCore::OnTick(const boost::system::error_code& ec) {
  if (ec || !Running()) return;
  // A server whose disk failed serves no group, also none that has nothing to write.
  if (writer_->failed()) {
    return Fence("this server's storage failed: " + writer_->failure().ToString());
  }
  ArmTimer();
  absl::StatusOr<truetime::Interval> now = Now();
  if (!now.ok()) return;  // skip this tick
  driver_->AdvanceIfPending(*now);
  replica_->Tick(*now);
  state_machine_->Tick(*replica_, *now);
  Process(*now);
}

void GroupHostCore::DrainInbox() {
  Inbox inbox;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    std::swap(inbox, inbox_);
    drain_posted_ = false;
  }
  if (!Running()) {
    for (PendingProposal& p : inbox.proposals) p.done(NotRunning());
    return;
  }
  std::optional<truetime::Interval> last;
  for (const paxos::Message& m : inbox.messages) {
    absl::StatusOr<truetime::Interval> now = Now();
    if (!now.ok()) continue;  // dropped: Paxos retransmits
    replica_->Step(m, *now);
    last = *now;
  }
  for (PendingProposal& p : inbox.proposals) {
    absl::StatusOr<truetime::Interval> now = Now();
    if (!now.ok()) {
      p.done(absl::UnavailableError(now.status().ToString()));
      continue;
    }
    DoPropose(p.make, std::move(p.done), *now);
    last = *now;
  }
  if (last.has_value()) Process(*last);
}

void GroupHostCore::DoPropose(const GroupHost::MakeCommand& make, GroupHost::ProposeCallback done,
                              truetime::Interval now) {
  if (proposals_.size() >= kMaxWaiting) {
    return done(absl::ResourceExhaustedError("too many proposals waiting in this group"));
  }
  if (replica_->role() != paxos::Role::kLeader) {
    return done(absl::UnavailableError(absl::StrCat(
        "not the leader of group ", options_.paxos.group, "; leader is ", replica_->leader())));
  }
  absl::StatusOr<std::string> command = make(*replica_);
  if (!command.ok()) return done(command.status());
  absl::StatusOr<Index> index = replica_->Propose(*command, now);
  if (!index.ok()) return done(index.status());
  auto [it, inserted] =
      proposals_.try_emplace(*index, WaitingProposal{*std::move(command), std::move(done)});
  if (!inserted) {
    // A slot proposed under an earlier leadership of ours that has not been applied yet: its
    // outcome is unknown to that proposer.
    WaitingProposal old = std::move(it->second);
    it->second = WaitingProposal{*std::move(command), std::move(done)};
    old.done(absl::UnavailableError("lost leadership; outcome unknown"));
  }
}

void GroupHostCore::DoRead(GroupHost::ReadFn read, GroupHost::ProposeCallback done) {
  if (!Running()) return done(NotRunning());
  if (reads_.size() >= kMaxWaiting) {
    return done(absl::ResourceExhaustedError("too many reads waiting in this group"));
  }
  absl::StatusOr<truetime::Interval> now = Now();
  if (!now.ok()) return done(absl::UnavailableError(now.status().ToString()));
  absl::StatusOr<Index> index = replica_->LeaseRead(*now);
  if (!index.ok()) return done(index.status());
  if (applied_ >= *index) return done(read());
  reads_.emplace(*index, WaitingRead{std::move(read), std::move(done)});
}
class GroupHost::Impl {
 public:
  std::shared_ptr<GroupHostCore> core;
};

GroupHost::GroupHost(boost::asio::io_context& io, storage::Engine* engine,
                     storage::GroupCommitWriter* writer, truetime::TrueTime* truetime,
                     Transport* transport, GroupHostOptions options,
                     std::unique_ptr<StateMachine> state_machine)
    : impl_(std::make_unique<Impl>()) {
  impl_->core = std::make_shared<GroupHostCore>(io, engine, writer, truetime, transport,
                                                std::move(options), std::move(state_machine));
}

GroupHost::~GroupHost() { Stop(); }

absl::Status GroupHost::Start() { return impl_->core->Start(); }
void GroupHost::Stop() { impl_->core->Stop(); }
void GroupHost::Deliver(paxos::Message message) { impl_->core->Deliver(std::move(message)); }
void GroupHost::Propose(MakeCommand make_command, ProposeCallback done) {
  impl_->core->Propose(std::move(make_command), std::move(done));
}
void GroupHost::Read(ReadFn read, ProposeCallback done) {
  impl_->core->Read(std::move(read), std::move(done));
}
void GroupHost::WithReplica(ReplicaFn fn, int64_t delay_us) {
  impl_->core->WithReplica(std::move(fn), delay_us);
}
void GroupHost::OpenSnapshot(paxos::Index at_least, SnapshotCallback done) {
  impl_->core->OpenSnapshot(at_least, std::move(done));
}
void GroupHost::ReconcileConfig(std::vector<paxos::ReplicaId> wanted) {
  impl_->core->ReconcileConfig(std::move(wanted));
}
void GroupHost::TransferLeadership(paxos::ReplicaId target,
                                   std::function<void(absl::Status)> done) {
  impl_->core->TransferLeadership(target, std::move(done));
}
void GroupHost::WithReplicas(std::vector<Work> work) {
  if (work.empty()) return;
  asio::io_context& io = work.front().host->impl_->core->io();
  asio::post(io, [work = std::move(work)]() mutable {
    for (Work& w : work) w.host->WithReplica(std::move(w.fn));
  });
}
GroupState GroupHost::state() const { return impl_->core->state(); }
paxos::ReplicaId GroupHost::leader() const { return impl_->core->leader(); }

}  // namespace meridian::replication
