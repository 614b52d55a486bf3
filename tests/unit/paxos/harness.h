// A tiny in-process harness for paxos::Replica tests: N replicas of one group, a message queue
// that the test controls (deliver, drop), in-memory log storage that persists instantly, and a
// clock the test advances. Single-threaded.
#ifndef MERIDIAN_TESTS_UNIT_PAXOS_HARNESS_H_
#define MERIDIAN_TESTS_UNIT_PAXOS_HARNESS_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "spanserver/paxos/replica.h"

namespace meridian::paxos::testing {

class Harness {
 public:
  // `n` replicas with ids 1..n; `epsilon_us` is every replica's clock uncertainty.
  Harness(int n, Options base, int64_t epsilon_us = 1000);

  Replica& replica(ReplicaId id) { return *nodes_.at(id).replica; }
  bool HasReplica(ReplicaId id) const { return nodes_.count(id) > 0; }
  int64_t now() const { return now_; }
  truetime::Interval Now() const { return {now_ - epsilon_, now_ + epsilon_}; }

  // Moves time forward and ticks every live replica.
  void Advance(int64_t us);
  // Processes Ready output of every replica (persist, queue messages, apply) until quiet, and
  // delivers queued messages accepted by `filter` (all by default). Returns messages delivered.
  // With `keep_filtered`, messages the filter rejects stay queued instead of being dropped.
  int Stabilize(const std::function<bool(const Message&)>& filter = nullptr,
                bool keep_filtered = false);
  // Drains ready output of every replica once without delivering messages.
  void Flush();
  // Crash: keep the synced log (everything is synced instantly here), rebuild the replica.
  void Restart(ReplicaId id);
  void Isolate(ReplicaId id, bool isolated) { nodes_.at(id).isolated = isolated; }

  ReplicaId Leader();  // the replica whose role is leader with the highest ballot, or 0
  const std::vector<Entry>& applied(ReplicaId id) { return nodes_.at(id).applied; }
  std::deque<Message>& queue() { return queue_; }
  // Every line the harness printed (Ready contents), for golden interaction tests.
  std::vector<std::string>& log() { return log_; }
  void set_logging(bool on) { logging_ = on; }

 private:
  struct Node {
    std::unique_ptr<MemoryLogStorage> storage;
    std::unique_ptr<Replica> replica;
    std::vector<Entry> applied;
    bool isolated = false;
  };
  void HandleReady(ReplicaId id);

  Options base_;
  int64_t epsilon_;
  int64_t now_ = 1'000'000'000;
  std::map<ReplicaId, Node> nodes_;
  std::deque<Message> queue_;
  std::vector<std::string> log_;
  bool logging_ = false;
};

}  // namespace meridian::paxos::testing

#endif  // MERIDIAN_TESTS_UNIT_PAXOS_HARNESS_H_
