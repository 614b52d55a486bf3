#include "placement/service_hosts.h"

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "placement/metadata.h"
#include "replication/group_host.h"

namespace meridian::placement {
namespace {

// The longest a read or proposal of the placement group is waited for.
constexpr absl::Duration kGroupWait = absl::Seconds(10);

// Starts a host call with a callback and waits for its result: at most kGroupWait, and only
// until `stopped`. The callback may run after the wait gave up (it holds the state).
absl::StatusOr<std::string> Wait(
    const std::atomic<bool>* stopped,
    const std::function<void(replication::GroupHost::ProposeCallback)>& start) {
  struct Waiter {
    absl::Mutex mu;
    bool done ABSL_GUARDED_BY(mu) = false;
    absl::StatusOr<std::string> result ABSL_GUARDED_BY(mu);
  };
  auto waiter = std::make_shared<Waiter>();
  start([waiter](absl::StatusOr<std::string> result) {
    absl::MutexLock lock(&waiter->mu);
    waiter->result = std::move(result);
    waiter->done = true;
  });
  const absl::Time deadline = absl::Now() + kGroupWait;
  absl::MutexLock lock(&waiter->mu);
  while (!waiter->done) {
    if (stopped->load()) return absl::CancelledError("placementd is stopping");
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("the placement group did not answer within 10 s");
    }
    waiter->mu.AwaitWithTimeout(absl::Condition(&waiter->done), absl::Milliseconds(50));
  }
  return waiter->result;
}

}  // namespace

bool PlacementMoverHost::IsLeader() { return host_->state().role == paxos::Role::kLeader; }

absl::StatusOr<proto::Topology> PlacementMoverHost::ReadTopology() {
  RETURN_IF_ERROR(Wait(stopped_, [this](replication::GroupHost::ProposeCallback done) {
                    host_->Read([]() -> absl::StatusOr<std::string> { return std::string(); },
                                std::move(done));
                  }).status());
  return metadata_->Snapshot();
}

absl::StatusOr<std::string> PlacementMoverHost::Propose(const proto::PlacementCommand& command) {
  return Wait(stopped_, [this, bytes = command.SerializeAsString()](
                            replication::GroupHost::ProposeCallback done) {
    host_->Propose([bytes](paxos::Replica&) -> absl::StatusOr<std::string> { return bytes; },
                   std::move(done));
  });
}

absl::StatusOr<proto::Topology> PlacementBalancerHost::ReadTopology() {
  ASSIGN_OR_RETURN(proto::Topology topology, group_->ReadTopology());
  service_.overlay(&topology);
  return topology;
}

}  // namespace meridian::placement
