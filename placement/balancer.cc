#include "placement/balancer.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "placement/planner.h"

namespace meridian::placement {
namespace {

void Log(const std::string& line) { std::fprintf(stderr, "placementd: %s\n", line.c_str()); }

}  // namespace

Balancer::Balancer(BalancerHost* host, BalancerOptions options) : host_(host), options_(options) {}

Balancer::~Balancer() { Stop(); }

void Balancer::Start() {
  if (options_.interval_us <= 0) return;
  thread_ = std::thread([this] { Loop(); });
}

void Balancer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Balancer::Loop() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Microseconds(options_.interval_us));
      if (stopping_) return;
    }
    // Any clock that only moves forward will do: the pacing compares its own readings.
    const absl::StatusOr<std::string> done = RunOnce(absl::ToUnixMicros(absl::Now()));
    if (!done.ok()) Log(absl::StrCat("balancer: ", done.status().ToString()));
  }
}

absl::StatusOr<std::string> Balancer::RunOnce(int64_t now_us) {
  if (!host_->IsLeader()) return std::string();
  ASSIGN_OR_RETURN(const proto::Topology topology, host_->ReadTopology());
  // A move or split recorded since the last round counts even when it is done already.
  if (!topology.moves().empty() || topology.last_move_id() != last_move_id_seen_) {
    last_move_seen_us_ = now_us;
    last_move_id_seen_ = topology.last_move_id();
  }
  BalanceOptions plan;
  plan.split_range_bytes = options_.split_range_bytes;
  plan.zones_required = options_.zones_required;
  plan.data_moves = now_us - last_move_seen_us_ >= options_.data_settle_us;
  plan.leader_moves = now_us - last_leader_move_us_ >= options_.leader_transfer_interval_us;
  const std::optional<Decision> decision = PlanNext(topology, plan);
  if (!decision.has_value()) return std::string();
  Log(absl::StrCat("balancer: ", decision->reason));
  absl::StatusOr<std::string> done = Carry(*decision, now_us);
  if (!done.ok()) return PrependContext(done.status(), decision->reason);
  Log(absl::StrCat("balancer: ", *done));
  return absl::StrCat(decision->reason, ": ", *done);
}

absl::StatusOr<std::string> Balancer::Carry(const Decision& decision, int64_t now_us) {
  switch (decision.kind) {
    case Decision::Kind::kReplaceReplica:
      return host_->Propose(decision.command);  // ApplyReplace says what it did
    case Decision::Kind::kSetReplicas:
      return ProposeForResult(decision.command);
    case Decision::Kind::kStartMove:
      return RecordMove(decision.command);
    case Decision::Kind::kMoveToNewGroup: {
      proto::PlacementCommand create;
      for (const uint64_t id : decision.new_group) create.mutable_create_group()->add_replicas(id);
      ASSIGN_OR_RETURN(const std::string applied, host_->Propose(create));
      proto::PlacementResult created;
      if (!created.ParseFromString(applied)) {
        return absl::InternalError("CreateGroup applied without a result");
      }
      if (!created.refusal().empty()) return "no group created: " + created.refusal();
      Log(absl::StrCat("balancer: created group ", created.group()));
      proto::PlacementCommand move = decision.command;
      move.mutable_start_move()->mutable_move()->set_to_group(created.group());
      return RecordMove(std::move(move));
    }
    case Decision::Kind::kTransferLeader:
      last_leader_move_us_ = now_us;
      return MoveLeader(decision);
  }
  return absl::InternalError("a decision of no known kind");
}

absl::StatusOr<std::string> Balancer::ProposeForResult(const proto::PlacementCommand& command) {
  ASSIGN_OR_RETURN(const std::string applied, host_->Propose(command));
  proto::PlacementResult result;
  if (!result.ParseFromString(applied)) {
    return absl::InternalError("placement command applied without a result");
  }
  return result.refusal().empty() ? std::string("applied") : "refused: " + result.refusal();
}

absl::StatusOr<std::string> Balancer::RecordMove(proto::PlacementCommand command) {
  ASSIGN_OR_RETURN(const std::string applied, host_->Propose(command));
  proto::PlacementResult result;
  if (!result.ParseFromString(applied)) {
    return absl::InternalError("StartMove applied without a result");
  }
  if (!result.refusal().empty()) return "refused: " + result.refusal();
  host_->MoveRecorded();
  return "recorded " + DescribeMove(result.move());
}

absl::StatusOr<std::string> Balancer::MoveLeader(const Decision& decision) {
  std::string done;
  if (decision.command.op_case() != proto::PlacementCommand::OP_NOT_SET) {
    ASSIGN_OR_RETURN(done, ProposeForResult(decision.command));
    if (done != "applied") return done;
    done =
        absl::StrCat("server ", decision.to, " is group ", decision.group, "'s preferred leader");
  }
  if (decision.from == 0 || decision.from == decision.to) {
    return done.empty() ? std::string("nothing to hand over") : done;
  }
  // The reorder alone gets there too (the group's leader hands over to its first replica once
  // that one has caught up); the call only saves that wait, so its failure is not an error.
  const absl::Status transfer = host_->TransferLeader(decision.group, decision.from, decision.to);
  return absl::StrCat(
      done.empty() ? "" : done + "; ", "asked server ", decision.from,
      " to hand the leadership over: ", transfer.ok() ? std::string("done") : transfer.ToString());
}

}  // namespace meridian::placement
