// TxnTablet: a data group's replicated state machine with transactions — the pure
// txn::TransactionManager over the spanserver's storage::Engine, driven on the group's strand.
//
// It is the replication::StateMachine of every data group: committed entries go to the manager
// (which writes MVCC versions through an engine-backed txn::Store), and the server's Txn service
// calls the request methods below on the group's strand (GroupHost::WithReplica). The manager's
// Actions are carried out here: replies go to the callbacks the requests registered, group
// messages to Hooks::send (the server routes them to the target group's leader), and
// Actions::tick_after to Hooks::tick_after (a timer that calls Tick once TT.after(t)).
//
// Writes. Every record's versions go into the round's WriteBatch, which GroupHost writes together
// with the round's Paxos log writes (unsynced for the versions alone: the log is the durable
// record and is replayed after a restart). Until the host reports the batch written (Written()),
// the tablet's reads on the strand (locking reads, read-only transactions, snapshots) find those
// versions in an in-memory overlay, so they see a record as soon as the manager counts it
// applied. The Kv service's puts and deletes arrive as single-group Commits of one write
// (TxnService::CommitWrite); the put and delete records of older logs are still applied as before.
//
// Range moves and splits (proto/movement.proto; the ownership itself is the manager's replicated
// state, txn/ownership.h; the checks are txn::RangeGuard's, range_guard.h). Every key of a request
// is checked against the group's log: a key whose range the group released is refused "stale map"
// (UNAVAILABLE, txn::StaleMapError: the client refreshes its map), and so is one the server's map
// puts in another group; a key whose range the server's map gives this group at a generation the
// group has not applied yet is refused UNAVAILABLE "not applied yet" (try again, or at another
// replica). At the leader, a range fenced for its release (Fence) refuses every locking request
// with a key in it (UNAVAILABLE, nothing done: the client backs off and retries, by then at the
// range's new group), so that its locks drain and the release can be logged.
//
// Thread safety: everything runs on the group's strand.
#ifndef MERIDIAN_SPANSERVER_TABLET_TXN_TABLET_H_
#define MERIDIAN_SPANSERVER_TABLET_TXN_TABLET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/metrics.h"
#include "replication/group_host.h"
#include "spanserver/paxos/replica.h"
#include "truetime/interval.h"
#include "txn/ownership.h"
#include "txn/range_guard.h"
#include "txn/transaction_manager.h"

namespace meridian {
namespace storage {
class Engine;
class WriteBatch;
}  // namespace storage
namespace truetime {
class TrueTime;
}  // namespace truetime

namespace tablet {

class TxnTablet : public replication::StateMachine {
 public:
  struct Hooks {
    std::function<void(const txn::GroupMessage&)> send;
    std::function<void(truetime::Timestamp after)> tick_after;
    // The generation of the server's map range holding `key` when that range is this group's,
    // else 0 (RoutingTable::GroupGeneration). Unset: every key at kInitialRangeGeneration.
    std::function<uint64_t(std::string_view key)> map_generation;
  };
  using ReplyFn = std::function<void(txn::Reply)>;

  // `engine` and `truetime` are not owned and must outlive the tablet.
  TxnTablet(uint64_t group, storage::Engine* engine, truetime::TrueTime* truetime,
            const txn::TransactionManagerOptions& options, Hooks hooks);
  ~TxnTablet() override;

  // replication::StateMachine.
  void Bind(paxos::Replica* replica) override;
  absl::StatusOr<std::string> Apply(const paxos::Entry& entry) override;
  absl::StatusOr<std::string> ApplyToBatch(const paxos::Entry& entry, storage::WriteBatch* batch,
                                           truetime::Interval now) override;
  void Written() override;
  void Tick(paxos::Replica& replica, truetime::Interval now) override;
  void Stopped() override { FailAll(); }
  // Checkpoints: the manager's replicated state (txn/checkpoint.h); the data is the tablet's
  // MVCC versions and GC horizon, whose tablet id is the group id.
  std::optional<std::string> Checkpoint() override;
  absl::Status Restore(std::string_view image) override;
  std::vector<replication::KeyRange> DataRanges() const override;
  // Until Restore(), requests get UNAVAILABLE and timers and group messages are ignored.
  void BeginRestore() override;

