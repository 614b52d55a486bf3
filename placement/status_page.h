// StatusTracker: what placementd's status page (/, /status.json) and its placement metrics
// show. placementd hands it the topology every half second (PlacementService::StatusTopology);
// it keeps the latest one and, on the placement leader, derives a bounded ring of recent events
// by comparing each topology with the one before:
//   registered     a server id not seen before           down / up   a server's liveness flipped
//   leader         a group's reported leader changed     drained / removed   operator actions
//   move_started / move_finished   a move or split appeared in / left Topology.moves
//   group_created  a group id not seen before
// The first topology after this replica became leader is a baseline: it yields one "leading"
// event, not one per server. A follower records no events (its liveness and leaders are empty).
//
// Rendering is pure: StatusJson() and the metric samples read only the tracker's state; the
// HTML page (StatusPageHtml) is a constant whose inline script fetches /status.json every second.
//
// Thread safety: every method is thread-safe (one mutex).
#ifndef MERIDIAN_PLACEMENT_STATUS_PAGE_H_
#define MERIDIAN_PLACEMENT_STATUS_PAGE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "proto/placement.pb.h"

namespace meridian::placement {

struct StatusEvent {
  int64_t at_us = 0;  // TrueTime latest when observed
  std::string kind;   // see the table above
  std::string text;   // one line for people
};

class StatusTracker {
 public:
  // Keeps the newest `max_events` events.
  explicit StatusTracker(size_t max_events = 200);
  ~StatusTracker();
  StatusTracker(const StatusTracker&) = delete;
  StatusTracker& operator=(const StatusTracker&) = delete;

  // The topology this replica knows at `now_us`; `leading`: this replica leads placement.
  void Observe(const proto::Topology& topology, bool leading, int64_t now_us);
  // Newest last.
  std::vector<StatusEvent> Events() const;
  // Everything the page shows, as one JSON object (see status_page.cc for its fields).
  std::string StatusJson() const;

  // Registers the placement gauges (servers by state, groups, ranges, moves, bytes per group)
  // over the latest topology in the default registry, until the handles go.
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> RegisterMetrics();

 private:
  void Record(int64_t now_us, const std::string& kind, std::string text)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CompareServers(const proto::Topology& now, int64_t now_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CompareGroupsAndMoves(const proto::Topology& now, int64_t now_us)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_events_;
  mutable absl::Mutex mu_;
  proto::Topology latest_ ABSL_GUARDED_BY(mu_);
  bool have_latest_ ABSL_GUARDED_BY(mu_) = false;
  bool leading_ ABSL_GUARDED_BY(mu_) = false;
  int64_t observed_us_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<StatusEvent> events_ ABSL_GUARDED_BY(mu_);
};

// The status page: HTML with an inline script that renders /status.json every second.
const std::string& StatusPageHtml();

// A key as readable text: printable ASCII as is, other bytes (and \ and ") as \xNN.
std::string PrintableKey(const std::string& key);
// `text` as a JSON string literal, quotes included.
std::string JsonString(const std::string& text);

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_STATUS_PAGE_H_
