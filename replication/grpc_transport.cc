#include "replication/grpc_transport.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "proto/paxos.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/grpc_tls.h"
#include "replication/paxos_wire.h"

namespace meridian::replication {
namespace {

// gRPC's default 4 MiB receive limit is below one full Accept plus its neighbours in a batch.
constexpr int kMaxWireMessageBytes = 64 << 20;
// An RPC that has not completed by then is abandoned (its batch dropped) so the queue moves on.
constexpr int64_t kRpcDeadlineMs = 5'000;

}  // namespace

class GrpcTransport::Impl final : public proto::PaxosTransport::CallbackService {
 public:
  Impl(uint64_t self, std::function<void(paxos::Message)> deliver, const TlsOptions& tls)
      : self_(self), deliver_(std::move(deliver)), credentials_(ChannelCredentials(tls)) {}

  ~Impl() override {
    std::unique_lock<std::mutex> lock(mu_);
    shutting_down_ = true;
    for (auto& [id, peer] : peers_) {
      if (peer.call != nullptr) peer.call->ctx.TryCancel();
    }
    idle_.wait(lock, [this] { return in_flight_ == 0; });
  }

  void SetPeerAddress(uint64_t server_id, const std::string& address) {
    std::lock_guard<std::mutex> lock(mu_);
    Peer& peer = peers_[server_id];
    if (peer.address == address) return;
    peer.address = address;
    peer.stub.reset();  // a new channel on the next RPC; an in-flight call keeps its own stub
    std::fprintf(stderr, "transport: server %llu is at %s\n",
                 static_cast<unsigned long long>(server_id), address.c_str());
  }

  void Enqueue(std::vector<paxos::Message> messages) {
    std::vector<paxos::Message> local;
    std::vector<Call*> calls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (paxos::Message& m : messages) {
        if (m.to == self_) {
          local.push_back(std::move(m));
          continue;
        }
        auto it = peers_.find(m.to);
        if (it == peers_.end() || it->second.address.empty() || shutting_down_) {
          dropped_.fetch_add(1, std::memory_order_relaxed);
          continue;
        }
        if (!it->second.queue.Push(m)) dropped_.fetch_add(1, std::memory_order_relaxed);
      }
      for (auto& [id, peer] : peers_) {
        if (peer.call == nullptr && !peer.queue.empty()) calls.push_back(PrepareCall(id, peer));
      }
    }
    for (Call* call : calls) Issue(call);
    for (paxos::Message& m : local) deliver_(std::move(m));
  }

  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

  GrpcTransport::Stats stats() const {
    GrpcTransport::Stats s;
    s.rpcs_sent = rpcs_sent_.load(std::memory_order_relaxed);
    s.messages_sent = messages_sent_.load(std::memory_order_relaxed);
    s.messages_received = messages_received_.load(std::memory_order_relaxed);
    s.dropped = dropped();
    return s;
  }

