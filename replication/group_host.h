// GroupHost: runs one paxos::Replica of one group inside a server process.
//
// The replica is pure; GroupHost is its adapter (ARCHITECTURE.md "The shape every component
// follows"). Every event for the replica — a delivered message, a timer tick, a proposal, a read —
// is posted to the group's own Asio strand, so the replica and the state machine are only ever
// touched by one handler at a time, and no handler blocks. Rounds follow RoundDriver
// (round_driver.h, shared with the simulator):
//   1. TakeReady(); send `messages` through the Transport;
//   2. add `committed` to a WriteBatch through StateMachine::ApplyToBatch (in log order), add hard
//      state + entries to a PaxosLogBatch, and hand both to the GroupCommitWriter (which merges
//      the rounds of every group on the server into one LevelDB write, without sync, and one
//      PaxosLog write, synced when any round must be); the completion is posted back to the
//      strand, which then
//   3. sends `messages_after_persist`, completes the proposals and reads waiting on the applied
//      entries (their writes are in the engine now), and calls Advance().
// So the strand never blocks on storage, and a round costs one write however many entries it
// applies. A round with nothing to write skips step 2, and entries that added nothing to the
// batch (no-ops, state machines kept outside the engine) are answered at once. A new TakeReady()
// waits for the previous Advance(), so output accumulates meanwhile and goes out batched.
// Delivered messages and proposals wait in an inbox that one strand handler empties, stepping the
// replica once per event and processing its output once for all of them.
//
// Compaction: once the entries applied since the last checkpoint pass compact_log_bytes/2 or
// compact_log_entries/2, a round's data also carries the state machine's checkpoint (its image
// at the round's last applied index C) and is written with sync, and its log batch the log's
// compaction point C - retain_entries, written after the data (GroupCommitWriter); the replica
// learns it at once (Replica::Compact). Hence a group's log stays near compact_log_bytes under a
// steady load, whatever its history.
//
// Durability: the Paxos log (storage::PaxosLog) is synced every round that must be; what
// applying writes to LevelDB is not, except with a checkpoint. A synced LevelDB write makes every
// earlier one durable too (storage/sync_on_close_env.h), so the data of every entry up to the
// newest durable checkpoint C is durable, and the log holds every entry after C.
//
// Restart: the state machine is restored from its checkpoint (if any) and the replica rebuilt
// from its log (GroupLogStorage) with applied = C, so the entries after C are applied again,
// whether or not their unsynced writes reached the disk; state machines must make Apply
// idempotent for entries whose writes they may already hold (MVCC writes at a fixed commit
// timestamp are). A restart that finds a snapshot
// install cut short erases the partial data and starts with nothing applied: the replica then
// asks for a snapshot or, when the log was never compacted, replays it all.
//
// Snapshots (replication/snapshot.h): a replica that asks for one (Ready::snapshot_request) has
// its state machine stop serving (BeginRestore), and the SnapshotFetcher streams the source's
// snapshot in; the install completes on the strand between rounds. OpenSnapshot serves one to
// another replica, from the strand between rounds.
//
// Thread safety: every public method is thread-safe (posts to the strand); callbacks run on the
// strand and must not block. Keep Asio and gRPC out of this header: it is widely included.
#ifndef MERIDIAN_REPLICATION_GROUP_HOST_H_
#define MERIDIAN_REPLICATION_GROUP_HOST_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "replication/snapshot.h"
#include "spanserver/paxos/replica.h"
#include "spanserver/paxos/types.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace meridian {
namespace storage {
class Engine;
class GroupCommitWriter;
class WriteBatch;
}  // namespace storage
namespace truetime {
class TrueTime;
}  // namespace truetime

namespace replication {

// The replicated application of one group. Called on the group's strand only.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  // Applies a committed entry, in log order (no-ops too). The result is handed to the proposer's
  // callback when the entry was proposed on this replica.
  // Returning an error here fences the group on this server (GroupState::fenced): the log and
  // the state would disagree from then on.
  virtual absl::StatusOr<std::string> Apply(const paxos::Entry& entry) = 0;

