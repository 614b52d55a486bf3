// `meridian status`: the cluster as placementd sees it — zones, servers (alive?), groups
// (replicas, leader) and ranges (start..end -> group, generation) — in aligned tables.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "meridian/client.h"
#include "tools/command.h"

namespace meridian::tools {

absl::StatusOr<int> IntFlag(const Flags& flags, const std::string& name, int min, int max) {
  int value = 0;
  if (!absl::SimpleAtoi(flags.at(name), &value) || value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer in [", min, ", ", max, "]"));
  }
  return value;
}

std::vector<std::string> PlacementAddresses(const Flags& flags) {
  std::string list = flags.at("placement");
  if (list.empty()) {
    const char* env = std::getenv("MERIDIAN_PLACEMENT");
    if (env != nullptr) list = env;
  }
  return absl::StrSplit(list, ',', absl::SkipWhitespace());
}

int PrintUsage(const std::string& command, const std::string& args_usage,
               const std::string& message) {
  std::fprintf(stderr,
               "meridian %s: %s\nUsage: meridian %s %s [--placement=HOST:PORT]\n"
               "Run 'meridian %s --help' for its flags.\n",
               command.c_str(), message.c_str(), command.c_str(), args_usage.c_str(),
               command.c_str());
  return kExitUsage;
}

FlagSpec TlsDirFlag() {
  return {"tls_dir", "",
          "mutual TLS with DIR/ca.crt and DIR/client.crt + client.key (`meridian certs "
          "create-client`); default $MERIDIAN_TLS_DIR; neither: plaintext (servers run "
          "--insecure)"};
}

std::unique_ptr<Client> ConnectOrPrint(const std::string& command, const Flags& flags) {
  ClientOptions options;
  int64_t deadline_ms = 0;
  if (!absl::SimpleAtoi(flags.at("deadline_ms"), &deadline_ms) || deadline_ms <= 0) {
    std::fprintf(stderr, "meridian %s: --deadline_ms must be a positive integer\n",
                 command.c_str());
    return nullptr;
  }
  options.deadline = std::chrono::milliseconds(deadline_ms);
  options.attempt_timeout = std::min(options.attempt_timeout, options.deadline);
  std::string tls_dir = flags.contains("tls_dir") ? flags.at("tls_dir") : "";
  if (tls_dir.empty()) {
    const char* env = std::getenv("MERIDIAN_TLS_DIR");
    if (env != nullptr) tls_dir = env;
  }
  if (!tls_dir.empty()) options.tls = ClientTlsOptions::FromDir(tls_dir);
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Connect(PlacementAddresses(flags), options);
  if (!client.ok()) {
    std::fprintf(stderr, "meridian %s: error: %s\n", command.c_str(),
                 std::string(client.status().message()).c_str());
    return nullptr;
  }
  return *std::move(client);
}

std::string UnescapeBytes(const std::string& word) {
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    int byte = 0;
    if (word[i] == '\\' && i + 3 < word.size() && word[i + 1] == 'x' &&
        absl::SimpleHexAtoi(word.substr(i + 2, 2), &byte)) {
      out += static_cast<char>(byte);
      i += 3;
    } else {
      out += word[i];
    }
  }
  return out;
}

namespace {

int Run(const Flags& flags) {
  if (PlacementAddresses(flags).empty()) {
    std::fprintf(stderr,
                 "meridian status: --placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) "
                 "is required\n");
    return kExitUsage;
  }
  std::unique_ptr<Client> client = ConnectOrPrint("status", flags);
  if (client == nullptr) return kExitError;
  absl::StatusOr<Topology> topology = client->GetTopology();
  if (!topology.ok()) {
    std::fprintf(stderr, "meridian status: error: %s\n", topology.status().ToString().c_str());
    return kExitError;
  }
  std::fputs(FormatTopology(*topology).c_str(), stdout);
  // Each live server's own view: its clock against its peers' and its fenced groups.
  std::vector<ServerHealth> health;
  std::vector<std::string> unreachable;
  for (const ServerInfo& server : topology->servers) {
    if (!server.alive || server.removed) continue;
    absl::StatusOr<ServerHealth> h = client->GetServerHealth(server.address);
    if (h.ok()) {
      health.push_back(*std::move(h));
    } else {
      unreachable.push_back(absl::StrCat("  - server ", server.id, ": ", h.status().message()));
    }
  }
  std::printf("\n%s", FormatServerHealth(health).c_str());
  for (const std::string& line : unreachable) std::printf("%s\n", line.c_str());
  return kExitOk;
}

}  // namespace

Command StatusCommand() {
  return Command{
      .name = "status",
      .summary = "zones, servers, groups and ranges of a running cluster",
      .description =
          "Asks placementd (the leader among --placement) for the topology and prints\n"
          "zones, servers (id, zone, address, alive or removed), Paxos groups (replicas,\n"
          "live replicas, leader) and ranges (start .. end -> group, generation), then what\n"
          "needs an operator: servers refused registration (a wiped or new data directory at\n"
          "a known server's address), replicas their server refuses to start, groups short\n"
          "of replicas. Then each live server's own report: its clock source and error, how\n"
          "far TrueTime widened it to agree with its peers' clocks, the largest offset it\n"
          "measured to a peer, whether it serves (a server whose clock disagrees with a\n"
          "majority of its peers serves nothing), and the groups it fenced.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default "
                 "$MERIDIAN_PLACEMENT"},
                {"deadline_ms", "10000", "give up after this long"}},
      .run = Run,
  };
}

}  // namespace meridian::tools
