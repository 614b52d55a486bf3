#include "tools/local_cluster.h"

#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "grpcpp/grpcpp.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "proto/rpc.h"
#include "tools/certs.h"

namespace meridian::tools {
namespace {

namespace fs = std::filesystem;

absl::Status FromGrpc(const grpc::Status& status, const std::string& context) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(context, ": ", status.error_message()));
}

// Mutual TLS with `tls` (the admin client's certificate) when it is enabled, else plaintext.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const TlsOptions& tls) {
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::InsecureChannelCredentials();
  if (tls.enabled()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = tls.ca_cert_pem;
    ssl.pem_cert_chain = tls.cert_pem;
    ssl.pem_private_key = tls.key_pem;
    creds = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  // A restarted process must be reachable again quickly, not after gRPC's default backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  return grpc::CreateCustomChannel(address, creds, args);
}

}  // namespace

struct LocalCluster::Stubs {
  TlsOptions tls;  // the admin client's certificate with `secure`; else disabled (plaintext)
  std::map<std::string, std::unique_ptr<proto::Placement::Stub>> placement;
  std::map<std::string, std::unique_ptr<proto::Kv::Stub>> kv;
  std::string placement_leader;  // last address that answered

  // With TLS, a call waits for its channel to connect (within its deadline): a call that failed
  // fast while the channel retried left nothing polling the handshake's socket in this process,
  // and the handshake never finished.
  void Prepare(grpc::ClientContext& context) const { context.set_wait_for_ready(tls.enabled()); }

  proto::Placement::Stub& Placement(const std::string& address) {
    auto& stub = placement[address];
    if (stub == nullptr) stub = proto::Placement::NewStub(MakeChannel(address, tls));
    return *stub;
  }
  proto::Kv::Stub& Kv(const std::string& address) {
    auto& stub = kv[address];
    if (stub == nullptr) stub = proto::Kv::NewStub(MakeChannel(address, tls));
    return *stub;
  }
};

std::string ZoneName(int index) { return absl::StrCat("zone-", std::string(1, 'a' + index)); }

absl::Status FindSiblingBinaries(LocalClusterOptions& options) {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return absl::InternalError("cannot read /proc/self/exe: " + error.message());
  const fs::path build = self.parent_path().parent_path();
  const std::pair<std::string*, fs::path> wanted[] = {
      {&options.placementd_path, build / "placement" / "placementd"},
      {&options.spanserver_path, build / "spanserver" / "spanserver"}};
  for (const auto& [out, path] : wanted) {
    if (access(path.c_str(), X_OK) != 0) {
      return absl::NotFoundError(absl::StrCat(path.string(), " is missing (it is found next to ",
                                              self.string(), "); build it first: cmake --build ",
                                              build.string(),
                                              " --target placementd spanserver meridian"));
    }
    *out = path.string();
  }
  return absl::OkStatus();
}

LocalCluster::LocalCluster(LocalClusterOptions options)
    : options_(std::move(options)), stubs_(std::make_unique<Stubs>()) {
  for (int i = 0; i < options_.placement_replicas; ++i) {
    placement_addresses_.push_back(absl::StrCat("127.0.0.1:", options_.base_port + i));
  }
}

LocalCluster::~LocalCluster() { StopAll(); }

std::string LocalCluster::admin_tls_dir() const {
  return options_.secure ? (fs::path(options_.dir) / "tls" / "admin").string() : "";
}

absl::Status LocalCluster::UseAdminCertificate() {
  if (!options_.secure) return absl::OkStatus();
  const std::string ca_dir = (fs::path(options_.dir) / "tls").string();
  if (!fs::exists(fs::path(admin_tls_dir()) / "client.crt")) {
    CertRequest request;
    request.name = "admin";
    request.role = TlsRole::kAdmin;
    RETURN_IF_ERROR(CreateCert(ca_dir, request).status());
  }
  ASSIGN_OR_RETURN(stubs_->tls, LoadTlsDir(admin_tls_dir()));
  return absl::OkStatus();
}

