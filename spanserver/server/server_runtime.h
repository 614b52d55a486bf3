// ServerRuntime: everything one spanserver process runs, wired together — the storage Engine
// (DATA_DIR/db), the GroupCommitWriter, TrueTime, an Asio io_context on io_threads threads
// (GroupHost strands, commit-wait timers, the peer sockets), the TcpTransport to peer servers (its
// own listen address, registered with placement), the gRPC server (Kv and Txn services), the
// registration with placementd and the heartbeat loop that applies
// the topology: one GroupHost (over a TxnTablet) per data group listing this server.
//
// Lifecycle: Open() → Start() (or StartWithoutPlacement() in tests) → ... → Shutdown().
//  - Open reads the data directory's identity (DATA_DIR/identity: server id, incarnation, the
//    groups it hosted; server_identity.h), creating it for a new directory.
//  - Start registers with placement under that identity, retrying with backoff until it succeeds
//    or RequestStop() is called (placement refuses a new or wiped directory at a known server's
//    address: the log says why and how to remove the old server), then serves and heartbeats
//    every heartbeat_interval_ms. Groups whose logs already exist are recovered as soon as the
//    first topology lists them (GroupHost replays the log from the start). A replica whose state
//    is missing or not its own (PrepareReplica) is not started: it never votes or accepts, the
//    log says why, and the heartbeat reports it to placement (`meridian status` shows it).
//  - MVCC garbage collection runs on its own thread every gc_interval_ms (CollectGarbageNow): old
//    versions go behind the retention window, per group, as storage::Engine::CollectGarbage.
//    Replaying the log after a restart writes collected versions again, in log order, so reads
//    above the horizon stay right; the next pass removes them.
//  - Shutdown stops the heartbeat and GC loops, refuses new requests, stops the hosts (their
//  pending
//    requests fail UNAVAILABLE), shuts the gRPC server down, drains the writer and closes the
//    engine.
//
// Thread safety: RequestStop() and the accessors are thread-safe; Start*, ApplyTopology and
// Shutdown are called from the owner's thread (ApplyTopology also runs on the heartbeat thread;
// it serializes itself). Not widely included: only main.cc and tests.
#ifndef MERIDIAN_SPANSERVER_SERVER_SERVER_RUNTIME_H_
#define MERIDIAN_SPANSERVER_SERVER_SERVER_RUNTIME_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls.h"
#include "proto/placement.pb.h"
#include "replication/grpc_server_limits.h"
#include "truetime/clock_source_factory.h"

namespace meridian::spanserver {

struct ServerOptions {
  std::string zone;
  std::string listen;  // host:port; port 0 (tests without placement) picks a free port
  // HOST:PORT where peers send Paxos messages; empty: the host of `listen` and a
  // port the OS picks (placement tells the peers).
  std::string peer_listen;
  std::string data_dir;
  std::vector<std::string> placement;  // placement replicas' host:port
  truetime::ClockSourceKind truetime_source = truetime::ClockSourceKind::kFixed;
  int64_t truetime_epsilon_us = 1000;
  // The wall and monotonic clocks TrueTime reads; null: the system's. Tests step it
  // (--testing_clock_offset_file). Not owned; must outlive the runtime.
  truetime::PhysicalClock* clock = nullptr;
  int64_t paxos_lease_ms = 2000;
  int64_t heartbeat_interval_ms = 500;
  // Threads running the io_context: every group's strand, the peer sockets, commit-wait timers.
  // One by default: on a small machine, one thread that finds the next handler already queued
  // costs fewer wakeups than two handing work to each other (2PC over 50 groups ran about 7%
  // faster than with two; Kv writes at 64 clients were unchanged). More suit many cores.
  int io_threads = 1;
  // MVCC garbage collection: versions and tombstones older than this (behind TT.now().earliest)
  // go, except each key's newest one; reads below the horizon get FAILED_PRECONDITION. 0 keeps
  // every version. It must stay well above the idle safe-time interval (1 s): a strong read of
  // an idle group reads at its last timestamp (--mvcc_retention_s takes at least 10 s).
  int64_t mvcc_retention_us = int64_t{3600} * 1'000'000;
  // How often the background pass runs; 0: never (tests call CollectGarbageNow).
  int64_t gc_interval_ms = 60'000;
  // Each group's Paxos log stays near this size: once half of it was applied since the last
  // checkpoint, the state machine is checkpointed and the log compacted (replication/group_host.h).
  // 0: never compact.
  int64_t max_log_bytes = int64_t{64} << 20;
  // LevelDB's write buffer (memtable) for the data (--memtable_mb).
  size_t memtable_bytes = size_t{8} << 20;
  // Entries a group keeps below its checkpoint for followers a little behind.
  int64_t log_retain_entries = 1'000;
  // Clock probes to the other replicas of this server's groups (clock_monitor.h): TrueTime widens
  // its interval to agree with a majority of them and is unavailable when it cannot. 0: no
  // probes, and the server trusts its own clock alone (logged as a warning).
  int64_t clock_probe_interval_ms = 100;
  // Mutual TLS for the gRPC server, its calls to placement and peers, and the peer transport;
  // disabled (the default, what in-process tests use): plaintext, every caller trusted.
  TlsOptions tls;
  // The gRPC server's resource bounds (memory, threads, streams per connection, request size,
  // keepalive and connection age): replication/grpc_server_limits.h.
  replication::GrpcServerLimits grpc_limits;
};

class ServerRuntime {
 public:
  // Creates DATA_DIR if needed, opens the engine and TrueTime, starts the writer and io threads.
  static absl::StatusOr<std::unique_ptr<ServerRuntime>> Open(ServerOptions options);
  ~ServerRuntime();  // Shutdown()s
  ServerRuntime(const ServerRuntime&) = delete;
  ServerRuntime& operator=(const ServerRuntime&) = delete;

  // Registers with placement, starts serving and the heartbeat loop. CANCELLED when RequestStop()
  // came first; the gRPC error when the listen address cannot be bound.
  absl::Status Start();
  // Test seam: serves as `server_id` without placement; feed the topology with ApplyTopology.
  absl::Status StartWithoutPlacement(uint64_t server_id);
  // Applies a topology: peer addresses, the range map, and a started GroupHost for every group
  // that lists this server and has none yet. Membership changes of running groups are not
  // applied (logged).
  void ApplyTopology(const proto::Topology& topology);

  // One garbage-collection pass over every group hosted here, at horizon TT.now().earliest -
  // mvcc_retention_us (what the background pass does every gc_interval_ms). Returns the versions
  // removed; 0 with retention 0.
  absl::StatusOr<uint64_t> CollectGarbageNow();

  // Makes Start() give up and WaitForStop() return (e.g. from a signal thread).
  void RequestStop();
  void WaitForStop();
  void Shutdown();

  uint64_t server_id() const;
  // The address served (with the real port once serving).
  std::string address() const;
  // The Paxos peer listener's address (with the real port).
  std::string peer_address() const;

 private:
  class Impl;
  explicit ServerRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_SERVER_RUNTIME_H_
