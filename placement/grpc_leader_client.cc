#include "placement/grpc_leader_client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <map>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "proto/kv.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/grpc_tls.h"

namespace meridian::placement {

class GrpcLeaderClient::Impl {
 public:
  Impl(int64_t call_timeout_us, std::shared_ptr<grpc::ChannelCredentials> credentials)
      : call_timeout_us_(call_timeout_us), credentials_(std::move(credentials)) {}

  absl::Status TransferLeader(const std::string& address, uint64_t group, uint64_t target) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::microseconds(call_timeout_us_));
    context.AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
    std::shared_ptr<grpc::Channel> channel;
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return absl::CancelledError("placementd is shutting down");
      std::shared_ptr<grpc::Channel>& cached = channels_[address];
      if (cached == nullptr) {
        cached = grpc::CreateChannel(address, credentials_);
      }
      channel = cached;
      in_flight_.insert(&context);
    }
    proto::TransferLeaderRequest request;
    request.set_group(group);
    request.set_target_server(target);
    proto::TransferLeaderResponse response;
    const grpc::Status status =
        proto::Kv::NewStub(channel)->TransferLeader(&context, request, &response);
    {
      absl::MutexLock lock(&mu_);
      in_flight_.erase(&context);
    }
    if (status.ok()) return absl::OkStatus();
    const absl::Status failed = rpc::FromGrpc(status);
    return absl::Status(failed.code(), absl::StrCat("TransferLeader of group ", group, " at ",
                                                    address, ": ", failed.message()));
  }

  void Shutdown() {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  }

 private:
  const int64_t call_timeout_us_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

GrpcLeaderClient::GrpcLeaderClient(const TlsOptions& tls, int64_t call_timeout_us)
    : impl_(std::make_unique<Impl>(call_timeout_us, replication::ChannelCredentials(tls))) {}

GrpcLeaderClient::~GrpcLeaderClient() = default;

absl::Status GrpcLeaderClient::TransferLeader(const std::string& address, uint64_t group,
                                              uint64_t target) {
  return impl_->TransferLeader(address, group, target);
}

void GrpcLeaderClient::Shutdown() { impl_->Shutdown(); }

}  // namespace meridian::placement