absl::Status LocalCluster::AddTlsFlag(ProcessSpec& spec) const {
  if (!options_.secure) {
    spec.argv.push_back("--insecure");
    return absl::OkStatus();
  }
  const std::string ca_dir = (fs::path(options_.dir) / "tls").string();
  if (!fs::exists(fs::path(ca_dir) / "ca.key")) RETURN_IF_ERROR(CreateCa(ca_dir));
  const fs::path node_dir = fs::path(ca_dir) / spec.name;
  if (!fs::exists(node_dir / "node.crt")) {
    CertRequest request;
    request.name = spec.name;
    request.role = TlsRole::kNode;
    const std::string host = spec.address.substr(0, spec.address.rfind(':'));
    if (host != "127.0.0.1") request.hosts = {host, "127.0.0.1", "localhost"};
    RETURN_IF_ERROR(CreateCert(ca_dir, request).status());
  }
  spec.argv.push_back("--tls_dir=" + node_dir.string());
  return absl::OkStatus();
}

std::string LocalCluster::manifest_path() const {
  return (fs::path(options_.dir) / "cluster.json").string();
}

std::vector<std::string> LocalCluster::CommonFlags() const {
  return {"--truetime_source=fixed",
          absl::StrCat("--truetime_epsilon_us=", options_.truetime_epsilon_us),
          absl::StrCat("--paxos_lease_ms=", options_.paxos_lease_ms)};
}

std::vector<std::string> LocalCluster::HttpFlags(int port) const {
  if (options_.http_port_offset <= 0) return {};
  return {absl::StrCat("--http_listen=127.0.0.1:", port + options_.http_port_offset)};
}

std::string LocalCluster::http_url(const std::string& name) const {
  const std::string grpc_address = address(name);
  const size_t colon = grpc_address.rfind(':');
  int port = 0;
  if (options_.http_port_offset <= 0 || colon == std::string::npos ||
      !absl::SimpleAtoi(grpc_address.substr(colon + 1), &port)) {
    return "";
  }
  return absl::StrCat("http://127.0.0.1:", port + options_.http_port_offset);
}

std::string LocalCluster::ClockOffsetFile(const std::string& name) const {
  if (options_.clock_offset_dir.empty()) return "";
  return (fs::path(options_.clock_offset_dir) / (name + ".offset_us")).string();
}

ProcessSpec LocalCluster::SpanserverSpec(int zone, int ordinal, int port, int index) const {
  const fs::path dir(options_.dir);
  const std::string host = options_.distinct_loopback_hosts
                               ? absl::StrCat("127.0.", (index + 2) / 256, ".", (index + 2) % 256)
                               : "127.0.0.1";
  ProcessSpec spec{.name = absl::StrCat("span-", std::string(1, 'a' + zone), ordinal),
                   .role = "spanserver",
                   .zone = ZoneName(zone),
                   .address = absl::StrCat(host, ":", port)};
  spec.data_dir = (dir / spec.name).string();
  spec.log = (dir / "logs" / (spec.name + ".log")).string();
  spec.argv = {options_.spanserver_path, "--zone=" + spec.zone, "--listen=" + spec.address,
               "--data_dir=" + spec.data_dir,
               "--placement=" + absl::StrJoin(placement_addresses_, ",")};
  const std::vector<std::string> common = CommonFlags();
  spec.argv.insert(spec.argv.end(), common.begin(), common.end());
  const std::vector<std::string> http = HttpFlags(port);
  spec.argv.insert(spec.argv.end(), http.begin(), http.end());
  if (!options_.clock_offset_dir.empty()) {
    spec.argv.push_back("--testing_clock_offset_file=" + ClockOffsetFile(spec.name));
  }
  spec.argv.insert(spec.argv.end(), options_.spanserver_flags.begin(),
                   options_.spanserver_flags.end());
  return spec;
}

absl::StatusOr<std::string> LocalCluster::AddServer(const std::string& zone_name) {
  int zone = -1;
  for (int z = 0; z < 26; ++z) {
    if (ZoneName(z) == zone_name) zone = z;
  }
  if (zone < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", zone_name, "' is not a zone name (zone-a, zone-b, ...)"));
  }
  int ordinal = 1;
  int port = options_.base_port;
  for (const ProcessState& p : supervisor_.Processes()) {
    if (p.spec.zone == zone_name) ++ordinal;
    const size_t colon = p.spec.address.rfind(':');
    int used = 0;
    if (colon != std::string::npos && absl::SimpleAtoi(p.spec.address.substr(colon + 1), &used)) {
      // Past every HTTP port in use too, so that the new server's ports collide with none.
      port = std::max(port, used + 1 + std::max(0, options_.http_port_offset));
    }
  }
  if (ordinal > 9) return absl::FailedPreconditionError(zone_name + " has 9 servers already");
  RETURN_IF_ERROR(CheckPortsFree(port, 1));
  if (options_.http_port_offset > 0) {
    RETURN_IF_ERROR(CheckPortsFree(port + options_.http_port_offset, 1));
  }
  ProcessSpec spec = SpanserverSpec(zone, ordinal, port, static_cast<int>(server_names().size()));
  RETURN_IF_ERROR(AddTlsFlag(spec));
  std::error_code error;
  fs::create_directories(spec.data_dir, error);
  if (error) return absl::InternalError("cannot create " + spec.data_dir + ": " + error.message());
  RETURN_IF_ERROR(supervisor_.Start(spec));
  RETURN_IF_ERROR(WriteManifest());
  return spec.name;
}

