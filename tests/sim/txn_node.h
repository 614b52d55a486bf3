// TxnNode: one simulated server replica of a data group for the transaction workloads: a
// ReplicaProcess (replica_process.h: the replica, its disk, clock, ticks, crashes, pauses and
// Ready cycle) whose state machine is an in-memory multi-version store and a
// txn::TransactionManager, driven the way the spanserver's tablet drives them:
//   * committed entries go through TransactionManager::Apply;
//   * client requests (TxnRequest) and group messages go to the manager; the Actions it returns
//     are carried out: replies go back through the ReplyFn the request came with, group messages
//     go to the host for routing, and a tick is scheduled for when TT.after(tick_after) holds
//     (checked on the node's own clock), besides the regular tick timer.
// Nothing survives a crash but the synced disk: Restart builds a new replica, an empty store and
// a new manager, restores both from the disk's checkpoint (the manager's image is
// TransactionManager::Checkpoint(), the data the store's versions) and replays the log after it.
// A snapshot install replaces store and manager the same way. Requests waiting at a crashed node,
// or at one that installs a snapshot, are lost (the client times out).
//
// Range moves and splits, as the spanserver runs them: every key of a client request first goes
// through the real txn::RangeGuard (txn/range_guard.h) with this server's copy of the range map
// (TxnNodeHost::MapGeneration, lagging the authoritative map) and the manager's ownership; and
// the movement steps (MoveRequest, from the simulated mover, txn_mover.h) run here as
// spanserver/server/movement_service.cc runs them (txn_node_moves.cc): Export reads the store
// between two timestamps (bound: the manager's SafeTime, the tablet's ExportBound in a store that
// has nothing unwritten), Ingest/Release/Adopt/Drop propose an ownership record through the
// replica and answer once it applied here; Release fences the range, wounds its lock holders and
// proposes only when TransactionManager::BusyIn finds nothing left in it.
//
// Seed: disk latency and tick jitter from the node's Random. Faults: Crash (loses unsynced state,
// the guard's fences and the movement steps waiting for their record), restart, Pause (ticks,
// deliveries and syncs wait until it resumes). Planted bugs: the TransactionManagerOptions
// testing_* knobs, guard.testing_serve_before_adopt, and testing_release_without_drain (here:
// Release proposes without waiting for the range to drain). Checkers: every apply and its
// ApplyResult, every state and checkpoint go to the TxnNodeHost. Thread safety: none; the
// EventLoop's thread.
#ifndef MERIDIAN_TESTS_SIM_TXN_NODE_H_
#define MERIDIAN_TESTS_SIM_TXN_NODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "common/random.h"
#include "spanserver/paxos/replica.h"
#include "tests/sim/event_loop.h"
#include "tests/sim/history.h"
#include "tests/sim/network.h"
#include "tests/sim/replica_process.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"
#include "txn/range_guard.h"
#include "txn/records.h"
#include "txn/transaction_manager.h"

namespace meridian::sim {

// A client's keepalive for a transaction (answered with OK or ABORTED).
struct KeepaliveRequest {
  txn::TxnId txn = 0;
};

using TxnRequest =
    std::variant<txn::ReadRequest, txn::PrepareRequest, txn::CommitRequest, txn::AbortRequest,
                 KeepaliveRequest, txn::ReadOnlyRequest, txn::SnapshotReadRequest>;
const char* TxnRequestName(const TxnRequest& request);

// The in-memory multi-version store of one replica: key -> (timestamp -> value or delete).
class SimStore : public txn::Store {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, txn::Timestamp ts) override;
  absl::Status Write(txn::Timestamp ts, const std::vector<txn::Mutation>& writes) override;

  // Range moves. The simulator collects no garbage: a horizon above 0 is UNIMPLEMENTED.
  absl::Status WriteVersions(const std::vector<txn::Version>& versions) override;
  absl::StatusOr<uint64_t> EraseVersions(std::string_view start, std::string_view end,
                                         uint64_t limit) override;
  absl::Status RaiseHorizon(txn::Timestamp horizon) override;
  // The versions of keys in [start, end) with after_ts < ts <= upto_ts, by key and timestamp.
  std::vector<txn::Version> Export(std::string_view start, std::string_view end,
                                   txn::Timestamp after_ts, txn::Timestamp upto_ts) const;
  // True when no key in [start, end) has a version.
  bool Empty(std::string_view start, std::string_view end) const;

  // Every version, as bytes (a snapshot's data):
  //   store   := (key:bytes count:uint64 version*)*      keys ascending
  //   version := ts:int64 deleted:uint64 [value:bytes]   timestamps ascending
  // with common/key_encoding.h's encodings.
  std::string Encode() const;
  // DATA_LOSS when `bytes` is not an Encode() result.
  static absl::StatusOr<std::unique_ptr<SimStore>> Decode(std::string_view bytes);

 private:
  std::map<std::string, std::map<txn::Timestamp, std::optional<std::string>>, std::less<>> data_;
};

// One step of a range move or split, as proto/movement.proto's calls carry it.
struct MoveRequest {
  enum class Op : uint8_t { kExport, kIngest, kRelease, kAdopt, kDrop };
  Op op = Op::kExport;
  std::vector<txn::RangeClaim> claims;  // one; an Adopt of a split names both halves
  txn::Timestamp after_ts = 0;          // Export: versions above it
  txn::Timestamp upto_ts = 0;           // Export: and at or below it (0: the bound, see above)
  uint64_t released_generation = 0;     // Export of the changes after a release
  std::vector<txn::Version> versions;   // Ingest
  txn::Timestamp above_ts = 0;          // Adopt: its record's timestamp is above this
};
struct MoveReply {
  absl::Status status;
  std::vector<txn::Version> versions;  // Export
  txn::Timestamp upto_ts = 0;          // Export: the bound used
  txn::Timestamp ts = 0;               // Release, Adopt: the record's timestamp
  uint64_t erased = 0;                 // Drop
  bool done = false;                   // Drop: nothing of the range is left here
};
const char* MoveOpName(MoveRequest::Op op);

