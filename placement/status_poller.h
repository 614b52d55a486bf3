// StatusPoller: feeds placementd's StatusTracker (status_page.h) with the topology every
// `interval` from a thread of its own (PlacementService::StatusTopology; leading when the
// placement group's replica here leads), and keeps the tracker's placement metrics registered,
// from construction to destruction.
//
// Thread safety: the destructor joins the thread.
#ifndef MERIDIAN_PLACEMENT_STATUS_POLLER_H_
#define MERIDIAN_PLACEMENT_STATUS_POLLER_H_

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/metrics.h"
#include "placement/status_page.h"

namespace meridian {
namespace replication {
class GroupHost;
}  // namespace replication
namespace truetime {
class TrueTime;
}  // namespace truetime

namespace placement {

class PlacementService;

class StatusPoller {
 public:
  // Everything passed in must outlive the poller.
  StatusPoller(PlacementService* service, const replication::GroupHost* host,
               truetime::TrueTime* truetime, StatusTracker* tracker,
               absl::Duration interval = absl::Milliseconds(500));
  ~StatusPoller();
  StatusPoller(const StatusPoller&) = delete;
  StatusPoller& operator=(const StatusPoller&) = delete;

 private:
  void PollOnce();

  PlacementService* const service_;
  const replication::GroupHost* const host_;
  truetime::TrueTime* const truetime_;
  const absl::Duration interval_;
  StatusTracker* const tracker_;
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> collectors_;
  absl::Notification stop_;
  std::thread thread_;  // last: started once everything above is
};

}  // namespace placement
}  // namespace meridian

#endif  // MERIDIAN_PLACEMENT_STATUS_POLLER_H_