std::vector<ProcessSpec> LocalCluster::Specs() const {
  const fs::path dir(options_.dir);
  const std::vector<std::string> common_flags = CommonFlags();
  std::vector<ProcessSpec> specs;
  std::vector<std::string> peers;
  for (int i = 0; i < options_.placement_replicas; ++i) {
    peers.push_back(absl::StrCat(i + 1, "=", placement_addresses_[i]));
  }
  for (int i = 0; i < options_.placement_replicas; ++i) {
    ProcessSpec spec{.name = absl::StrCat("placement-", i + 1),
                     .role = "placement",
                     .address = placement_addresses_[i]};
    spec.data_dir = (dir / spec.name).string();
    spec.log = (dir / "logs" / (spec.name + ".log")).string();
    spec.argv = {options_.placementd_path, "--listen=" + spec.address,
                 "--data_dir=" + spec.data_dir};
    if (options_.placement_replicas > 1) {
      spec.argv.push_back(absl::StrCat("--id=", i + 1));
      spec.argv.push_back("--peers=" + absl::StrJoin(peers, ","));
    }
    spec.argv.push_back(absl::StrCat("--ranges=", options_.ranges));
    spec.argv.push_back(absl::StrCat("--zones=", options_.zones));
    spec.argv.insert(spec.argv.end(), std::begin(common_flags), std::end(common_flags));
    const std::vector<std::string> http = HttpFlags(options_.base_port + i);
    spec.argv.insert(spec.argv.end(), http.begin(), http.end());
    spec.argv.insert(spec.argv.end(), options_.placement_flags.begin(),
                     options_.placement_flags.end());
    specs.push_back(std::move(spec));
  }
  int port = options_.base_port + options_.placement_replicas;
  int index = 0;
  for (int z = 0; z < options_.zones; ++z) {
    for (int s = 0; s < options_.servers_per_zone; ++s) {
      specs.push_back(SpanserverSpec(z, s + 1, port++, index++));
    }
  }
  return specs;
}

absl::Status LocalCluster::Start() {
  if (options_.zones < 1 || options_.zones > 26) {
    return absl::InvalidArgumentError("zones must be between 1 and 26");
  }
  if (options_.servers_per_zone < 1 || options_.servers_per_zone > 9) {
    return absl::InvalidArgumentError("servers_per_zone must be between 1 and 9");
  }
  if (options_.placement_replicas != 1 && options_.placement_replicas != 3) {
    return absl::InvalidArgumentError("placement_replicas must be 1 or 3");
  }
  std::vector<ProcessSpec> specs = Specs();
  RETURN_IF_ERROR(CheckPortsFree(options_.base_port, static_cast<int>(specs.size())));
  if (options_.http_port_offset > 0) {
    RETURN_IF_ERROR(CheckPortsFree(options_.base_port + options_.http_port_offset,
                                   static_cast<int>(specs.size())));
  }
  for (ProcessSpec& spec : specs) RETURN_IF_ERROR(AddTlsFlag(spec));
  RETURN_IF_ERROR(UseAdminCertificate());
  std::error_code error;
  fs::create_directories(fs::path(options_.dir) / "logs", error);
  if (error) return absl::InternalError("cannot create " + options_.dir + ": " + error.message());
  for (const ProcessSpec& spec : specs) {
    fs::create_directories(spec.data_dir, error);
    if (error)
      return absl::InternalError("cannot create " + spec.data_dir + ": " + error.message());
    if (absl::Status s = supervisor_.Start(spec); !s.ok()) {
      StopAll();
      return s;
    }
  }
  return WriteManifest();
}

