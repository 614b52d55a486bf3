// spanserver: hosts tablet replicas of the data groups placement assigns to it (see
// server_runtime.h). Flags are the process contract other tools rely on; --help lists them.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "common/tls.h"
#include "http/http_server.h"
#include "spanserver/server/server_runtime.h"
#include "truetime/clock_source_factory.h"
#include "truetime/offset_file_clock.h"

namespace meridian::spanserver {
namespace {

struct Flag {
  const char* name;
  const char* default_value;
  const char* help;
};

constexpr Flag kFlags[] = {
    {"zone", "", "zone label of this server (required)"},
    {"listen", "", "HOST:PORT to serve clients (Kv, Txn) on (required)"},
    {"peer_listen", "",
     "HOST:PORT for Paxos traffic from peer servers; default: the --listen host with a "
     "port the OS picks (registered with placement, which tells the peers)"},
    {"data_dir", "", "directory for the LevelDB and the server id (required)"},
    {"placement", "", "placementd replicas, HOST:PORT[,HOST:PORT...] (required)"},
    {"truetime_source", "auto",
     "auto (the kernel's NTP bound when it is synchronised, else a drift model), ntp, or fixed "
     "(a constant --truetime_epsilon_us: only when every server shares one host clock)"},
    {"truetime_epsilon_us", "1000", "epsilon of the fixed source, microseconds"},
    {"clock_probe_interval_ms", "100",
     "probe the other replicas' clocks this often; TrueTime widens to agree with a majority and "
     "the server stops serving while its clock cannot (0: trust this clock alone)"},
    {"paxos_lease_ms", "2000", "Paxos leader lease of the data groups"},
    {"io_threads", "1",
     "threads running the groups' strands and the peer sockets (more for many cores)"},
    {"mvcc_retention_s", "3600",
     "keep old versions and tombstones this long, at least 10; older snapshot reads fail "
     "with FAILED_PRECONDITION (0: keep every version)"},
    {"http_listen", "",
     "HOST:PORT serving /metrics (Prometheus text format) over HTTP; empty: no HTTP"},
    {"max_log_mb", "64",
     "each group's Paxos log is checkpointed and compacted to stay near this size; a replica "
     "that falls behind it catches up from a snapshot (0: never compact)"},
    {"memtable_mb", "8",
     "data LevelDB buffers in memory before writing a table (1..4096): larger means fewer "
     "compactions, smaller means cheaper inserts and less to replay after a crash"},
    {"grpc_memory_mb", "1024",
     "memory the gRPC server may take for connections and calls (16..1048576); near it, gRPC "
     "sheds work (smaller buffers, refused calls) instead of growing"},
    {"tls_dir", "",
     "mutual TLS for clients, peers and placement: DIR/ca.crt, DIR/node.crt, DIR/node.key "
     "(`meridian certs create-node`); this or --insecure is required"},
    {"insecure", "", "plaintext without authentication (--insecure): local experiments only"},
    {"testing_clock_offset_file", "",
     "FOR TESTS ONLY (the chaos suite): a file holding microseconds added to this server's "
     "wall clock, re-read every 50 ms (truetime/offset_file_clock.h); empty: none"},
};

void PrintHelp() {
  std::printf(
      "Usage: spanserver --zone=NAME --listen=HOST:PORT --data_dir=DIR "
      "--placement=HOST:PORT[,HOST:PORT...] [flags]\n\n"
      "Hosts the tablet replicas of the Paxos groups placement assigns to it.\n\nFlags:\n");
  for (const Flag& flag : kFlags) {
    std::printf(
        "  --%-26s %s%s\n", absl::StrCat(flag.name, "=...").c_str(), flag.help,
        *flag.default_value ? absl::StrCat(" (default: ", flag.default_value, ")").c_str() : "");
  }
  std::printf("  --%-26s %s\n", "help", "print this help");
}

absl::StatusOr<int64_t> ParseInt(const std::map<std::string, std::string>& flags,
                                 const std::string& name) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(flags.at(name), &value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " takes an integer, not '", flags.at(name), "'"));
  }
  return value;
}

