#include "placement/grpc_movement_client.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "proto/movement.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/grpc_tls.h"

namespace meridian::placement {
namespace {

// How one attempt at one server ended.
struct Outcome {
  absl::Status status;
  bool sent = true;         // false: the request certainly never reached the server
  bool has_hint = false;    // "meridian-leader" was in the trailers
  std::string leader_hint;  // its value (may be empty)
};

Outcome Unsent(absl::Status status) {
  Outcome outcome;
  outcome.status = std::move(status);
  outcome.sent = false;
  return outcome;
}

std::chrono::system_clock::time_point In(int64_t us) {
  return std::chrono::system_clock::now() + std::chrono::microseconds(us);
}

// The group's addresses in the order to try them: the leader first, each once.
std::vector<std::string> Order(const GroupAddresses& addresses) {
  std::vector<std::string> order;
  if (!addresses.leader.empty()) order.push_back(addresses.leader);
  for (const std::string& address : addresses.replicas) {
    if (!address.empty() && std::find(order.begin(), order.end(), address) == order.end()) {
      order.push_back(address);
    }
  }
  return order;
}

}  // namespace

class GrpcMovementClient::Impl {
 public:
  Impl(GroupResolver resolver, GrpcMovementClientOptions options)
      : resolver_(std::move(resolver)), options_(options) {}

  template <typename Request, typename Response>
  using Rpc = grpc::Status (proto::Movement::Stub::*)(grpc::ClientContext*, const Request&,
                                                      Response*);

  // Runs `rpc` at the leader of `group` (see the header for the routing).
  template <typename Request, typename Response>
  absl::StatusOr<Response> Call(uint64_t group, const char* method, const Request& request,
                                Rpc<Request, Response> rpc) {
    const std::vector<std::string> order = Order(resolver_(group));
    if (order.empty()) {
      return absl::UnavailableError(absl::StrCat("no replica of group ", group, " is known"));
    }
    size_t next = 1;
    std::string target = order[0];
    int hops = 0;
    absl::Status last;
    const size_t attempts = order.size() + GrpcMovementClient::kMaxLeaderHops;
    for (size_t i = 0; i < attempts; ++i) {
      Response response;
      const Outcome outcome = Attempt(target, request, &response, rpc);
      if (outcome.status.ok()) return response;
      if (outcome.status.code() == absl::StatusCode::kCancelled && ShuttingDown()) {
        return absl::CancelledError("placementd is shutting down");
      }
      last = absl::Status(
          outcome.status.code(),
          absl::StrCat(method, " at group ", group, " (", target, "): ", outcome.status.message()));
      const bool unavailable = outcome.status.code() == absl::StatusCode::kUnavailable;
      const bool names_other = outcome.has_hint && outcome.leader_hint != target;
      if (unavailable && names_other && !outcome.leader_hint.empty() &&
          hops < GrpcMovementClient::kMaxLeaderHops) {
        target = outcome.leader_hint;
        ++hops;
        continue;
      }
      // The leader's own answer: anything but UNAVAILABLE, or an UNAVAILABLE that names the
      // server itself as leader (Release's "range busy").
      const bool from_leader = !unavailable || (outcome.has_hint && !names_other);
      if (outcome.sent && from_leader) return last;
      if (next == order.size()) break;
      target = order[next++];
    }
    return absl::UnavailableError(
        absl::StrCat("no leader of group ", group, " answered; last: ", last.message()));
  }

  void Shutdown() {
    absl::MutexLock lock(&mu_);
    shutdown_ = true;
    for (grpc::ClientContext* context : in_flight_) context->TryCancel();
  }

 private:
  template <typename Request, typename Response>
  Outcome Attempt(const std::string& address, const Request& request, Response* response,
                  Rpc<Request, Response> rpc) {
    std::shared_ptr<grpc::Channel> channel = ChannelTo(address);
    if (!channel->WaitForConnected(In(options_.connect_timeout_us))) {
      return Unsent(absl::UnavailableError("cannot connect"));
    }
    grpc::ClientContext context;
    context.set_deadline(In(options_.call_timeout_us));
    context.AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
    {
      absl::MutexLock lock(&mu_);
      if (shutdown_) return Unsent(absl::CancelledError("shutting down"));
      in_flight_.insert(&context);
    }
    std::unique_ptr<proto::Movement::Stub> stub = proto::Movement::NewStub(channel);
    const grpc::Status status = (stub.get()->*rpc)(&context, request, response);
    {
      absl::MutexLock lock(&mu_);
      in_flight_.erase(&context);
    }
    Outcome outcome;
    outcome.status = rpc::FromGrpc(status);
    // sent stays true: the channel was connected when the call began (WaitForConnected above),
    // and every Movement call is idempotent anyway.
    const auto& trailers = context.GetServerTrailingMetadata();
    if (const auto it = trailers.find(rpc::kLeaderMetadataKey); it != trailers.end()) {
      outcome.has_hint = true;
      outcome.leader_hint.assign(it->second.data(), it->second.size());
    }
    return outcome;
  }

  bool ShuttingDown() {
    absl::MutexLock lock(&mu_);
    return shutdown_;
  }

  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<grpc::Channel>& channel = channels_[address];
    if (channel == nullptr) {
      channel = grpc::CreateChannel(address, credentials_);
    }
    return channel;
  }

  const GroupResolver resolver_;
  const GrpcMovementClientOptions options_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_ =
      replication::ChannelCredentials(options_.tls);
  absl::Mutex mu_;
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  std::set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

GrpcMovementClient::GrpcMovementClient(GroupResolver resolver, GrpcMovementClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(resolver), options)) {}

GrpcMovementClient::~GrpcMovementClient() = default;

absl::StatusOr<proto::ExportResponse> GrpcMovementClient::Export(
    const proto::ExportRequest& request) {
  return impl_->Call(request.group(), "Export", request, &proto::Movement::Stub::Export);
}

absl::Status GrpcMovementClient::Ingest(const proto::IngestRequest& request) {
  return impl_->Call(request.group(), "Ingest", request, &proto::Movement::Stub::Ingest).status();
}

absl::StatusOr<proto::ReleaseResponse> GrpcMovementClient::Release(
    const proto::ReleaseRequest& request) {
  return impl_->Call(request.group(), "Release", request, &proto::Movement::Stub::Release);
}

absl::StatusOr<proto::AdoptResponse> GrpcMovementClient::Adopt(const proto::AdoptRequest& request) {
  return impl_->Call(request.group(), "Adopt", request, &proto::Movement::Stub::Adopt);
}

absl::StatusOr<proto::DropResponse> GrpcMovementClient::Drop(const proto::DropRequest& request) {
  return impl_->Call(request.group(), "Drop", request, &proto::Movement::Stub::Drop);
}

void GrpcMovementClient::Shutdown() { impl_->Shutdown(); }

}  // namespace meridian::placement
