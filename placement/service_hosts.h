// The placement group as the Mover and the Balancer see it in placementd: this replica's
// GroupHost and state machine (and, for the balancer, the service's soft state and its calls to
// spanservers). Internal to placement/service*.cc. Every wait ends early once the service stops.
//
// Thread safety: thread-safe; everything passed to a constructor must outlive the object.
#ifndef MERIDIAN_PLACEMENT_SERVICE_HOSTS_H_
#define MERIDIAN_PLACEMENT_SERVICE_HOSTS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "placement/balancer.h"
#include "placement/mover.h"
#include "proto/placement.pb.h"

namespace meridian {
namespace replication {
class GroupHost;
}  // namespace replication

namespace placement {

class MetadataStateMachine;

// The mover's view: linearizable reads of the metadata and proposals, each waiting at most 10 s.
class PlacementMoverHost final : public MoverHost {
 public:
  PlacementMoverHost(replication::GroupHost* host, const MetadataStateMachine* metadata,
                     const std::atomic<bool>* stopped)
      : host_(host), metadata_(metadata), stopped_(stopped) {}

  bool IsLeader() override;
  absl::StatusOr<proto::Topology> ReadTopology() override;
  absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) override;

 private:
  replication::GroupHost* const host_;
  const MetadataStateMachine* const metadata_;
  const std::atomic<bool>* const stopped_;
};

// The balancer's view: the mover's, with the service's soft state laid over what it reads.
class PlacementBalancerHost final : public BalancerHost {
 public:
  struct Service {
    // True once the leader's soft state is whole (it has watched heartbeats long enough).
    std::function<bool()> soft_state_ready;
    // Lays the leader's soft state (liveness, range sizes) over a topology just read.
    std::function<void(proto::Topology*)> overlay;
    // Asks server `from` to hand `group` over to server `to` (Kv.TransferLeader).
    std::function<absl::Status(uint64_t group, uint64_t from, uint64_t to)> transfer_leader;
    std::function<void()> move_recorded;  // kicks the mover
  };
  PlacementBalancerHost(MoverHost* group, Service service)
      : group_(group), service_(std::move(service)) {}

  bool IsLeader() override { return group_->IsLeader() && service_.soft_state_ready(); }
  absl::StatusOr<proto::Topology> ReadTopology() override;
  absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) override {
    return group_->Propose(command);
  }
  absl::Status TransferLeader(uint64_t group, uint64_t from, uint64_t to) override {
    return service_.transfer_leader(group, from, to);
  }
  void MoveRecorded() override { service_.move_recorded(); }

 private:
  MoverHost* const group_;
  const Service service_;
};

}  // namespace placement
}  // namespace meridian

#endif  // MERIDIAN_PLACEMENT_SERVICE_HOSTS_H_
