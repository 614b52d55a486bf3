// MovementClient: the mover's seam to the spanservers (proto/movement.proto, service Movement).
// Each call goes to the leader of the data group its request names (request.group()); the
// implementation finds that leader (GrpcMovementClient follows "meridian-leader" hints and tries
// the group's other replicas; tests use an in-memory fake). Every call is idempotent, so the
// mover may repeat any of them after any failure.
//
// Errors: UNAVAILABLE when no leader of the group answered, or the leader asks to be called again
// (Release: "range busy"); DEADLINE_EXCEEDED when the outcome is unknown; CANCELLED once the
// client is shutting down; anything else as the spanserver answered it.
//
// Thread safety: implementations are thread-safe.
#ifndef MERIDIAN_PLACEMENT_MOVEMENT_CLIENT_H_
#define MERIDIAN_PLACEMENT_MOVEMENT_CLIENT_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/movement.pb.h"

namespace meridian::placement {

class MovementClient {
 public:
  virtual ~MovementClient() = default;

  virtual absl::StatusOr<proto::ExportResponse> Export(const proto::ExportRequest& request) = 0;
  virtual absl::Status Ingest(const proto::IngestRequest& request) = 0;
  virtual absl::StatusOr<proto::ReleaseResponse> Release(const proto::ReleaseRequest& request) = 0;
  virtual absl::StatusOr<proto::AdoptResponse> Adopt(const proto::AdoptRequest& request) = 0;
  virtual absl::StatusOr<proto::DropResponse> Drop(const proto::DropRequest& request) = 0;
};

}  // namespace meridian::placement

#endif  // MERIDIAN_PLACEMENT_MOVEMENT_CLIENT_H_
