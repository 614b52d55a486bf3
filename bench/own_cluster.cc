// OwnCluster; see own_cluster.h.
#include "bench/own_cluster.h"

#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/time/time.h"
#include "bench/bench_util.h"

namespace meridian::bench {

namespace fs = std::filesystem;

OwnCluster::~OwnCluster() {
  client_.reset();
  if (cluster_ != nullptr) cluster_->StopAll();
  if (!dir_.empty()) {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
}

void OwnCluster::Start(const OwnClusterOptions& options) {
  name_ = options.name;
  tools::LocalClusterOptions cluster;
  if (absl::Status s = tools::FindSiblingBinaries(cluster); !s.ok())
    Die(name_.c_str(), s.ToString());
  const fs::path root =
      options.dir_root.empty() ? fs::temp_directory_path() : fs::path(options.dir_root);
  std::string templ = (root / (name_ + "-XXXXXX")).string();
  if (mkdtemp(templ.data()) == nullptr) Die(name_.c_str(), "mkdtemp " + templ);
  dir_ = templ;
  cluster.dir = dir_;
  absl::StatusOr<int> base = tools::FindFreePorts(options.base_port, 4);
  if (!base.ok()) Die(name_.c_str(), base.status().ToString());
  cluster.base_port = *base;
  cluster.placement_flags = options.placement_flags;
  cluster.spanserver_flags = options.spanserver_flags;
  std::printf("starting placementd + 3 spanservers in %s\n", dir_.c_str());
  cluster_ = std::make_unique<tools::LocalCluster>(cluster);
  if (absl::Status s = cluster_->Start(); !s.ok()) Die(name_.c_str(), s.ToString());
  if (absl::Status s = cluster_->WaitReady(absl::Seconds(60)); !s.ok())
    Die(name_.c_str(), s.ToString());
  ClientOptions client_options;
  client_options.deadline = std::chrono::milliseconds(options.call_deadline_ms);
  client_options.seed = options.seed;
  absl::StatusOr<std::unique_ptr<Client>> c =
      Client::Connect(cluster_->placement_addresses(), client_options);
  if (!c.ok()) Die(name_.c_str(), c.status().ToString());
  client_ = std::move(*c);
}

}  // namespace meridian::bench
