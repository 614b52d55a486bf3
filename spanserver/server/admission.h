// Admission: the checks a request to a spanserver passes before it reaches a group, and how a
// refusal is answered — one set of rules for the Kv and Txn services (kv.proto, txn.proto):
//  - a server that is shutting down: UNAVAILABLE (retry elsewhere);
//  - a malformed key (empty, or over kMaxKeyBytes): INVALID_ARGUMENT;
//  - a group not hosted here, or a range at the request's generation that does not own every key
//    of the request: UNAVAILABLE "stale map: ..." with the trailing "meridian-stale-map" = "1",
//    so the client refreshes its map and nothing was done.
// Thread safety: pure functions, except that Finish* finish the gRPC call they are given.
#ifndef MERIDIAN_SPANSERVER_SERVER_ADMISSION_H_
#define MERIDIAN_SPANSERVER_SERVER_ADMISSION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "spanserver/server/routing_table.h"

namespace grpc {
class CallbackServerContext;
class ServerUnaryReactor;
}  // namespace grpc

namespace meridian::proto {
class RangeRef;
}  // namespace meridian::proto

namespace meridian::spanserver {

// Why a request was not taken: its answer, and whether that says the client's map is stale.
struct Refusal {
  absl::Status status;
  bool stale_map = false;
};

Refusal ShuttingDown();
Refusal NotHosted(uint64_t group);
Refusal Malformed(absl::Status status);

// INVALID_ARGUMENT naming `what` when `key` is empty or longer than kMaxKeyBytes.
absl::Status CheckKey(std::string_view key, const char* what);

// nullopt when the request's map is current for the group, the stale-map refusal otherwise.
// With `range` (a one-key request): the group's range holding keys[0] is at the request's
// generation, and goes to `*range`. Without (a transaction's request, whose generation is that of
// the first key the client touched in the group, perhaps a scan's start): the group has some range
// at that generation and holds every key in one of its ranges.
std::optional<Refusal> CheckOwnership(const RoutingTable& routing, const proto::RangeRef& ref,
                                      const std::vector<std::string_view>& keys,
                                      RangeEntry* range = nullptr);

// Finishes the call with the refusal, adding the stale-map trailer when it says so.
void FinishRefused(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                   const Refusal& refusal);
// Finishes the call with `status`, naming `leader_hint` as the leader when one is given (the
// client may then retry there: nothing was done).
void FinishWithLeaderHint(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                          const absl::Status& status,
                          const std::optional<std::string>& leader_hint);

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_ADMISSION_H_
