// LocalCluster: a whole Meridian cluster as child processes on 127.0.0.1, for `meridian demo` and
// the multi-process integration tests.
//
// Layout under options.dir:
//   cluster.json               every process: name, role, zone, address, pid, data_dir, log, argv
//                              (rewritten after every start, stop and restart)
//   logs/<name>.log            stdout and stderr of each process
//   <name>/                    its data directory
//   tls/                       with `secure`: the CA (tls/ca.crt, ca.key), each process's node
//                              certificate (tls/<name>/, its --tls_dir) and an admin client's
//                              (tls/admin/, admin_tls_dir()), made by tools/certs.h when missing
// Processes: placement-1..N (N = placement_replicas, ports base_port..base_port+N-1), then
// spanservers span-a1, span-a2, ..., span-b1, ... (zone-a, zone-b, ...; ports after placement's).
//
// Thread safety: none; use from one thread (see Supervisor). The gRPC stubs inside are private
// (pimpl), so this header stays free of gRPC.
#ifndef MERIDIAN_TOOLS_LOCAL_CLUSTER_H_
#define MERIDIAN_TOOLS_LOCAL_CLUSTER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "proto/placement.pb.h"
#include "tools/supervisor.h"

namespace meridian::tools {

struct LocalClusterOptions {
  std::string dir;  // created if missing
  std::string placementd_path;
  std::string spanserver_path;
  int zones = 3;
  int servers_per_zone = 1;
  int ranges = 8;
  int base_port = 7400;
  int placement_replicas = 1;  // 1 or 3
  int64_t truetime_epsilon_us = 1000;
  int64_t paxos_lease_ms = 2000;
  std::vector<std::string> spanserver_flags;  // more flags for every spanserver
  std::vector<std::string> placement_flags;   // more flags for every placementd
  // > 0: every process also serves HTTP (/metrics; placementd's status page at /) on
  // 127.0.0.1:(its port + http_port_offset), its --http_listen. 0: no HTTP.
  int http_port_offset = 0;
  // Mutual TLS everywhere (certificates made under DIR/tls); false: every process runs
  // --insecure.
  bool secure = false;
  // Each spanserver listens (clients and peers) on a loopback address of its own: 127.0.0.2,
  // 127.0.0.3, ... in start order (placement stays on 127.0.0.1), and sends its peer traffic
  // from it, so firewall rules can cut the link between two servers (tests/chaos/).
  bool distinct_loopback_hosts = false;
  // Tests only: non-empty, each spanserver runs with --testing_clock_offset_file=
  // DIR/<name>.offset_us (ClockOffsetFile), which steps its wall clock (a missing file: no step).
  std::string clock_offset_dir;
};

// The sibling binaries of the running executable: for /x/build/tools/meridian,
// /x/build/placement/placementd and /x/build/spanserver/spanserver. NOT_FOUND, saying which and
// how to build it, when one is missing.
absl::Status FindSiblingBinaries(LocalClusterOptions& options);

// "zone-a", "zone-b", ... for index 0, 1, ...
std::string ZoneName(int index);

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options);
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;
  ~LocalCluster();  // stops every process

  // Checks the ports, creates the directories and starts every process. On error, whatever was
  // started is stopped again.
  absl::Status Start();
  // Waits until placement reports bootstrapped, every group has a leader that holds its lease,
  // and every server is alive. `progress` (may be empty) is called about once a second with a
  // short description of what is still missing. `cancelled` (may be empty) aborts the wait with
  // CANCELLED when it returns true. Fails early, with the log tail, when a process exits.
  absl::Status WaitReady(absl::Duration timeout,
                         const std::function<void(const std::string&)>& progress = {},
                         const std::function<bool()>& cancelled = {});

  // The cluster's topology, from the placement leader.
  absl::StatusOr<proto::Topology> GetTopology();
  // The Status RPC of one spanserver (by process name).
  absl::StatusOr<proto::ServerStatusResponse> ServerStatus(
      const std::string& name, absl::Duration timeout = absl::Seconds(2));
  // The process name of the spanserver with `server_id` (from the topology's addresses), or "".
  std::string ServerName(const proto::Topology& topology, uint64_t server_id) const;
  // The process name of the current leader of `group` according to the servers themselves (the
  // one reporting role leader with a lease); NOT_FOUND if none does right now.
  absl::StatusOr<std::string> GroupLeader(uint64_t group);

  // kill -9 of one process / restart with the same argv and data dir / SIGTERM and wait.
  // Each rewrites cluster.json.
  absl::Status Kill(const std::string& name);
  // kill -9 of one process, then its data directory emptied (a failed disk replaced): restarted,
  // it is a new data directory at the old address.
  absl::Status Wipe(const std::string& name);
  absl::Status Restart(const std::string& name);
  // Extra environment ("NAME=VALUE") for one process from its next restart on (e.g. libfaketime).
  absl::Status SetEnvironment(const std::string& name, std::vector<std::string> env) {
    return supervisor_.SetEnvironment(name, std::move(env));
  }
  // Starts one more spanserver in zone `zone` (zone-a, ...), on the port after the highest one
  // in use; returns its name. It registers with placement as a new server.
  absl::StatusOr<std::string> AddServer(const std::string& zone);
  absl::Status Stop(const std::string& name);
  // Sends `signal` (e.g. SIGSTOP, SIGCONT) to a running process.
  absl::Status Signal(const std::string& name, int signal) {
    return supervisor_.Signal(name, signal);
  }
  // SIGTERM to every process, then waits for all of them.
  void StopAll();
  // Starts every stopped process again (same argv and dirs).
  absl::Status RestartAll();

  // Processes that exited without being asked since the last call, "name: how" each.
  std::vector<std::string> ReapUnexpected();

  const LocalClusterOptions& options() const { return options_; }
  const std::vector<std::string>& placement_addresses() const { return placement_addresses_; }
  std::vector<std::string> server_names() const;
  std::string address(const std::string& name) const;
  // "http://127.0.0.1:PORT" of a process's HTTP server; "" without one (http_port_offset 0).
  std::string http_url(const std::string& name) const;
  const Supervisor& supervisor() const { return supervisor_; }
  std::string manifest_path() const;
  // With `secure`: the admin client's --tls_dir (DIR/tls/admin); else "".
  std::string admin_tls_dir() const;
  // With options().clock_offset_dir: the clock offset file of spanserver `name`; else "".
  std::string ClockOffsetFile(const std::string& name) const;

 private:
  struct Stubs;
  absl::Status WriteManifest();
  std::vector<ProcessSpec> Specs() const;
  std::vector<std::string> CommonFlags() const;
  // --http_listen for a process listening on `port` (none when http_port_offset is 0).
  std::vector<std::string> HttpFlags(int port) const;
  // Spanserver number `ordinal` (from 1) of zone index `zone`, listening on `port`; `index` is
  // its place among all spanservers (from 0), which chooses its host with
  // distinct_loopback_hosts.
  ProcessSpec SpanserverSpec(int zone, int ordinal, int port, int index) const;
  std::string DescribeExit(const std::string& name) const;
  // With `secure`: the CA and `spec`'s node certificate (when missing), and its --tls_dir flag;
  // else the --insecure flag.
  absl::Status AddTlsFlag(ProcessSpec& spec) const;
  // With `secure`: makes the admin client's certificate (when missing); the stubs use it.
  absl::Status UseAdminCertificate();

  LocalClusterOptions options_;
  std::vector<std::string> placement_addresses_;
  Supervisor supervisor_;
  std::unique_ptr<Stubs> stubs_;
};

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_LOCAL_CLUSTER_H_