  // proto::PaxosTransport::CallbackService
  grpc::ServerUnaryReactor* Send(grpc::CallbackServerContext* ctx, const proto::PaxosBatch* batch,
                                 proto::PaxosBatchReply* /*reply*/) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    if (absl::Status allowed = AuthorizeAdmin(*ctx, "PaxosTransport.Send"); !allowed.ok()) {
      dropped_.fetch_add(batch->messages_size(), std::memory_order_relaxed);
      reactor->Finish(rpc::ToGrpc(allowed));
      return reactor;
    }
    if (batch->protocol_version() != rpc::kProtocolVersion) {
      dropped_.fetch_add(batch->messages_size(), std::memory_order_relaxed);
      reactor->Finish(grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("peer speaks protocol version ", batch->protocol_version(), ", this one ",
                       rpc::kProtocolVersion, ": run one Meridian version across the cluster")));
      return reactor;
    }
    if (batch->to_server() != self_) {
      // A peer with a stale address book (e.g. a port reused after a restart).
      dropped_.fetch_add(batch->messages_size(), std::memory_order_relaxed);
      reactor->Finish(
          grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "batch addressed to another server"));
      return reactor;
    }
    messages_received_.fetch_add(batch->messages_size(), std::memory_order_relaxed);
    for (const proto::PaxosMessage& pm : batch->messages()) {
      absl::StatusOr<paxos::Message> m = FromProto(pm);
      if (!m.ok()) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      deliver_(*std::move(m));
    }
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  struct Call {
    grpc::ClientContext ctx;
    proto::PaxosBatch request;
    proto::PaxosBatchReply reply;
    std::shared_ptr<proto::PaxosTransport::Stub> stub;  // keeps the channel alive for the call
    uint64_t to = 0;
  };

  struct Peer {
    std::string address;
    std::shared_ptr<proto::PaxosTransport::Stub> stub;  // created lazily
    PeerQueue queue;
    Call* call = nullptr;  // the RPC in flight, if any
  };

  // Takes the head of `peer`'s queue into one batch and marks it in flight. Requires mu_; the
  // caller issues the call after releasing mu_ (gRPC may run the completion inline).
  Call* PrepareCall(uint64_t id, Peer& peer) {
    if (peer.stub == nullptr) {
      grpc::ChannelArguments args;
      args.SetMaxReceiveMessageSize(kMaxWireMessageBytes);
      args.SetMaxSendMessageSize(kMaxWireMessageBytes);
      // A restarted peer must hear from us within a heartbeat or two, not after gRPC's default
      // reconnect backoff (which grows to minutes).
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
      // No BDP probing pings: batches are small and frequent, and each ping costs wakeups.
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      peer.stub = proto::PaxosTransport::NewStub(
          grpc::CreateCustomChannel(peer.address, credentials_, args));
    }
    auto* call = new Call;
    call->stub = peer.stub;
    call->request.set_from_server(self_);
    call->request.set_to_server(id);
    call->request.set_protocol_version(rpc::kProtocolVersion);
    call->ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::milliseconds(kRpcDeadlineMs));
    peer.queue.TakeInto(&call->request);
    call->to = id;
    peer.call = call;
    ++in_flight_;
    return call;
  }

  void Issue(Call* call) {
    rpcs_sent_.fetch_add(1, std::memory_order_relaxed);
    messages_sent_.fetch_add(call->request.messages_size(), std::memory_order_relaxed);
    call->stub->async()->Send(&call->ctx, &call->request, &call->reply,
                              [this, call](grpc::Status status) { OnDone(call, status); });
  }

  void OnDone(Call* call, const grpc::Status& status) {
    Call* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status.ok()) {
        dropped_.fetch_add(call->request.messages_size(), std::memory_order_relaxed);
      }
      Peer& peer = peers_[call->to];
      peer.call = nullptr;
      if (!shutting_down_ && !peer.queue.empty() && !peer.address.empty()) {
        next = PrepareCall(call->to, peer);
      }
      delete call;
      // Decremented last: the destructor may proceed as soon as it reaches 0.
      if (--in_flight_ == 0) idle_.notify_all();
    }
    if (next != nullptr) Issue(next);
  }

  const uint64_t self_;
  const std::function<void(paxos::Message)> deliver_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> rpcs_sent_{0};
  std::atomic<uint64_t> messages_sent_{0};
  std::atomic<uint64_t> messages_received_{0};

  std::mutex mu_;
  std::condition_variable idle_;
  std::map<uint64_t, Peer> peers_;  // guarded by mu_
  int in_flight_ = 0;               // guarded by mu_
  bool shutting_down_ = false;      // guarded by mu_
};

GrpcTransport::GrpcTransport(uint64_t self_server_id, std::function<void(paxos::Message)> deliver,
                             TlsOptions tls)
    : impl_(std::make_unique<Impl>(self_server_id, std::move(deliver), tls)) {}

GrpcTransport::~GrpcTransport() = default;

void GrpcTransport::SetPeerAddress(uint64_t server_id, const std::string& address) {
  impl_->SetPeerAddress(server_id, address);
}

void GrpcTransport::Send(std::vector<paxos::Message> messages) {
  impl_->Enqueue(std::move(messages));
}

void GrpcTransport::RegisterService(grpc::ServerBuilder* builder) {
  builder->SetMaxReceiveMessageSize(kMaxWireMessageBytes);
  builder->RegisterService(impl_.get());
}

uint64_t GrpcTransport::dropped() const { return impl_->dropped(); }

GrpcTransport::Stats GrpcTransport::stats() const { return impl_->stats(); }

}  // namespace meridian::replication