absl::StatusOr<ServerOptions> ParseFlags(const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags;
  for (const Flag& flag : kFlags) flags[flag.name] = flag.default_value;
  for (std::string arg : args) {
    if (arg == "--insecure") arg = "--insecure=true";
    if (!absl::StartsWith(arg, "--") || arg.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (flags are written --name=value)"));
    }
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq - 2);
    if (!flags.contains(name)) return absl::InvalidArgumentError("unknown flag --" + name);
    flags[name] = arg.substr(eq + 1);
  }
  for (const char* required : {"zone", "listen", "data_dir", "placement"}) {
    if (flags[required].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--", required, " is required"));
    }
  }
  if (absl::EndsWith(flags["listen"], ":0")) {
    return absl::InvalidArgumentError("--listen needs a real port: placement hands it to peers");
  }
  ServerOptions options;
  options.zone = flags["zone"];
  options.listen = flags["listen"];
  options.peer_listen = flags["peer_listen"];
  options.data_dir = flags["data_dir"];
  options.placement = absl::StrSplit(flags["placement"], ',', absl::SkipEmpty());
  auto kind = truetime::ParseClockSourceKind(flags["truetime_source"]);
  if (!kind.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--truetime_source: ", kind.status().message()));
  }
  options.truetime_source = *kind;
  auto epsilon = ParseInt(flags, "truetime_epsilon_us");
  if (!epsilon.ok()) return epsilon.status();
  auto lease = ParseInt(flags, "paxos_lease_ms");
  if (!lease.ok()) return lease.status();
  if (*epsilon < 0) return absl::InvalidArgumentError("--truetime_epsilon_us must be >= 0");
  if (*lease <= 0) return absl::InvalidArgumentError("--paxos_lease_ms must be > 0");
  options.truetime_epsilon_us = *epsilon;
  options.paxos_lease_ms = *lease;
  auto probe_ms = ParseInt(flags, "clock_probe_interval_ms");
  if (!probe_ms.ok()) return probe_ms.status();
  if (*probe_ms < 0 || *probe_ms > 10'000) {
    return absl::InvalidArgumentError("--clock_probe_interval_ms must be between 0 and 10000");
  }
  options.clock_probe_interval_ms = *probe_ms;
  auto io_threads = ParseInt(flags, "io_threads");
  if (!io_threads.ok()) return io_threads.status();
  if (*io_threads < 1 || *io_threads > 64) {
    return absl::InvalidArgumentError("--io_threads must be between 1 and 64");
  }
  options.io_threads = static_cast<int>(*io_threads);
  auto retention = ParseInt(flags, "mvcc_retention_s");
  if (!retention.ok()) return retention.status();
  // Strong reads of an idle group read at its last timestamp, which idle leaders refresh every
  // second: the horizon must stay well behind it.
  if (*retention != 0 && (*retention < 10 || *retention > int64_t{10} * 365 * 86400)) {
    return absl::InvalidArgumentError(
        "--mvcc_retention_s must be 0 (keep every version) or between 10 s and 10 years");
  }
  options.mvcc_retention_us = *retention * 1'000'000;
  auto max_log_mb = ParseInt(flags, "max_log_mb");
  if (!max_log_mb.ok()) return max_log_mb.status();
  if (*max_log_mb < 0 || *max_log_mb > 1'000'000) {
    return absl::InvalidArgumentError("--max_log_mb must be between 0 (never compact) and 1000000");
  }
  options.max_log_bytes = *max_log_mb << 20;
  auto memtable_mb = ParseInt(flags, "memtable_mb");
  if (!memtable_mb.ok()) return memtable_mb.status();
  if (*memtable_mb < 1 || *memtable_mb > 4096) {
    return absl::InvalidArgumentError("--memtable_mb must be between 1 and 4096");
  }
  options.memtable_bytes = static_cast<size_t>(*memtable_mb) << 20;
  auto grpc_memory_mb = ParseInt(flags, "grpc_memory_mb");
  if (!grpc_memory_mb.ok()) return grpc_memory_mb.status();
  if (*grpc_memory_mb < 16 || *grpc_memory_mb > (int64_t{1} << 20)) {
    return absl::InvalidArgumentError("--grpc_memory_mb must be between 16 and 1048576");
  }
  options.grpc_limits.memory_bytes = *grpc_memory_mb << 20;
  if (flags["insecure"] != "" && flags["insecure"] != "true" && flags["insecure"] != "false") {
    return absl::InvalidArgumentError("--insecure takes no value (or true/false)");
  }
  absl::StatusOr<TlsOptions> tls =
      ServerTlsFromFlags(flags["tls_dir"], flags["insecure"] == "true");
  if (!tls.ok()) return tls.status();
  options.tls = *std::move(tls);
  return options;
}

