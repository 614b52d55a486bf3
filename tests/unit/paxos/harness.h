// A tiny in-process harness for paxos::Replica tests: N replicas of one group, a message queue
// that the test controls (deliver, drop), in-memory log storage that persists instantly, and a
// clock the test advances. Single-threaded.
//
// The state machine of each replica is its list of applied entries. Compact() checkpoints that
// list and compacts the log below it; a replica's snapshot request is served at once from the
// source's applied list (unless serve_snapshots is off or the source is isolated or cannot).
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
  // A new replica `id` with an empty log, starting from `initial` (the configuration it is told
  // it joins; the log then tells it the group's real one).
  void AddReplica(ReplicaId id, const Config& initial);
  // Checkpoints replica `id`'s applied entries through `upto` and compacts its log there.
  void Compact(ReplicaId id, Index upto);
  void set_serve_snapshots(bool on) { serve_snapshots_ = on; }
  // Snapshots installed by replica `id`, and requests that could not be served.
  int snapshots_installed(ReplicaId id) const { return nodes_.at(id).snapshots_installed; }
  int snapshots_failed() const { return snapshots_failed_; }

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
    std::vector<Entry> checkpoint;  // the applied entries made durable by Compact()
    bool isolated = false;
    int snapshots_installed = 0;
  };
  void HandleReady(ReplicaId id);
  void ServeSnapshot(ReplicaId id, const SnapshotRequest& request);

  Options base_;
  int64_t epsilon_;
  int64_t now_ = 1'000'000'000;
  std::map<ReplicaId, Node> nodes_;
  std::deque<Message> queue_;
  std::vector<std::string> log_;
  bool logging_ = false;
  bool serve_snapshots_ = true;
  int snapshots_failed_ = 0;
};

// Options for a group of test replicas: lease 2 s, election timeout 1 s, heartbeats every 250 ms.
Options TestOptions();
// Runs time forward (100 ms steps, stabilizing after each) until a leader appears; its id or 0.
ReplicaId ElectLeader(Harness& h);
// Runs time forward by `us` in 100 ms steps, stabilizing after each.
void RunFor(Harness& h, int64_t us);
// The commands of the normal entries replica `id` applied, in order.
std::vector<std::string> Commands(Harness& h, ReplicaId id);

}  // namespace meridian::paxos::testing

#endif  // MERIDIAN_TESTS_UNIT_PAXOS_HARNESS_H_
