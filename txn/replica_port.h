// txn::ReplicaPort: everything the transaction manager needs from its group's Paxos replica, and
// nothing more — whether it leads, under which ballot, whether it holds its lease, a lease read
// point, timestamps, and proposals. The manager learns the fate of a proposal only from the
// entries it is later asked to apply.
//
// PaxosReplicaPort adapts a paxos::Replica (the spanserver's tablet and the simulator drive the
// manager through it); tests give the manager a scripted port instead
// (tests/unit/txn/fake_replica.h), so 2PC runs without a real replica.
//
// Thread safety: none; the caller's strand drives the port and the manager together.
#ifndef MERIDIAN_TXN_REPLICA_PORT_H_
#define MERIDIAN_TXN_REPLICA_PORT_H_

#include <string>

#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian::paxos {
class Replica;
}  // namespace meridian::paxos

namespace meridian::txn {

class ReplicaPort {
 public:
  virtual ~ReplicaPort() = default;

  // The replica believes it is the group's leader (it may not hold its lease).
  virtual bool IsLeader() const = 0;
  // The ballot it leads or follows under: a new one means a new leadership term.
  virtual paxos::Ballot ballot() const = 0;
  // The leader it knows of (kNoReplica when none), for error messages.
  virtual paxos::ReplicaId leader() const = 0;
  // Leader only: its lease holds at `now`.
  virtual bool HasLease(truetime::Interval now) const = 0;
  // Leader only, inside its lease: a log index such that state applied through it is up to date
  // (paxos::Replica::LeaseRead). UNAVAILABLE otherwise.
  virtual absl::StatusOr<paxos::Index> LeaseRead(truetime::Interval now) = 0;
  // Leader only, inside its lease: a timestamp > every one it assigned, >= at_least and >=
  // now.latest. UNAVAILABLE when that is impossible.
  virtual absl::StatusOr<truetime::Timestamp> AssignTimestamp(truetime::Interval now,
                                                              truetime::Timestamp at_least) = 0;
  // Leader only: appends `command` to the log; returns its slot. It took effect iff the entry
  // later applied at that slot carries the same command.
  virtual absl::StatusOr<paxos::Index> Propose(std::string command, truetime::Interval now) = 0;
};

// A ReplicaPort over a paxos::Replica, which must outlive it.
class PaxosReplicaPort final : public ReplicaPort {
 public:
  explicit PaxosReplicaPort(paxos::Replica& replica) : replica_(replica) {}

  bool IsLeader() const override;
  paxos::Ballot ballot() const override;
  paxos::ReplicaId leader() const override;
  bool HasLease(truetime::Interval now) const override;
  absl::StatusOr<paxos::Index> LeaseRead(truetime::Interval now) override;
  absl::StatusOr<truetime::Timestamp> AssignTimestamp(truetime::Interval now,
                                                      truetime::Timestamp at_least) override;
  absl::StatusOr<paxos::Index> Propose(std::string command, truetime::Interval now) override;

 private:
  paxos::Replica& replica_;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_REPLICA_PORT_H_
