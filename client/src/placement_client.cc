#include "client/src/placement_client.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "client/src/connections.h"

namespace meridian::client {
namespace {

// A follower's hint is followed at once this many times in a row; past that the call backs off
// (leadership is in flux).
constexpr int kHopsAtOnce = 2;

// Mixed into the seed, so that placement calls draw other jitter than the Router's.
constexpr uint64_t kSeedSalt = 0x706c'6163'0000'0000ULL;

RangeMove RangeMoveOf(const proto::MoveInfo& m) {
  return RangeMove{
      m.id(),
      m.kind() == proto::MoveInfo::SPLIT ? RangeMove::Kind::kSplit : RangeMove::Kind::kMove,
      m.start(),
      m.end(),
      m.from_group(),
      m.to_group(),
      m.split_key(),
      m.generation(),
      m.switched(),
      m.phase()};
}

Policy PolicyOf(const proto::Policy& p) {
  return Policy{
      static_cast<int>(p.replicas()), {p.zones().begin(), p.zones().end()}, p.leader_zone()};
}

Topology TopologyOf(const proto::Topology& reply) {
  Topology topology;
  topology.bootstrapped = reply.bootstrapped();
  topology.placement_leader = reply.placement_leader();
  topology.zones.assign(reply.zones().begin(), reply.zones().end());
  for (const proto::ServerInfo& s : reply.servers()) {
    topology.servers.push_back(
        {s.id(), s.zone(), s.address(), s.alive(), s.peer_address(), s.removed(), s.draining()});
  }
  // group -> start -> size, for the ranges' approx_bytes.
  absl::flat_hash_map<uint64_t, absl::flat_hash_map<std::string, uint64_t>> sizes;
  for (const proto::GroupInfo& g : reply.groups()) {
    GroupInfo& group = topology.groups.emplace_back();
    group.id = g.id();
    group.replicas.assign(g.replicas().begin(), g.replicas().end());
    group.leader = g.leader();
    for (const proto::ReplicaRefusal& r : g.refusals()) {
      group.refusals.push_back({r.server(), r.reason()});
    }
    for (const proto::ReplicaLog& l : g.logs()) {
      group.logs.push_back({l.server(), l.entries(), l.installing_snapshot()});
    }
    group.policy = PolicyOf(g.policy());
    for (const proto::RangeStats& r : g.range_stats()) sizes[g.id()][r.start()] = r.approx_bytes();
  }
  for (const proto::RegistrationRefusal& r : reply.refused_registrations()) {
    topology.refused_registrations.push_back({r.address(), r.zone(), r.bound_server(), r.reason()});
  }
  for (const proto::RangeInfo& r : reply.ranges()) {
    RangeInfo& range = topology.ranges.emplace_back();
    range.start = r.start();
    range.end = r.end();
    range.group = r.group();
    range.generation = r.generation();
    if (const auto group = sizes.find(r.group()); group != sizes.end()) {
      if (const auto size = group->second.find(r.start()); size != group->second.end()) {
        range.approx_bytes = size->second;
      }
    }
  }
  for (const proto::MoveInfo& m : reply.moves()) topology.moves.push_back(RangeMoveOf(m));
  return topology;
}

// The location of every range of `reply`, with the addresses of its group's servers (removed
// servers have none).
std::vector<Location> LocationsOf(const proto::Topology& reply) {
  absl::flat_hash_map<uint64_t, std::string> address_of;
  for (const proto::ServerInfo& s : reply.servers()) {
    if (!s.removed()) address_of[s.id()] = s.address();
  }
  absl::flat_hash_map<uint64_t, const proto::GroupInfo*> group_of;
  for (const proto::GroupInfo& g : reply.groups()) group_of[g.id()] = &g;
  std::vector<Location> locations;
  for (const proto::RangeInfo& r : reply.ranges()) {
    Location location{r.start(), r.end(), r.group(), r.generation(), {}, {}};
    if (const auto g = group_of.find(r.group()); g != group_of.end()) {
      for (const uint64_t id : g->second->replicas()) {
        if (const auto a = address_of.find(id); a != address_of.end()) {
          location.replica_addresses.push_back(a->second);
        }
      }
      if (g->second->leader() != 0) location.leader_address = address_of[g->second->leader()];
    }
    locations.push_back(std::move(location));
  }
  return locations;
}

}  // namespace

PlacementClient::PlacementClient(std::vector<std::string> addresses, const RouterOptions& options,
                                 ConnectionPool* pool)
    : addresses_(std::move(addresses)),
      options_(options),
      pool_(pool),
      target_(addresses_.front()),
      random_(options.seed ^ kSeedSalt) {}

namespace {

// One attempt of the Placement RPC `method` at a replica: `reply` is cleared first, so a retry
// never sees a partial answer.
template <typename Request, typename Reply>
std::function<AttemptResult(const std::string&, SteadyTime)> UnaryAttempt(
    ConnectionPool* pool, SteadyTime deadline,
    grpc::Status (proto::Placement::Stub::*method)(grpc::ClientContext*, const Request&, Reply*),
    const Request& request, Reply* reply) {
  return [=, &request](const std::string& address, SteadyTime attempt_deadline) {
    return pool->Attempt<proto::Placement>(
        address, deadline, attempt_deadline,
        [&](proto::Placement::Stub& stub, grpc::ClientContext& context) {
          reply->Clear();
          return (stub.*method)(&context, request, reply);
        });
  };
}

}  // namespace

absl::StatusOr<Location> PlacementClient::Locate(const std::string& key, SteadyTime deadline) {
  proto::LocateRequest request;
  request.set_key(key);
  proto::LocateResponse reply;
  const absl::Status status = Call(
      UnaryAttempt(pool_, deadline, &proto::Placement::Stub::Locate, request, &reply), deadline);
  if (!status.ok()) return status;
  Location location{reply.range().start(),
                    reply.range().end(),
                    reply.range().group(),
                    reply.range().generation(),
                    {},
                    reply.leader_address()};
  for (const proto::ServerInfo& server : reply.replicas()) {
    location.replica_addresses.push_back(server.address());
  }
  return location;
}

absl::StatusOr<Topology> PlacementClient::GetTopology(SteadyTime deadline,
                                                      std::vector<Location>* locations) {
  proto::GetTopologyRequest request;
  proto::Topology reply;
  const absl::Status status =
      Call(UnaryAttempt(pool_, deadline, &proto::Placement::Stub::GetTopology, request, &reply),
           deadline);
  if (!status.ok()) return status;
  *locations = LocationsOf(reply);
  return TopologyOf(reply);
}

absl::Status PlacementClient::RemoveServer(uint64_t server_id, SteadyTime deadline) {
  proto::RemoveServerRequest request;
  request.set_server_id(server_id);
  proto::RemoveServerResponse reply;
  return Call(UnaryAttempt(pool_, deadline, &proto::Placement::Stub::RemoveServer, request, &reply),
              deadline);
}

absl::Status PlacementClient::DrainServer(uint64_t server_id, bool cancel, SteadyTime deadline) {
  proto::DrainServerRequest request;
  request.set_server_id(server_id);
  request.set_cancel(cancel);
  proto::DrainServerResponse reply;
  return Call(UnaryAttempt(pool_, deadline, &proto::Placement::Stub::DrainServer, request, &reply),
              deadline);
}

absl::StatusOr<RangeMove> PlacementClient::MoveRange(const std::string& key, uint64_t to_group,
                                                     SteadyTime deadline) {
  proto::MoveRangeRequest request;
  request.set_key(key);
  request.set_to_group(to_group);
  proto::MoveRangeResponse reply;
  const absl::Status status = Call(
      UnaryAttempt(pool_, deadline, &proto::Placement::Stub::MoveRange, request, &reply), deadline);
  if (!status.ok()) return status;
  return RangeMoveOf(reply.move());
}

absl::StatusOr<RangeMove> PlacementClient::SplitRange(const std::string& key, SteadyTime deadline) {
  proto::SplitRangeRequest request;
  request.set_key(key);
  proto::SplitRangeResponse reply;
  const absl::Status status =
      Call(UnaryAttempt(pool_, deadline, &proto::Placement::Stub::SplitRange, request, &reply),
           deadline);
  if (!status.ok()) return status;
  return RangeMoveOf(reply.move());
}

absl::StatusOr<uint64_t> PlacementClient::SetPolicy(const std::string& key, const Policy& policy,
                                                    SteadyTime deadline) {
  if (policy.replicas < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a group has 3 or 5 replicas (0: keep the count it has), not ", policy.replicas));
  }
  proto::SetPolicyRequest request;
  request.set_key(key);
  request.mutable_policy()->set_replicas(static_cast<uint32_t>(policy.replicas));
  for (const std::string& zone : policy.zones) request.mutable_policy()->add_zones(zone);
  request.mutable_policy()->set_leader_zone(policy.leader_zone);
  proto::SetPolicyResponse reply;
  const absl::Status status = Call(
      UnaryAttempt(pool_, deadline, &proto::Placement::Stub::SetPolicy, request, &reply), deadline);
  if (!status.ok()) return status;
  return reply.group();
}

absl::Status PlacementClient::Call(const Attempt& attempt, SteadyTime deadline) {
  Random random = [&] {
    absl::MutexLock lock(&mu_);
    return random_.Fork();
  }();
  Backoff backoff = MakeBackoff(options_.backoff_initial, options_.backoff_max, &random);
  absl::Status last = absl::UnavailableError("no placement replica was tried");
  int attempts = 0;
  int hops = 0;
  while (Clock::now() < deadline) {
    std::string address;
    {
      absl::MutexLock lock(&mu_);
      address = target_;
    }
    ++attempts;
    const AttemptResult result =
        attempt(address, std::min(deadline, Clock::now() + options_.attempt_timeout));
    const Decision decision = Decide(CallKind::kRead, result, address);
    const absl::Status status(result.code,
                              absl::StrCat("placement at ", address, ": ", result.message));
    if (decision.action == Action::kReturn) return status;
    last = status;
    Retarget(decision, address);
    if (decision.action == Action::kFollowLeader && ++hops <= kHopsAtOnce) continue;
    hops = 0;
    SleepBackoff(backoff, deadline);
  }
  return absl::DeadlineExceededError(absl::StrCat("placement not reached before the deadline (",
                                                  attempts,
                                                  " attempts); last error: ", last.ToString()));
}

void PlacementClient::Retarget(const Decision& decision, const std::string& address) {
  absl::MutexLock lock(&mu_);
  if (decision.action == Action::kFollowLeader) {
    target_ = decision.leader;
    return;
  }
  if (target_ != address) return;  // another call moved it already
  // The next configured address, round robin.
  const auto it = std::find(addresses_.begin(), addresses_.end(), address);
  target_ = it == addresses_.end() || it + 1 == addresses_.end() ? addresses_.front() : *(it + 1);
}

}  // namespace meridian::client
