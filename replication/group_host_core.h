// GroupHostCore: the state and the handlers behind a GroupHost (group_host.h explains what it
// does). Internal to replication/: included only by the group_host*.cc files, which define its
// methods by responsibility: lifecycle, requests and timers (group_host.cc), the rounds and
// fencing (group_host_rounds.cc), compaction and snapshots (group_host_snapshots.cc). Asio is
// included here, so this header must stay out of others.
#ifndef MERIDIAN_REPLICATION_GROUP_HOST_CORE_H_
#define MERIDIAN_REPLICATION_GROUP_HOST_CORE_H_

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "replication/group_host.h"
#include "replication/group_log_storage.h"
#include "replication/group_metrics.h"
#include "replication/round_driver.h"
#include "replication/snapshot.h"
#include "spanserver/storage/group_commit_writer.h"

namespace meridian::replication {

// Proposals and reads waiting to be applied, each; past this new ones fail RESOURCE_EXHAUSTED.
inline constexpr size_t kMaxGroupHostWaiting = 10'000;

// The host's state. Handlers posted to the strand (and the writer's completions) hold a
// shared_ptr to it, so a handler that runs after Stop() finds `stopping_` set and returns without
// touching the engine, writer, transport or clock, which may be gone by then.
class GroupHostCore : public std::enable_shared_from_this<GroupHostCore>, private RoundDriver::Env {
 public:
  using Index = paxos::Index;

  GroupHostCore(boost::asio::io_context& io, storage::Engine* engine,
                storage::GroupCommitWriter* writer, truetime::TrueTime* truetime,
                Transport* transport, GroupHostOptions options,
                std::unique_ptr<StateMachine> state_machine)
      : io_(io),
        strand_(boost::asio::make_strand(io)),
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

  absl::Status Start();
  void Stop();

  // Messages and proposals wait in the inbox for one strand handler that takes them all and
  // processes the replica's output once: under load that is one handler (and thread wakeup) and
  // one round for many events rather than one each.
  void Deliver(paxos::Message message);
  void Propose(GroupHost::MakeCommand make_command, GroupHost::ProposeCallback done);
  void Read(GroupHost::ReadFn read, GroupHost::ProposeCallback done);
  void WithReplica(GroupHost::ReplicaFn fn, int64_t delay_us);
  void TransferLeadership(paxos::ReplicaId target, std::function<void(absl::Status)> done);
  void OpenSnapshot(Index at_least, GroupHost::SnapshotCallback done);
  void ReconcileConfig(std::vector<paxos::ReplicaId> wanted);

  GroupState state() const {
    std::lock_guard<std::mutex> lock(state_mu_);
    return state_;
  }

  boost::asio::io_context& io() const { return io_; }

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
  void Fence(const std::string& reason);

  void Log(const std::string& line) const {
    std::fprintf(stderr, "group %llu replica %llu: %s\n",
                 static_cast<unsigned long long>(options_.paxos.group),
                 static_cast<unsigned long long>(options_.paxos.id), line.c_str());
  }

  // A TrueTime reading for one event. When the clock guard trips the event cannot be processed:
  // waiters are failed (their outcome would need the clock) and the error is logged once.
  absl::StatusOr<truetime::Interval> Now();

  // Ticks fall on one grid of steady-clock time (multiples of the tick interval), so the hosts
  // of a server tick together: the io thread wakes once for all of them, and their heartbeats
  // share frames. With a deadline per host (tick_interval after its last tick) the 64 groups of
  // a server woke the io thread up to 6,400 times a second while idle.
  void ArmTimer();
  void OnTick(const boost::system::error_code& ec);

  // Each event gets its own clock reading, as if it had its own handler.
  void DrainInbox();

  // Proposes on the replica; the caller runs Process().
  void DoPropose(const GroupHost::MakeCommand& make, GroupHost::ProposeCallback done,
                 truetime::Interval now);
  void DoRead(GroupHost::ReadFn read, GroupHost::ProposeCallback done);

  // Carries out the replica's pending rounds (RoundDriver), then refreshes the published state.
  void Process(truetime::Interval now);

  // RoundDriver::Env. Step 2: committed entries are chosen and durable on a majority already, so
  // their writes ride in this round's write with the log's; their proposers are answered once it
  // is done.
  void Send(std::vector<paxos::Message> messages) override;
  bool StartWrite(paxos::Ready& ready, bool sync) override;
  bool FinishApplying() override;
  void AfterAdvance() override;
  void OnIdle() override;
  void OnSnapshotRequest(const paxos::SnapshotRequest& request) override;
  void OnSnapshotFetched(absl::StatusOr<FetchedSnapshot> fetched, Index at_least);
  void FinishInstall(const FetchedSnapshot& snapshot);
  void ServeSnapshot(Index at_least, const GroupHost::SnapshotCallback& done);
  void MaybeCheckpoint(storage::GroupCommitWriter::Round* round);
  absl::StatusOr<Index> RestoreStateMachine();

  // Hands the round's batch to the writer; persist_outstanding_ stays set until OnPersisted.
  // The batch is staged, and the first group to stage one posts the Flush to the io_context:
  // it runs after the handlers already queued there, so the rounds of every group stepped
  // meanwhile (a frame of Accepts for many groups, a batch of prepares) share one write.
  void SubmitRound(storage::GroupCommitWriter::Round round);
  void OnPersisted();

  // After Stop's handler: lets Stop() return once no write of this host is outstanding.
  void SettleStop();

  // Adds the writes of `entries` to the round's batch, in log order. False when one cannot be
  // applied: the group is fenced then, and the batch must not be written.
  bool ApplyToBatch(std::vector<paxos::Entry> entries, storage::WriteBatch* batch);
  // The TrueTime interval of the round being driven: set before every driver_->Process (a round
  // starts, and so applies, only inside one), passed to the state machine's ApplyToBatch.
  truetime::Interval round_now_;

  // The round's batch is written, so its entries are applied. Answers their proposers and the
  // reads that waited for them.
  void AnswerApplied();
  void OnSoftState(const paxos::SoftState& s) override;
  void FailWaiters(const absl::Status& status);
  void StopOnStrand();
  void PublishState(truetime::Interval now);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;  // strand only
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
  std::unique_ptr<GroupLogStorage> log_;
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

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_GROUP_HOST_CORE_H_
