#include "spanserver/server/placement_client.h"

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/check.h"
#include "proto/placement.grpc.pb.h"
#include "proto/rpc.h"

namespace meridian::spanserver {
namespace {

constexpr int kMaxLeaderHops = 3;

}  // namespace

class PlacementClient::Impl {
 public:
  Impl(std::vector<std::string> addresses, std::shared_ptr<grpc::ChannelCredentials> credentials)
      : addresses_(std::move(addresses)), credentials_(std::move(credentials)) {
    CHECK(!addresses_.empty());
    current_ = addresses_.front();
  }

  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(grpc::Status (proto::Placement::Stub::*method)(grpc::ClientContext*,
                                                                               const Request&,
                                                                               Response*),
                                const Request& request, absl::Duration timeout) {
    absl::Status last;
    for (int hop = 0; hop <= kMaxLeaderHops; ++hop) {
      auto [address, stub] = Target();
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
      ctx.AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
      Response response;
      const grpc::Status status = (stub->*method)(&ctx, request, &response);
      if (status.ok()) return response;
      last = absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          absl::StrCat(address, ": ", status.error_message()));
      const auto& trailers = ctx.GetServerTrailingMetadata();
      auto leader = trailers.find(rpc::kLeaderMetadataKey);
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE && leader != trailers.end() &&
          leader->second.length() > 0) {
        const std::string hint(leader->second.data(), leader->second.length());
        if (hint != address) {
          SetLeaderHint(hint);
          continue;
        }
      }
      Rotate(address);
      break;
    }
    return last;
  }

  void SetLeaderHint(const std::string& address) {
    if (address.empty()) return;
    absl::MutexLock lock(&mu_);
    current_ = address;
  }

 private:
  std::pair<std::string, proto::Placement::Stub*> Target() {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<proto::Placement::Stub>& stub = stubs_[current_];
    if (stub == nullptr) {
      // Reconnect quickly: placementd may start after the spanserver or restart.
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      stub = proto::Placement::NewStub(grpc::CreateCustomChannel(current_, credentials_, args));
    }
    return {current_, stub.get()};
  }

  // After a failure at `failed`, the next call tries the configured address after it.
  void Rotate(const std::string& failed) {
    absl::MutexLock lock(&mu_);
    if (current_ != failed) return;
    next_ = (next_ + 1) % addresses_.size();
    current_ = addresses_[next_];
  }

  const std::vector<std::string> addresses_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  std::string current_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, std::unique_ptr<proto::Placement::Stub>> stubs_ ABSL_GUARDED_BY(mu_);
};

PlacementClient::PlacementClient(std::vector<std::string> addresses,
                                 std::shared_ptr<grpc::ChannelCredentials> credentials)
    : impl_(std::make_unique<Impl>(std::move(addresses), std::move(credentials))) {}

PlacementClient::~PlacementClient() = default;

absl::StatusOr<proto::RegisterResponse> PlacementClient::Register(
    const proto::RegisterRequest& request, absl::Duration timeout) {
  return impl_->Call(&proto::Placement::Stub::Register, request, timeout);
}

absl::StatusOr<proto::HeartbeatResponse> PlacementClient::Heartbeat(
    const proto::HeartbeatRequest& request, absl::Duration timeout) {
  return impl_->Call(&proto::Placement::Stub::Heartbeat, request, timeout);
}

void PlacementClient::SetLeaderHint(const std::string& address) { impl_->SetLeaderHint(address); }

}  // namespace meridian::spanserver
