#include "spanserver/server/server_runtime.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/status_macros.h"
#include "replication/group_host.h"
#include "replication/group_log_storage.h"
#include "replication/grpc_tls.h"
#include "replication/tcp_transport.h"
#include "spanserver/server/clock_monitor.h"
#include "spanserver/server/kv_service.h"
#include "spanserver/server/movement_service.h"
#include "spanserver/server/placement_client.h"
#include "spanserver/server/range_stats.h"
#include "spanserver/server/routing_table.h"
#include "spanserver/server/server_identity.h"
#include "spanserver/server/server_metrics.h"
#include "spanserver/server/snapshot_service.h"
#include "spanserver/server/txn_service.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/tablet/txn_tablet.h"
#include "truetime/physical_clock.h"
#include "truetime/truetime.h"
#include "txn/transaction_manager.h"

namespace meridian::spanserver {
namespace {

constexpr absl::Duration kRegisterTimeout = absl::Seconds(2);
constexpr absl::Duration kHeartbeatTimeout = absl::Seconds(1);
constexpr absl::Duration kRegisterBackoffMin = absl::Milliseconds(100);
constexpr absl::Duration kRegisterBackoffMax = absl::Seconds(2);
constexpr auto kServerShutdownGrace = std::chrono::seconds(2);

void Log(const std::string& line) { std::fprintf(stderr, "spanserver: %s\n", line.c_str()); }

// A data directory's incarnation: random, drawn once per directory (server_identity.h). This is
// the process's one draw from the OS's entropy; nothing else in a server is random.
uint64_t DrawIncarnation() {
  std::random_device entropy;
  uint64_t incarnation = 0;
  while (incarnation == 0) {
    incarnation = (uint64_t{entropy()} << 32) ^ entropy();
  }
  return incarnation;
}

bool HasPortZero(const std::string& address) { return absl::EndsWith(address, ":0"); }

}  // namespace

class ServerRuntime::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {}
  ~Impl() { Shutdown(); }

