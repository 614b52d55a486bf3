// paxos::Replica, part four: the bounds on what a message from the wire may carry. Anyone who
// can reach a spanserver's peer port can send Paxos messages, so a field the replica adopts must
// be bounded before it changes anything; a message that fails is refused whole. See replica.h for
// the protocol. Field by field:
// * Ballot rounds (ballot, promised, transfer_from): RoundInBounds, below.
// * Accept entries: each under the message's ballot; Accept and Promise snapshot hints: at or
//   below the sender's commit point. InBounds, below.
// * Configuration entries (Accept, Promise): each command decodes (DecodeConfig). The replica
//   CHECKs the configurations in its own log, where a bad one means a corrupt disk, so one
//   from the wire is refused before it gets there. InBounds, below.
// * Promise entries: each under a lower ballot than the candidate's (HandlePromise; it depends
//   on the role).
// * Accepted match: at most the leader's last slot (HandleAccepted; it depends on the role).
// * Accept commit: a follower commits only min(announced commit, LocalMatch()), the slots it
//   holds contiguously under the leader's ballot (HandleAccept), so no announced commit point
//   carries it past its log.
// * Lease: no timestamp travels in a message. A lease vote counts from the time the voted-on
//   message was sent here, found by its echoed lease_seq (LeaseSeqSentAt), which yields nothing
//   for a number this replica never sent.
// * Prepare index bounds only a read of our own log, and config_index only decides a refusal.
// * Entry indexes in Accept and Promise are not bounded: a follower's log may hold slots any
//   distance past a hole (a leader sends from its own commit point first), so no bound follows
//   from the protocol, and forged ones can cost work in proportion to the index. Only
//   authenticating peers closes that.
#include <algorithm>

#include "spanserver/paxos/codec.h"
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
  for (const Entry& e : m.entries) {
    if (e.type == EntryType::kConfig && !DecodeConfig(e.command).ok()) return false;
  }
  switch (m.type) {
    case MessageType::kAccept:
      // A leader sends every entry under its own ballot (SendAcceptTo); one under any other
      // would be stored under a ballot no leader used, and could outrank chosen values in a
      // later phase 1.
      for (const Entry& e : m.entries) {
        if (e.ballot != m.ballot) return false;
      }
      return m.snapshot <= m.commit;
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
