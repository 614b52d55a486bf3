#include "placement/status_poller.h"

#include "placement/service.h"
#include "replication/group_host.h"
#include "truetime/truetime.h"

namespace meridian::placement {

StatusPoller::StatusPoller(PlacementService* service, const replication::GroupHost* host,
                           truetime::TrueTime* truetime, StatusTracker* tracker,
                           absl::Duration interval)
    : service_(service),
      host_(host),
      truetime_(truetime),
      interval_(interval),
      tracker_(tracker),
      collectors_(tracker->RegisterMetrics()),
      thread_([this] {
        do {
          PollOnce();
        } while (!stop_.WaitForNotificationWithTimeout(interval_));
      }) {}

StatusPoller::~StatusPoller() {
  stop_.Notify();
  thread_.join();
}

void StatusPoller::PollOnce() {
  absl::StatusOr<truetime::Interval> now = truetime_->Now();
  if (!now.ok()) return;
  absl::StatusOr<proto::Topology> topology = service_->StatusTopology();
  if (!topology.ok()) return;
  tracker_->Observe(*topology, host_->state().role == paxos::Role::kLeader, now->latest);
}

}  // namespace meridian::placement