  absl::Status Open() {
    if (options_.zone.empty()) return absl::InvalidArgumentError("--zone is required");
    if (options_.listen.empty()) return absl::InvalidArgumentError("--listen is required");
    if (options_.data_dir.empty()) return absl::InvalidArgumentError("--data_dir is required");
    if (options_.paxos_lease_ms <= 0) {
      return absl::InvalidArgumentError("--paxos_lease_ms must be positive");
    }
    if (options_.io_threads < 1 || options_.io_threads > 64) {
      return absl::InvalidArgumentError("--io_threads must be between 1 and 64");
    }
    if (options_.truetime_epsilon_us < 0) {
      return absl::InvalidArgumentError("--truetime_epsilon_us must not be negative");
    }
    std::error_code error;
    std::filesystem::create_directories(options_.data_dir, error);
    if (error) {
      return absl::UnavailableError(
          absl::StrCat("cannot create ", options_.data_dir, ": ", error.message()));
    }
    storage::EngineOptions engine_options;
    // The memtable (--memtable_mb, 8 MiB by default): while the Paxos logs were in LevelDB too,
    // 64 MiB had made 2PC over 50 groups 12% faster (fewer level-0 compactions rewriting all of
    // level 1). With only the data here, an insert into a smaller skiplist misses the cache less:
    // Kv writes at 256 clients ran 16,471 against 13,645 per second with 8 MiB than with 64
    // (kv_bench, alternating), 2PC(50) the same within the noise, and 4 MiB no better than 8.
    // LevelDB's log is not pre-zeroed: its writes are not synced (the Paxos log is), so zeroing
    // it ahead would only double what reaches the page cache.
    engine_options.write_buffer_size = options_.memtable_bytes;
    ASSIGN_OR_RETURN_CTX(engine_, storage::Engine::Open(options_.data_dir + "/db", engine_options),
                         "opening " + options_.data_dir + "/db");
    {
      std::string note;
      absl::MutexLock lock(&topology_mu_);
      ASSIGN_OR_RETURN(identity_, LoadOrCreateIdentity(options_.data_dir, engine_.get(),
                                                       DrawIncarnation(), &note));
      if (!note.empty()) Log(note);
    }
    truetime::ClockSourceOptions clock_options;
    clock_options.fixed_epsilon_us = options_.truetime_epsilon_us;
    clock_options.clock = options_.clock;
    ASSIGN_OR_RETURN(std::unique_ptr<truetime::ClockSource> source,
                     truetime::MakeClockSource(options_.truetime_source, clock_options));
    // The guard: serve only while the clock's uncertainty stays within 10x the configured
    // epsilon (at least 10 ms, the drift model's ceiling with some room).
    truetime::TrueTime::Options tt_options;
    tt_options.max_epsilon_us = std::max<int64_t>(10 * options_.truetime_epsilon_us, 10'000);
    ASSIGN_OR_RETURN(time_floor_, truetime::TimeFloor::Open(options_.data_dir + "/truetime_floor"));
    tt_options.floor = time_floor_.get();
    if (options_.clock_probe_interval_ms > 0) {
      clock_check_ = std::make_unique<truetime::PeerClockCheck>(
          [] { return truetime::SystemPhysicalClock()->MonoNowUs(); });
      tt_options.peers = clock_check_.get();
    } else {
      Log("warning: --clock_probe_interval_ms=0: this server trusts its own clock without "
          "checking it against its peers; a clock that lies can break external consistency");
    }
    truetime_ = std::make_unique<truetime::TrueTime>(std::move(source), tt_options);
    if (clock_check_ != nullptr) {
      clock_monitor_ = std::make_unique<ClockMonitor>(
          truetime_.get(), clock_check_.get(),
          [this](uint64_t to, std::string wire) {
            transport_->SendAttachment(to, std::move(wire));
          },
          options_.clock_probe_interval_ms * 1000);
    }
    if (absl::StatusOr<truetime::Interval> now = truetime_->Now(); !now.ok()) {
      Log(absl::StrCat("warning: TrueTime is unavailable: ", now.status().message()));
    }
    ASSIGN_OR_RETURN_CTX(paxos_log_, storage::PaxosLog::Open(options_.data_dir + "/paxos_log"),
                         "opening " + options_.data_dir + "/paxos_log");
    RETURN_IF_ERROR(replication::MigrateEngineLogs(engine_.get(), paxos_log_.get(),
                                                   [this](const std::string& line) { Log(line); }));
    writer_ = std::make_unique<storage::GroupCommitWriter>(engine_.get(), paxos_log_.get());
    work_.emplace(io_.get_executor());
    // Named for `top -H` and profiles ("io", "heartbeat"; the writer names itself).
    for (int i = 0; i < options_.io_threads; ++i) {
      io_threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "io");
        io_.run();
      });
    }
    // Attachments are the transaction layer's group messages; txn_ exists before the transport
    // starts accepting (Serve), so the handler never sees it unset.
    replication::TcpTransportOptions transport_options;
    transport_options.tls = options_.tls;
    transport_ = std::make_unique<replication::TcpTransport>(
        io_, [this](paxos::Message message) { Deliver(std::move(message)); },
        [this](uint64_t from_server, std::string wire) {
          if (IsClockAttachment(wire)) {
            if (clock_monitor_ != nullptr) clock_monitor_->Receive(from_server, wire);
          } else if (txn_ != nullptr) {
            txn_->DeliverFromPeer(from_server, wire);
          }
        },
        transport_options);
    ASSIGN_OR_RETURN(peer_address_, transport_->Listen(PeerListenAddress()));
    const std::vector<uint64_t> groups = paxos_log_->Groups();
    logged_groups_.insert(groups.begin(), groups.end());
    if (!groups.empty()) {
      Log(absl::StrCat("found the logs of groups ", absl::StrJoin(groups, ","),
                       "; they restart once the topology lists them"));
    }
    return absl::OkStatus();
  }

  absl::Status Start() {
    if (options_.placement.empty()) return absl::InvalidArgumentError("--placement is required");
    if (HasPortZero(options_.listen)) {
      return absl::InvalidArgumentError("--listen needs a real port to register with placement");
    }
    proto::RegisterRequest request;
    {
      absl::MutexLock lock(&topology_mu_);
      request.set_server_id(identity_.server_id);
      request.set_incarnation(identity_.incarnation);
    }
    placement_ = std::make_unique<PlacementClient>(options_.placement,
                                                   replication::ChannelCredentials(options_.tls));
    request.set_zone(options_.zone);
    request.set_address(options_.listen);
    request.set_peer_address(peer_address_);
    absl::Duration backoff = kRegisterBackoffMin;
    int attempts = 0;
    uint64_t id = 0;
    while (true) {
      absl::StatusOr<proto::RegisterResponse> response =
          placement_->Register(request, kRegisterTimeout);
      if (response.ok() && response->server_id() != 0) {
        id = response->server_id();
        break;
      }
      ++attempts;
      if (attempts <= 3 || attempts % 10 == 0) {
        const bool refused = absl::IsFailedPrecondition(response.status());
        Log(absl::StrCat(refused ? "placement refused to register this server"
                                 : "registration with placement failed",
                         " (attempt ", attempts,
                         "): ", response.ok() ? "server id 0" : response.status().message(),
                         "; retrying"));
      }
      if (WaitForStopFor(backoff)) return absl::CancelledError("stopped before registration");
      backoff = std::min(backoff * 2, kRegisterBackoffMax);
    }
    RETURN_IF_ERROR(AdoptServerId(id));
    Log(absl::StrCat("registered as server ", id, " in zone ", options_.zone));
    RETURN_IF_ERROR(Serve(id));
    heartbeat_thread_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "heartbeat");
      HeartbeatLoop();
    });
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> CollectGarbageNow() {
    if (options_.mvcc_retention_us <= 0) return uint64_t{0};
    ASSIGN_OR_RETURN(const truetime::Interval now, truetime_->Now());
    const truetime::Timestamp horizon = now.earliest - options_.mvcc_retention_us;
    uint64_t removed = 0;
    for (const auto& [group, host] : routing_.Hosts()) {
      ASSIGN_OR_RETURN_CTX(const uint64_t n, engine_->CollectGarbage(group, horizon),
                           absl::StrCat("collecting garbage in group ", group));
      removed += n;
    }
    return removed;
  }

  // Records the id placement gave this data directory (once; it never changes after).
  absl::Status AdoptServerId(uint64_t id) {
    absl::MutexLock lock(&topology_mu_);
    if (identity_.server_id == id) return absl::OkStatus();
    if (identity_.server_id != 0) {
      return absl::FailedPreconditionError(absl::StrCat("this data directory belongs to server ",
                                                        identity_.server_id, ", not server ", id));
    }
    identity_.server_id = id;
    RETURN_IF_ERROR_CTX(SaveIdentity(options_.data_dir, identity_), "persisting the server id");
    return absl::OkStatus();
  }

  absl::Status Serve(uint64_t id) {
    server_id_.store(id);
    if (options_.gc_interval_ms > 0 && options_.mvcc_retention_us > 0) {
      gc_thread_ = std::thread([this] {
        pthread_setname_np(pthread_self(), "gc");
        GcLoop();
      });
    }
    txn_ = std::make_unique<TxnService>(&routing_, id, [this](uint64_t to, std::string wire) {
      transport_->SendAttachment(to, std::move(wire));
    });
    transport_->Start(id);
    if (clock_monitor_ != nullptr) clock_monitor_->Start();
    kv_ = std::make_unique<KvService>(&routing_, engine_.get(), txn_.get(),
                                      [this](proto::ClockStatus* out) {
                                        if (clock_monitor_ != nullptr)
                                          clock_monitor_->FillStatus(out);
                                      });
    snapshot_service_ =
        std::make_unique<SnapshotService>(&routing_, [this] { return server_id_.load(); });
    range_stats_ = std::make_unique<RangeStatsCache>(engine_.get(), 20);
    collectors_ = RegisterServerCollectors([this] { return routing_.Hosts(); }, options_.data_dir);
    movement_service_ =
        std::make_unique<MovementService>(&routing_, txn_.get(), engine_.get(), truetime_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(options_.listen, replication::ServerCredentials(options_.tls), &port);
    // No HTTP/2 BDP probing: its pings cost wakeups on every connection and buy nothing on
    // loopback-sized links with small messages (measured: about 5% more writes per second).
    builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    replication::ApplyGrpcServerLimits(options_.grpc_limits, &builder);
    builder.RegisterService(kv_->service());
    builder.RegisterService(txn_->service());
    builder.RegisterService(snapshot_service_->service());
    builder.RegisterService(movement_service_->service());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port == 0) {
      return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
    }
    std::string address = options_.listen;
    if (HasPortZero(address)) address = absl::StrCat(address.substr(0, address.size() - 1), port);
    {
      absl::MutexLock lock(&mu_);
      address_ = address;
    }
    routing_.SetIdentity({id, options_.zone, address});
    Log(absl::StrCat("server ", id, " serving on ", address, "; Paxos peers on ", peer_address_));
    return absl::OkStatus();
  }

  void ApplyTopology(const proto::Topology& topology) {
    absl::MutexLock lock(&topology_mu_);
    const uint64_t self = server_id_.load();
    std::map<uint64_t, std::string> addresses;
    for (const proto::ServerInfo& server : topology.servers()) {
      addresses[server.id()] = server.address();
      if (transport_ != nullptr && !server.name().empty()) {
        transport_->SetPeerName(server.id(), server.name());
      }
      if (transport_ != nullptr && peer_addresses_[server.id()] != server.peer_address()) {
        transport_->SetPeerAddress(server.id(), server.peer_address());
        peer_addresses_[server.id()] = server.peer_address();
      }
    }
    std::vector<RangeEntry> ranges;
    for (const proto::RangeInfo& range : topology.ranges()) {
      ranges.push_back({range.start(), range.end(), range.group(), range.generation()});
    }
    routing_.SetTopology(std::move(ranges), std::move(addresses));
    if (txn_ != nullptr) {
      std::map<uint64_t, std::vector<uint64_t>> members;
      for (const proto::GroupInfo& group : topology.groups()) {
        members[group.id()].assign(group.replicas().begin(), group.replicas().end());
      }
      txn_->SetGroupMembers(std::move(members));
    }
    if (clock_monitor_ != nullptr) clock_monitor_->SetPeers(ClockPeers(topology, self));
    if (!topology.bootstrapped() || transport_ == nullptr || stopping_.load()) return;
    std::set<uint64_t> listed;
    for (const proto::GroupInfo& group : topology.groups()) {
      const std::vector<uint64_t> members(group.replicas().begin(), group.replicas().end());
      std::shared_ptr<replication::GroupHost> host = routing_.FindHost(group.id());
      // The leader walks the group's Paxos configuration toward placement's list, also when the
      // list no longer has it (it then hands the leadership over first).
      if (host != nullptr && host->leader() == self) host->ReconcileConfig(members);
      if (host != nullptr) SharePreferredLeader(group.id(), *host, members);
      if (std::find(members.begin(), members.end(), self) == members.end()) continue;
      listed.insert(group.id());
      if (host != nullptr) continue;
      // A replica new to this server starts empty and, not being in the group's configuration
      // yet, cannot take part until the leader adds it (as a learner: it catches up first).
      std::vector<uint64_t> founders(group.founders().begin(), group.founders().end());
      if (founders.empty()) founders = members;
      StartGroup(group.id(), members, founders);
    }
    StopRemovedReplicas(listed);
  }

  // The servers whose clocks this one is judged against: the other replicas of its groups, less
  // those placement has declared dead or removed (they would only shrink the majority that can
  // agree; a server cut off from placement keeps its last view and so stays strict).
  static std::vector<uint64_t> ClockPeers(const proto::Topology& topology, uint64_t self) {
    std::set<uint64_t> gone;
    for (const proto::ServerInfo& server : topology.servers()) {
      if (!server.alive() || server.removed()) gone.insert(server.id());
    }
    std::vector<uint64_t> peers;
    for (const proto::GroupInfo& group : topology.groups()) {
      const auto& r = group.replicas();
      if (std::find(r.begin(), r.end(), self) == r.end()) continue;
      for (uint64_t id : r) {
        if (id != self && !gone.contains(id)) peers.push_back(id);
      }
    }
    return peers;
  }

  // Placement's first replica is the group's preferred leader. Every replica learns it, not only
  // the leader (ReconcileConfig): a replica that took over with a stale preference handed the
  // leadership straight back, and two replicas passed it to and fro, each leading too briefly to
  // see a topology, for as long as the run lasted (a balanced group changed leaders about once a
  // second under `meridian failover-demo`).
  void SharePreferredLeader(uint64_t group, replication::GroupHost& host,
                            const std::vector<uint64_t>& members)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topology_mu_) {
    if (members.empty() || shared_preferred_[group] == members.front()) return;
    shared_preferred_[group] = members.front();
    host.WithReplica([preferred = members.front()](paxos::Replica* r, truetime::Interval) {
      if (r != nullptr) r->SetPreferredLeader(preferred);
    });
  }

  // Stops the replicas that placement no longer lists here and whose group's configuration no
  // longer has them, or that are fenced (placement replaced them: a fenced replica takes no part
  // in the group, so it would never learn the configuration that removes it). (Their data stays
  // in the store until it is reclaimed: not done yet.)
  void StopRemovedReplicas(const std::set<uint64_t>& listed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topology_mu_) {
    for (const auto& [group, host] : routing_.Hosts()) {
      const replication::GroupState state = host->state();
      if (listed.contains(group) || (!state.removed && state.fenced.empty())) continue;
      Log(absl::StrCat("group ", group, ": this replica was ",
                       state.removed ? "removed from the group" : "fenced and then replaced",
                       "; stopping it"));
      host->Stop();
      routing_.RemoveHost(group);
      if (txn_ != nullptr) txn_->RemoveTablet(group);
      started_members_.erase(group);
    }
  }

  void RequestStop() {
    absl::MutexLock lock(&mu_);
    stop_requested_ = true;
  }

  void WaitForStop() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&stop_requested_));
  }

  void Shutdown() {
    if (shut_down_) return;
    shut_down_ = true;
    collectors_.clear();  // a scrape no longer reads the hosts
    RequestStop();
    stopping_.store(true);
    if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
    if (gc_thread_.joinable()) gc_thread_.join();
    if (clock_monitor_ != nullptr) clock_monitor_->Stop();
    if (kv_ != nullptr) kv_->Shutdown();
    if (txn_ != nullptr) txn_->Shutdown();
    {
      // No topology is applied from here on (stopping_), so no host is added after this.
      absl::MutexLock lock(&topology_mu_);
    }
    for (const auto& [group, host] : routing_.Hosts()) host->Stop();
    snapshot_fetcher_.reset();  // cancels and joins the fetches, which write to the engine
    // Every call has finished or will finish soon: hosts failed their waiting proposals and
    // reads, and commit waits still run on the io threads.
    if (server_ != nullptr)
      server_->Shutdown(std::chrono::system_clock::now() + kServerShutdownGrace);
    if (writer_ != nullptr) writer_->Shutdown();
    // Closes the peer connections while the io threads still run their handlers.
    if (transport_ != nullptr) transport_->Shutdown();
    LogStats();
    routing_.TakeHosts();
    work_.reset();
    io_.stop();
    for (std::thread& thread : io_threads_) thread.join();
    io_threads_.clear();
    server_.reset();
    transport_.reset();
    kv_.reset();
    writer_.reset();
    paxos_log_.reset();
    engine_.reset();
    Log(absl::StrCat("server ", server_id_.load(), " stopped"));
  }

  uint64_t server_id() const { return server_id_.load(); }

  // What the storage and peer traffic of this run came to (for operators and benchmarks).
  void LogStats() const {
    if (writer_ == nullptr || transport_ == nullptr) return;
    const storage::GroupCommitWriter::Stats w = writer_->stats();
    const replication::TcpTransport::Stats t = transport_->stats();
    const storage::PaxosLog::Stats l = paxos_log_->stats();
    Log(absl::StrCat(
        "writer: ", w.batches, " group rounds in ", w.leveldb_writes, " LevelDB writes (",
        w.synced_leveldb_writes, " synced) and ", w.log_writes, " Paxos log writes (",
        w.synced_log_writes, " synced), ", w.bytes, " bytes, ", w.flushes,
        " flushes of staged rounds; Paxos log: ", l.segments, " segments (", l.segments_removed,
        " removed, ", l.relocated_entries, " entries copied forward), ", l.disk_reads,
        " entries read back from disk; peers: ", t.messages_sent, " messages sent in ",
        t.frames_sent, " frames over ", t.connects, " connections, ", t.messages_received,
        " received, ", t.dropped, " dropped; ", t.inbound_refused,
        " inbound connections refused over the caps, ", t.inbound_idle_closed, " closed idle"));
  }

  std::string peer_address() const { return peer_address_; }

  std::string address() const {
    absl::MutexLock lock(&mu_);
    return address_.empty() ? options_.listen : address_;
  }

 private:
  // --peer_listen, else the host of --listen with a port the OS picks.
  std::string PeerListenAddress() const {
    if (!options_.peer_listen.empty()) return options_.peer_listen;
    const size_t colon = options_.listen.rfind(':');
    return (colon == std::string::npos ? std::string() : options_.listen.substr(0, colon)) + ":0";
  }

  // True when a stop was requested within `timeout`.
  bool WaitForStopFor(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&stop_requested_), timeout);
  }

  void Deliver(paxos::Message message) {
    std::shared_ptr<replication::GroupHost> host = routing_.FindHost(message.group);
    if (host != nullptr) host->Deliver(std::move(message));
  }

  // `members`: placement's replicas of the group now; `founders`: its first configuration.
  void StartGroup(uint64_t group, const std::vector<uint64_t>& members,
                  const std::vector<uint64_t>& founders)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(topology_mu_) {
    if (refused_.contains(group)) return;  // stays down until the operator acts
    absl::StatusOr<paxos::ReplicaStart> start =
        PrepareReplica(options_.data_dir, engine_.get(), paxos_log_.get(), &identity_, group);
    if (!start.ok()) {
      Log(absl::StrCat("group ", group,
                       ": NOT starting this server's replica: ", start.status().message(),
                       absl::IsFailedPrecondition(start.status())
                           ? ". Remove this server (meridian server remove) and add a replica "
                             "elsewhere, or restore its data directory"
                           : ""));
      refused_[group] = std::string(start.status().message());
      return;
    }
    const uint64_t self = server_id_.load();
    replication::GroupHostOptions host_options;
    paxos::Options& paxos = host_options.paxos;
    paxos.group = group;
    paxos.id = self;
    if (*start == paxos::ReplicaStart::kFresh &&
        std::find(founders.begin(), founders.end(), self) == founders.end()) {
      // A replica added later: unconfigured until its leader's log or snapshot says more.
      paxos.learners = {self};
    } else {
      paxos.members = founders;  // the group's first configuration (a restart keeps its own)
    }
    paxos.lease_us = options_.paxos_lease_ms * 1000;
    paxos.heartbeat_interval_us = paxos.lease_us / 8;
    paxos.election_timeout_us = paxos.lease_us / 2;
    paxos.seed = self * 0x9E3779B97F4A7C15ull ^ group;
    host_options.compact_log_bytes = static_cast<size_t>(options_.max_log_bytes);
    host_options.compact_log_entries = 0;  // bytes bound the log; entries alone do not matter
    host_options.retain_entries = static_cast<uint64_t>(options_.log_retain_entries);
    host_options.snapshots = snapshot_fetcher_.get();
    // Placement rotates the first replica from group to group: preferring it spreads the
    // leaders over the servers, and leadership returns there (a soft handoff) after a failover.
    if (!members.empty()) paxos.preferred_leader = members.front();
    // The tablet's hooks reach its host, which is created after it (and owns it).
    auto host_slot = std::make_shared<std::weak_ptr<replication::GroupHost>>();
    auto tablet_slot = std::make_shared<tablet::TxnTablet*>(nullptr);
    tablet::TxnTablet::Hooks hooks;
    hooks.send = [this](const txn::GroupMessage& m) { txn_->Send(m); };
    hooks.map_generation = [this, group](std::string_view key) {
      return routing_.GroupGeneration(group, key);
    };
    hooks.tick_after = [this, host_slot, tablet_slot](truetime::Timestamp after) {
      std::shared_ptr<replication::GroupHost> h = host_slot->lock();
      absl::StatusOr<truetime::Interval> now = truetime_->Now();
      if (h == nullptr || !now.ok()) return;
      tablet::TxnTablet* tablet = *tablet_slot;
      h->WithReplica(
          [tablet](paxos::Replica* r, truetime::Interval t) {
            if (r != nullptr) tablet->Tick(*r, t);
          },
          std::max<int64_t>(1, after - now->earliest + 1));
    };
    auto txn_tablet = std::make_unique<tablet::TxnTablet>(
        group, engine_.get(), truetime_.get(), txn::TransactionManagerOptions{}, std::move(hooks));
    tablet::TxnTablet* tablet = txn_tablet.get();
    *tablet_slot = tablet;
    auto host = std::make_shared<replication::GroupHost>(io_, engine_.get(), writer_.get(),
                                                         truetime_.get(), transport_.get(),
                                                         host_options, std::move(txn_tablet));
    *host_slot = host;
    if (absl::Status status = host->Start(); !status.ok()) {
      Log(absl::StrCat("group ", group, ": cannot start its replica: ", status.ToString(),
                       "; retrying with the next topology"));
      return;
    }
    routing_.AddHost(group, host);
    txn_->AddTablet(group, host, tablet);
    started_members_[group] = members;
    Log(absl::StrCat("group ", group, ": replica started",
                     logged_groups_.contains(group) ? " (recovering from its log)" : "",
                     ", members ", absl::StrJoin(members, ",")));
  }

  // Collects garbage every gc_interval_ms until stopped; logs what it removed and failures.
  void GcLoop() {
    while (!WaitForStopFor(absl::Milliseconds(options_.gc_interval_ms))) {
      absl::StatusOr<uint64_t> removed = CollectGarbageNow();
      if (!removed.ok()) {
        Log("garbage collection failed: " + removed.status().ToString());
      } else if (*removed > 0) {
        Log(absl::StrCat("garbage collection removed ", *removed, " old versions"));
      }
    }
  }

  void HeartbeatLoop() {
    bool failing = false;
    bool have_topology = false;
    do {
      proto::HeartbeatRequest request;
      request.set_server_id(server_id_.load());
      if (writer_->failed()) {
        request.set_storage_failed(std::string(writer_->failure().message()));
      }
      for (const auto& [group, host] : routing_.Hosts()) {
        const replication::GroupState state = host->state();
        proto::GroupReport* report = request.add_groups();
        report->set_group(group);
        report->set_is_leader(state.role == paxos::Role::kLeader);
        report->set_has_lease(state.has_lease);
        report->set_log_entries(state.last_index - std::min(state.last_index, state.compacted));
        report->set_installing_snapshot(state.installing_snapshot);
        report->set_fenced(state.fenced);
        if (state.role == paxos::Role::kLeader) {
          range_stats_->Fill(group, routing_.RangesOf(group), report);
        }
      }
      {
        absl::MutexLock lock(&topology_mu_);
        for (const auto& [group, reason] : refused_) {
          proto::GroupReport* report = request.add_groups();
          report->set_group(group);
          report->set_refusal(reason);
        }
      }
      const int64_t sent_mono_us = truetime::SystemPhysicalClock()->MonoNowUs();
      absl::StatusOr<proto::HeartbeatResponse> response =
          placement_->Heartbeat(request, kHeartbeatTimeout);
      if (response.ok() && clock_monitor_ != nullptr && response->clock_latest_us() != 0) {
        const int64_t mid = response->clock_earliest_us() +
                            (response->clock_latest_us() - response->clock_earliest_us()) / 2;
        clock_monitor_->RecordPlacementClock(
            sent_mono_us,
            {mid, (response->clock_latest_us() - response->clock_earliest_us() + 1) / 2});
      }
      if (!response.ok()) {
        if (!failing) Log("heartbeat to placement failed: " + response.status().ToString());
        failing = true;
        continue;
      }
      if (failing) Log("heartbeat to placement works again");
      failing = false;
      if (!have_topology && response->topology().bootstrapped()) {
        Log("received the first bootstrapped topology");
        have_topology = true;
      }
      placement_->SetLeaderHint(response->topology().placement_leader());
      ApplyTopology(response->topology());
    } while (!WaitForStopFor(absl::Milliseconds(options_.heartbeat_interval_ms)));
  }

  const ServerOptions options_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::PaxosLog> paxos_log_;
  std::unique_ptr<storage::GroupCommitWriter> writer_;
  std::unique_ptr<truetime::TimeFloor> time_floor_;
  std::unique_ptr<truetime::PeerClockCheck> clock_check_;  // null: no peer clock check
  std::unique_ptr<truetime::TrueTime> truetime_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
  RoutingTable routing_;
  std::unique_ptr<replication::TcpTransport> transport_;
  std::string peer_address_;  // where peers reach transport_, with the real port
  std::unique_ptr<KvService> kv_;
  std::unique_ptr<SnapshotService> snapshot_service_;
  std::unique_ptr<MovementService> movement_service_;
  // Measured again every 20 heartbeats (10 s at the default interval); made with the engine.
  std::unique_ptr<RangeStatsCache> range_stats_;
  // Created with the runtime: the hosts keep a pointer to it.
  std::unique_ptr<GrpcSnapshotFetcher> snapshot_fetcher_ = std::make_unique<GrpcSnapshotFetcher>(
      &routing_, replication::ChannelCredentials(options_.tls));
  std::unique_ptr<TxnService> txn_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<PlacementClient> placement_;
  std::unique_ptr<ClockMonitor> clock_monitor_;  // with clock_check_; sends on transport_
  std::vector<std::unique_ptr<metrics::Registry::CollectorHandle>> collectors_;  // server_metrics.h
  std::thread heartbeat_thread_;
  std::thread gc_thread_;
  std::set<uint64_t> logged_groups_;  // groups with a log at Open
  std::atomic<uint64_t> server_id_{0};
  std::atomic<bool> stopping_{false};
  bool shut_down_ = false;

  mutable absl::Mutex mu_;
  bool stop_requested_ ABSL_GUARDED_BY(mu_) = false;
  std::string address_ ABSL_GUARDED_BY(mu_);

  absl::Mutex topology_mu_;
  std::map<uint64_t, std::string> peer_addresses_ ABSL_GUARDED_BY(topology_mu_);
  std::map<uint64_t, std::vector<uint64_t>> started_members_ ABSL_GUARDED_BY(topology_mu_);
  // The preferred leader last passed to each group's replica (SharePreferredLeader).
  std::map<uint64_t, uint64_t> shared_preferred_ ABSL_GUARDED_BY(topology_mu_);
  DataDirIdentity identity_ ABSL_GUARDED_BY(topology_mu_);
  // Groups whose replica this server refuses to start (PrepareReplica), and why.
  std::map<uint64_t, std::string> refused_ ABSL_GUARDED_BY(topology_mu_);
};

