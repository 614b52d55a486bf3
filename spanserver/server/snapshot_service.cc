#include "spanserver/server/snapshot_service.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/crc32c.h"
#include "common/status_macros.h"
#include "proto/paxos.grpc.pb.h"
#include "proto/rpc.h"
#include "replication/group_host.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/server/server_metrics.h"

namespace meridian::spanserver {
namespace {

// How long a source may take to reach a quiet point between rounds and open its snapshot.
constexpr auto kOpenTimeout = std::chrono::seconds(10);
// A whole fetch; past it the receiver gives up and asks again.
constexpr auto kFetchDeadline = std::chrono::minutes(30);
// The image and a chunk travel in one message each; the image may be large.
constexpr int kMaxMessageBytes = 512 << 20;

uint32_t PairsCrc(const proto::SnapshotChunk& chunk) {
  uint32_t crc = 0;
  for (int i = 0; i < chunk.keys_size(); ++i) {
    crc = crc32c::Extend(crc, chunk.keys(i));
    crc = crc32c::Extend(crc, chunk.values(i));
  }
  return crc;
}

absl::StatusOr<std::shared_ptr<replication::SnapshotReader>> OpenOn(replication::GroupHost& host,
                                                                    paxos::Index at_least) {
  auto promise = std::make_shared<
      std::promise<absl::StatusOr<std::shared_ptr<replication::SnapshotReader>>>>();
  auto future = promise->get_future();
  host.OpenSnapshot(at_least, [promise](auto reader) { promise->set_value(std::move(reader)); });
  if (future.wait_for(kOpenTimeout) != std::future_status::ready) {
    return absl::UnavailableError("the replica did not reach a point to take a snapshot at");
  }
  return future.get();
}

}  // namespace

class SnapshotService::Impl final : public proto::Snapshots::Service {
 public:
  Impl(RoutingTable* routing, std::function<uint64_t()> self)
      : routing_(routing), self_(std::move(self)) {}

  grpc::Status Fetch(grpc::ServerContext* ctx, const proto::SnapshotRequest* request,
                     grpc::ServerWriter<proto::SnapshotChunk>* out) override {
    if (absl::Status s = rpc::CheckProtocol(ctx->client_metadata()); !s.ok()) {
      return rpc::ToGrpc(s);
    }
    if (request->to_server() != self_()) {
      return grpc::Status(
          grpc::StatusCode::FAILED_PRECONDITION,
          absl::StrCat("this is server ", self_(), ", not server ", request->to_server()));
    }
    std::shared_ptr<replication::GroupHost> host = routing_->FindHost(request->group());
    if (host == nullptr) {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          absl::StrCat("no replica of group ", request->group(), " here"));
    }
    absl::StatusOr<std::shared_ptr<replication::SnapshotReader>> reader =
        OpenOn(*host, request->at_least());
    if (!reader.ok()) return rpc::ToGrpc(reader.status());
    return Stream(ctx, **reader, out);
  }

