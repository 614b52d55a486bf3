// PlacementService: the gRPC adapter of the placement driver (proto/placement.proto, service
// Placement). It runs on every placement replica next to the GroupHost of group 0:
//  - Register      proposes a RegisterServer command through the placement group's log and
//                  answers with the id the MetadataStateMachine assigned, or FAILED_PRECONDITION
//                  with its refusal (a data directory that is not the known server's), which is
//                  also kept (soft state) for `meridian status` while the server retries.
//  - Heartbeat     after a linearizable read barrier (GroupHost::Read), records the server's
//                  liveness, the group leaders it reports and their ranges' sizes (Liveness,
//                  soft state on the leader only), proposes Bootstrap if the cluster is not
//                  bootstrapped and the planner has succeeded with the live servers for
//                  bootstrap_delay_us, or else the planner's next ReplaceReplica (a replica on a
//                  server silent for dead_server_timeout_us, one proposal in flight at a time), and
//                  answers with the topology (without waiting for either to commit).
//  - Locate        the range holding the key, its group, replica infos and the leader's address.
//  - GetTopology   the topology: servers with alive flags, groups with current leaders,
//                  refused replicas, logs, range sizes and policies, ranges, placement_leader,
//                  refused registrations.
//  - DrainServer   (admin) marks a server draining (or not) through the log; the planner then
//                  moves its replicas away. Refused when its zone would be left without a live
//                  server for the groups it serves.
//  - RemoveServer  (admin) marks a dead server removed through the log: FAILED_PRECONDITION
//                  while it heartbeats, NOT_FOUND for an unknown id. A removed server's
//                  heartbeats fail with FAILED_PRECONDITION and Locate leaves it out.
//  - MoveRange     (admin) records a move of the range holding the key (StartMove; with
//                  to_group 0 it first creates a group where PlanNewGroup says, CreateGroup) and
//                  answers the move as recorded; SplitRange likewise records a split. Errors as
//                  placement.proto says, from PlanMoveRange / PlanSplitRange (planner.h) before
//                  anything is proposed and from the state machine's refusal after.
//  - SetPolicy     (admin) sets the policy of the group holding the key (SetPolicy command),
//                  after PolicyRefusal (policy.h) accepted it against the live servers.
// MoveRange, SplitRange and SetPolicy are handled by AdminRpcs (service_admin.h).
// The Balancer (balancer.h) runs beside the service too, on its own thread: on the leader it
// makes placement's automatic decisions — policies, splits by size, data, replica and leader
// balancing — one at a time, from the topology with liveness and range sizes laid over, and
// asks group leaders to hand leadership over (Kv.TransferLeader, GrpcLeaderClient).
// The Mover (mover.h) runs beside the service from construction to Stop(): on the leader it
// carries the recorded moves through their steps, calling the data groups' leaders through a
// GrpcMovementClient (or options.movement) and proposing FinishMove / MoveDropped through the
// log; GetTopology shows each move's phase.
// Only the leader serves; at a follower every call fails with UNAVAILABLE and trailing metadata
// "meridian-leader" = the placement leader's address when it is known. Locate before bootstrap
// is FAILED_PRECONDITION; a heartbeat from an unknown server id is NOT_FOUND (register again).
//
// Handlers never block: they call GroupHost with callbacks that finish the RPC.
//
// Shutdown order: Stop() (new calls fail fast with UNAVAILABLE, the mover and the balancer
// stop), then
// grpc::Server::Shutdown on
// one thread while GroupHost::Stop() fails the proposals and reads still waiting, which finishes
// their RPCs. Destroy the service after the server.
//
// Thread safety: all methods are thread-safe. gRPC stays out of this header (pimpl).
#ifndef MERIDIAN_PLACEMENT_SERVICE_H_
#define MERIDIAN_PLACEMENT_SERVICE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tls.h"
#include "placement/balancer.h"
#include "placement/liveness.h"
#include "placement/mover.h"

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace meridian {
namespace truetime {
class TrueTime;
}  // namespace truetime
namespace replication {
class GroupHost;
}  // namespace replication

namespace placement {

class MetadataStateMachine;
class MovementClient;

struct PlacementServiceOptions {
  int zones_required = 3;  // --zones
  int num_ranges = 8;      // --ranges
  int64_t liveness_timeout_us = kDefaultLivenessTimeoutUs;
  // Bootstrap waits this long after the planner first succeeds (live servers in enough zones), so
  // that servers started together all register and heartbeat before the groups are planned.
  int64_t bootstrap_delay_us = 1'000'000;
  // A server silent this long has its replicas moved elsewhere (0: never).
  int64_t dead_server_timeout_us = 30'000'000;
  // Placement replica id -> its client-facing address, for "meridian-leader" and placement_leader.
  std::map<uint64_t, std::string> replica_addresses;
  MoverOptions mover;
  // The automatic decisions (its zones_required is this struct's). interval_us 0: none — the
  // planner then only re-replicates, and policies are recorded but not acted on.
  BalancerOptions balancer;
  // What the mover calls the data groups through (not owned; must outlive the service). Null: a
  // GrpcMovementClient to the groups' leaders.
  MovementClient* movement = nullptr;
  // Mutual TLS of placement's calls to spanservers (moves, leader transfers); disabled:
  // plaintext. The service's own server is built by its owner (placementd's main).
  TlsOptions tls;
};

class PlacementService {
 public:
  // `host`, `metadata` (the host's state machine) and `truetime` must outlive the service.
  // Starts the mover's thread.
  PlacementService(replication::GroupHost* host, const MetadataStateMachine* metadata,
                   truetime::TrueTime* truetime, PlacementServiceOptions options);
  ~PlacementService();
  PlacementService(const PlacementService&) = delete;
  PlacementService& operator=(const PlacementService&) = delete;

  // Adds the Placement service; the builder (and server) must not outlive this object.
  void RegisterService(grpc::ServerBuilder* builder);
  // Sets (or changes) a placement replica's address, e.g. once an ephemeral port is known.
  void SetReplicaAddress(uint64_t replica_id, const std::string& address);
  // The topology as GetTopology would answer it, but without its read barrier and on any
  // replica, for status pages: a follower's may lag, and only the leader's carries liveness,
  // leaders and range sizes (soft state). UNAVAILABLE when the clock cannot be read.
  absl::StatusOr<proto::Topology> StatusTopology();
  // From now on every new call fails with UNAVAILABLE; stops the mover and the balancer (it
  // returns once their threads have). Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace placement
}  // namespace meridian

#endif  // MERIDIAN_PLACEMENT_SERVICE_H_
