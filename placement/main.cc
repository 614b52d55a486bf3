// placementd: the placement driver process. One replica of placement's own Paxos group (group 0)
// plus the Placement gRPC service (placement/service.h, which runs the range mover and the
// balancer beside it) and the peer transport, on one port.
//
//   placementd --listen=127.0.0.1:7000 --data_dir=/tmp/pd1
//   placementd --listen=127.0.0.1:7001 --data_dir=/tmp/pd1 --id=1
//              --peers=1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003
//
// SIGINT/SIGTERM: stop serving, fail waiting proposals, flush the writer, exit 0.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "common/tls.h"
#include "http/http_server.h"
#include "placement/metadata.h"
#include "placement/planner.h"
#include "placement/service.h"
#include "placement/status_page.h"
#include "placement/status_poller.h"
#include "replication/group_host.h"
#include "replication/group_log_storage.h"
#include "replication/grpc_server_limits.h"
#include "replication/grpc_tls.h"
#include "replication/grpc_transport.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

struct Flag {
  std::string name;
  std::string value;  // the default until parsed
  std::string help;
};

std::vector<Flag> DefaultFlags() {
  return {
      {"listen", "", "HOST:PORT to serve Placement and the Paxos transport on (required)"},
      {"data_dir", "", "directory of this replica's LevelDB (required; created if missing)"},
      {"id", "1", "this replica's id in the placement group (1..3)"},
      {"peers", "",
       "ID=HOST:PORT,... of every placement replica, this one included; omit for a "
       "single replica"},
      {"ranges", "8", "number of ranges (and data groups) created at bootstrap, 1..256"},
      {"zones", "3", "distinct zones every data group has a replica in"},
      {"dead_server_timeout_s", "30",
       "a server silent this long has its replicas moved to live servers (0: never)"},
      {"split_range_mb", "64",
       "a range whose data grows past this many MiB is split in two, and data is balanced "
       "over groups (0: never)"},
      {"move_rate_mb", "4",
       "MiB/s a range move's copy is paced to, so the writes served meanwhile keep their "
       "latency (0: as fast as it goes)"},
      {"move_ingest_kb", "512",
       "KiB of versions per Ingest a move sends (16..900); smaller keeps the destination "
       "group's Paxos rounds short"},
      {"balance_interval_ms", "1000",
       "how often the planner looks for a decision beyond re-replication: policies, splits, "
       "data, replica and leader balancing (0: never)"},
      {"truetime_source", "fixed", "auto, ntp or fixed"},
      {"truetime_epsilon_us", "1000", "the epsilon of --truetime_source=fixed"},
      {"paxos_lease_ms", "2000", "leader lease of the placement group"},
      {"http_listen", "",
       "HOST:PORT serving the live status page (/, /status.json) and /metrics (Prometheus) "
       "over HTTP; empty: no HTTP"},
      {"grpc_memory_mb", "1024",
       "memory the gRPC server may take for connections and calls (16..1048576); near it, "
       "gRPC sheds work (smaller buffers, refused calls) instead of growing"},
      {"tls_dir", "",
       "mutual TLS: DIR/ca.crt, DIR/node.crt, DIR/node.key (`meridian certs create-node`); "
       "this or --insecure is required"},
      {"insecure", "", "plaintext without authentication (--insecure): local experiments only"},
  };
}

void PrintHelp(FILE* out) {
  std::fprintf(out,
               "placementd: the Meridian placement driver (cluster metadata, location service).\n\n"
               "Usage: placementd --listen=HOST:PORT --data_dir=DIR [--flag=value ...]\n\n"
               "Flags:\n");
  for (const Flag& flag : DefaultFlags()) {
    std::fprintf(out, "  --%-22s %s%s\n", flag.name.c_str(), flag.help.c_str(),
                 flag.value.empty() ? "" : absl::StrCat(" (default: ", flag.value, ")").c_str());
  }
  std::fprintf(out, "  --%-22s %s\n", "help", "print this help and exit");
}

struct Config {
  std::string listen;
  std::string data_dir;
  uint64_t id = 1;
  std::map<uint64_t, std::string> peers;  // empty: a single replica
  int ranges = 8;
  int zones = 3;
  int64_t dead_server_timeout_s = 30;
  int64_t split_range_mb = 64;
  int64_t balance_interval_ms = 1000;
  int64_t move_rate_mb = 4;
  int64_t move_ingest_kb = 512;
  truetime::ClockSourceKind truetime_source = truetime::ClockSourceKind::kFixed;
  int64_t truetime_epsilon_us = 1000;
  int64_t paxos_lease_ms = 2000;
  std::string http_listen;  // empty: no HTTP
  int64_t grpc_memory_mb = replication::kDefaultGrpcMemoryBytes >> 20;
  TlsOptions tls;  // disabled: --insecure
};

