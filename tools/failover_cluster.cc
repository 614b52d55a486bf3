#include "tools/failover_cluster.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "grpcpp/grpcpp.h"
#include "proto/kv.grpc.pb.h"
#include "proto/rpc.h"
#include "tools/history/json.h"

namespace meridian::tools {
namespace {

namespace fs = std::filesystem;

class LocalClusterControl : public ProcessControl {
 public:
  explicit LocalClusterControl(LocalCluster* cluster) : cluster_(cluster) {}

  std::vector<ClusterProcess> Processes() const override {
    std::vector<ClusterProcess> out;
    for (const ProcessState& p : cluster_->supervisor().Processes()) {
      out.push_back({.name = p.spec.name,
                     .role = p.spec.role,
                     .zone = p.spec.zone,
                     .address = p.spec.address,
                     .pid = static_cast<int>(p.pid)});
    }
    return out;
  }
  absl::Status Kill(const std::string& name) override { return cluster_->Kill(name); }
  absl::Status Restart(const std::string& name) override { return cluster_->Restart(name); }
  bool CanRestart() const override { return true; }

 private:
  LocalCluster* const cluster_;
};

// A process of a manifest, with the binary its PID must be running.
struct ManifestProcess {
  ClusterProcess process;
  std::string binary;
};

// The binary that `pid` runs ("" when it is gone).
std::string RunningBinary(int pid) {
  std::error_code error;
  std::string exe = fs::read_symlink(absl::StrCat("/proc/", pid, "/exe"), error).string();
  if (error) return "";
  constexpr char kDeleted[] = " (deleted)";  // the binary was rebuilt under the running process
  if (absl::EndsWith(exe, kDeleted)) exe.resize(exe.size() - (sizeof(kDeleted) - 1));
  return exe;
}

// True once `pid` has exited (gone, or a zombie its parent has not reaped yet).
bool Exited(int pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');  // the command name may hold spaces and parentheses
  return paren == std::string::npos || line.size() < paren + 3 || line[paren + 2] == 'Z' ||
         line[paren + 2] == 'X';
}

class ManifestControl : public ProcessControl {
 public:
  explicit ManifestControl(std::vector<ManifestProcess> processes)
      : processes_(std::move(processes)) {}

  std::vector<ClusterProcess> Processes() const override {
    std::vector<ClusterProcess> out;
    for (const ManifestProcess& p : processes_) out.push_back(p.process);
    return out;
  }

  absl::Status Kill(const std::string& name) override {
    ManifestProcess* found = nullptr;
    for (ManifestProcess& p : processes_) {
      if (p.process.name == name) found = &p;
    }
    if (found == nullptr) return absl::NotFoundError("no process named " + name);
    const int pid = found->process.pid;
    if (pid == 0) return absl::FailedPreconditionError(name + " is not running");
    // A PID in an old manifest may belong to another process by now: kill only the binary the
    // manifest names.
    std::error_code error;
    const std::string want = fs::weakly_canonical(found->binary, error).string();
    const std::string running = RunningBinary(pid);
    if (running != want) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, ": pid ", pid, " runs ", running.empty() ? "nothing" : running,
                       ", not ", want, " (is the manifest current?)"));
    }
    if (kill(pid, SIGKILL) != 0) {
      return absl::InternalError(absl::StrCat("kill -9 ", pid, ": ", std::strerror(errno)));
    }
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!Exited(pid)) {
      if (absl::Now() > deadline) {
        return absl::InternalError(absl::StrCat(name, " (pid ", pid, ") survived kill -9"));
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    found->process.pid = 0;
    return absl::OkStatus();
  }

  absl::Status Restart(const std::string& name) override {
    return absl::UnimplementedError(
        absl::StrCat("cannot restart ", name, ": it belongs to the demo that started it; restart ",
                     "it from that demo's shell (restart ", name, ")"));
  }
  bool CanRestart() const override { return false; }

 private:
  std::vector<ManifestProcess> processes_;
};

