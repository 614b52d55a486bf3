#include "replication/group_host.h"

#include <algorithm>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "replication/config_step.h"
#include "replication/engine_log_storage.h"
#include "replication/group_metrics.h"
#include "replication/group_records.h"
#include "replication/round_driver.h"
#include "replication/snapshot.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/write_batch.h"
#include "truetime/truetime.h"

namespace meridian::replication {
namespace {

namespace asio = boost::asio;
using paxos::Index;

// Proposals and reads waiting to be applied, each; past this new ones fail RESOURCE_EXHAUSTED.
constexpr size_t kMaxWaiting = 10'000;

}  // namespace

// The host's state. Handlers posted to the strand (and the writer's completions) hold a
// shared_ptr to it, so a handler that runs after Stop() finds `stopping_` set and returns without
// touching the engine, writer, transport or clock, which may be gone by then.
class GroupHostCore : public std::enable_shared_from_this<GroupHostCore>, private RoundDriver::Env {
 public:
  GroupHostCore(asio::io_context& io, storage::Engine* engine, storage::GroupCommitWriter* writer,
                truetime::TrueTime* truetime, Transport* transport, GroupHostOptions options,
                std::unique_ptr<StateMachine> state_machine)
      : io_(io),
        strand_(asio::make_strand(io)),
        timer_(strand_),
        engine_(engine),
        writer_(writer),
        truetime_(truetime),
        transport_(transport),
        options_(std::move(options)),
        metrics_(options_.paxos.group),
        state_machine_(std::move(state_machine)) {
    state_.group = options_.paxos.group;
    state_.self = options_.paxos.id;
    state_.members = options_.paxos.members;
  }

  absl::Status Start() {
    std::lock_guard<std::mutex> lock(lifecycle_mu_);
    if (stop_requested_) return absl::FailedPreconditionError("GroupHost was stopped");
    if (started_) return absl::FailedPreconditionError("GroupHost already started");
    absl::StatusOr<truetime::Interval> now = truetime_->Now();
    if (!now.ok()) return now.status();
    absl::StatusOr<Index> restored = RestoreStateMachine();
    if (!restored.ok()) return restored.status();
    auto log = std::make_unique<EngineLogStorage>(engine_, options_.paxos.group);
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

  void Stop() {
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

  // Messages and proposals wait in the inbox for one strand handler that takes them all and
  // processes the replica's output once: under load that is one handler (and thread wakeup) and
  // one round for many events rather than one each.
  void Deliver(paxos::Message message) {
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_.messages.push_back(std::move(message));
      if (drain_posted_) return;
      drain_posted_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] { self->DrainInbox(); });
  }

  void Propose(GroupHost::MakeCommand make_command, GroupHost::ProposeCallback done) {
    {
      std::lock_guard<std::mutex> lock(inbox_mu_);
      inbox_.proposals.push_back(PendingProposal{std::move(make_command), std::move(done)});
      if (drain_posted_) return;
      drain_posted_ = true;
    }
    asio::post(strand_, [self = shared_from_this()] { self->DrainInbox(); });
  }

  void Read(GroupHost::ReadFn read, GroupHost::ProposeCallback done) {
    asio::post(strand_, [self = shared_from_this(), read = std::move(read),
                         done = std::move(done)]() mutable {
      self->DoRead(std::move(read), std::move(done));
    });
  }

