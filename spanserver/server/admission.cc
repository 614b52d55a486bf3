#include "spanserver/server/admission.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "proto/kv.pb.h"
#include "proto/rpc.h"
#include "spanserver/server/kv_service.h"
#include "spanserver/tablet/txn_tablet.h"
#include "txn/range_guard.h"

namespace meridian::spanserver {
namespace {

Refusal Stale(const std::string& why) { return Refusal{txn::StaleMapError(why), true}; }

}  // namespace

Refusal ShuttingDown() { return Refusal{absl::UnavailableError("the server is shutting down")}; }

Refusal NotHosted(uint64_t group) {
  return Stale(absl::StrCat("group ", group, " is not hosted here"));
}

Refusal Malformed(absl::Status status) { return Refusal{std::move(status)}; }

absl::Status CheckKey(std::string_view key, const char* what) {
  if (key.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " is empty"));
  if (key.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is ", key.size(), " bytes; the limit is ", kMaxKeyBytes));
  }
  return absl::OkStatus();
}

std::optional<Refusal> CheckOwnership(const RoutingTable& routing, const proto::RangeRef& ref,
                                      const std::vector<std::string_view>& keys,
                                      RangeEntry* range) {
  if (range != nullptr) {  // one key, whose range the caller needs
    std::optional<RangeEntry> found =
        routing.FindRange(ref.group(), ref.generation(), keys.empty() ? "" : keys[0]);
    if (!found.has_value()) {
      return Stale(absl::StrCat("group ", ref.group(), " generation ", ref.generation(),
                                " does not own the key"));
    }
    *range = *std::move(found);
    return std::nullopt;
  }
  // A transaction's request: the client named the generation of the range of the first key it
  // touched in the group, which may be a scan's start rather than any of these keys. The other
  // keys may lie in other ranges of the group (a group serves several after a split or a move),
  // each at its own generation; TxnTablet checks each against the group's log.
  bool current = false;
  for (const RangeEntry& r : routing.RangesOf(ref.group())) {
    current = current || r.generation == ref.generation();
  }
  if (!current) {
    return Stale(
        absl::StrCat("group ", ref.group(), " has no range at generation ", ref.generation()));
  }
  for (const std::string_view key : keys) {
    if (routing.GroupGeneration(ref.group(), key) == 0) {
      return Stale(absl::StrCat("group ", ref.group(), " does not own every key of the request"));
    }
  }
  return std::nullopt;
}

void FinishRefused(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                   const Refusal& refusal) {
  if (refusal.stale_map) ctx->AddTrailingMetadata(rpc::kStaleMapMetadataKey, "1");
  reactor->Finish(rpc::ToGrpc(refusal.status));
}

void FinishWithLeaderHint(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                          const absl::Status& status,
                          const std::optional<std::string>& leader_hint) {
  if (leader_hint.has_value()) ctx->AddTrailingMetadata(rpc::kLeaderMetadataKey, *leader_hint);
  if (txn::IsStaleMap(status)) ctx->AddTrailingMetadata(rpc::kStaleMapMetadataKey, "1");
  reactor->Finish(rpc::ToGrpc(status));
}

}  // namespace meridian::spanserver
