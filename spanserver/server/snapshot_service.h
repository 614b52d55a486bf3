// Snapshots between spanservers over gRPC (proto/paxos.proto Snapshots): SnapshotService serves
// this server's replicas' snapshots (GroupHost::OpenSnapshot), and GrpcSnapshotFetcher fetches a
// snapshot from another server into a SnapshotWriter (replication/snapshot.h).
//
// The stream: a header (index, image, the image's CRC-32C), then chunks of about kChunkBytes of
// key/value pairs, each with the CRC-32C of its pairs, then a last message counting them. gRPC's
// HTTP/2 flow control paces the source to the receiver's disk: the server's Write blocks while
// the receiver has not read. A fetch that fails at any point (bad checksum, a key outside the
// group, the source going away) fails as a whole; the replica asks again.
//
// Thread safety: both classes are thread-safe.
#ifndef MERIDIAN_SPANSERVER_SERVER_SNAPSHOT_SERVICE_H_
#define MERIDIAN_SPANSERVER_SERVER_SNAPSHOT_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "replication/snapshot.h"

namespace grpc {
class ChannelCredentials;
class ClientContext;
class Service;
}  // namespace grpc

namespace meridian::spanserver {

class RoutingTable;

// Pairs per streamed message, in bytes.
inline constexpr size_t kSnapshotChunkBytes = 1 << 20;

class SnapshotService {
 public:
  // `routing` finds the groups' hosts; `self` is this server's id (0 until registered).
  SnapshotService(RoutingTable* routing, std::function<uint64_t()> self);
  ~SnapshotService();
  SnapshotService(const SnapshotService&) = delete;
  SnapshotService& operator=(const SnapshotService&) = delete;

  grpc::Service* service();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

class GrpcSnapshotFetcher : public replication::SnapshotFetcher {
 public:
  // At most this many fetches run at once; more fail with RESOURCE_EXHAUSTED (asked again later).
  static constexpr int kMaxConcurrentFetches = 4;

  // `routing` gives the servers' addresses.
  // `routing` gives the servers' addresses; every fetch uses `credentials`.
  GrpcSnapshotFetcher(RoutingTable* routing, std::shared_ptr<grpc::ChannelCredentials> credentials);
  // Cancels the fetches still running and waits for them.
  ~GrpcSnapshotFetcher() override;

  void Fetch(paxos::GroupId group, paxos::ReplicaId from, paxos::Index at_least,
             std::shared_ptr<replication::SnapshotWriter> writer, Done done) override;

 private:
  struct Running {
    std::thread thread;
    std::shared_ptr<grpc::ClientContext> context;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  // Joins the fetches that finished.
  void Reap() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  RoutingTable* const routing_;
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  absl::Mutex mu_;
  std::list<Running> running_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_SNAPSHOT_SERVICE_H_