  void WithReplica(GroupHost::ReplicaFn fn, int64_t delay_us) {
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
        strand_,
        [timer, run = std::move(run)](const boost::system::error_code&) mutable { run(); }));
  }

  void TransferLeadership(paxos::ReplicaId target, std::function<void(absl::Status)> done) {
    asio::post(strand_, [self = shared_from_this(), target, done = std::move(done)] {
      if (!self->Running()) return done(self->NotRunning());
      absl::StatusOr<truetime::Interval> now = self->Now();
      if (!now.ok()) return done(now.status());
      absl::Status s = self->replica_->TransferLeadership(target, *now);
      self->Process(*now);
      done(s);
    });
  }

  void OpenSnapshot(Index at_least, GroupHost::SnapshotCallback done) {
    asio::post(strand_, [self = shared_from_this(), at_least, done = std::move(done)]() mutable {
      if (!self->Running()) return done(self->NotRunning());
      self->idle_work_.push_back(
          [self, at_least, done = std::move(done)] { self->ServeSnapshot(at_least, done); });
      absl::StatusOr<truetime::Interval> now = self->Now();
      if (now.ok()) self->Process(*now);
    });
  }

  void ReconcileConfig(std::vector<paxos::ReplicaId> wanted) {
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

  GroupState state() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return state_;
  }

  asio::io_context& io() const { return io_; }

  paxos::ReplicaId leader() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return state_.leader;
  }

 private:
  struct WaitingProposal {
    std::string command;
    GroupHost::ProposeCallback done;
  };
  struct WaitingRead {
    GroupHost::ReadFn read;
    GroupHost::ProposeCallback done;
  };
  struct PendingProposal {
    GroupHost::MakeCommand make;
    GroupHost::ProposeCallback done;
  };
  struct Inbox {
    std::vector<paxos::Message> messages;
    std::vector<PendingProposal> proposals;
  };
  // An entry whose writes are in the round's batch, with its Apply result.
  struct Applying {
    paxos::Entry entry;
    std::string result;
  };

  // Strand only. False before Start's first handler, after Stop, and once the group is fenced.
  bool Running() const { return replica_ != nullptr && !stopping_.load() && fenced_.empty(); }

  // Why a handler that found the host not Running() refuses its request.
  absl::Status NotRunning() const {
    if (!fenced_.empty()) {
      return absl::UnavailableError(
          absl::StrCat("group ", options_.paxos.group, " is fenced on this server: ", fenced_));
    }
    return absl::UnavailableError("group host stopped");
  }

  // Stops serving the group for good (until the process restarts) without stopping the
  // process: its other groups go on. For a committed entry that the state machine cannot apply
  // (every later entry depends on it, and skipping it would make this replica's state differ
  // from the others') and for a failed write of the round's batch (what it carried is not
  // durable, so nothing of it may be acknowledged). The round in progress never ends: its
  // messages_after_persist (the acknowledgements of what was not written) are never sent, and
  // nothing after it is applied. What is durable stays as it was; a restart replays the log.
  void Fence(const std::string& reason) {
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

  void Log(const std::string& line) const {
    std::fprintf(stderr, "group %llu replica %llu: %s\n",
                 static_cast<unsigned long long>(options_.paxos.group),
                 static_cast<unsigned long long>(options_.paxos.id), line.c_str());
  }

  // A TrueTime reading for one event. When the clock guard trips the event cannot be processed:
  // waiters are failed (their outcome would need the clock) and the error is logged once.
  absl::StatusOr<truetime::Interval> Now() {
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

  // Ticks fall on one grid of steady-clock time (multiples of the tick interval), so the hosts
  // of a server tick together: the io thread wakes once for all of them, and their heartbeats
  // share frames. With a deadline per host (tick_interval after its last tick) the 64 groups of
  // a server woke the io thread up to 6,400 times a second while idle.
  void ArmTimer() {
    using std::chrono::steady_clock;
    const auto period = std::chrono::duration_cast<steady_clock::duration>(
        std::chrono::microseconds(std::max<int64_t>(options_.tick_interval_us, 1)));
    const steady_clock::duration since_epoch = steady_clock::now().time_since_epoch();
    timer_.expires_at(steady_clock::time_point((since_epoch / period + 1) * period));
    timer_.async_wait(asio::bind_executor(
        strand_,
        [self = shared_from_this()](const boost::system::error_code& ec) { self->OnTick(ec); }));
  }

  void OnTick(const boost::system::error_code& ec) {
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

  // Each event gets its own clock reading, as if it had its own handler.
  void DrainInbox() {
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

  // Proposes on the replica; the caller runs Process().
  void DoPropose(const GroupHost::MakeCommand& make, GroupHost::ProposeCallback done,
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

  void DoRead(GroupHost::ReadFn read, GroupHost::ProposeCallback done) {
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

  // Carries out the replica's pending rounds (RoundDriver), then refreshes the published state.
  void Process(truetime::Interval now) {
    driver_->Process(now);
    PublishState(now);
  }

  // RoundDriver::Env. Step 2: committed entries are chosen and durable on a majority already, so
  // their writes ride in this round's write with the log's; their proposers are answered once it
  // is done.
  void Send(std::vector<paxos::Message> messages) override {
    transport_->Send(std::move(messages));
  }

  bool StartWrite(paxos::Ready& ready, bool sync) override {
    storage::WriteBatch batch;
    if (!ApplyToBatch(std::move(ready.committed), &batch)) {
      return true;  // fenced: the round stays "in flight" for good (Fence)
    }
    // A state machine that wrote nothing to the batch has applied its entries already.
    if (batch.empty()) AnswerApplied();
    if (sync) log_->AddToBatch(ready, &batch);
    MaybeCheckpoint(ready, &batch);
    if (!sync && batch.empty()) return false;
    persist_outstanding_ = true;
    SubmitRound(std::move(batch), sync);
    return true;
  }

  bool FinishApplying() override {
    AnswerApplied();
    return true;
  }

  void AfterAdvance() override {
    if (replica_->role() != paxos::Role::kLeader) {
      FailWaiters(absl::UnavailableError("lost leadership; outcome unknown"));
    }
  }

  void OnIdle() override {
    while (!idle_work_.empty()) {
      std::vector<std::function<void()>> work = std::move(idle_work_);
      idle_work_.clear();
      for (auto& fn : work) fn();
    }
  }

  void OnSnapshotRequest(const paxos::SnapshotRequest& request) override;
  void OnSnapshotFetched(absl::StatusOr<FetchedSnapshot> fetched, Index at_least);
  void FinishInstall(const FetchedSnapshot& snapshot);
  void ServeSnapshot(Index at_least, const GroupHost::SnapshotCallback& done);
  void MaybeCheckpoint(const paxos::Ready& ready, storage::WriteBatch* batch);
  absl::StatusOr<Index> RestoreStateMachine();

  // Hands the round's batch to the writer; persist_outstanding_ stays set until OnPersisted.
  // The batch is staged, and the first group to stage one posts the Flush to the io_context:
  // it runs after the handlers already queued there, so the rounds of every group stepped
  // meanwhile (a frame of Accepts for many groups, a batch of prepares) share one write.
  void SubmitRound(storage::WriteBatch batch, bool sync) {
    absl::StatusOr<bool> staged =
        writer_->Stage(std::move(batch), sync, [self = shared_from_this()](absl::Status status) {
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
    auto pending = std::make_shared<storage::WriteBatch>(std::move(batch));
    auto timer = std::make_shared<asio::steady_timer>(strand_);
    timer->expires_after(std::chrono::microseconds(options_.tick_interval_us));
    timer->async_wait(asio::bind_executor(strand_, [self = shared_from_this(), timer, pending,
                                                    sync](const boost::system::error_code&) {
      if (self->stopping_.load()) {
        self->persist_outstanding_ = false;
        self->SettleStop();
        return;
      }
      self->SubmitRound(std::move(*pending), sync);
    }));
  }

  void OnPersisted() {
    persist_outstanding_ = false;
    retry_logged_ = false;
    if (stopping_.load()) {
      SettleStop();
      return;
    }
    // Without a clock reading the round's Advance waits for the next tick with a working clock.
    absl::StatusOr<truetime::Interval> now = Now();
    driver_->Persisted(now.ok() ? &*now : nullptr);
    if (now.ok()) PublishState(*now);
  }

  // After Stop's handler: lets Stop() return once no write of this host is outstanding.
  void SettleStop() {
    if (!stopped_ || persist_outstanding_ || stop_settled_) return;
    stop_settled_ = true;
    stop_promise_.set_value();
  }

  // Adds the writes of `entries` to the round's batch, in log order. False when one cannot be
  // applied: the group is fenced then, and the batch must not be written.
  bool ApplyToBatch(std::vector<paxos::Entry> entries, storage::WriteBatch* batch) {
    for (paxos::Entry& entry : entries) {
      const Index expected = applied_ + applying_.size() + 1;
      CHECK_MSG(entry.index == expected,
                absl::StrCat("group ", options_.paxos.group, ": applying slot ", entry.index,
                             " after ", expected - 1));
      applied_bytes_since_checkpoint_ += entry.command.size();
      absl::StatusOr<std::string> result = state_machine_->ApplyToBatch(entry, batch);
      if (!result.ok()) {
        Fence(absl::StrCat("committed slot ", entry.index,
                           " cannot be applied: ", result.status().ToString()));
        return false;
      }
      applying_.push_back(Applying{std::move(entry), *std::move(result)});
    }
    return true;
  }

  // The round's batch is written, so its entries are applied. Answers their proposers and the
  // reads that waited for them.
  void AnswerApplied() {
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

  void OnSoftState(const paxos::SoftState& s) override {
    if (s.role != last_role_ || s.leader != last_leader_) {
      Log(absl::StrCat("role ", paxos::RoleName(s.role), ", leader ", s.leader, ", ballot ",
                       s.ballot.ToString()));
      last_role_ = s.role;
      last_leader_ = s.leader;
    }
  }

  void FailWaiters(const absl::Status& status) {
    std::map<Index, WaitingProposal> proposals = std::move(proposals_);
    std::multimap<Index, WaitingRead> reads = std::move(reads_);
    proposals_.clear();
    reads_.clear();
    for (auto& [index, p] : proposals) p.done(status);
    for (auto& [index, r] : reads) r.done(status);
  }

  void StopOnStrand() {
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

  void PublishState(truetime::Interval now) {
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

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;  // strand only
  storage::Engine* const engine_;
  storage::GroupCommitWriter* const writer_;
  truetime::TrueTime* const truetime_;
  Transport* const transport_;
  const GroupHostOptions options_;
  GroupMetrics metrics_;  // strand only

  std::mutex lifecycle_mu_;
  bool started_ = false;         // guarded by lifecycle_mu_
  bool stop_requested_ = false;  // guarded by lifecycle_mu_
  std::promise<void> stop_promise_;
  std::atomic<bool> stopping_{false};  // set by Stop(); handlers check it first

  // Strand only (set up by Start() before the first handler).
  std::unique_ptr<StateMachine> state_machine_;
  std::unique_ptr<EngineLogStorage> log_;
  std::unique_ptr<paxos::Replica> replica_;
  bool stopped_ = false;
  std::unique_ptr<RoundDriver> driver_;  // over replica_, installed with it
  bool persist_outstanding_ = false;     // a round's batch is with the writer (or waiting to be)
  bool stop_settled_ = false;
  bool retry_logged_ = false;
  bool clock_failed_ = false;
  std::string fenced_;              // why the group is fenced (Fence); empty while it serves
  Index applied_ = 0;               // entries up to here are applied and written
  std::vector<Applying> applying_;  // the entries after applied_ in the current round's batch
  std::map<Index, WaitingProposal> proposals_;
  std::multimap<Index, WaitingRead> reads_;
  paxos::Role last_role_ = paxos::Role::kFollower;
  paxos::ReplicaId last_leader_ = paxos::kNoReplica;
  // Compaction and snapshots.
  Index checkpoint_index_ = 0;                   // the newest checkpoint written
  uint64_t applied_bytes_since_checkpoint_ = 0;  // command bytes applied after it
  bool checkpoints_unsupported_ = false;         // the state machine returned no image
  bool installing_ = false;                      // a snapshot is being fetched or installed
  bool no_fetcher_logged_ = false;
  std::vector<std::function<void()>> idle_work_;  // runs between rounds (OnIdle)

  std::mutex inbox_mu_;
  Inbox inbox_;                // guarded by inbox_mu_
  bool drain_posted_ = false;  // guarded by inbox_mu_: a DrainInbox handler is queued

  mutable std::mutex state_mu_;
  GroupState state_;  // guarded by state_mu_
};

// ---------------------------------------------------------------------------------------------
// Compaction and snapshots (header; replication/snapshot.h).

absl::StatusOr<Index> GroupHostCore::RestoreStateMachine() {
  return RestoreGroup(engine_, options_.paxos.group, state_machine_.get(),
                      [this](const std::string& line) { Log(line); });
}

void GroupHostCore::MaybeCheckpoint(const paxos::Ready& ready, storage::WriteBatch* batch) {
  if (checkpoints_unsupported_ || installing_ || replica_->snapshot_needed()) return;
  const Index applied = replica_->applied();  // the round's last committed entry
  const bool due = (options_.compact_log_bytes > 0 &&
                    applied_bytes_since_checkpoint_ >= options_.compact_log_bytes / 2) ||
                   (options_.compact_log_entries > 0 &&
                    applied - checkpoint_index_ >= options_.compact_log_entries / 2);
  if (!due) return;
  std::optional<std::string> image = state_machine_->Checkpoint();
  if (!image) {
    checkpoints_unsupported_ = true;
    return;
  }
  absl::StatusOr<std::optional<Index>> moved =
      AddCheckpoint(engine_, options_.paxos.group, applied, replica_->compacted(),
                    options_.retain_entries, *image, ready.entries, batch);
  if (!moved.ok()) {
    Log("not compacting the log this time: " + moved.status().ToString());
    return;
  }
  // The erasure is readable as soon as the writer writes the batch, before this round ends: the
  // replica must know of it first, or it would report the erased slots as holes (and a candidate
  // would fill chosen slots with no-ops). Found by the simulator (paxos seed 10318).
  if (moved->has_value()) replica_->Compact(**moved);
  checkpoint_index_ = applied;
  applied_bytes_since_checkpoint_ = 0;
}

void GroupHostCore::OnSnapshotRequest(const paxos::SnapshotRequest& request) {
  if (installing_) return;
  if (options_.snapshots == nullptr) {
    if (!no_fetcher_logged_) {
      no_fetcher_logged_ = true;
      Log("needs a snapshot but this host cannot fetch one; waiting");
    }
    replica_->SnapshotFailed();
    return;
  }
  installing_ = true;
  state_machine_->BeginRestore();
  FailWaiters(absl::UnavailableError("this replica is installing a snapshot"));
  // Never install one at or below what is applied: its data would be erased for nothing.
  const Index at_least = std::max(request.at_least, replica_->applied() + 1);
  Log(absl::StrCat("fetching a snapshot through at least ", at_least, " from replica ",
                   request.from));
  auto writer =
      std::make_shared<SnapshotWriter>(engine_, options_.paxos.group, state_machine_->DataRanges());
  options_.snapshots->Fetch(
      options_.paxos.group, request.from, at_least, writer,
      [self = shared_from_this(), at_least](absl::StatusOr<FetchedSnapshot> fetched) mutable {
        asio::post(self->strand_, [self, at_least, fetched = std::move(fetched)]() mutable {
          self->OnSnapshotFetched(std::move(fetched), at_least);
        });
      });
}

void GroupHostCore::OnSnapshotFetched(absl::StatusOr<FetchedSnapshot> fetched, Index at_least) {
  if (!Running()) return;
  if (fetched.ok() && fetched->index < at_least) {
    fetched = absl::FailedPreconditionError(absl::StrCat("the snapshot reaches ", fetched->index,
                                                         ", short of the ", at_least, " needed"));
  }
  if (!fetched.ok()) {
    Log("snapshot fetch failed: " + fetched.status().ToString() + "; asking again later");
    installing_ = false;
    replica_->SnapshotFailed();
    return;
  }
  idle_work_.push_back([this, snapshot = *std::move(fetched)] { FinishInstall(snapshot); });
  absl::StatusOr<truetime::Interval> now = Now();
  if (now.ok()) Process(*now);
}

// Between rounds: nothing of this group is being written, and no Ready is outstanding.
void GroupHostCore::FinishInstall(const FetchedSnapshot& snapshot) {
  const paxos::GroupId group = options_.paxos.group;
  absl::StatusOr<truetime::Interval> now = Now();
  absl::Status restored = now.ok() ? state_machine_->Restore(snapshot.image) : now.status();
  if (!restored.ok()) {
    Log("cannot install the snapshot: " + restored.ToString() + "; asking again later");
    installing_ = false;
    replica_->SnapshotFailed();
    return;
  }
  // One synced write on the strand: a rare event, and nothing of this group may interleave.
  const absl::Status s = WriteInstalledSnapshot(engine_, group, snapshot, replica_->compacted());
  if (!s.ok()) return Fence("writing an installed snapshot failed: " + s.ToString());
  installing_ = false;
  applied_ = snapshot.index;
  checkpoint_index_ = snapshot.index;
  applied_bytes_since_checkpoint_ = 0;
  replica_->InstallSnapshot(snapshot.index, snapshot.config, snapshot.config_index, *now);
  Log(absl::StrCat("installed a snapshot through ", snapshot.index));
}

void GroupHostCore::ServeSnapshot(Index at_least, const GroupHost::SnapshotCallback& done) {
  if (!Running()) return done(NotRunning());
  if (installing_ || replica_->snapshot_needed()) {
    return done(absl::FailedPreconditionError("this replica is waiting for a snapshot itself"));
  }
  if (applied_ < at_least) {
    return done(absl::FailedPreconditionError(
        absl::StrCat("this replica has applied through ", applied_, ", not ", at_least)));
  }
  std::optional<std::string> image = state_machine_->Checkpoint();
  if (!image) return done(absl::UnimplementedError("this state machine has no checkpoints"));
  std::shared_ptr<storage::Engine::Snapshot> view = engine_->TakeSnapshot();
  const paxos::HardState& hard = replica_->hard_state();  // its configuration is applied
  done(std::make_shared<SnapshotReader>(
      engine_, std::move(view), state_machine_->DataRanges(), applied_, *std::move(image),
      paxos::Config{hard.members, hard.learners}, hard.config_index));
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
