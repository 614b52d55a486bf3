// MetadataStateMachine: the replicated part of placement's state, applied from the placement
// group's Paxos log (group 0). It holds the registered servers (id, zone, address), the zones, and
// once bootstrapped the groups and ranges. Liveness and current leaders are soft state kept by the
// service (liveness.h), never here.
//
// Commands (proto::PlacementCommand, serialized as the entry's command):
//  - RegisterServer{zone, address, server_id, peer_address, incarnation, name}. One data
//    directory is one server: a known server's id is handed only to the directory with its
//    incarnation, so a wiped or new directory can never take over an identity whose Paxos
//    promises it lost.
//      server_id != 0, known         re-register after a restart: address, zone and peer address
//                                    are updated; refused when the server was removed or its
//                                    incarnation differs;
//      server_id != 0, unknown       the server is added with that id (placement lost its state,
//                                    the server kept its identity);
//      server_id == 0                a server registered at `address` with the same incarnation
//                                    keeps its id (a retried Register after an unknown outcome);
//                                    one with another incarnation refuses the registration (the
//                                    operator removes that server first); else the new id is
//                                    max(ids, removed ones included) + 1, from 1.
//    In every case the address must not belong to another server that is not removed. With a
//    `name` (the caller's node certificate, over mutual TLS) it must not belong to another server
//    that is not removed either, and a known server that has a name keeps it: a certificate
//    names one server id, which the peer transport relies on.
//    Apply returns a serialized proto::RegisterResponse: the server's id, or a refusal.
//  - RemoveServer{server_id}: marks the server removed (idempotent); its address is free again
//    and its id is never reused. Its groups keep listing it until ReplaceReplica moves them.
//  - DrainServer{server_id, cancel}: sets (or clears) the server's draining flag; the planner
//    then moves its replicas off it and places none there. Apply returns "" or kUnknownServer.
//  - ReplaceReplica{group, old_server, new_server}: the group's replica on old_server becomes
//    new_server's, in the same position of its list (placement's re-replication; the group's
//    leader then changes its Paxos configuration to match). Ignored, with a message saying why,
//    when new_server is unknown, removed or serves the group already, or old_server does not.
//    Apply returns "" or, for an unknown id, kUnknownServer.
//  - Bootstrap{groups, ranges}: sets groups and ranges if not bootstrapped yet; ignored after.
//    Apply returns kBootstrapApplied or kBootstrapIgnored. Group leaders are stored as 0.
//    next_generation becomes one above every range's generation.
//  - CreateGroup{replicas}: a new data group, id max(group ids) + 1, whose replicas and founders
//    are `replicas` (no range yet). Refused before bootstrap, for no replicas, a replica listed
//    twice, or one on a server that is unknown, removed or draining. Apply returns a serialized
//    proto::PlacementResult: the group's id, or the refusal.
//  - StartMove{move}: records a range move or split (kind, start, end, from_group, and to_group
//    or split_key; other fields are ignored). Refused — nothing changes — when MoveRefusal
//    (planner.h) says why: [start, end) is not exactly a range of from_group, a move or split of
//    an overlapping range is in progress, a MOVE's target is unknown or the source itself, a
//    SPLIT's key is not strictly inside the range; and before bootstrap. Else the move gets
//    id = last_move_id + 1 (ids are never reused) and generation = next_generation (raised past
//    every range's generation first), and next_generation moves past it. Apply returns a
//    serialized proto::PlacementResult: the move as recorded, or the refusal.
//  - FinishMove{id}: a MOVE's range becomes to_group's at the move's generation and the move is
//    marked switched (it stays, for the source's Drop); a SPLIT's range [s, e) becomes [s, k)
//    and [k, e) of from_group, both at the move's generation, and the split is forgotten.
//    Ignored (Apply says why) for an unknown id or a move already switched.
//  - MoveDropped{id}: forgets a switched move. Ignored for an unknown id or one not switched.
//  - SetPolicy{group, policy}: the group's policy becomes `policy`. Refused before bootstrap and
//    when PolicyRefusal (policy.h, without liveness: servers not removed nor draining count)
//    rejects it. Apply returns a serialized proto::PlacementResult: empty, or the refusal.
//  - SetReplicas{group, replicas, expected}: the group's replica list becomes `replicas` when it
//    is still `expected` (compare-and-set: a decision made on a list that changed since is
//    stale). Refused before bootstrap, for an unknown group, a stale `expected`, an empty list, a
//    server listed twice, unknown or removed, or one new to the group that is draining. Apply
//    returns a serialized proto::PlacementResult: empty, or the refusal.
// No-op entries return "". Apply is deterministic: the same entries in the same order give the
// same state on every replica, and replaying the log from slot 1 after a restart rebuilds it. A
// command that does not parse is the only error (the log is corrupt).
//
// Thread safety: Apply runs on the group's strand (replication::StateMachine); Snapshot,
// bootstrapped and FindServer may be called from any thread at the same time: the state is copied
// under a mutex.
#ifndef MERIDIAN_PLACEMENT_METADATA_H_
#define MERIDIAN_PLACEMENT_METADATA_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/placement.pb.h"
#include "replication/group_host.h"

namespace meridian::placement {

inline constexpr char kBootstrapApplied[] = "bootstrap applied";
inline constexpr char kBootstrapIgnored[] = "bootstrap ignored";
inline constexpr char kUnknownServer[] = "unknown server";

// A serialized proto::PlacementResult carrying `refusal` ("" for success and nothing else).
std::string PlacementRefusal(std::string refusal);

class MetadataStateMachine : public replication::StateMachine {
 public:
  MetadataStateMachine() = default;

  absl::StatusOr<std::string> Apply(const paxos::Entry& entry) override;
  // Applies one command directly (what Apply does for a normal entry); for tests and tools.
  absl::StatusOr<std::string> ApplyCommand(const proto::PlacementCommand& command);

  // A copy of the replicated state as a Topology: zones (sorted), servers (by id, alive unset),
  // groups (by id, leader 0), ranges (key order), bootstrapped, moves in progress (by id, phase
  // empty), next_generation and last_move_id. placement_leader is left empty.
  proto::Topology Snapshot() const;
  bool bootstrapped() const;
  std::optional<proto::ServerInfo> FindServer(uint64_t id) const;

 private:
  std::string ApplyRegister(const proto::PlacementCommand::RegisterServer& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyBootstrap(const proto::PlacementCommand::Bootstrap& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyReplace(const proto::PlacementCommand::ReplaceReplica& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyDrain(const proto::PlacementCommand::DrainServer& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyRemove(const proto::PlacementCommand::RemoveServer& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // metadata_moves.cc: moves, splits and new groups.
  std::string ApplyCreateGroup(const proto::PlacementCommand::CreateGroup& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyStartMove(const proto::PlacementCommand::StartMove& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyFinishMove(const proto::PlacementCommand::FinishMove& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplyMoveDropped(const proto::PlacementCommand::MoveDropped& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // metadata_policy.cc: policies and replica lists.
  std::string ApplySetPolicy(const proto::PlacementCommand::SetPolicy& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string ApplySetReplicas(const proto::PlacementCommand::SetReplicas& command)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Why `command` may not register, or "" when it may; *bound is the server it collides with.
  std::string RegisterRefusal(const proto::PlacementCommand::RegisterServer& command,
                              const proto::ServerInfo* same_id, uint64_t* bound) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  proto::Topology state_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_METADATA_H_
