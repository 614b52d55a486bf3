// PaxosReplicaPort: each call forwards to the paxos::Replica.
#include "txn/replica_port.h"

#include <utility>

#include "spanserver/paxos/replica.h"

namespace meridian::txn {

bool PaxosReplicaPort::IsLeader() const { return replica_.role() == paxos::Role::kLeader; }

paxos::Ballot PaxosReplicaPort::ballot() const { return replica_.ballot(); }

paxos::ReplicaId PaxosReplicaPort::leader() const { return replica_.leader(); }

bool PaxosReplicaPort::HasLease(truetime::Interval now) const { return replica_.HasLease(now); }

absl::StatusOr<paxos::Index> PaxosReplicaPort::LeaseRead(truetime::Interval now) {
  return replica_.LeaseRead(now);
}

absl::StatusOr<truetime::Timestamp> PaxosReplicaPort::AssignTimestamp(
    truetime::Interval now, truetime::Timestamp at_least) {
  return replica_.AssignTimestamp(now, at_least);
}

absl::StatusOr<paxos::Index> PaxosReplicaPort::Propose(std::string command,
                                                       truetime::Interval now) {
  return replica_.Propose(std::move(command), now);
}

}  // namespace meridian::txn
