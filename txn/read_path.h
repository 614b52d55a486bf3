// txn::ReadPath: reads, and the safe time that snapshot reads wait for (transaction_manager.h,
// "Read", "ReadOnly", "SnapshotRead").
//
//   * Locking reads (read-write transactions, at the leader): S-lock every key (wound-wait), then
//     read the newest committed versions. A scan S-locks its whole range, whatever its limit cuts
//     off: a key written into the range later (a phantom) must wait for this transaction.
//   * Snapshot reads (any replica) at t are served once t <= t_safe = min(t_paxos_safe,
//     t_tm_safe), where t_tm_safe is the smallest prepare timestamp here minus one, and once
//     TT.after(t): a reader that saw data at t (say, of a commit still in its commit wait) must not
//     finish before a transaction that follows it in real time could still pick a timestamp
//     below t. A read that waited snapshot_wait_us gets UNAVAILABLE (the client tries elsewhere).
//   * Strong read-only transactions (one group, at the leader) read at LastTS() when nothing is
//     prepared, else at TT.now().latest.
//   * A snapshot (or read-only) read is answered only if this group still owns every key's range
//     (ownership.h): the driver's range checks ran when it arrived, and while it waited a release
//     may have applied — the range's new group then writes versions this one never sees, and a
//     drop erases its copy. Such a read gets a stale-map refusal (range_guard.h). Simulator seed
//     73 of bank read an erased account this way.
//
// A leader uses the same t_safe as a follower: its own knowledge (s_max) is not enough, because
// an earlier leader's record that no quorum it heard from holds may still be chosen later (append
// seed 2000398 replays one). Asked for a newer snapshot, it logs a safe-time record at or above
// the read timestamp instead, so that t_paxos_safe reaches it one Paxos round later.
//
// Owned by the TransactionManager. Thread safety: none.
#ifndef MERIDIAN_TXN_READ_PATH_H_
#define MERIDIAN_TXN_READ_PATH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "txn/applied_state.h"
#include "txn/coordinator.h"
#include "txn/leader_state.h"
#include "txn/options.h"
#include "txn/ownership.h"
#include "txn/participant.h"
#include "txn/replica_port.h"
#include "txn/types.h"

namespace meridian::txn {

class ReadPath {
 public:
  // The arguments are not owned and must outlive this.
  ReadPath(const TransactionManagerOptions& opt, LeaderState* leader,
           const Participant* participant, const Coordinator* coordinator, AppliedState* applied,
           const Ownership* ownership);

  // min(t_paxos_safe, t_tm_safe).
  Timestamp Safe() const;

  // A checked locking read at the established leader. Transactions it wounded go to `wounded`.
  void Read(ReplicaPort& port, Interval now, RequestId id, const ReadRequest& request, Actions* out,
            std::vector<TxnId>* wounded);
  // Answers `ids` with the newest committed values of `keys`, or the rows of `scan` (their S
  // locks are held).
  void FinishRead(const std::vector<RequestId>& ids, const std::vector<std::string>& keys,
                  const std::optional<ScanSpan>& scan, Actions* out) const;
  // A checked strong read-only transaction at the established leader.
  void ReadOnly(ReplicaPort& port, Interval now, RequestId id, const ReadOnlyRequest& request,
                Actions* out);
  // A checked snapshot read at any replica.
  void SnapshotRead(ReplicaPort& port, Interval now, RequestId id,
                    const SnapshotReadRequest& request, Actions* out);
  // Answers the snapshot reads that safe time reached, or that waited too long. Call whenever
  // safe time may have moved (a record applied, a tick).
  void ServeSnapshots(ReplicaPort& port, Interval now, Actions* out);
  // Leadership ended.
  void StepDown() { safe_time_requested_ = 0; }

 private:
  struct Snapshot {
    RequestId id = 0;
    std::vector<std::string> keys;
    Timestamp read_ts = 0;
    int64_t deadline_us = 0;
    std::optional<ScanSpan> scan;  // a range instead of keys
  };

  // Like Safe, but an established leader asked for a newer snapshot than it has logs a
  // safe-time record at or above `want` (once per such timestamp).
  Timestamp SafeFor(ReplicaPort& port, Interval now, Timestamp want);
  void Enqueue(ReplicaPort& port, Interval now, Snapshot snapshot, Actions* out);
  Reply Answer(const Snapshot& s, bool safe) const;

  const TransactionManagerOptions& opt_;
  LeaderState* const leader_;
  const Participant* const participant_;
  const Coordinator* const coordinator_;
  AppliedState* const applied_;
  const Ownership* const ownership_;
  std::vector<Snapshot> snapshots_;    // waiting, any replica
  Timestamp safe_time_requested_ = 0;  // leader: the newest safe-time record logged for a read
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_READ_PATH_H_