absl::Status LocalCluster::WriteManifest() {
  return supervisor_.WriteManifest(manifest_path(), options_.dir, placement_addresses_);
}

std::vector<std::string> LocalCluster::server_names() const {
  std::vector<std::string> names;
  for (const ProcessState& p : supervisor_.Processes()) {
    if (p.spec.role == "spanserver") names.push_back(p.spec.name);
  }
  return names;
}

std::string LocalCluster::address(const std::string& name) const {
  absl::StatusOr<ProcessState> state = supervisor_.State(name);
  return state.ok() ? state->spec.address : "";
}

std::string LocalCluster::DescribeExit(const std::string& name) const {
  absl::StatusOr<ProcessState> state = supervisor_.State(name);
  if (!state.ok()) return name;
  return absl::StrCat(name, " ", state->last_exit, "; the end of ", state->spec.log, ":\n",
                      TailOfFile(state->spec.log, 15));
}

std::vector<std::string> LocalCluster::ReapUnexpected() {
  std::vector<std::string> out;
  for (const std::string& name : supervisor_.ReapUnexpected()) {
    absl::StatusOr<ProcessState> state = supervisor_.State(name);
    out.push_back(absl::StrCat(name, ": ", state.ok() ? state->last_exit : "exited"));
  }
  if (!out.empty()) WriteManifest().IgnoreError();
  return out;
}

absl::StatusOr<proto::Topology> LocalCluster::GetTopology() {
  std::vector<std::string> order;
  if (!stubs_->placement_leader.empty()) order.push_back(stubs_->placement_leader);
  order.insert(order.end(), placement_addresses_.begin(), placement_addresses_.end());
  absl::Status last = absl::UnavailableError("no placement address");
  std::set<std::string> tried;
  for (size_t i = 0; i < order.size() && tried.size() < placement_addresses_.size() + 2; ++i) {
    const std::string address = order[i];
    if (!tried.insert(address).second) continue;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    stubs_->Prepare(context);
    proto::Topology topology;
    const grpc::Status status =
        stubs_->Placement(address).GetTopology(&context, proto::GetTopologyRequest(), &topology);
    if (status.ok()) {
      stubs_->placement_leader = address;
      return topology;
    }
    last = FromGrpc(status, "placement at " + address);
    const auto& trailers = context.GetServerTrailingMetadata();
    if (auto it = trailers.find(rpc::kLeaderMetadataKey); it != trailers.end()) {
      const std::string leader(it->second.data(), it->second.size());
      if (!leader.empty() && !tried.contains(leader)) order.insert(order.begin() + i + 1, leader);
    }
  }
  stubs_->placement_leader.clear();
  return last;
}

absl::StatusOr<proto::ServerStatusResponse> LocalCluster::ServerStatus(const std::string& name,
                                                                       absl::Duration timeout) {
  const std::string addr = address(name);
  if (addr.empty()) return absl::NotFoundError("no process named " + name);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  stubs_->Prepare(context);
  proto::ServerStatusResponse response;
  const grpc::Status status =
      stubs_->Kv(addr).Status(&context, proto::ServerStatusRequest(), &response);
  if (!status.ok()) return FromGrpc(status, name + " at " + addr);
  return response;
}

std::string LocalCluster::ServerName(const proto::Topology& topology, uint64_t server_id) const {
  for (const proto::ServerInfo& server : topology.servers()) {
    if (server.id() != server_id) continue;
    for (const ProcessState& p : supervisor_.Processes()) {
      if (p.spec.address == server.address()) return p.spec.name;
    }
  }
  return "";
}

absl::StatusOr<std::string> LocalCluster::GroupLeader(uint64_t group) {
  for (const std::string& name : server_names()) {
    if (!supervisor_.Running(name)) continue;
    absl::StatusOr<proto::ServerStatusResponse> status = ServerStatus(name, absl::Seconds(1));
    if (!status.ok()) continue;
    for (const proto::GroupStatus& g : status->groups()) {
      if (g.group() == group && g.role() == "leader" && g.has_lease()) return name;
    }
  }
  return absl::NotFoundError(absl::StrCat("group ", group, " has no leader with a lease now"));
}

