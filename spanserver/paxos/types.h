// Value types of Meridian's Multi-Paxos: ballots, log entries, hard state and messages.
//
// These are plain structs with no I/O. The wire and disk encodings live in codec.h; the
// algorithm lives in replica.h. Thread safety: values, safe to copy between threads.
#ifndef MERIDIAN_SPANSERVER_PAXOS_TYPES_H_
#define MERIDIAN_SPANSERVER_PAXOS_TYPES_H_

#include <compare>
#include <cstdint>
#include <string>
#include <vector>

#include "truetime/interval.h"

namespace meridian::paxos {

using ReplicaId = uint64_t;  // a replica's identity within its group; 0 means "none"
using GroupId = uint64_t;
using Index = uint64_t;  // a log slot; the first slot is 1, 0 means "none"

inline constexpr ReplicaId kNoReplica = 0;

// A ballot orders proposers: a higher round wins, ties broken by replica id. Ballot{} (0, 0) is
// below every real ballot.
struct Ballot {
  int64_t round = 0;
  ReplicaId replica = kNoReplica;

  bool IsZero() const { return round == 0 && replica == kNoReplica; }
  std::string ToString() const;
  friend auto operator<=>(const Ballot&, const Ballot&) = default;
};

enum class EntryType : uint8_t {
  kNormal = 0,  // a command of the state machine
  kNoop = 1,    // fills a hole found during phase-1 recovery, or a new leader's first entry
  kConfig = 2,  // a new membership (codec.h EncodeConfig), in effect once in a replica's log
};

// A group's membership. Voters are the acceptors: their promises, accepts and lease votes make
// quorums (a majority of the voters). Learners receive and apply the log but count for nothing;
// a new replica joins as a learner and is promoted once it caught up.
struct Config {
  std::vector<ReplicaId> voters;
  std::vector<ReplicaId> learners;

  bool IsVoter(ReplicaId id) const;
  bool IsLearner(ReplicaId id) const;
  bool Contains(ReplicaId id) const { return IsVoter(id) || IsLearner(id); }
  std::string ToString() const;
  friend bool operator==(const Config&, const Config&) = default;
};

// The value accepted in one slot, and the ballot under which it was accepted.
struct Entry {
  Index index = 0;
  Ballot ballot;
  EntryType type = EntryType::kNormal;
  std::string command;

  std::string ToString() const;
  friend bool operator==(const Entry&, const Entry&) = default;
};

// What a replica must have on stable storage before it answers: the highest ballot it promised,
// and the group's newest committed configuration.
struct HardState {
  Ballot promised;
  std::vector<ReplicaId> members;   // the voters
  std::vector<ReplicaId> learners;  // the learners
  Index config_index = 0;           // the slot of the config entry that set them; 0: the first

  std::string ToString() const;
  friend bool operator==(const HardState&, const HardState&) = default;
};

enum class MessageType : uint8_t {
  kPrepare = 0,     // phase 1a; also asks for a lease vote
  kPromise = 1,     // phase 1b: accepted entries from `index` on, or a rejection
  kAccept = 2,      // phase 2a: entries to accept (empty = heartbeat), the commit point
  kAccepted = 3,    // phase 2b: how far the sender's log matches the leader's ballot
  kTimeoutNow = 4,  // leader transfer: "campaign now; I have abdicated ballot `ballot`"
};

const char* MessageTypeName(MessageType type);

// One message between replicas of a group. Which fields are meaningful depends on `type`; the
// comments name the types that use each.
struct Message {
  MessageType type = MessageType::kPrepare;
  GroupId group = 0;
  ReplicaId from = kNoReplica;
  ReplicaId to = kNoReplica;
  Ballot ballot;  // the sender's ballot (all), or the ballot being answered (Promise, Accepted)

  // Prepare: first slot to report. Promise: first slot reported.
  Index index = 0;
  // Promise/Accepted: false when `ballot` was refused; then `promised` says why.
  bool reject = false;
  // Promise/Accepted: the sender's promised ballot, whose replica is the leader hint.
  Ballot promised;
  // Promise: the reply was cut at the message limit; ask again from the next slot.
  bool more = false;
  // Accept/Promise: the sender's commit point. Accepted: the receiver's match point.
  Index commit = 0;
  // Accepted: every slot in (receiver's commit, match] holds the leader's ballot.
  Index match = 0;
  // Prepare/Accept: lease sequence number, echoed in Promise/Accepted with `lease_granted`.
  uint64_t lease_seq = 0;
  bool lease_granted = false;
  // Prepare: set when the previous leader handed over with TimeoutNow; the ballot it abdicated.
  Ballot transfer_from;
  // Accept/Promise: the sender's log holds no slot at or below this one (it was compacted into
  // a snapshot); a receiver that needs those slots must install a snapshot instead. 0: none.
  Index snapshot = 0;
  // Prepare: the slot of the configuration the candidate runs under. Promise (a rejection): the
  // slot of the voter's, newer than the candidate's.
  Index config_index = 0;
  // Promise: accepted entries; Accept: entries to accept.
  std::vector<Entry> entries;

  std::string ToString() const;
};

}  // namespace meridian::paxos

#endif  // MERIDIAN_SPANSERVER_PAXOS_TYPES_H_
