// MovementService: the spanserver's side of range moves and splits (proto/movement.proto has the
// protocol; placement/mover.h drives it). Each call acts on one data group hosted here, at its
// leader:
//  - Export   reads the versions of a range straight from the engine, between two timestamps,
//             in chunks that resume at a cursor: its bound is taken on the group's strand once
//             this replica leads with its lease and has applied everything committed before
//             (a GroupHost::Read), the versions on the service's reader thread;
//  - Ingest, Adopt and Drop log an ownership record (txn/records.h) and answer once it applied;
//  - Release fences the range (TxnTablet::Fence: new locking requests in it are refused), and
//             logs the release only when no lock or prepared transaction is left in it — checked
//             again on the strand right before the proposal — else answers UNAVAILABLE "busy".
// Ownership records take their timestamps from the replica (Replica::AssignTimestamp), like the
// transaction manager's own records, so that record timestamps keep increasing in log order.
//
// Errors: UNAVAILABLE (not hosted here, not the leader — with "meridian-leader" when known —,
// busy, or leadership lost with the outcome unknown: every call may be repeated), INVALID_ARGUMENT
// (a malformed range, a version outside it, too much in one Ingest), FAILED_PRECONDITION (an
// Export of changes of a range not released at that generation, a Drop of a range still served,
// a Release refused because a prepared transaction touches the range).
//
// Thread safety: thread-safe; handlers never block (their work runs on the groups' strands and
// on the reader thread).
#ifndef MERIDIAN_SPANSERVER_SERVER_MOVEMENT_SERVICE_H_
#define MERIDIAN_SPANSERVER_SERVER_MOVEMENT_SERVICE_H_

#include <memory>

namespace grpc {
class Service;
}  // namespace grpc

namespace meridian {
namespace storage {
class Engine;
}  // namespace storage
namespace truetime {
class TrueTime;
}  // namespace truetime

namespace spanserver {

class RoutingTable;
class TxnService;

// How long a Release's fence lasts after each call: the mover calls again well within it.
inline constexpr int64_t kReleaseFenceUs = 10'000'000;

class MovementService {
 public:
  // Everything passed in must outlive the service.
  MovementService(RoutingTable* routing, TxnService* txns, storage::Engine* engine,
                  truetime::TrueTime* truetime);
  ~MovementService();
  MovementService(const MovementService&) = delete;
  MovementService& operator=(const MovementService&) = delete;

  grpc::Service* service();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace spanserver
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_SERVER_MOVEMENT_SERVICE_H_