absl::Status LocalCluster::WaitReady(absl::Duration timeout,
                                     const std::function<void(const std::string&)>& progress,
                                     const std::function<bool()>& cancelled) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Time next_progress = absl::Now() + absl::Seconds(1);
  std::string missing = "starting";
  while (true) {
    for (const std::string& name : supervisor_.ReapUnexpected()) {
      WriteManifest().IgnoreError();
      return absl::AbortedError(DescribeExit(name));
    }
    if (cancelled && cancelled()) return absl::CancelledError("interrupted");
    absl::StatusOr<proto::Topology> topology = GetTopology();
    if (!topology.ok()) {
      missing = std::string(topology.status().message());
    } else if (!topology->bootstrapped()) {
      missing = absl::StrCat("placement not bootstrapped yet (", topology->servers_size(), " of ",
                             server_names().size(), " servers registered)");
    } else {
      // Which groups have a leader holding its lease, according to the servers themselves.
      std::set<uint64_t> leased;
      std::vector<std::string> down;
      for (const std::string& name : server_names()) {
        absl::StatusOr<proto::ServerStatusResponse> status = ServerStatus(name, absl::Seconds(1));
        if (!status.ok()) {
          down.push_back(name);
          continue;
        }
        for (const proto::GroupStatus& g : status->groups()) {
          if (g.role() == "leader" && g.has_lease()) leased.insert(g.group());
        }
      }
      std::vector<std::string> leaderless;
      for (const proto::GroupInfo& group : topology->groups()) {
        if (!leased.contains(group.id())) leaderless.push_back(absl::StrCat(group.id()));
      }
      std::vector<std::string> dead;
      for (const proto::ServerInfo& server : topology->servers()) {
        if (!server.alive()) dead.push_back(absl::StrCat(server.id()));
      }
      if (leaderless.empty() && down.empty() && dead.empty() && topology->groups_size() > 0) {
        return absl::OkStatus();
      }
      missing = absl::StrCat(topology->groups_size() - leaderless.size(), " of ",
                             topology->groups_size(), " groups have a leader");
      if (!leaderless.empty())
        absl::StrAppend(&missing, "; waiting for groups ", absl::StrJoin(leaderless, " "));
      if (!down.empty()) absl::StrAppend(&missing, "; not answering: ", absl::StrJoin(down, " "));
      if (!dead.empty())
        absl::StrAppend(&missing, "; not alive: servers ", absl::StrJoin(dead, " "));
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("cluster not ready after ",
                                                      absl::FormatDuration(timeout), ": ", missing,
                                                      " (logs in ", options_.dir, "/logs)"));
    }
    if (progress && absl::Now() >= next_progress) {
      progress(missing);
      next_progress = absl::Now() + absl::Seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

absl::Status LocalCluster::Kill(const std::string& name) {
  absl::Status status = supervisor_.Kill(name);
  RETURN_IF_ERROR(WriteManifest());
  return status;
}

absl::Status LocalCluster::Wipe(const std::string& name) {
  std::string data_dir;
  for (const ProcessState& p : supervisor_.Processes()) {
    if (p.spec.name == name) data_dir = p.spec.data_dir;
  }
  if (data_dir.empty()) return absl::NotFoundError("no process named " + name);
  if (supervisor_.Running(name)) RETURN_IF_ERROR(Kill(name));
  std::error_code error;
  fs::remove_all(data_dir, error);
  if (!error) fs::create_directories(data_dir, error);
  if (error) return absl::InternalError("cannot empty " + data_dir + ": " + error.message());
  return absl::OkStatus();
}

absl::Status LocalCluster::Restart(const std::string& name) {
  absl::Status status = supervisor_.Restart(name);
  RETURN_IF_ERROR(WriteManifest());
  return status;
}

absl::Status LocalCluster::Stop(const std::string& name) {
  absl::Status status = supervisor_.Stop(name, absl::Seconds(10));
  RETURN_IF_ERROR(WriteManifest());
  return status;
}

void LocalCluster::StopAll() {
  supervisor_.StopAll(absl::Seconds(10));
  if (!supervisor_.Processes().empty()) WriteManifest().IgnoreError();
}

absl::Status LocalCluster::RestartAll() {
  absl::Status result;
  for (const ProcessState& p : supervisor_.Processes()) {
    if (p.pid == 0) result.Update(supervisor_.Restart(p.spec.name));
  }
  RETURN_IF_ERROR(WriteManifest());
  return result;
}

}  // namespace meridian::tools
