#include "placement/service_admin.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "placement/mover.h"
#include "placement/policy.h"

namespace meridian::placement {

void AdminRpcs::MoveRange(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                          const proto::MoveRangeRequest* request,
                          proto::MoveRangeResponse* response) {
  service_.read(ctx, reactor, [this, ctx, reactor, request, response](const proto::Topology& t) {
    absl::StatusOr<MovePlan> plan = PlanMoveRange(t, request->key(), request->to_group());
    if (!plan.ok()) return service_.finish_error(ctx, reactor, plan.status());
    if (plan->in_progress || plan->move.to_group() != 0) {
      return RecordMove(ctx, reactor, *plan, response->mutable_move());
    }
    absl::StatusOr<std::vector<uint64_t>> replicas = PlanNewGroup(t, service_.zones_required);
    if (!replicas.ok()) return service_.finish_error(ctx, reactor, replicas.status());
    CreateGroupThenMove(ctx, reactor, *replicas, plan->move, response->mutable_move());
  });
}

void AdminRpcs::SplitRange(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                           const proto::SplitRangeRequest* request,
                           proto::SplitRangeResponse* response) {
  service_.read(ctx, reactor, [this, ctx, reactor, request, response](const proto::Topology& t) {
    absl::StatusOr<MovePlan> plan = PlanSplitRange(t, request->key());
    if (!plan.ok()) return service_.finish_error(ctx, reactor, plan.status());
    RecordMove(ctx, reactor, *plan, response->mutable_move());
  });
}

void AdminRpcs::SetPolicy(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                          const proto::SetPolicyRequest* request,
                          proto::SetPolicyResponse* response) {
  service_.read(ctx, reactor, [this, ctx, reactor, request, response](const proto::Topology& t) {
    // Checked with liveness here (the state machine, which has none, checks the rest again).
    absl::StatusOr<proto::RangeInfo> range = Locate(t, request->key());
    if (!range.ok()) return service_.finish_error(ctx, reactor, range.status());
    const uint64_t group = range->group();
    const absl::Status refusal = PolicyRefusal(t, group, request->policy(), /*require_alive=*/true);
    if (!refusal.ok()) {
      return service_.finish_error(
          ctx, reactor,
          absl::Status(refusal.code(), absl::StrCat("policy of group ", group,
                                                    " not changed: ", refusal.message())));
    }
    proto::PlacementCommand command;
    command.mutable_set_policy()->set_group(group);
    *command.mutable_set_policy()->mutable_policy() = request->policy();
    ProposeForResult(ctx, reactor, command,
                     [reactor, request, response, group](const proto::PlacementResult&) {
                       response->set_group(group);
                       *response->mutable_policy() = request->policy();
                       std::fprintf(stderr, "placementd: group %llu's policy is now: %s\n",
                                    static_cast<unsigned long long>(group),
                                    DescribePolicy(request->policy()).c_str());
                       reactor->Finish(grpc::Status::OK);
                     });
  });
}

void AdminRpcs::ProposeForResult(grpc::CallbackServerContext* ctx,
                                 grpc::ServerUnaryReactor* reactor,
                                 const proto::PlacementCommand& command,
                                 std::function<void(const proto::PlacementResult&)> then) {
  service_.propose(
      command, [this, ctx, reactor, then = std::move(then)](absl::StatusOr<std::string> result) {
        if (!result.ok()) return service_.finish_error(ctx, reactor, result.status());
        proto::PlacementResult applied;
        if (!applied.ParseFromString(*result)) {
          return reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                                              "placement command applied without a result"));
        }
        if (!applied.refusal().empty()) {
          return reactor->Finish(
              grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, applied.refusal()));
        }
        then(applied);
      });
}

void AdminRpcs::RecordMove(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                           const MovePlan& plan, proto::MoveInfo* out) {
  if (plan.in_progress) {
    *out = plan.move;
    out->set_phase(service_.mover->Phase(*out));
    return reactor->Finish(grpc::Status::OK);
  }
  proto::PlacementCommand command;
  *command.mutable_start_move()->mutable_move() = plan.move;
  ProposeForResult(ctx, reactor, command, [this, reactor, out](const proto::PlacementResult& r) {
    *out = r.move();
    out->set_phase("queued");
    std::fprintf(stderr, "placementd: recorded %s\n", DescribeMove(*out).c_str());
    service_.mover->Kick();
    reactor->Finish(grpc::Status::OK);
  });
}

void AdminRpcs::CreateGroupThenMove(grpc::CallbackServerContext* ctx,
                                    grpc::ServerUnaryReactor* reactor,
                                    const std::vector<uint64_t>& replicas, proto::MoveInfo move,
                                    proto::MoveInfo* out) {
  proto::PlacementCommand command;
  for (const uint64_t id : replicas) command.mutable_create_group()->add_replicas(id);
  ProposeForResult(ctx, reactor, command,
                   [this, ctx, reactor, replicas, move = std::move(move),
                    out](const proto::PlacementResult& created) {
                     std::fprintf(stderr, "placementd: created group %llu on servers %s\n",
                                  static_cast<unsigned long long>(created.group()),
                                  absl::StrJoin(replicas, ",").c_str());
                     MovePlan plan{move, /*in_progress=*/false};
                     plan.move.set_to_group(created.group());
                     RecordMove(ctx, reactor, plan, out);
                   });
}

}  // namespace meridian::placement
