// AdminRpcs: the Placement RPCs that change where data lives — MoveRange, SplitRange and
// SetPolicy (proto/placement.proto has their contracts). PlacementService (service.cc) admits
// each call (protocol version, placement leadership) and hands it over; the handlers check the
// request against the current topology with the pure planners (PlanMoveRange, PlanSplitRange,
// PlanNewGroup, PolicyRefusal) before proposing anything, and answer once the state machine has
// applied the command — or with its refusal as FAILED_PRECONDITION. Internal to placement/: it
// includes gRPC.
//
// Handlers never block: they call the service with callbacks that finish the RPC.
//
// Thread safety: thread-safe (no state of its own; the service's callbacks are).
#ifndef MERIDIAN_PLACEMENT_SERVICE_ADMIN_H_
#define MERIDIAN_PLACEMENT_SERVICE_ADMIN_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "placement/planner.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

class Mover;

class AdminRpcs {
 public:
  // What the service lends the handlers.
  struct Service {
    // Finishes the call with `status` (an UNAVAILABLE carries the leader hint).
    std::function<void(grpc::CallbackServerContext*, grpc::ServerUnaryReactor*,
                       const absl::Status&)>
        finish_error;
    // Once everything committed before the call is applied here, `then` gets the topology with
    // the soft state laid over; a failure finishes the call instead.
    std::function<void(grpc::CallbackServerContext*, grpc::ServerUnaryReactor*,
                       std::function<void(const proto::Topology&)>)>
        read;
    // Proposes `command`; `done` gets Apply's result.
    std::function<void(const proto::PlacementCommand&,
                       std::function<void(absl::StatusOr<std::string>)>)>
        propose;
    Mover* mover = nullptr;  // told about recorded moves, asked for their phase
    int zones_required = 3;  // replicas of a new group
  };

  explicit AdminRpcs(Service service) : service_(std::move(service)) {}

  // Each handles an admitted call and finishes `reactor`. `request` and `response` live until
  // then (gRPC's callback API).
  void MoveRange(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                 const proto::MoveRangeRequest* request, proto::MoveRangeResponse* response);
  void SplitRange(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                  const proto::SplitRangeRequest* request, proto::SplitRangeResponse* response);
  void SetPolicy(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                 const proto::SetPolicyRequest* request, proto::SetPolicyResponse* response);

 private:
  // Proposes `command` and parses its PlacementResult; `then` gets it unless it failed or was
  // refused (FAILED_PRECONDITION with the refusal), which finish the call.
  void ProposeForResult(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                        const proto::PlacementCommand& command,
                        std::function<void(const proto::PlacementResult&)> then);
  // Answers the plan's move: the recorded one when it is in progress, else once StartMove
  // recorded it.
  void RecordMove(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                  const MovePlan& plan, proto::MoveInfo* out);
  // MoveRange to a new group: CreateGroup on `replicas`, then StartMove to it.
  void CreateGroupThenMove(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                           const std::vector<uint64_t>& replicas, proto::MoveInfo move,
                           proto::MoveInfo* out);

  const Service service_;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_SERVICE_ADMIN_H_
