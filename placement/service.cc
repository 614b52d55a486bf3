#include "placement/service.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "placement/balancer.h"
#include "placement/grpc_leader_client.h"
#include "placement/grpc_movement_client.h"
#include "placement/metadata.h"
#include "placement/mover.h"
#include "placement/planner.h"
#include "placement/service_admin.h"
#include "placement/service_hosts.h"
#include "proto/placement.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/group_host.h"
#include "replication/grpc_tls.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

using rpc::kLeaderMetadataKey;
using rpc::ToGrpc;
constexpr int64_t kRefusalShownUs = 30'000'000;
}  // namespace

class PlacementService::Impl final : public proto::Placement::CallbackService {
 public:
  Impl(replication::GroupHost* host, const MetadataStateMachine* metadata,
       truetime::TrueTime* truetime, PlacementServiceOptions options)
      : host_(host),
        metadata_(metadata),
        truetime_(truetime),
        zones_required_(options.zones_required),
        num_ranges_(options.num_ranges),
        bootstrap_delay_us_(options.bootstrap_delay_us),
        liveness_timeout_us_(options.liveness_timeout_us),
        dead_server_timeout_us_(options.dead_server_timeout_us),
        liveness_(options.liveness_timeout_us),
        addresses_(std::move(options.replica_addresses)),
        mover_host_(host, metadata, &stopped_),
        leader_client_(options.tls) {
    MovementClient* movement = options.movement;
    if (movement == nullptr) {
      GrpcMovementClientOptions movement_options;
      movement_options.tls = options.tls;
      grpc_movement_ = std::make_unique<GrpcMovementClient>(
          [this](uint64_t group) { return GroupAddressesOf(group); }, movement_options);
      movement = grpc_movement_.get();
    }
    mover_ = std::make_unique<Mover>(&mover_host_, movement, truetime, options.mover);
    mover_->Start();
    admin_ = std::make_unique<AdminRpcs>(AdminRpcs::Service{
        .finish_error = [this](grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                               const absl::Status& status) { FinishError(ctx, reactor, status); },
        .read =
            [this](grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                   std::function<void(const proto::Topology&)> then) {
              ReadTopology(ctx, reactor, std::move(then));
            },
        .propose =
            [this](const proto::PlacementCommand& command,
                   replication::GroupHost::ProposeCallback done) {
              ProposeCommand(command, std::move(done));
            },
        .mover = mover_.get(),
        .zones_required = zones_required_});
    StartBalancer(options.balancer);
  }

  ~Impl() override { Stop(); }

  absl::StatusOr<proto::Topology> StatusTopology() {
    absl::StatusOr<truetime::Interval> now = truetime_->Now();
    if (!now.ok()) return absl::UnavailableError(now.status().ToString());
    return CurrentTopology(now->latest);
  }

  void SetReplicaAddress(uint64_t replica_id, const std::string& address) {
    absl::MutexLock lock(&mu_);
    addresses_[replica_id] = address;
  }

