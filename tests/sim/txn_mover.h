// TxnMover: the simulated placement mover of the transaction workloads — range moves and splits
// carried out mid-run, with exactly the real Mover's step order (placement/mover.h), by messages
// to the groups' leaders over the faulty network (TxnNode::HandleMove runs each step as the
// spanserver's Movement service does).
//
// A MOVE of R = [start, end) from group A to group B at generation G (the map's highest + 1):
//   copy     Export R from A (after 0; A answers its bound U) and Ingest the versions into B;
//   release  Release R at A with G, again while A answers UNAVAILABLE (its range busy): A fences
//            R, wounds its lock holders and logs the release once nothing is left in R;
//            A answers the release timestamp T;
//   delta    Export R from A after U, as released at G, and Ingest the versions into B;
//   wait     until the mover's TT.after(T);
//   adopt    Adopt R at B with G, at a timestamp above T;
//   switch   the authoritative map says R -> B at G (servers take it on after their own delay);
//   drop     Drop R at A until nothing of it is left there.
// A SPLIT of R in A at K: Adopt [start, K) and [K, end) at A with G, then switch.
// Every call goes to the group's leader as the mover believes it (following leader hints), is
// retried on UNAVAILABLE and on timeouts with growing backoff, and never gives up; a step refused
// otherwise (FAILED_PRECONDITION: e.g. the delta's export at a new leader that has not applied
// the release) starts the operation again from its first step after a backoff, as the real
// mover's next round does. Every step is idempotent, so any prefix may run any number of times.
//
// Seed: the times of the seed's operations (TxnSwarmParams::moves, during the fault phase),
// whether each is a split (split_p), which range and target group (aimed: a move waits up to a
// second for a group with a replica down, paused or behind, and moves there; see
// TxnClients::Probe; half of the moves also pause a follower of the new group, and hold the
// release back until a prepared transaction is in the range), and backoffs, from the injected
// Random; the map
// delays from the cluster's. Faults: the calls travel through the faulty network; the groups crash,
// pause and partition under it. Planted bug: testing_skip_delta (the mover skips the delta copy).
// Checkers: none here — moves must keep the bank, append, snapshot and outcome checkers clean;
// Stuck() feeds the liveness check. Thread safety: none.
#ifndef MERIDIAN_TESTS_SIM_TXN_MOVER_H_
#define MERIDIAN_TESTS_SIM_TXN_MOVER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/random.h"
#include "tests/sim/txn_cluster.h"
#include "tests/sim/txn_swarm.h"
#include "truetime/truetime.h"

namespace meridian::sim {

class TxnMover {
 public:
  // `keys`: the workload's keys (a split falls between two of them; a group keeps one at least).
  TxnMover(TxnCluster* cluster, const TxnSwarmParams& params, Random rng,
           std::vector<std::string> keys);

  // Schedules the seed's operations between `from_us` and `until_us` (true time).
  void Start(TrueUs from_us, TrueUs until_us);
  // No operation under way or waiting to start.
  bool Idle() const { return !op_.has_value() && pending_.empty() && scheduled_ == 0; }
  // The operation under way and its step, for a liveness violation.
  std::string Describe() const;
  uint64_t done() const { return done_; }
  // Called at every map switch of a move with the range (its new owner and generation) and the
  // timestamps of the copies' Ingest records at the new owner (none when both were empty).
  using OnSwitch =
      std::function<void(const SimRange& range, const std::vector<txn::Timestamp>& ingest_ts)>;
  void set_on_switch(OnSwitch f) { on_switch_ = std::move(f); }

 private:
  struct Op {
    bool split = false;
    std::string start, end, split_key;
    paxos::GroupId from = 0, to = 0;
    uint64_t generation = 0;
    txn::Timestamp upto_ts = 0;             // the copy's bound
    std::vector<txn::Timestamp> ingest_ts;  // of the copies' Ingest records
    txn::Timestamp release_ts = 0;          // the release record's
    bool switched = false;
    std::string step;
    uint64_t epoch = 0;  // bumps when the operation starts over: late answers are ignored
  };
  using Done = std::function<void(const MoveReply&)>;

  // Picks the next operation from the current map; false when none fits.
  bool Choose(bool split);
  // Starts the next pending operation, if any and none is under way.
  void StartNext();
  // The groups with a replica down, paused, or a few entries behind the others.
  std::vector<paxos::GroupId> LaggingGroups() const;
  void Begin();
  void Restart(const std::string& why);
  void Finish();
  // The steps, in order.
  // The copy, or the delta after the release; then `next`.
  void Copy(bool delta, std::function<void()> next);
  // Aimed (half of the moves each): pauses a follower of the new group as the copy starts, so
  // that it applies the copies and the adoption late (TxnClients::Probe looks for it serving too
  // early); and holds the release back until the source's leader has a prepared transaction with
  // a lock in the range (at most kAimReleaseMaxUs), where a release must wait.
  void PauseFollower();
  void ReleaseWhenPrepared(TrueUs deadline_us);
  void Release();
  void WaitAfterRelease();
  void Adopt();
  void Switch();
  void Drop();

  txn::RangeClaim Claim() const;
  MoveRequest Request(MoveRequest::Op op) const;
  // Calls `group`'s leader with `request` until it answers OK (then `done`), or refuses
  // otherwise than UNAVAILABLE (then the operation restarts).
  void Call(paxos::GroupId group, MoveRequest request, Done done);
  void Send(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch, int attempt);
  void OnAnswer(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch, int attempt,
                uint64_t call, Addr from, const MoveReply& reply, paxos::ReplicaId hint);
  void Retry(paxos::GroupId group, MoveRequest request, Done done, uint64_t epoch, int attempt,
             Addr next);
  Addr RandomNode(paxos::GroupId group, Addr other);
  void Trace(const std::string& what) const;

  TxnCluster* const cluster_;
  const TxnSwarmParams params_;
  Random rng_;
  const std::vector<std::string> keys_;
  const bool skip_delta_;
  const Addr addr_;
  std::unique_ptr<truetime::TrueTime> tt_;
  std::map<paxos::GroupId, Addr> hint_;
  std::optional<Op> op_;
  std::deque<bool> pending_;  // operations due but waiting for the one under way: split or not
  int scheduled_ = 0;         // operations not due yet
  int waits_ = 0;             // the next move's waits for a lagging group so far
  uint64_t epochs_ = 0;
  uint64_t next_call_ = 1;
  uint64_t live_call_ = 0;  // the one call awaited; answers to others are ignored
  uint64_t done_ = 0;
  OnSwitch on_switch_;
};

}  // namespace meridian::sim

#endif  // MERIDIAN_TESTS_SIM_TXN_MOVER_H_
