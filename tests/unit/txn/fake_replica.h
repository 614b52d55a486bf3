// A scripted txn::ReplicaPort for tests: one replica of a group whose log the test commits by
// hand. The test says who leads (under which ballot) and whether the lease holds; timestamps
// follow paxos::Replica's rule (above every one assigned, >= at_least, >= TT.now().latest);
// proposals append to the group's FakeLog, which the test later commits (or drops, as a leader
// change may) and hands to every replica's manager. Each proposal is printed to `out`.
//
// Thread safety: none; single-threaded tests.
#ifndef MERIDIAN_TESTS_UNIT_TXN_FAKE_REPLICA_H_
#define MERIDIAN_TESTS_UNIT_TXN_FAKE_REPLICA_H_

#include <string>
#include <vector>

#include "txn/replica_port.h"

namespace meridian::txn::testing {

// A group's log: entry i (1-based) is commands[i - 1]; the first `committed` are chosen.
struct FakeLog {
  std::vector<std::string> commands;
  size_t committed = 0;
};

class FakeReplica final : public ReplicaPort {
 public:
  // `log` and `out` are not owned and must outlive this.
  FakeReplica(std::string name, FakeLog* log, std::vector<std::string>* out)
      : name_(std::move(name)), log_(log), out_(out) {}

  // This replica leads (with its lease) or follows `leader` under `ballot`.
  void SetRole(bool leads, const paxos::Ballot& ballot, paxos::ReplicaId leader);
  void set_lease(bool held) { lease_ = held; }

  bool IsLeader() const override { return leads_; }
  paxos::Ballot ballot() const override { return ballot_; }
  paxos::ReplicaId leader() const override { return leader_; }
  bool HasLease(truetime::Interval) const override { return leads_ && lease_; }
  absl::StatusOr<paxos::Index> LeaseRead(truetime::Interval now) override;
  absl::StatusOr<truetime::Timestamp> AssignTimestamp(truetime::Interval now,
                                                      truetime::Timestamp at_least) override;
  absl::StatusOr<paxos::Index> Propose(std::string command, truetime::Interval now) override;

 private:
  const std::string name_;
  FakeLog* const log_;
  std::vector<std::string>* const out_;
  bool leads_ = false;
  bool lease_ = false;
  paxos::Ballot ballot_;
  paxos::ReplicaId leader_ = paxos::kNoReplica;
  truetime::Timestamp last_assigned_ = 0;
};

}  // namespace meridian::txn::testing

#endif  // MERIDIAN_TESTS_UNIT_TXN_FAKE_REPLICA_H_
