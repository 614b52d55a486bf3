// TxnNode: one simulated server replica of a data group for the transaction workloads. It hosts a
// paxos::Replica, its SimDisk, its simulated TrueTime, an in-memory multi-version store and a
// txn::TransactionManager, and drives them the way the spanserver's tablet does:
//   * the Ready cycle of SimNode: send Ready.messages, write entries/hard state unsynced, wait a
//     simulated disk latency for the sync, then send messages_after_persist, apply committed
//     entries (each through TransactionManager::Apply), Advance();
//   * client requests (TxnRequest) and group messages go to the manager; the Actions it returns
//     are carried out: replies go back through the ReplyFn the request came with, group messages
//     go to the host for routing, and a tick is scheduled for when TT.after(tick_after) holds
//     (checked on the node's own clock), besides the regular tick timer.
// Nothing survives a crash but the synced disk: Restart builds a new replica, an empty store and
// a new manager, and replays the log from slot 1. Requests waiting at a crashed node are lost (the
// client times out).
//
// Seed: disk latency and tick jitter from the node's Random. Faults: Crash (loses unsynced state),
// restart, Pause (ticks, deliveries and syncs wait until it resumes). Checkers: every apply and
// its ApplyResult go to the TxnNodeHost. Thread safety: none; the EventLoop's thread.
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
#include "tests/sim/network.h"
#include "tests/sim/sim_disk.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"
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

 private:
  std::map<std::string, std::map<txn::Timestamp, std::optional<std::string>>, std::less<>> data_;
};

class TxnNode;

// What a node needs from the simulator around it.
class TxnNodeHost {
 public:
  virtual ~TxnNodeHost() = default;
  virtual void SendPaxos(Addr from, const paxos::Message& m) = 0;
  virtual void SendGroupMessage(TxnNode& from, const txn::GroupMessage& m) = 0;
  // After `node` applied `e`; `result` is what the manager said it did (or its error).
  virtual void OnApplied(TxnNode& node, const paxos::Entry& e,
                         const absl::StatusOr<txn::ApplyResult>& result) = 0;
};

struct TxnNodeConfig {
  paxos::Options options;
  txn::TransactionManagerOptions txn;
  truetime::SimulatedClockBounds clock_bounds;
  truetime::SimulatedClockParams clock_params;
  int64_t disk_latency_min_us = 100;
  int64_t disk_latency_max_us = 1000;
  double disk_stall_p = 0;
  int64_t disk_stall_max_us = 0;
  int64_t tick_us = 10'000;
};

class TxnNode {
 public:
  // The answer to a request, with the replica's leader hint (kNoReplica when unknown).
  using ReplyFn = std::function<void(const txn::Reply& reply, paxos::ReplicaId leader_hint)>;

  TxnNode(Addr addr, const TxnNodeConfig& config, EventLoop* loop, truetime::SimulatedTime* time,
          TxnNodeHost* host, uint64_t seed);
  TxnNode(const TxnNode&) = delete;
  TxnNode& operator=(const TxnNode&) = delete;

  void Start();
  void Crash();
  void Pause(int64_t us);

  void DeliverPaxos(const paxos::Message& m);
  // A client request; `reply` runs once the manager answers (never if the node crashes first).
  // A request that reaches a crashed node is lost.
  void HandleRequest(const TxnRequest& request, ReplyFn reply);
  // A group message; only a leader hands it to its manager (others drop it: the sender retries).
  void HandleGroupMessage(const txn::GroupMessage& m);

  truetime::Interval Now();

  Addr addr() const { return addr_; }
  paxos::GroupId group() const { return config_.options.group; }
  paxos::ReplicaId id() const { return config_.options.id; }
  bool alive() const { return replica_ != nullptr; }
  bool paused() const { return loop_->now() < paused_until_; }
  bool serving() const { return alive() && !paused(); }
  uint64_t incarnation() const { return incarnation_; }
  TrueUs paused_until() const { return paused_until_; }
  paxos::Replica& replica() { return *replica_; }
  txn::TransactionManager& manager() { return *manager_; }
  paxos::Index applied() const { return applied_; }
  std::string Name() const;

 private:
  void Run(std::function<void()> fn);
  void ScheduleTick();
  void ScheduleTickAfter(txn::Timestamp t);
  void DoTick();
  void Pump();
  void FinishReady();
  void Carry(txn::Actions& actions);

  const Addr addr_;
  const TxnNodeConfig config_;
  EventLoop* const loop_;
  truetime::SimulatedTime* const time_;
  TxnNodeHost* const host_;
  Random rng_;

  SimDisk disk_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  std::unique_ptr<paxos::Replica> replica_;
  std::unique_ptr<SimStore> store_;
  std::unique_ptr<txn::TransactionManager> manager_;
  uint64_t incarnation_ = 0;
  TrueUs paused_until_ = 0;

  bool syncing_ = false;
  paxos::Ready ready_;
  paxos::Index applied_ = 0;
  txn::RequestId next_request_ = 1;
  std::map<txn::RequestId, ReplyFn> waiting_;  // requests the manager has not answered yet
  std::set<txn::Timestamp> tick_after_;        // commit-wait ticks already scheduled
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_NODE_H_
