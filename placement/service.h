// PlacementService: the gRPC adapter of the placement driver (proto/placement.proto, service
// Placement). It runs on every placement replica next to the GroupHost of group 0:
//  - Register      proposes a RegisterServer command through the placement group's log and
//                  answers with the id the MetadataStateMachine assigned, or FAILED_PRECONDITION
//                  with its refusal (a data directory that is not the known server's), which is
//                  also kept (soft state) for `meridian status` while the server retries.
//  - Heartbeat     after a linearizable read barrier (GroupHost::Read), records the server's
//                  liveness and the group leaders it reports (Liveness, soft state on the leader
//                  only), proposes Bootstrap if the cluster is not bootstrapped and the planner
//                  has succeeded with the live servers for bootstrap_delay_us, or else the
//                  planner's next ReplaceReplica (a replica on a server silent for
//                  dead_server_timeout_us, one proposal in flight at a time), and answers with
//                  the topology (without waiting for either to commit).
//  - Locate        the range holding the key, its group, replica infos and the leader's address.
//  - GetTopology   the topology: servers with alive flags, groups with current leaders and
//                  refused replicas, ranges, placement_leader, refused registrations.
//  - DrainServer   (admin) marks a server draining (or not) through the log; the planner then
//                  moves its replicas away. Refused when its zone would be left without a live
//                  server for the groups it serves.
//  - RemoveServer  (admin) marks a dead server removed through the log: FAILED_PRECONDITION
//                  while it heartbeats, NOT_FOUND for an unknown id. A removed server's
//                  heartbeats fail with FAILED_PRECONDITION and Locate leaves it out.
// Only the leader serves; at a follower every call fails with UNAVAILABLE and trailing metadata
// "meridian-leader" = the placement leader's address when it is known. Locate before bootstrap
// is FAILED_PRECONDITION; a heartbeat from an unknown server id is NOT_FOUND (register again).
//
// Handlers never block: they call GroupHost with callbacks that finish the RPC.
//
// Shutdown order: Stop() (new calls fail fast with UNAVAILABLE), then grpc::Server::Shutdown on
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

#include "placement/liveness.h"

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
};

class PlacementService {
 public:
  // `host`, `metadata` (the host's state machine) and `truetime` must outlive the service.
  PlacementService(replication::GroupHost* host, const MetadataStateMachine* metadata,
                   truetime::TrueTime* truetime, PlacementServiceOptions options);
  ~PlacementService();
  PlacementService(const PlacementService&) = delete;
  PlacementService& operator=(const PlacementService&) = delete;

  // Adds the Placement service; the builder (and server) must not outlive this object.
  void RegisterService(grpc::ServerBuilder* builder);
  // Sets (or changes) a placement replica's address, e.g. once an ephemeral port is known.
  void SetReplicaAddress(uint64_t replica_id, const std::string& address);
  // From now on every new call fails with UNAVAILABLE. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace placement
}  // namespace meridian

#endif  // MERIDIAN_PLACEMENT_SERVICE_H_