// The string field `name` of a manifest object ("" when absent or not a string).
std::string Field(const history::JsonValue& object, const char* name) {
  const history::JsonValue* value = object.Find(name);
  return value != nullptr && value->kind == history::JsonValue::Kind::kString ? value->string_value
                                                                              : "";
}

absl::StatusOr<std::vector<ManifestProcess>> ParseManifest(const history::JsonValue& json,
                                                           std::vector<std::string>* placement) {
  const history::JsonValue* list = json.Find("processes");
  const history::JsonValue* addresses = json.Find("placement");
  if (list == nullptr || list->kind != history::JsonValue::Kind::kArray || addresses == nullptr ||
      addresses->kind != history::JsonValue::Kind::kArray) {
    return absl::InvalidArgumentError("no \"processes\" or \"placement\" list");
  }
  placement->clear();
  for (const history::JsonValue& address : addresses->items) {
    placement->push_back(address.string_value);
  }
  std::vector<ManifestProcess> processes;
  for (const history::JsonValue& p : list->items) {
    const history::JsonValue* pid = p.Find("pid");
    const history::JsonValue* argv = p.Find("argv");
    if (pid == nullptr || pid->kind != history::JsonValue::Kind::kInt || argv == nullptr ||
        argv->kind != history::JsonValue::Kind::kArray || argv->items.empty()) {
      return absl::InvalidArgumentError("a process without a pid or argv");
    }
    processes.push_back({.process = {.name = Field(p, "name"),
                                     .role = Field(p, "role"),
                                     .zone = Field(p, "zone"),
                                     .address = Field(p, "address"),
                                     .pid = static_cast<int>(pid->int_value)},
                         .binary = argv->items[0].string_value});
  }
  return processes;
}

absl::Status FromGrpc(const grpc::Status& status, const std::string& context) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(context, ": ", status.error_message()));
}

std::unique_ptr<proto::Kv::Stub> KvStub(const std::string& address) {
  return proto::Kv::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

}  // namespace

std::unique_ptr<ProcessControl> ControlLocalCluster(LocalCluster* cluster) {
  return std::make_unique<LocalClusterControl>(cluster);
}

absl::StatusOr<std::unique_ptr<ProcessControl>> ControlFromManifest(
    const std::string& cluster_dir, std::vector<std::string>* placement) {
  const std::string path = (fs::path(cluster_dir) / "cluster.json").string();
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read ", path, " (--cluster_dir is the --dir of a running `meridian demo`)"));
  }
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<history::JsonValue> json = history::ParseJson(text.str());
  if (!json.ok()) return absl::InvalidArgumentError(path + ": " + json.status().ToString());
  absl::StatusOr<std::vector<ManifestProcess>> processes = ParseManifest(*json, placement);
  if (!processes.ok())
    return absl::InvalidArgumentError(path + ": " + processes.status().ToString());
  return std::make_unique<ManifestControl>(*std::move(processes));
}

absl::StatusOr<proto::ServerStatusResponse> QueryServerStatus(const std::string& address,
                                                              absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  context.AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
  proto::ServerStatusResponse response;
  const grpc::Status status =
      KvStub(address)->Status(&context, proto::ServerStatusRequest(), &response);
  if (!status.ok()) return FromGrpc(status, "Status at " + address);
  return response;
}

absl::Status RequestLeaderTransfer(const std::string& address, uint64_t group,
                                   uint64_t target_server, absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  context.AddMetadata(rpc::kProtocolMetadataKey, rpc::kProtocolVersionText);
  proto::TransferLeaderRequest request;
  request.set_group(group);
  request.set_target_server(target_server);
  proto::TransferLeaderResponse response;
  const grpc::Status status = KvStub(address)->TransferLeader(&context, request, &response);
  if (!status.ok()) {
    return FromGrpc(status, absl::StrCat("TransferLeader of group ", group, " at ", address));
  }
  return absl::OkStatus();
}

}  // namespace meridian::tools
