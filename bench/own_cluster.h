// OwnCluster: the local cluster a benchmark starts for itself (placementd + 3 spanservers in 3
// zones, 8 ranges: tools/local_cluster.h) in a fresh temporary directory, and an SDK client
// connected to it; stopped and removed again on destruction. Used by move_bench and soak_bench.
//
// Thread safety: Start and the destructor from one thread; client() is thread-safe (the SDK's).
#ifndef MERIDIAN_BENCH_OWN_CLUSTER_H_
#define MERIDIAN_BENCH_OWN_CLUSTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "meridian/client.h"
#include "tools/local_cluster.h"

namespace meridian::bench {

struct OwnClusterOptions {
  std::string name;      // the bench's name: the directory is <dir_root>/<name>-XXXXXX
  std::string dir_root;  // empty: the system's temporary directory
  int base_port = 0;     // the first free ports at or after it are used
  std::vector<std::string> placement_flags;
  std::vector<std::string> spanserver_flags;
  int call_deadline_ms = 10'000;
  uint64_t seed = 1;
};

class OwnCluster {
 public:
  OwnCluster() = default;
  ~OwnCluster();  // stops every process and removes the directory
  OwnCluster(const OwnCluster&) = delete;
  OwnCluster& operator=(const OwnCluster&) = delete;

  // Starts the cluster, waits until it is ready and connects; exits the process (bench::Die)
  // on failure.
  void Start(const OwnClusterOptions& options);

  const std::string& dir() const { return dir_; }
  tools::LocalCluster& cluster() { return *cluster_; }
  const tools::LocalCluster& cluster() const { return *cluster_; }
  Client& client() { return *client_; }

 private:
  std::string name_;
  std::string dir_;
  std::unique_ptr<tools::LocalCluster> cluster_;
  std::unique_ptr<Client> client_;
};

}  // namespace meridian::bench

#endif  // MERIDIAN_BENCH_OWN_CLUSTER_H_
