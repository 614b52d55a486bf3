// The cluster that `meridian failover-demo` injects faults into: its processes, how to kill and
// restart them, and the spanserver RPCs the scenarios need (Status, TransferLeader).
//
// Two kinds of cluster:
//  - one this command started (a LocalCluster): kill -9 and restart through its Supervisor;
//  - one a `meridian demo --dir=DIR` runs, attached through DIR/cluster.json: kill -9 of the PIDs
//    listed there, after checking that the PID still runs the listed binary. A process this
//    command did not start cannot be restarted by it (the restarted process would be its child,
//    not the demo's), so Restart is UNIMPLEMENTED there.
//
// Thread safety: none; use a ProcessControl from the thread that created it (a LocalCluster must
// be driven by the thread that started it). The RPC functions are thread-safe.
#ifndef MERIDIAN_TOOLS_FAILOVER_CLUSTER_H_
#define MERIDIAN_TOOLS_FAILOVER_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"
#include "tools/local_cluster.h"

namespace meridian::tools {

struct ClusterProcess {
  std::string name;  // "span-a1", "placement-2"
  std::string role;  // "spanserver" or "placement"
  std::string zone;  // "" for placement
  std::string address;
  int pid = 0;  // 0 when not running; kUnknownPid when running under an unknown PID
};
inline constexpr int kUnknownPid = -1;

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  virtual std::vector<ClusterProcess> Processes() const = 0;
  // kill -9 of a running process, waiting until it is gone.
  virtual absl::Status Kill(const std::string& name) = 0;
  // Starts a killed process again with its argv and data directory.
  virtual absl::Status Restart(const std::string& name) = 0;
  virtual bool CanRestart() const = 0;
};

// Controls `cluster` (not owned; it must outlive the control).
std::unique_ptr<ProcessControl> ControlLocalCluster(LocalCluster* cluster);

// Controls the cluster whose manifest is `cluster_dir`/cluster.json (Supervisor::WriteManifest),
// and sets `placement` to its placement addresses. NOT_FOUND / INVALID_ARGUMENT when the manifest
// is missing or unreadable.
absl::StatusOr<std::unique_ptr<ProcessControl>> ControlFromManifest(
    const std::string& cluster_dir, std::vector<std::string>* placement);

// Kv.Status of the spanserver at `address`.
absl::StatusOr<proto::ServerStatusResponse> QueryServerStatus(const std::string& address,
                                                              absl::Duration timeout);

// Kv.TransferLeader: asks the spanserver at `address`, the leader of `group`, to hand the
// leadership over to server `target_server`.
absl::Status RequestLeaderTransfer(const std::string& address, uint64_t group,
                                   uint64_t target_server, absl::Duration timeout);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_FAILOVER_CLUSTER_H_
