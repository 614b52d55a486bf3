// FakeMovementClient: data groups in memory that answer proto/movement.proto the way spanservers
// do, strictly enough to catch a mover that breaks the protocol:
//  - Export with after_ts > 0 needs the range released at released_generation; upto_ts 0 picks
//    the newest timestamp assigned so far (every version at or below it is final here); pages
//    hold `export_page_versions` versions, ordered by key, newest first, and the cursor names
//    the last one;
//  - Ingest needs every version inside the range, the range not released by that group, and at
//    most kMaxIngestBytes (key + value + 16 per version, as spanservers count);
//  - Release answers UNAVAILABLE "range busy" `busy_releases` times, then releases (a repeat at
//    the same generation answers the same release_ts); writes to a released range fail;
//  - Adopt fails FAILED_PRECONDITION (and records a violation) unless TT.after(release_ts) holds
//    for every release of an overlapping range at the claim's generation;
//  - Drop needs the range released at its generation and erases `drop_limit` versions a call.
// Every call is idempotent. Timestamps are above TT.now().latest and strictly increasing.
//
// Faults: `before` runs before every call and may fail it (nothing happens then); `after` runs
// after every call that succeeded. Both run with the fake's mutex released.
//
// Thread safety: thread-safe.
#ifndef MERIDIAN_TESTS_UNIT_PLACEMENT_FAKE_MOVEMENT_CLIENT_H_
#define MERIDIAN_TESTS_UNIT_PLACEMENT_FAKE_MOVEMENT_CLIENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "placement/movement_client.h"
#include "truetime/truetime.h"

namespace meridian::placement {

class FakeMovementClient : public MovementClient {
 public:
  enum class Method { kExport, kIngest, kRelease, kAdopt, kDrop };
  static constexpr size_t kMaxIngestBytes = 900 << 10;  // spanserver/server/movement_service.cc
  struct Version {
    std::string value;
    bool is_delete = false;
    friend bool operator==(const Version&, const Version&) = default;
  };
  // (key, ts) ordered by key, then newest first, as the MVCC store keeps them.
  struct Order {
    bool operator()(const std::pair<std::string, int64_t>& a,
                    const std::pair<std::string, int64_t>& b) const {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    }
  };
  using Versions = std::map<std::pair<std::string, int64_t>, Version, Order>;

  explicit FakeMovementClient(truetime::TrueTime* truetime) : truetime_(truetime) {}

  // Writes a version of `key` at `group` at a new timestamp (returned); FAILED_PRECONDITION when
  // the group released a range holding the key.
  absl::StatusOr<int64_t> Write(uint64_t group, const std::string& key, const std::string& value,
                                bool is_delete = false);
  // The versions `group` holds in [start, end) (empty end: +infinity).
  Versions VersionsIn(uint64_t group, const std::string& start, const std::string& end) const;
  std::vector<proto::RangeClaim> Adopted(uint64_t group) const;
  int64_t Horizon(uint64_t group) const;
  void SetHorizon(uint64_t group, int64_t horizon);
  int Calls(Method method) const;
  std::vector<std::string> Violations() const;
  size_t MaxIngestBytes() const;

  absl::StatusOr<proto::ExportResponse> Export(const proto::ExportRequest& request) override;
  absl::Status Ingest(const proto::IngestRequest& request) override;
  absl::StatusOr<proto::ReleaseResponse> Release(const proto::ReleaseRequest& request) override;
  absl::StatusOr<proto::AdoptResponse> Adopt(const proto::AdoptRequest& request) override;
  absl::StatusOr<proto::DropResponse> Drop(const proto::DropRequest& request) override;

  // Set before the mover runs.
  std::function<absl::Status(Method method, uint64_t group)> before;
  std::function<void(Method method, uint64_t group)> after;
  std::function<void(const proto::ExportRequest& request)> on_export;
  int busy_releases = 0;
  int export_page_versions = 3;
  int drop_limit = 4;

 private:
  struct Released {
    proto::RangeClaim range;
    int64_t release_ts = 0;
  };
  struct Group {
    Versions versions;
    std::vector<Released> released;
    std::vector<proto::RangeClaim> adopted;
    int64_t horizon = 0;
  };

  // Runs `body` between the fault hooks, counting the call.
  template <typename T>
  T Call(Method method, uint64_t group, const std::function<T()>& body);
  int64_t NextTs() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Released* FindRelease(const Group& group, const std::string& start, const std::string& end,
                              uint64_t generation) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  truetime::TrueTime* const truetime_;
  mutable absl::Mutex mu_;
  std::map<uint64_t, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<Method, int> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  int64_t last_ts_ ABSL_GUARDED_BY(mu_) = 0;
  size_t max_ingest_bytes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_TESTS_UNIT_PLACEMENT_FAKE_MOVEMENT_CLIENT_H_
