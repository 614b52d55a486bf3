#include "spanserver/server/admission.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "proto/kv.pb.h"
#include "proto/rpc.h"
#include "spanserver/server/kv_service.h"

namespace meridian::spanserver {
namespace {

Refusal Stale(const std::string& why) {
  return Refusal{absl::UnavailableError("stale map: " + why), true};
}

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
  const std::vector<std::string_view> probe =
      keys.empty() ? std::vector<std::string_view>{""} : keys;
  for (size_t i = 0; i < probe.size(); ++i) {
    std::optional<RangeEntry> found = routing.FindRange(ref.group(), ref.generation(), probe[i]);
    if (!found.has_value()) {
      return Stale(absl::StrCat(
          "group ", ref.group(), " generation ", ref.generation(),
          keys.size() > 1 ? " does not own every key of the request" : " does not own the key"));
    }
    if (i == 0 && range != nullptr) *range = *std::move(found);
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
  reactor->Finish(rpc::ToGrpc(status));
}

}  // namespace meridian::spanserver