int Main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      PrintHelp();
      return 0;
    }
  }
  absl::StatusOr<ServerOptions> options = ParseFlags(args);
  std::string flags_http;  // --http_listen is main's own: the runtime has no HTTP
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, "--http_listen=")) flags_http = arg.substr(strlen("--http_listen="));
  }
  std::string clock_offset_file;  // tests only; main's own too
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, "--testing_clock_offset_file=")) {
      clock_offset_file = arg.substr(strlen("--testing_clock_offset_file="));
    }
  }
  if (!options.ok()) {
    std::fprintf(stderr, "spanserver: %s\nRun 'spanserver --help' for the flags.\n",
                 std::string(options.status().message()).c_str());
    return 2;
  }

  // Every thread started from here on inherits the blocked signals; one thread takes them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (options->tls.enabled()) {
    std::fprintf(stderr, "spanserver: mutual TLS with the certificates in %s\n",
                 options->tls.source.c_str());
  } else {
    std::fprintf(stderr, "spanserver: %s\n", InsecureWarning("spanserver").c_str());
  }
  // Declared before the runtime, which reads it until it is destroyed.
  std::unique_ptr<truetime::OffsetFileClock> testing_clock;
  if (!clock_offset_file.empty()) {
    testing_clock = std::make_unique<truetime::OffsetFileClock>(truetime::SystemPhysicalClock(),
                                                                clock_offset_file);
    options->clock = testing_clock.get();
    std::fprintf(stderr,
                 "spanserver: TESTING: the wall clock is offset by the microseconds in %s\n",
                 clock_offset_file.c_str());
  }
  absl::StatusOr<std::unique_ptr<ServerRuntime>> runtime = ServerRuntime::Open(*options);
  if (!runtime.ok()) {
    std::fprintf(stderr, "spanserver: %s\n", runtime.status().ToString().c_str());
    return 1;
  }
  ServerRuntime* server = runtime->get();
  // Serves while the server registers too, so that a scrape sees one that cannot.
  absl::StatusOr<std::unique_ptr<http::HttpServer>> http = http::StartIfConfigured(flags_http);
  if (!http.ok()) {
    std::fprintf(stderr, "spanserver: --http_listen: %s\n", http.status().ToString().c_str());
    return 1;
  }
  if (*http != nullptr) {
    std::printf("spanserver: metrics on http://%s:%d/metrics\n",
                flags_http.substr(0, flags_http.rfind(':')).c_str(), (*http)->port());
    std::fflush(stdout);
  }
  std::atomic<bool> failed{false};
  std::thread signal_thread([&signals, &failed, server] {
    int signal = 0;
    sigwait(&signals, &signal);
    if (!failed.load()) {
      std::fprintf(stderr, "spanserver: received %s, shutting down\n", strsignal(signal));
    }
    server->RequestStop();
  });

  int exit_code = 0;
  if (absl::Status started = server->Start(); started.ok()) {
    std::printf("spanserver %llu zone=%s listening on %s\n",
                static_cast<unsigned long long>(server->server_id()), options->zone.c_str(),
                server->address().c_str());
    std::fflush(stdout);
    server->WaitForStop();
  } else if (!absl::IsCancelled(started)) {
    std::fprintf(stderr, "spanserver: %s\n", started.ToString().c_str());
    exit_code = 1;
    failed.store(true);
    pthread_kill(signal_thread.native_handle(), SIGTERM);
  }
  signal_thread.join();
  server->Shutdown();
  return exit_code;
}

}  // namespace
}  // namespace meridian::spanserver

int main(int argc, char** argv) {
  // Debian's Abseil checks every mutex acquisition for lock-order cycles (a few % of CPU).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return meridian::spanserver::Main(argc, argv);
}
