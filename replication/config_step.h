// NextConfigStep: how a group's leader walks its Paxos configuration toward the replica list that
// placement wants (a replacement after a server died, later moves and drains), one change at a
// time, never dropping below the voters it has:
//   1. nothing while a change is pending (paxos::Replica allows one at a time);
//   2. a learner placement no longer wants is removed;
//   3. a wanted replica that is in no role yet joins as a learner (it catches up from the log or
//      a snapshot without counting for anything);
//   4. a wanted learner that has caught up becomes a voter;
//   5. once every wanted replica votes, a voter placement no longer wants is removed — or, when
//      that voter is the leader itself, the leadership goes to a caught-up wanted voter first.
// Thread safety: a pure function.
#ifndef MERIDIAN_REPLICATION_CONFIG_STEP_H_
#define MERIDIAN_REPLICATION_CONFIG_STEP_H_

#include <functional>
#include <string>
#include <vector>

#include "spanserver/paxos/replica.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian::replication {

struct ConfigStep {
  enum class Kind { kNone, kPropose, kTransferLeadership };
  Kind kind = Kind::kNone;
  paxos::Config config;                              // kPropose: the next configuration
  paxos::ReplicaId transfer_to = paxos::kNoReplica;  // kTransferLeadership
  std::string why;                                   // for the log
};

// `caught_up(id)`: replica `id` holds (nearly) everything committed.
ConfigStep NextConfigStep(const paxos::Config& current, bool change_pending,
                          const std::vector<paxos::ReplicaId>& wanted, paxos::ReplicaId self,
                          const std::function<bool(paxos::ReplicaId)>& caught_up);

// A learner counts as caught up when the leader knows it holds the log to within this many
// entries of the commit point.
inline constexpr paxos::Index kCaughtUpLag = 1000;

// At the leader `replica`: takes the next step (proposes the configuration or hands the
// leadership over) and says what it did, for the log; "" when there is nothing to do.
std::string TakeConfigStep(paxos::Replica& replica, const std::vector<paxos::ReplicaId>& wanted,
                           truetime::Interval now);

}  // namespace meridian::replication

#endif  // MERIDIAN_REPLICATION_CONFIG_STEP_H_