  // Called on the strand when the replica is built (Start), before any Apply. The pointer stays
  // valid until the host stops.
  virtual void Bind(paxos::Replica* replica) { (void)replica; }
  // Called on the strand when the host stops, after its own waiters failed: fail whatever the
  // state machine keeps waiting (nothing runs on the strand for it afterwards).
  virtual void Stopped() {}
  // Called on the strand once the writes ApplyToBatch added for a round are in the engine (also
  // after a round that added none). Until then the state machine's own reads on the strand
  // must not expect the engine to hold them.
  virtual void Written() {}
  // Called on the strand after every replica tick (timers of the state machine).
  virtual void Tick(paxos::Replica& replica, truetime::Interval now) {
    (void)replica;
    (void)now;
  }

  // --- Compaction and snapshots. A state machine whose Checkpoint() returns nullopt keeps its
  // group's log whole and cannot serve or install snapshots.
  // The replicated state after the last entry applied, as bytes to Restore() from.
  virtual std::optional<std::string> Checkpoint() { return std::nullopt; }
  // Replaces the state with a checkpoint's: before the first Apply, or after BeginRestore().
  virtual absl::Status Restore(std::string_view image) {
    (void)image;
    return absl::UnimplementedError("this state machine has no checkpoints");
  }
  // The engine key ranges that hold the state machine's data; a snapshot carries exactly them.
  virtual std::vector<KeyRange> DataRanges() const { return {}; }
  // A snapshot is about to replace the state: fail what waits and serve nothing until Restore().
  virtual void BeginRestore() {}

  // Applies a committed entry by adding its writes to `batch` instead of writing them; what
  // GroupHost calls. The host writes the batch (together with the round's Paxos log writes, in
  // one LevelDB write) before it answers the proposer or serves a read that must see the entry,
  // so the state machine must not expect its own reads to see the entry before then. Entries of
  // one round go into one batch in log order. The result and error rules are Apply's. `now` is
  // the TrueTime interval of the round (the host reads TrueTime once per round and applies
  // nothing without it): a state machine must use it rather than read TrueTime again, which may
  // have become unavailable meanwhile (a clock its peers disagree with) — an error here fences
  // the group, and a committed entry is not the place to find that out. The default calls
  // Apply() (writing at once) and adds nothing, for state machines whose state does not live in
  // the engine.
  virtual absl::StatusOr<std::string> ApplyToBatch(const paxos::Entry& entry,
                                                   storage::WriteBatch* batch,
                                                   truetime::Interval now) {
    (void)batch;
    (void)now;
    return Apply(entry);
  }
};

// Carries Paxos messages to other servers. Called on strands; must not block (queue and batch).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Send(std::vector<paxos::Message> messages) = 0;
};

// A snapshot of the replica's soft state, for status pages, heartbeats and routing.
struct GroupState {
  paxos::GroupId group = 0;
  paxos::ReplicaId self = 0;
  paxos::Role role = paxos::Role::kFollower;
  paxos::ReplicaId leader = 0;
  bool has_lease = false;
  paxos::Index commit = 0;
  paxos::Index applied = 0;
  paxos::Index last_index = 0;
  paxos::Index compacted = 0;  // the log holds no slot at or below it
  bool installing_snapshot = false;
  bool removed = false;           // the group's configuration no longer has this replica
  uint64_t dropped_messages = 0;  // paxos::Replica::dropped_messages()
  uint64_t refused_messages = 0;  // paxos::Replica::refused_messages(): fields out of bounds
  // Non-empty when this replica stopped serving the group, and why: a committed entry its state
  // machine cannot apply, or a failed write of its log (GroupHost fences the group rather than
  // stop the process; the other groups of the server go on). Until the process restarts.
  std::string fenced;
  std::vector<paxos::ReplicaId> members;
};

struct GroupHostOptions {
  paxos::Options paxos;  // group, id (= this server's id), members, lease, limits...
  int64_t tick_interval_us = 10'000;
  // Compaction (see above); 0 turns a trigger off.
  size_t compact_log_bytes = 64 << 20;
  uint64_t compact_log_entries = 200'000;
  // Entries kept below a checkpoint so that a follower a little behind needs no snapshot.
  uint64_t retain_entries = 1'000;
  // Fetches the snapshots this replica asks for; not owned. Null: it waits (and says so).
  SnapshotFetcher* snapshots = nullptr;
};