 private:
  static grpc::Status Stream(grpc::ServerContext* ctx, replication::SnapshotReader& reader,
                             grpc::ServerWriter<proto::SnapshotChunk>* out) {
    proto::SnapshotChunk header;
    header.set_index(reader.index());
    header.set_image(reader.image());
    header.set_image_crc32c(crc32c::Value(reader.image()));
    for (paxos::ReplicaId id : reader.config().voters) header.add_voters(id);
    for (paxos::ReplicaId id : reader.config().learners) header.add_learners(id);
    header.set_config_index(reader.config_index());
    if (!out->Write(header)) return grpc::Status(grpc::StatusCode::CANCELLED, "receiver gone");
    uint64_t total = 0;
    while (!ctx->IsCancelled()) {
      absl::StatusOr<std::vector<storage::KeyValue>> pairs = reader.Next(kSnapshotChunkBytes);
      if (!pairs.ok()) return rpc::ToGrpc(pairs.status());
      proto::SnapshotChunk chunk;
      if (pairs->empty()) {
        chunk.set_last(true);
        chunk.set_total_pairs(total);
        out->Write(chunk);
        return grpc::Status::OK;
      }
      for (storage::KeyValue& kv : *pairs) {
        chunk.add_keys(std::move(kv.key));
        chunk.add_values(std::move(kv.value));
      }
      total += pairs->size();
      chunk.set_crc32c(PairsCrc(chunk));
      if (!out->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "receiver gone");
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }

  RoutingTable* const routing_;
  const std::function<uint64_t()> self_;
};

SnapshotService::SnapshotService(RoutingTable* routing, std::function<uint64_t()> self)
    : impl_(std::make_unique<Impl>(routing, std::move(self))) {}
SnapshotService::~SnapshotService() = default;
grpc::Service* SnapshotService::service() { return impl_.get(); }

namespace {

// The receiving side of one stream, on its own thread.
absl::StatusOr<replication::FetchedSnapshot> Receive(grpc::ClientContext* ctx,
                                                     proto::Snapshots::Stub& stub,
                                                     const proto::SnapshotRequest& request,
                                                     replication::SnapshotWriter& writer) {
  std::unique_ptr<grpc::ClientReader<proto::SnapshotChunk>> stream = stub.Fetch(ctx, request);
  proto::SnapshotChunk chunk;
  if (!stream->Read(&chunk)) return rpc::FromGrpc(stream->Finish());
  if (crc32c::Value(chunk.image()) != chunk.image_crc32c()) {
    return absl::DataLossError("the snapshot's image fails its checksum");
  }
  replication::FetchedSnapshot fetched{
      chunk.index(), std::move(*chunk.mutable_image()),
      paxos::Config{{chunk.voters().begin(), chunk.voters().end()},
                    {chunk.learners().begin(), chunk.learners().end()}},
      chunk.config_index()};
  if (fetched.index < request.at_least()) {
    return absl::FailedPreconditionError(absl::StrCat("the source's snapshot reaches ",
                                                      fetched.index, ", not ", request.at_least()));
  }
  RETURN_IF_ERROR(writer.Begin());  // from here the group's old data is gone
  while (stream->Read(&chunk)) {
    if (chunk.last()) {
      if (chunk.total_pairs() != writer.pairs()) {
        return absl::DataLossError(absl::StrCat("the snapshot counts ", chunk.total_pairs(),
                                                " pairs, ", writer.pairs(), " arrived"));
      }
      RETURN_IF_ERROR(rpc::FromGrpc(stream->Finish()));
      CountSnapshotFetched();
      return fetched;
    }
    if (chunk.keys_size() != chunk.values_size() || PairsCrc(chunk) != chunk.crc32c()) {
      return absl::DataLossError("a snapshot chunk fails its checksum");
    }
    std::vector<storage::KeyValue> pairs(chunk.keys_size());
    size_t bytes = 0;
    for (int i = 0; i < chunk.keys_size(); ++i) {
      pairs[i].key = std::move(*chunk.mutable_keys(i));
      pairs[i].value = std::move(*chunk.mutable_values(i));
      bytes += pairs[i].key.size() + pairs[i].value.size();
    }
    RETURN_IF_ERROR(writer.Add(pairs));
    CountSnapshotBytes(bytes);
  }
  absl::Status status = rpc::FromGrpc(stream->Finish());
  if (status.ok())
    status = absl::DataLossError("the snapshot stream ended before its last message");
  return status;
}

}  // namespace

GrpcSnapshotFetcher::GrpcSnapshotFetcher(RoutingTable* routing,
                                         std::shared_ptr<grpc::ChannelCredentials> credentials)
    : routing_(routing), credentials_(std::move(credentials)) {}

GrpcSnapshotFetcher::~GrpcSnapshotFetcher() {
  std::list<Running> running;
  {
    absl::MutexLock lock(&mu_);
    shutting_down_ = true;
    running = std::move(running_);
  }
  for (Running& r : running) r.context->TryCancel();
  for (Running& r : running) r.thread.join();
}

void GrpcSnapshotFetcher::Reap() {
  for (auto it = running_.begin(); it != running_.end();) {
    if (it->finished->load()) {
      it->thread.join();
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

void GrpcSnapshotFetcher::Fetch(paxos::GroupId group, paxos::ReplicaId from, paxos::Index at_least,
                                std::shared_ptr<replication::SnapshotWriter> writer, Done done) {
  const std::string address = routing_->AddressOf(from);
  if (address.empty()) {
    return done(
        absl::UnavailableError(absl::StrCat("the address of server ", from, " is not known yet")));
  }
  absl::MutexLock lock(&mu_);
  Reap();
  if (shutting_down_) return done(absl::UnavailableError("the server is stopping"));
  if (static_cast<int>(running_.size()) >= kMaxConcurrentFetches) {
    return done(absl::ResourceExhaustedError("too many snapshot fetches running"));
  }
  auto context = std::make_shared<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kFetchDeadline);
  context->AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
  auto finished = std::make_shared<std::atomic<bool>>(false);
  proto::SnapshotRequest request;
  request.set_group(group);
  request.set_at_least(at_least);
  request.set_to_server(from);
  std::thread thread([context, finished, address, request, credentials = credentials_,
                      writer = std::move(writer), done = std::move(done)] {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(kMaxMessageBytes);
    auto stub = proto::Snapshots::NewStub(grpc::CreateCustomChannel(address, credentials, args));
    absl::StatusOr<replication::FetchedSnapshot> result =
        Receive(context.get(), *stub, request, *writer);
    if (!result.ok()) context->TryCancel();
    done(std::move(result));
    finished->store(true);
  });
  running_.push_back(Running{std::move(thread), std::move(context), std::move(finished)});
}

}  // namespace meridian::spanserver
