// paxos::Replica, part four: the bounds on what a message from the wire may carry. Anyone who
// can reach a spanserver's peer port can send Paxos messages, so every field the replica adopts
// is checked here first; a message that fails is refused whole and changes nothing. See
// replica.h for the protocol.
#include <algorithm>

#include "spanserver/paxos/replica.h"

namespace meridian::paxos {

bool Replica::RoundInBounds(int64_t round) const {
  // Clamped so that the subtraction below cannot overflow, even on a corrupt hard state.
  const int64_t known = std::clamp(std::max({max_round_seen_, hard_.promised.round, ballot_.round}),
                                   int64_t{0}, kMaxBallotRound);
  return round >= 0 && round <= kMaxBallotRound && round - known <= kMaxBallotRoundStep;
}

bool Replica::InBounds(const Message& m) const {
  // Every ballot of the message: the sender's, the promise a rejection names (which raises
  // max_round_seen_ and so the next campaign's round), the vote a Prepare asks to release.
  if (!RoundInBounds(m.ballot.round) || !RoundInBounds(m.promised.round) ||
      !RoundInBounds(m.transfer_from.round)) {
    return false;
  }
  switch (m.type) {
    case MessageType::kAccept:
      // A leader sends every entry under its own ballot (SendAcceptTo); one under any other
      // would be stored under a ballot no leader used, and could outrank chosen values in a
      // later phase 1.
      for (const Entry& e : m.entries) {
        if (e.ballot != m.ballot) return false;
      }
      [[fallthrough]];
    case MessageType::kPromise:
      // The sender's compaction point is at or below its commit point (it compacts only applied
      // slots); a snapshot hint past it would stop this replica applying and send it after a
      // snapshot nobody has.
      return m.snapshot <= m.commit;
    case MessageType::kPrepare:
    case MessageType::kAccepted:
    case MessageType::kTimeoutNow:
      return true;
  }
  return false;
}

}  // namespace meridian::paxos