  void Stop() {
    stopped_.store(true);
    if (grpc_movement_ != nullptr) grpc_movement_->Shutdown();
    leader_client_.Shutdown();
    if (mover_ != nullptr) mover_->Stop();
    if (balancer_ != nullptr) balancer_->Stop();
  }

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const proto::RegisterRequest* request,
                                     proto::RegisterResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!AdmitAdmin(ctx, reactor, "Register")) return reactor;
    if (request->zone().empty() || request->address().empty()) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "Register needs a zone and an address"));
      return reactor;
    }
    if (!CheckLeader(ctx, reactor)) return reactor;

    proto::PlacementCommand command;
    proto::PlacementCommand::RegisterServer* op = command.mutable_register_server();
    op->set_zone(request->zone());
    op->set_address(request->address());
    op->set_server_id(request->server_id());
    op->set_peer_address(request->peer_address());
    op->set_incarnation(request->incarnation());
    // The name comes from the verified certificate, never from the request.
    absl::StatusOr<std::optional<TlsIdentity>> caller = replication::CallerIdentity(*ctx);
    if (caller.ok() && caller->has_value()) op->set_name((*caller)->name);
    host_->Propose(
        [bytes = command.SerializeAsString()](paxos::Replica&) -> absl::StatusOr<std::string> {
          return bytes;
        },
        [this, ctx, reactor, request, response](absl::StatusOr<std::string> result) {
          if (!result.ok()) return FinishError(ctx, reactor, result.status());
          if (!response->ParseFromString(*result)) {
            return reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                                                "RegisterServer applied without a response"));
          }
          if (!response->refusal().empty()) return RefuseRegistration(*request, *response, reactor);
          if (response->server_id() == 0) {
            return reactor->Finish(grpc::Status(grpc::StatusCode::INTERNAL,
                                                "RegisterServer applied without a server id"));
          }
          {
            absl::MutexLock lock(&mu_);
            refused_registrations_.erase(request->address());
          }
          std::fprintf(
              stderr, "placementd: server %llu registered (zone %s, address %s, peers %s)\n",
              static_cast<unsigned long long>(response->server_id()), request->zone().c_str(),
              request->address().c_str(),
              request->peer_address().empty() ? "on address" : request->peer_address().c_str());
          reactor->Finish(grpc::Status::OK);
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const proto::HeartbeatRequest* request,
                                      proto::HeartbeatResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!AdmitAdmin(ctx, reactor, "Heartbeat")) return reactor;
    if (!CheckLeader(ctx, reactor)) return reactor;
    ReadBarrier(ctx, reactor, [this, ctx, reactor, request, response]() {
      const std::optional<proto::ServerInfo> server = metadata_->FindServer(request->server_id());
      if (!server.has_value()) {
        return reactor->Finish(grpc::Status(
            grpc::StatusCode::NOT_FOUND,
            absl::StrCat("unknown server id ", request->server_id(), ": register again")));
      }
      if (server->removed()) {
        return reactor->Finish(grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            absl::StrCat("server ", request->server_id(), " was removed from the cluster")));
      }
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      liveness_.RecordHeartbeat(*request, now->latest);
      proto::Topology topology = CurrentTopology(now->latest);
      if (!topology.bootstrapped()) {
        MaybeBootstrap(topology, now->latest);
      } else {
        MaybeReplace(topology, now->latest);
      }
      *response->mutable_topology() = std::move(topology);
      response->set_clock_earliest_us(now->earliest);
      response->set_clock_latest_us(now->latest);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Locate(grpc::CallbackServerContext* ctx,
                                   const proto::LocateRequest* request,
                                   proto::LocateResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    if (!CheckLeader(ctx, reactor)) return reactor;
    ReadBarrier(ctx, reactor, [this, ctx, reactor, request, response]() {
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      const proto::Topology topology = CurrentTopology(now->latest);
      absl::StatusOr<proto::RangeInfo> range = placement::Locate(topology, request->key());
      if (!range.ok()) return FinishError(ctx, reactor, range.status());
      *response->mutable_range() = *range;
      for (const proto::GroupInfo& group : topology.groups()) {
        if (group.id() != range->group()) continue;
        *response->mutable_group() = group;
        for (uint64_t replica : group.replicas()) {
          for (const proto::ServerInfo& server : topology.servers()) {
            if (server.id() != replica || server.removed()) continue;
            *response->add_replicas() = server;
            if (server.id() == group.leader()) response->set_leader_address(server.address());
          }
        }
      }
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* RemoveServer(grpc::CallbackServerContext* ctx,
                                         const proto::RemoveServerRequest* request,
                                         proto::RemoveServerResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!AdmitAdmin(ctx, reactor, "RemoveServer")) return reactor;
    if (!CheckLeader(ctx, reactor)) return reactor;
    ReadBarrier(ctx, reactor, [this, ctx, reactor, request]() {
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      const uint64_t id = request->server_id();
      const std::optional<proto::ServerInfo> server = metadata_->FindServer(id);
      if (!server.has_value()) {
        return reactor->Finish(
            grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no server ", id)));
      }
      // A live server still holds its Paxos state; removing it would only orphan it.
      if (!server->removed() && liveness_.IsAlive(id, now->latest)) {
        return reactor->Finish(grpc::Status(
            grpc::StatusCode::FAILED_PRECONDITION,
            absl::StrCat("server ", id, " (", server->address(),
                         ") is alive: it heartbeated within the last ",
                         liveness_timeout_us_ / 1'000'000.0,
                         " s. Remove only a server whose data is lost; stop it first")));
      }
      proto::PlacementCommand command;
      command.mutable_remove_server()->set_server_id(id);
      host_->Propose([bytes = command.SerializeAsString()](
                         paxos::Replica&) -> absl::StatusOr<std::string> { return bytes; },
                     [this, ctx, reactor, id](absl::StatusOr<std::string> result) {
                       if (!result.ok()) return FinishError(ctx, reactor, result.status());
                       if (*result == kUnknownServer) {
                         return reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                                             absl::StrCat("no server ", id)));
                       }
                       std::fprintf(stderr, "placementd: server %llu removed\n",
                                    static_cast<unsigned long long>(id));
                       reactor->Finish(grpc::Status::OK);
                     });
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* DrainServer(grpc::CallbackServerContext* ctx,
                                        const proto::DrainServerRequest* request,
                                        proto::DrainServerResponse*) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!AdmitAdmin(ctx, reactor, "DrainServer")) return reactor;
    if (!CheckLeader(ctx, reactor)) return reactor;
    ReadBarrier(ctx, reactor, [this, ctx, reactor, request]() {
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      const absl::Status refusal =
          DrainRefusal(CurrentTopology(now->latest), request->server_id(), request->cancel());
      if (!refusal.ok()) return FinishError(ctx, reactor, refusal);
      proto::PlacementCommand command;
      command.mutable_drain_server()->set_server_id(request->server_id());
      command.mutable_drain_server()->set_cancel(request->cancel());
      host_->Propose([bytes = command.SerializeAsString()](
                         paxos::Replica&) -> absl::StatusOr<std::string> { return bytes; },
                     [this, ctx, reactor, request](absl::StatusOr<std::string> result) {
                       if (!result.ok()) return FinishError(ctx, reactor, result.status());
                       std::fprintf(stderr, "placementd: server %llu %s\n",
                                    static_cast<unsigned long long>(request->server_id()),
                                    request->cancel() ? "no longer draining" : "draining");
                       reactor->Finish(grpc::Status::OK);
                     });
    });
    return reactor;
  }

  // Why `server` may not be drained (or undrained) now, or OK.
  static absl::Status DrainRefusal(const proto::Topology& topology, uint64_t server, bool cancel) {
    const proto::ServerInfo* target = nullptr;
    for (const proto::ServerInfo& s : topology.servers()) {
      if (s.id() == server) target = &s;
    }
    if (target == nullptr) return absl::NotFoundError(absl::StrCat("no server ", server));
    if (target->removed()) {
      return absl::FailedPreconditionError(absl::StrCat("server ", server, " was removed"));
    }
    if (cancel) return absl::OkStatus();
    std::vector<uint64_t> groups;
    for (const proto::GroupInfo& g : topology.groups()) {
      if (std::find(g.replicas().begin(), g.replicas().end(), server) != g.replicas().end()) {
        groups.push_back(g.id());
      }
    }
    if (groups.empty()) return absl::OkStatus();
    for (const proto::ServerInfo& s : topology.servers()) {
      if (s.id() != server && s.zone() == target->zone() && s.alive() && !s.removed() &&
          !s.draining()) {
        return absl::OkStatus();
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("server ", server, " is the last live server of zone ", target->zone(),
                     " serving groups ", absl::StrJoin(groups, ","),
                     ": draining it would take their replicas out of the zone. "
                     "Add a server to zone ",
                     target->zone(), " first"));
  }

  grpc::ServerUnaryReactor* GetTopology(grpc::CallbackServerContext* ctx,
                                        const proto::GetTopologyRequest*,
                                        proto::Topology* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (!rpc::AdmitProtocol(ctx, reactor)) return reactor;
    if (!CheckLeader(ctx, reactor)) return reactor;
    ReadBarrier(ctx, reactor, [this, ctx, reactor, response]() {
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      *response = CurrentTopology(now->latest);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }

  // MoveRange, SplitRange and SetPolicy: AdminRpcs (service_admin.h) once admitted.
  grpc::ServerUnaryReactor* MoveRange(grpc::CallbackServerContext* ctx,
                                      const proto::MoveRangeRequest* request,
                                      proto::MoveRangeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (AdmitAdmin(ctx, reactor, "MoveRange") && CheckLeader(ctx, reactor)) {
      admin_->MoveRange(ctx, reactor, request, response);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* SplitRange(grpc::CallbackServerContext* ctx,
                                       const proto::SplitRangeRequest* request,
                                       proto::SplitRangeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (AdmitAdmin(ctx, reactor, "SplitRange") && CheckLeader(ctx, reactor)) {
      admin_->SplitRange(ctx, reactor, request, response);
    }
    return reactor;
  }

  grpc::ServerUnaryReactor* SetPolicy(grpc::CallbackServerContext* ctx,
                                      const proto::SetPolicyRequest* request,
                                      proto::SetPolicyResponse* response) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (AdmitAdmin(ctx, reactor, "SetPolicy") && CheckLeader(ctx, reactor)) {
      admin_->SetPolicy(ctx, reactor, request, response);
    }
    return reactor;
  }

 private:
  // The address of the placement replica currently believed to lead, or "" when unknown.
  std::string LeaderAddress() {
    const replication::GroupState state = host_->state();
    if (state.leader == paxos::kNoReplica) return "";
    absl::MutexLock lock(&mu_);
    auto it = addresses_.find(state.leader);
    return it == addresses_.end() ? "" : it->second;
  }

  // Finishes with `status`; an UNAVAILABLE carries the leader hint when one is known.
  void FinishError(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                   const absl::Status& status) {
    if (status.code() == absl::StatusCode::kUnavailable) {
      const std::string leader = LeaderAddress();
      if (!leader.empty()) ctx->AddTrailingMetadata(kLeaderMetadataKey, leader);
    }
    reactor->Finish(ToGrpc(status));
  }

  // Fails fast (UNAVAILABLE, with the leader hint) when stopped or not the leader.
  bool CheckLeader(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor) {
    if (stopped_.load()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "placementd is shutting down"));
      return false;
    }
    if (host_->state().role != paxos::Role::kLeader) {
      FinishError(ctx, reactor,
                  absl::UnavailableError("not the placement leader; see meridian-leader"));
      return false;
    }
    return true;
  }

  // Runs `then` on the group's strand once this leader holds its lease and has applied
  // everything committed before the call; else finishes with the error.
  template <typename Then>
  void ReadBarrier(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, Then then) {
    host_->Read([]() -> absl::StatusOr<std::string> { return std::string(); },
                [this, ctx, reactor, then = std::move(then)](absl::StatusOr<std::string> result) {
                  if (!result.ok()) return FinishError(ctx, reactor, result.status());
                  then();
                });
  }

  // The protocol check, and a node or admin certificate (replication/grpc_tls.h): servers
  // register and heartbeat, operators move data. False when it finished the call.
  static bool AdmitAdmin(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                         const char* rpc) {
    if (!rpc::AdmitProtocol(ctx, reactor)) return false;
    const absl::Status allowed = replication::AuthorizeAdmin(*ctx, rpc);
    if (!allowed.ok()) reactor->Finish(ToGrpc(allowed));
    return allowed.ok();
  }

  // After the read barrier, `then` gets CurrentTopology; else the call is finished.
  void ReadTopology(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                    std::function<void(const proto::Topology&)> then) {
    ReadBarrier(ctx, reactor, [this, ctx, reactor, then = std::move(then)]() {
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (!now.ok()) return FinishError(ctx, reactor, now.status());
      then(CurrentTopology(now->latest));
    });
  }

  void ProposeCommand(const proto::PlacementCommand& command,
                      replication::GroupHost::ProposeCallback done) {
    host_->Propose([bytes = command.SerializeAsString()](
                       paxos::Replica&) -> absl::StatusOr<std::string> { return bytes; },
                   std::move(done));
  }

  // The balancer's host: the mover's, with liveness laid over what it reads and leader
  // transfers asked of the spanservers (placement knows their addresses).
  void StartBalancer(BalancerOptions options) {
    options.zones_required = zones_required_;
    balancer_host_ = std::make_unique<PlacementBalancerHost>(
        &mover_host_,
        PlacementBalancerHost::Service{
            .soft_state_ready =
                [this] {
                  absl::StatusOr<truetime::Interval> now = truetime_->Now();
                  return now.ok() && liveness_.WatchingFor(now->latest) >= liveness_timeout_us_;
                },
            .overlay =
                [this](proto::Topology* topology) {
                  absl::StatusOr<truetime::Interval> now = truetime_->Now();
                  if (now.ok()) liveness_.Annotate(topology, now->latest);
                },
            .transfer_leader = [this](uint64_t group, uint64_t from, uint64_t to) -> absl::Status {
              const std::optional<proto::ServerInfo> server = metadata_->FindServer(from);
              if (!server.has_value() || server->removed()) {
                return absl::NotFoundError(absl::StrCat("no server ", from));
              }
              return leader_client_.TransferLeader(server->address(), group, to);
            },
            .move_recorded = [this] { mover_->Kick(); }});
    balancer_ = std::make_unique<Balancer>(balancer_host_.get(), options);
    balancer_->Start();
  }

  // Where `group`'s replicas answer, for the mover's calls: its leader as liveness last heard it,
  // and every replica on a server that is not removed.
  GroupAddresses GroupAddressesOf(uint64_t group) {
    absl::StatusOr<truetime::Interval> now = truetime_->Now();
    if (!now.ok()) return {};
    proto::Topology topology = metadata_->Snapshot();
    liveness_.Annotate(&topology, now->latest);
    std::map<uint64_t, std::string> address_of;
    for (const proto::ServerInfo& s : topology.servers()) {
      if (!s.removed()) address_of[s.id()] = s.address();
    }
    GroupAddresses addresses;
    for (const proto::GroupInfo& g : topology.groups()) {
      if (g.id() != group) continue;
      if (const auto it = address_of.find(g.leader()); it != address_of.end()) {
        addresses.leader = it->second;
      }
      for (const uint64_t id : g.replicas()) {
        if (const auto it = address_of.find(id); it != address_of.end()) {
          addresses.replicas.push_back(it->second);
        }
      }
    }
    return addresses;
  }

  // Answers a refused Register with FAILED_PRECONDITION and remembers it for `meridian status`.
  void RefuseRegistration(const proto::RegisterRequest& request,
                          const proto::RegisterResponse& response,
                          grpc::ServerUnaryReactor* reactor) {
    std::fprintf(stderr, "placementd: refused to register %s (zone %s): %s\n",
                 request.address().c_str(), request.zone().c_str(), response.refusal().c_str());
    absl::StatusOr<truetime::Interval> now = truetime_->Now();
    {
      absl::MutexLock lock(&mu_);
      proto::RegistrationRefusal& refusal = refused_registrations_[request.address()];
      refusal.set_address(request.address());
      refusal.set_zone(request.zone());
      refusal.set_bound_server(response.bound_server());
      refusal.set_reason(response.refusal());
      refusal.set_at_us(now.ok() ? now->latest : 0);
    }
    reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, response.refusal()));
  }

  // The replicated metadata with the soft state laid over it. A refused registration is shown
  // while its server keeps retrying (it does every 2 s at most).
  proto::Topology CurrentTopology(int64_t now_us) {
    proto::Topology topology = metadata_->Snapshot();
    liveness_.Annotate(&topology, now_us);
    topology.set_placement_leader(LeaderAddress());
    mover_->Annotate(&topology);
    absl::MutexLock lock(&mu_);
    for (auto it = refused_registrations_.begin(); it != refused_registrations_.end();) {
      if (now_us - it->second.at_us() > kRefusalShownUs) {
        refused_registrations_.erase(it++);
        continue;
      }
      *topology.add_refused_registrations() = it->second;
      ++it;
    }
    return topology;
  }

  // Proposes Bootstrap when the planner has succeeded with the live servers of `topology` for
  // bootstrap_delay_us, unless a proposal is already in flight. A duplicate Bootstrap (e.g. from a
  // new leader) is ignored by the state machine.
  void MaybeBootstrap(const proto::Topology& topology, int64_t now_us) {
    const std::vector<proto::ServerInfo> servers(topology.servers().begin(),
                                                 topology.servers().end());
    absl::StatusOr<proto::PlacementCommand::Bootstrap> plan =
        PlanBootstrap(servers, zones_required_, num_ranges_);
    {
      absl::MutexLock lock(&mu_);
      if (!plan.ok()) {
        planner_ready_since_us_.reset();
        return;
      }
      if (!planner_ready_since_us_.has_value()) planner_ready_since_us_ = now_us;
      if (now_us - *planner_ready_since_us_ < bootstrap_delay_us_) return;
    }
    if (bootstrap_in_flight_.exchange(true)) return;
    const auto live = std::count_if(servers.begin(), servers.end(),
                                    [](const proto::ServerInfo& s) { return s.alive(); });
    std::fprintf(stderr,
                 "placementd: proposing bootstrap: %d ranges, %d groups over %ld live servers\n",
                 plan->ranges_size(), plan->groups_size(), static_cast<long>(live));
    proto::PlacementCommand command;
    *command.mutable_bootstrap() = *std::move(plan);
    host_->Propose([bytes = command.SerializeAsString()](
                       paxos::Replica&) -> absl::StatusOr<std::string> { return bytes; },
                   [this](absl::StatusOr<std::string> result) {
                     bootstrap_in_flight_.store(false);
                     if (!result.ok()) {
                       std::fprintf(stderr, "placementd: bootstrap failed: %s\n",
                                    result.status().ToString().c_str());
                     } else {
                       std::fprintf(stderr, "placementd: %s\n", result->c_str());
                     }
                   });
  }

  // Proposes the planner's next replica replacement, unless one is in flight.
  void MaybeReplace(const proto::Topology& topology, int64_t now_us) {
    if (dead_server_timeout_us_ <= 0) return;
    std::optional<proto::PlacementCommand::ReplaceReplica> plan = PlanReplacement(
        topology, [&](uint64_t server) { return liveness_.DeadFor(server, now_us); },
        dead_server_timeout_us_);
    if (!plan.has_value() || replace_in_flight_.exchange(true)) return;
    std::fprintf(stderr,
                 "placementd: server %llu is gone; moving its replica of group %llu to server "
                 "%llu\n",
                 static_cast<unsigned long long>(plan->old_server()),
                 static_cast<unsigned long long>(plan->group()),
                 static_cast<unsigned long long>(plan->new_server()));
    proto::PlacementCommand command;
    *command.mutable_replace_replica() = *std::move(plan);
    host_->Propose(
        [bytes = command.SerializeAsString()](paxos::Replica&) -> absl::StatusOr<std::string> {
          return bytes;
        },
        [this](absl::StatusOr<std::string> result) {
          replace_in_flight_.store(false);
          std::fprintf(stderr, "placementd: %s\n",
                       result.ok() ? result->c_str() : result.status().ToString().c_str());
        });
  }

  replication::GroupHost* const host_;
  const MetadataStateMachine* const metadata_;
  truetime::TrueTime* const truetime_;
  const int zones_required_;
  const int num_ranges_;
  const int64_t bootstrap_delay_us_;
  const int64_t liveness_timeout_us_;
  const int64_t dead_server_timeout_us_;
  Liveness liveness_;
  std::atomic<bool> stopped_{false};
  std::atomic<bool> bootstrap_in_flight_{false};
  std::atomic<bool> replace_in_flight_{false};

  absl::Mutex mu_;
  std::map<uint64_t, std::string> addresses_ ABSL_GUARDED_BY(mu_);
  // The newest refused Register per address (soft state, for `meridian status`).
  std::map<std::string, proto::RegistrationRefusal> refused_registrations_ ABSL_GUARDED_BY(mu_);
  // When the planner first succeeded without failing since; unset while it fails.
  std::optional<int64_t> planner_ready_since_us_ ABSL_GUARDED_BY(mu_);

  // Last: the mover's and the balancer's threads stop before what they use goes.
  PlacementMoverHost mover_host_;
  GrpcLeaderClient leader_client_;
  std::unique_ptr<GrpcMovementClient> grpc_movement_;  // unless options.movement was given
  std::unique_ptr<Mover> mover_;
  std::unique_ptr<AdminRpcs> admin_;
  std::unique_ptr<PlacementBalancerHost> balancer_host_;
  std::unique_ptr<Balancer> balancer_;
};

PlacementService::PlacementService(replication::GroupHost* host,
                                   const MetadataStateMachine* metadata,
                                   truetime::TrueTime* truetime, PlacementServiceOptions options)
    : impl_(std::make_unique<Impl>(host, metadata, truetime, std::move(options))) {}

PlacementService::~PlacementService() = default;

void PlacementService::RegisterService(grpc::ServerBuilder* builder) {
  builder->RegisterService(impl_.get());
}

void PlacementService::SetReplicaAddress(uint64_t replica_id, const std::string& address) {
  impl_->SetReplicaAddress(replica_id, address);
}

void PlacementService::Stop() { impl_->Stop(); }

absl::StatusOr<proto::Topology> PlacementService::StatusTopology() {
  return impl_->StatusTopology();
}

}  // namespace meridian::placement