  // Requests (on the strand). `done` is called exactly once, maybe later.
  void Read(paxos::Replica& r, truetime::Interval now, const txn::ReadRequest& req, ReplyFn done);
  void Prepare(paxos::Replica& r, truetime::Interval now, const txn::PrepareRequest& req,
               ReplyFn done);
  void Commit(paxos::Replica& r, truetime::Interval now, const txn::CommitRequest& req,
              ReplyFn done);
  void ReadOnly(paxos::Replica& r, truetime::Interval now, const txn::ReadOnlyRequest& req,
                ReplyFn done);
  void SnapshotRead(paxos::Replica& r, truetime::Interval now, const txn::SnapshotReadRequest& req,
                    ReplyFn done);

  // --- Range moves (txn_tablet_moves.cc).
  // OK when this replica serves every key of [start, end) (a scan within one range of the map);
  // else the refusal described above.
  absl::Status CheckServed(std::string_view start, std::string_view end) const;
  // Refuses locking requests with a key in `range` until TT.now().earliest passes `until_us`,
  // and (at the leader) aborts the transactions holding locks there that are not prepared.
  void Fence(paxos::Replica& r, truetime::Interval now, const txn::RangeClaim& range,
             int64_t until_us);
  // Prepared transactions and lock spans in [start, end) (txn::TransactionManager::BusyIn).
  size_t BusyIn(std::string_view start, std::string_view end) const;
  // The highest timestamp at or below which every version is final and in the engine (not only
  // in a batch the host has not written yet).
  truetime::Timestamp ExportBound() const;
  const txn::Ownership& ownership() const { return manager_->ownership(); }
  // The result string of an applied ownership record (what GroupHost::Propose's callback gets):
  // see DecodeOwnershipResult.
  struct OwnershipResult {
    bool refused = false;        // it could not take effect (changed nothing)
    truetime::Timestamp ts = 0;  // the record's (or, repeated, the first one's) timestamp
    uint64_t erased = 0;         // a drop's versions erased
  };
  static absl::StatusOr<OwnershipResult> DecodeOwnershipResult(std::string_view result);
  void Abort(paxos::Replica& r, truetime::Interval now, const txn::AbortRequest& req);
  absl::Status Keepalive(txn::TxnId txn, truetime::Interval now);
  void Receive(paxos::Replica& r, truetime::Interval now, const txn::GroupMessage& message);

  // Fails every waiting request with UNAVAILABLE, outcome unknown (the host stopped or its
  // replica was rebuilt: a request may have been logged).
  void FailAll();

 private:
  class EngineStore;
  txn::RequestId Register(ReplyFn done);
  // While a snapshot is being installed: answers `done` UNAVAILABLE (true).
  bool RefuseWhileRestoring(ReplyFn& done);
  // Answers `done` with a refusal (true) when a key is not served, or — for a locking request
  // (`locking`) — lies in a fenced range.
  bool RefuseKeys(truetime::Interval now, const std::vector<std::string_view>& keys, bool locking,
                  ReplyFn& done);
  // The same for the ranges of scans: each must be served here as a whole and, for a locking
  // request, overlap no fenced range (txn::RangeGuard::CheckRange).
  bool RefuseRanges(truetime::Interval now, const std::vector<txn::KeyRange>& ranges, bool locking,
                    ReplyFn& done);
  void Dispatch(txn::Actions actions);
  // Metrics read from the manager after each tick: this replica's safe-time lag and the lock
  // waits its lock table saw since the last tick.
  void PublishMetrics(truetime::Interval now);

  const uint64_t group_;
  storage::Engine* const engine_;
  truetime::TrueTime* const truetime_;
  const txn::TransactionManagerOptions options_;
  Hooks hooks_;
  // The per-key checks (txn/range_guard.h) over hooks_.map_generation; its fences outlive a
  // Restore (they are this replica's soft state, not the manager's).
  txn::RangeGuard guard_;
  std::unique_ptr<EngineStore> store_;
  std::unique_ptr<txn::TransactionManager> manager_;
  paxos::Replica* replica_ = nullptr;
  txn::RequestId next_id_ = 1;
  std::map<txn::RequestId, ReplyFn> waiting_;
  bool restoring_ = false;
  metrics::Gauge* const safe_time_lag_;  // in the default registry, labelled with the group
  uint64_t lock_waits_seen_ = 0;         // manager_->lock_waits() at the last tick
};

}  // namespace tablet
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_TABLET_TXN_TABLET_H_