class TxnNode;

// What a node needs from the simulator around it.
class TxnNodeHost {
 public:
  virtual ~TxnNodeHost() = default;
  virtual void SendPaxos(Addr from, const paxos::Message& m) = 0;
  virtual void SendGroupMessage(TxnNode& from, const txn::GroupMessage& m) = 0;
  // Runs `arrive` on the node of replica `to` of `from`'s group when a message sent now arrives.
  virtual void SendToReplica(TxnNode& from, paxos::ReplicaId to,
                             std::function<void(ReplicaProcess&)> arrive) = 0;
  // The same for a clock probe (ReplicaProcess::SendClockProbe).
  virtual void SendClockProbe(TxnNode& from, paxos::ReplicaId to,
                              std::function<void(ReplicaProcess&)> arrive) = 0;
  // The generation at which `node`'s server map gives the range of `key` to its group, else 0.
  virtual uint64_t MapGeneration(const TxnNode& node, std::string_view key) = 0;
  // Records a node's state or checkpoint (ApplyRecord::kind).
  virtual void OnState(ApplyRecord record) = 0;
  // After `node` applied `e`; `result` is what the manager said it did (or its error).
  virtual void OnApplied(TxnNode& node, const paxos::Entry& e,
                         const absl::StatusOr<txn::ApplyResult>& result) = 0;
};

struct TxnNodeConfig : NodeConfig {
  txn::TransactionManagerOptions txn;
};

class TxnNode : public ReplicaProcess {
 public:
  // The answer to a request, with the replica's leader hint (kNoReplica when unknown).
  using ReplyFn = std::function<void(const txn::Reply& reply, paxos::ReplicaId leader_hint)>;

  TxnNode(Addr addr, const TxnNodeConfig& config, EventLoop* loop, truetime::SimulatedTime* time,
          TxnNodeHost* host, uint64_t seed);

  void DeliverPaxos(const paxos::Message& m);
  // A client request; `reply` runs once the manager answers (never if the node crashes first).
  // A request that reaches a crashed node is lost.
  void HandleRequest(const TxnRequest& request, ReplyFn reply);
  // A group message; only a leader hands it to its manager (others drop it: the sender retries).
  void HandleGroupMessage(const txn::GroupMessage& m);

  // A step of a range move (see above); `reply` runs once it is done or refused (UNAVAILABLE
  // when another entry took the record's slot; never if the node crashes or restores first).
  using MoveReplyFn = std::function<void(const MoveReply& reply, paxos::ReplicaId leader_hint)>;
  void HandleMove(const MoveRequest& request, MoveReplyFn reply);

  txn::TransactionManager& manager() { return *manager_; }

 private:
  void OnStart() override;
  void OnCrash() override;
  void OnTick() override;
  void SendPaxos(const paxos::Message& m) override { host_->SendPaxos(addr(), m); }
  void SendClockProbe(paxos::ReplicaId to, std::function<void(ReplicaProcess&)> arrive) override {
    host_->SendClockProbe(*this, to, std::move(arrive));
  }
  void SendToReplica(paxos::ReplicaId to, std::function<void(ReplicaProcess&)> arrive) override {
    host_->SendToReplica(*this, to, std::move(arrive));
  }
  void ApplyEntry(const paxos::Entry& e) override;
  std::string CheckpointImage() override { return manager_->Checkpoint(); }
  std::string Data() override { return store_->Encode(); }
  absl::Status Restore(const std::string& image, const std::string& data) override;
  void RecordState(ApplyRecord record) override { host_->OnState(std::move(record)); }
  void OnAdvanced() override { Carry(applied_actions_); }

  void ScheduleTickAfter(txn::Timestamp t);
  void Carry(txn::Actions& actions);
  // The guard's refusal of `request`'s keys, or OK.
  absl::Status CheckKeys(const TxnRequest& request);

  // Movement steps (txn_node_moves.cc).
  MoveReply Export(const MoveRequest& request);
  // Proposes `record` (at a timestamp above `at_least`); `reply` runs once its slot applied.
  void ProposeMove(txn::OwnershipRecord record, txn::Timestamp at_least, MoveReplyFn reply);
  void Release(const MoveRequest& request, MoveReplyFn reply);
  // After entry `e` applied: answers the movement step that proposed into its slot.
  void AnswerMove(const paxos::Entry& e, const absl::StatusOr<txn::ApplyResult>& result);
  struct ProposedMove {
    std::string command;
    txn::OwnershipRecord::Op op = txn::OwnershipRecord::Op::kIngest;
    txn::RangeClaim range;
    MoveReplyFn reply;
  };

  const txn::TransactionManagerOptions txn_options_;
  TxnNodeHost* const host_;
  std::unique_ptr<SimStore> store_;
  std::unique_ptr<txn::TransactionManager> manager_;
  txn::Actions applied_actions_;  // what the entries of the current Ready cycle asked for
  txn::RequestId next_request_ = 1;
  std::map<txn::RequestId, ReplyFn> waiting_;  // requests the manager has not answered yet
  std::set<txn::Timestamp> tick_after_;        // commit-wait ticks already scheduled
  std::unique_ptr<txn::RangeGuard> guard_;     // this process's: its fences die with it
  std::map<paxos::Index, ProposedMove> proposed_moves_;  // by the slot proposed into
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_NODE_H_