absl::StatusOr<int64_t> ParseInt(const std::string& name, const std::string& value, int64_t lo,
                                 int64_t hi) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(value, &v) || v < lo || v > hi) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer in [", lo, ", ", hi, "], got '", value, "'"));
  }
  return v;
}

absl::StatusOr<Config> ParseConfig(const std::vector<std::string>& args) {
  std::vector<Flag> flags = DefaultFlags();
  for (std::string arg : args) {
    if (arg == "--insecure") arg = "--insecure=true";
    const size_t eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (flags are written --name=value)"));
    }
    const std::string name = arg.substr(2, eq - 2);
    bool found = false;
    for (Flag& flag : flags) {
      if (flag.name != name) continue;
      flag.value = arg.substr(eq + 1);
      found = true;
    }
    if (!found) return absl::InvalidArgumentError("unknown flag --" + name);
  }
  auto get = [&flags](const std::string& name) {
    for (const Flag& flag : flags) {
      if (flag.name == name) return flag.value;
    }
    return std::string();
  };

  Config config;
  config.listen = get("listen");
  if (config.listen.empty() || config.listen.find(':') == std::string::npos) {
    return absl::InvalidArgumentError("--listen=HOST:PORT is required");
  }
  config.data_dir = get("data_dir");
  if (config.data_dir.empty()) return absl::InvalidArgumentError("--data_dir=DIR is required");
  ASSIGN_OR_RETURN(const int64_t id, ParseInt("id", get("id"), 1, 1'000'000));
  config.id = static_cast<uint64_t>(id);
  const std::string peers = get("peers");
  if (!peers.empty()) {
    const std::vector<std::string> parts = absl::StrSplit(peers, ',');
    for (const std::string& part : parts) {
      const std::vector<std::string> kv = absl::StrSplit(part, absl::MaxSplits('=', 1));
      uint64_t peer_id = 0;
      if (kv.size() != 2 || !absl::SimpleAtoi(kv[0], &peer_id) || peer_id == 0 ||
          kv[1].find(':') == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("--peers: expected ID=HOST:PORT, got '", part, "'"));
      }
      if (!config.peers.emplace(peer_id, kv[1]).second) {
        return absl::InvalidArgumentError(absl::StrCat("--peers: id ", peer_id, " twice"));
      }
    }
    if (!config.peers.contains(config.id)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--peers must list this replica's --id=", config.id));
    }
  }
  ASSIGN_OR_RETURN(const int64_t ranges, ParseInt("ranges", get("ranges"), 1, kMaxRanges));
  config.ranges = static_cast<int>(ranges);
  ASSIGN_OR_RETURN(const int64_t zones, ParseInt("zones", get("zones"), 1, 100));
  config.zones = static_cast<int>(zones);
  ASSIGN_OR_RETURN(config.dead_server_timeout_s,
                   ParseInt("dead_server_timeout_s", get("dead_server_timeout_s"), 0, 86400 * 365));
  ASSIGN_OR_RETURN(config.split_range_mb,
                   ParseInt("split_range_mb", get("split_range_mb"), 0, int64_t{1} << 30));
  ASSIGN_OR_RETURN(config.move_rate_mb, ParseInt("move_rate_mb", get("move_rate_mb"), 0, 1 << 20));
  ASSIGN_OR_RETURN(config.move_ingest_kb,
                   ParseInt("move_ingest_kb", get("move_ingest_kb"), 16, 900));
  ASSIGN_OR_RETURN(config.balance_interval_ms,
                   ParseInt("balance_interval_ms", get("balance_interval_ms"), 0, 3'600'000));
  absl::StatusOr<truetime::ClockSourceKind> kind =
      truetime::ParseClockSourceKind(get("truetime_source"));
  if (!kind.ok()) return PrependContext(kind.status(), "--truetime_source");
  config.truetime_source = *kind;
  ASSIGN_OR_RETURN(config.truetime_epsilon_us,
                   ParseInt("truetime_epsilon_us", get("truetime_epsilon_us"), 0, 1'000'000));
  ASSIGN_OR_RETURN(config.paxos_lease_ms,
                   ParseInt("paxos_lease_ms", get("paxos_lease_ms"), 1, 600'000));
  config.http_listen = get("http_listen");
  ASSIGN_OR_RETURN(config.grpc_memory_mb,
                   ParseInt("grpc_memory_mb", get("grpc_memory_mb"), 16, int64_t{1} << 20));
  const std::string insecure = get("insecure");
  if (!insecure.empty() && insecure != "true" && insecure != "false") {
    return absl::InvalidArgumentError("--insecure takes no value (or true/false)");
  }
  ASSIGN_OR_RETURN(config.tls, ServerTlsFromFlags(get("tls_dir"), insecure == "true"));
  return config;
}

int Fail(const std::string& what, const absl::Status& status) {
  std::fprintf(stderr, "placementd: %s: %s\n", what.c_str(), status.ToString().c_str());
  return 1;
}

absl::StatusOr<std::unique_ptr<truetime::TrueTime>> MakeTrueTime(const Config& config) {
  truetime::ClockSourceOptions clock_options;
  clock_options.fixed_epsilon_us = config.truetime_epsilon_us;
  ASSIGN_OR_RETURN(std::unique_ptr<truetime::ClockSource> source,
                   truetime::MakeClockSource(config.truetime_source, clock_options));
  return std::make_unique<truetime::TrueTime>(
      std::move(source), truetime::TrueTime::Options{.max_epsilon_us = std::max<int64_t>(
                                                         10'000, 2 * config.truetime_epsilon_us)});
}

// The placement group's members, telling `transport` where the other ones are.
std::vector<paxos::ReplicaId> Members(const Config& config, replication::GrpcTransport& transport) {
  std::vector<paxos::ReplicaId> members;
  for (const auto& [peer_id, address] : config.peers) {
    members.push_back(peer_id);
    if (peer_id != config.id) transport.SetPeerAddress(peer_id, address);
  }
  if (members.empty()) members.push_back(config.id);
  return members;
}

// The HTTP server of --http_listen (null when it is empty): the status page, its JSON and
// /metrics.
absl::StatusOr<std::unique_ptr<http::HttpServer>> StartHttp(const Config& config,
                                                            const StatusTracker* status) {
  ASSIGN_OR_RETURN(std::unique_ptr<http::HttpServer> server,
                   http::StartIfConfigured(
                       config.http_listen,
                       {{"/",
                         [] {
                           return http::HttpResponse{.content_type = "text/html; charset=utf-8",
                                                     .body = StatusPageHtml()};
                         }},
                        {"/status.json", [status] {
                           return http::HttpResponse{.content_type = "application/json",
                                                     .body = status->StatusJson()};
                         }}}));
  if (server != nullptr) {
    std::fprintf(stderr, "placementd: status page on http://%s:%d/\n",
                 config.http_listen.substr(0, config.http_listen.rfind(':')).c_str(),
                 server->port());
  }
  return server;
}

// Serves until SIGINT or SIGTERM (blocked in every thread: `signals`); the exit code.
int Serve(const Config& config, const sigset_t& signals, grpc::Server* server, int port,
          replication::GroupHost& host, PlacementService& service) {
  if (server == nullptr || port == 0) {
    return Fail("listen", absl::UnavailableError("cannot listen on " + config.listen));
  }
  const std::string address =
      absl::StrCat(config.listen.substr(0, config.listen.rfind(':')), ":", port);
  if (config.peers.empty()) service.SetReplicaAddress(config.id, address);
  if (absl::Status started = host.Start(); !started.ok()) {
    return Fail("starting the placement group", started);
  }
  std::fprintf(stderr, "placementd %llu listening on %s\n",
               static_cast<unsigned long long>(config.id), address.c_str());
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::fprintf(stderr, "placementd: %s, shutting down\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  return 0;
}

int Run(const Config& config) {
  // Block the shutdown signals in every thread; the main thread waits for them with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The status page reads `status`, which a StatusPoller feeds once the service runs.
  StatusTracker status;
  absl::StatusOr<std::unique_ptr<http::HttpServer>> http = StartHttp(config, &status);
  if (!http.ok()) return Fail("--http_listen", http.status());

  absl::StatusOr<std::unique_ptr<truetime::TrueTime>> made_truetime = MakeTrueTime(config);
  if (!made_truetime.ok()) return Fail("clock source", made_truetime.status());
  truetime::TrueTime& truetime = **made_truetime;

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Fail("data_dir",
                absl::UnavailableError(absl::StrCat(config.data_dir, ": ", ec.message())));
  }
  absl::StatusOr<std::unique_ptr<storage::Engine>> engine = storage::Engine::Open(config.data_dir);
  if (!engine.ok()) return Fail("opening " + config.data_dir, engine.status());
  // Beside LevelDB's files: LevelDB leaves a directory whose name is not one of its own alone.
  const std::string log_dir = config.data_dir + "/paxos_log";
  absl::StatusOr<std::unique_ptr<storage::PaxosLog>> paxos_log = storage::PaxosLog::Open(log_dir);
  if (!paxos_log.ok()) return Fail("opening " + log_dir, paxos_log.status());
  if (absl::Status s = replication::MigrateEngineLogs(
          engine->get(), paxos_log->get(),
          [](const std::string& line) { std::fprintf(stderr, "placementd: %s\n", line.c_str()); });
      !s.ok()) {
    return Fail("moving the Paxos log out of " + config.data_dir, s);
  }
  storage::GroupCommitWriter writer(engine->get(), paxos_log->get());

  // The transport delivers into the host, which exists before the server starts.
  std::atomic<replication::GroupHost*> host_ptr{nullptr};
  replication::GrpcTransport transport(
      config.id,
      [&host_ptr](paxos::Message message) {
        replication::GroupHost* host = host_ptr.load();
        if (message.group == 0 && host != nullptr) host->Deliver(std::move(message));
      },
      config.tls);
  const std::vector<paxos::ReplicaId> members = Members(config, transport);

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> io_threads;
  for (int i = 0; i < 2; ++i) io_threads.emplace_back([&io] { io.run(); });

  replication::GroupHostOptions host_options;
  host_options.paxos.group = 0;
  host_options.paxos.id = config.id;
  host_options.paxos.members = members;
  host_options.paxos.seed = config.id;
  host_options.paxos.lease_us = config.paxos_lease_ms * 1000;
  auto metadata_owned = std::make_unique<MetadataStateMachine>();
  const MetadataStateMachine* metadata = metadata_owned.get();
  replication::GroupHost host(io, engine->get(), &writer, &truetime, &transport, host_options,
                              std::move(metadata_owned));
  host_ptr = &host;

  PlacementServiceOptions service_options;
  service_options.zones_required = config.zones;
  service_options.num_ranges = config.ranges;
  service_options.dead_server_timeout_us = config.dead_server_timeout_s * 1'000'000;
  service_options.replica_addresses = config.peers;
  service_options.mover.seed = config.id;  // backoff jitter differs between replicas
  service_options.mover.copy_bytes_per_s = static_cast<uint64_t>(config.move_rate_mb) << 20;
  service_options.mover.ingest_max_bytes = static_cast<uint32_t>(config.move_ingest_kb) << 10;
  service_options.balancer.split_range_bytes = static_cast<uint64_t>(config.split_range_mb) << 20;
  service_options.balancer.interval_us = config.balance_interval_ms * 1000;
  service_options.tls = config.tls;
  // The service starts its mover, which drives range moves while this replica leads.
  PlacementService service(&host, metadata, &truetime, service_options);
  auto status_poller = std::make_unique<StatusPoller>(&service, &host, &truetime, &status);

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(config.listen, replication::ServerCredentials(config.tls), &port);
  replication::GrpcServerLimits limits;
  limits.memory_bytes = config.grpc_memory_mb << 20;
  replication::ApplyGrpcServerLimits(limits, &builder);
  if (config.tls.enabled()) {
    std::fprintf(stderr, "placementd: mutual TLS with the certificates in %s\n",
                 config.tls.source.c_str());
  } else {
    std::fprintf(stderr, "placementd: %s\n", InsecureWarning("placementd").c_str());
  }
  service.RegisterService(&builder);
  transport.RegisterService(&builder);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();

  const int exit_code = Serve(config, signals, server.get(), port, host, service);

  // Shutdown: refuse new calls and stop the mover (its calls are cancelled), stop the server (it
  // waits for running calls) while the host fails whatever proposal or read is still waiting,
  // which finishes those calls.
  status_poller.reset();
  service.Stop();
  std::thread server_stopper([&server] {
    if (server != nullptr)
      server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  });
  host.Stop();
  server_stopper.join();
  host_ptr = nullptr;
  work.reset();
  io.stop();
  for (std::thread& thread : io_threads) thread.join();
  writer.Shutdown();
  std::fprintf(stderr, "placementd: stopped\n");
  return exit_code;
}

}  // namespace
}  // namespace meridian::placement

int main(int argc, char** argv) {
  // Debian's Abseil checks every mutex acquisition for lock-order cycles (a few % of CPU).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      meridian::placement::PrintHelp(stdout);
      return 0;
    }
  }
  absl::StatusOr<meridian::placement::Config> config = meridian::placement::ParseConfig(args);
  if (!config.ok()) {
    std::fprintf(stderr, "placementd: %s\n(see placementd --help)\n",
                 std::string(config.status().message()).c_str());
    return 2;
  }
  return meridian::placement::Run(*config);
}