class GroupHost {
 public:
  // Everything passed in must outlive the host. `state_machine` is owned.
  GroupHost(boost::asio::io_context& io, storage::Engine* engine,
            storage::GroupCommitWriter* writer, truetime::TrueTime* truetime, Transport* transport,
            GroupHostOptions options, std::unique_ptr<StateMachine> state_machine);
  ~GroupHost();  // Stop()s first

  GroupHost(const GroupHost&) = delete;
  GroupHost& operator=(const GroupHost&) = delete;

  // Builds the replica from storage and starts ticking. Fails when the log cannot be read.
  absl::Status Start();
  // Stops ticking and fails every waiting proposal and read with UNAVAILABLE. Blocks until the
  // strand has drained its handlers for this host. Idempotent.
  void Stop();

  // A message from a peer (any thread).
  void Deliver(paxos::Message message);

  using ProposeCallback = std::function<void(absl::StatusOr<std::string> result)>;
  // Proposes `make_command(replica)` on the strand: the callback lets the caller assign a
  // timestamp (Replica::AssignTimestamp) and build the command right before it is proposed.
  // `done` gets the StateMachine's Apply result once the entry is applied here, UNAVAILABLE when
  // this replica is not the leader or loses leadership before then (the outcome is then
  // unknown), or the error make_command returned.
  using MakeCommand = std::function<absl::StatusOr<std::string>(paxos::Replica& replica)>;
  void Propose(MakeCommand make_command, ProposeCallback done);

  // A linearizable read: once this leader holds its lease and has applied everything committed
  // before the call, runs `read` on the strand (read the state machine there) and returns its
  // result through `done`. UNAVAILABLE when not the leader or without a lease.
  using ReadFn = std::function<absl::StatusOr<std::string>()>;
  void Read(ReadFn read, ProposeCallback done);

  void TransferLeadership(paxos::ReplicaId target, std::function<void(absl::Status)> done);

  // A snapshot of this replica's state machine through at least `at_least`, taken between
  // rounds. FAILED_PRECONDITION when this replica has not applied that far (or needs a snapshot
  // itself), UNIMPLEMENTED when its state machine has no checkpoints.
  using SnapshotCallback = std::function<void(absl::StatusOr<std::shared_ptr<SnapshotReader>>)>;
  void OpenSnapshot(paxos::Index at_least, SnapshotCallback done);

  // At the leader, holding its lease: takes the next step toward the configuration whose
  // replicas are `wanted` (replication/config_step.h) and logs it. Elsewhere nothing.
  void ReconcileConfig(std::vector<paxos::ReplicaId> wanted);

  // Runs `fn` on the strand, after `delay_us` (0: as soon as possible), with the replica and a
  // TrueTime reading, then carries out whatever the replica has to do (fn may Propose). fn gets a
  // null replica when the host is not running or the clock failed; it must not block.
  using ReplicaFn = std::function<void(paxos::Replica* replica, truetime::Interval now)>;
  void WithReplica(ReplicaFn fn, int64_t delay_us = 0);

  // WithReplica(fn) for each host and fn of `work`, as one batch: a single handler of the hosts'
  // io_context (they must share one) hands them to their strands. With one io thread every fn
  // then runs before the group-commit writer's Flush that the first of them leads to (see
  // SubmitRound), so the batch's proposals share one LevelDB write. Posting them one by one from
  // another thread (a gRPC handler), the io thread woke at the first, and its Flush often sent
  // the first proposal to disk alone and made the rest wait for that sync.
  struct Work {
    std::shared_ptr<GroupHost> host;
    ReplicaFn fn;
  };
  static void WithReplicas(std::vector<Work> work);

  // The latest soft state (thread-safe copy, refreshed on the strand after every event).
  GroupState state() const;
  // The leader of the latest soft state (kNoReplica when none is known); state().leader without
  // copying the member list.
  paxos::ReplicaId leader() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Converts between the replica's structs and the wire (proto/paxos.proto) lives in
// replication/paxos_wire.h; the gRPC transport in replication/grpc_transport.h.

}  // namespace replication
}  // namespace meridian

#endif  // MERIDIAN_REPLICATION_GROUP_HOST_H_
