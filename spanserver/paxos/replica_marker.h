// ReplicaMarker and CheckReplicaStart: what lets a Paxos acceptor tell "I am new" from "I forgot".
//
// Paxos is safe only if an acceptor never forgets what it promised and accepted. A replica whose
// disk was wiped, or whose log belongs to somebody else, must not vote or accept under its old
// identity: it could form a majority with replicas that never saw a chosen value and choose
// another one in its slot. Two facts tell the cases apart:
//  - the marker, written durably on the replica's own disk before it first starts (before it can
//    promise or accept anything): group, replica id and the incarnation of the server's data
//    directory (a random number drawn when that directory was first initialized);
//  - `once_persisted`, known outside that disk: the server's identity record says this replica
//    started before (spanserver: DATA_DIR/identity; simulator: the process's record).
// A wiped data directory loses both; that case is caught one level up, by placement refusing to
// hand the old server id to a directory with a new incarnation (placement/metadata.h).
//
// Encoding (little-endian fixed width, stored by storage::Engine as opaque bytes):
//   marker := version:u8(1) replica:u64 incarnation:u64
// The group is the key (format.h marker_key), not part of the value.
//
// Thread safety: pure functions and values.
#ifndef MERIDIAN_SPANSERVER_PAXOS_REPLICA_MARKER_H_
#define MERIDIAN_SPANSERVER_PAXOS_REPLICA_MARKER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"

namespace meridian::paxos {

struct ReplicaMarker {
  GroupId group = 0;
  ReplicaId replica = kNoReplica;
  uint64_t incarnation = 0;  // of the server's data directory; never 0 once drawn

  std::string ToString() const;
  friend bool operator==(const ReplicaMarker&, const ReplicaMarker&) = default;
};

std::string EncodeReplicaMarker(const ReplicaMarker& marker);
// DATA_LOSS when `bytes` is not a marker.
absl::StatusOr<ReplicaMarker> DecodeReplicaMarker(GroupId group, std::string_view bytes);

enum class ReplicaStart {
  kFresh,    // a new replica: write `expected` durably, then start with empty state
  kRecover,  // the disk holds this replica's own state: start from it
};

// What the replica `expected` may do at start, given the marker on its disk (`stored`, nullopt
// when none), whether its disk holds any Paxos state for the group (log entries or hard state),
// and whether it `once_persisted` state before. FAILED_PRECONDITION, saying why, when it must not
// vote or accept at all:
//  - once_persisted but no marker: the disk lost the replica's state (amnesia);
//  - Paxos state but no marker: state of unknown origin;
//  - a marker of another replica id or incarnation: the disk belongs to someone else.
absl::StatusOr<ReplicaStart> CheckReplicaStart(const std::optional<ReplicaMarker>& stored,
                                               bool has_state, const ReplicaMarker& expected,
                                               bool once_persisted);

}  // namespace meridian::paxos

#endif  // MERIDIAN_SPANSERVER_PAXOS_REPLICA_MARKER_H_