absl::StatusOr<std::unique_ptr<ServerRuntime>> ServerRuntime::Open(ServerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<ServerRuntime>(new ServerRuntime(std::move(impl)));
}

ServerRuntime::ServerRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServerRuntime::~ServerRuntime() { impl_->Shutdown(); }

absl::Status ServerRuntime::Start() { return impl_->Start(); }

absl::Status ServerRuntime::StartWithoutPlacement(uint64_t server_id) {
  if (server_id == 0) return absl::InvalidArgumentError("server id 0");
  RETURN_IF_ERROR(impl_->AdoptServerId(server_id));
  return impl_->Serve(server_id);
}

void ServerRuntime::ApplyTopology(const proto::Topology& topology) {
  impl_->ApplyTopology(topology);
}

absl::StatusOr<uint64_t> ServerRuntime::CollectGarbageNow() { return impl_->CollectGarbageNow(); }
void ServerRuntime::RequestStop() { impl_->RequestStop(); }
void ServerRuntime::WaitForStop() { impl_->WaitForStop(); }
void ServerRuntime::Shutdown() { impl_->Shutdown(); }
uint64_t ServerRuntime::server_id() const { return impl_->server_id(); }
std::string ServerRuntime::address() const { return impl_->address(); }
std::string ServerRuntime::peer_address() const { return impl_->peer_address(); }

}  // namespace meridian::spanserver
