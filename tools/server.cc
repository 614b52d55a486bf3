// `meridian server`: operations on the spanservers a cluster knows.
//   meridian server remove ID    the server's data is lost for good: retire its id
//   meridian server drain ID     move every replica off a live server (before retiring it)
//   meridian server undrain ID   let it hold replicas again
// A server whose data directory was wiped comes back as a new server (placement refuses to hand it
// the old id: it no longer knows what that id promised). `meridian status` says when a server is
// waiting for the old one to be removed.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "meridian/client.h"
#include "tools/command.h"

namespace meridian::tools {
namespace {

constexpr char kUsage[] = "remove ID | drain ID | undrain ID";

int Usage(const std::string& message) { return PrintUsage("server", kUsage, message); }

int Remove(Client& client, uint64_t id) {
  if (absl::Status status = client.RemoveServer(id); !status.ok()) {
    std::fprintf(stderr, "meridian server: cannot remove server %llu: %s\n",
                 static_cast<unsigned long long>(id), std::string(status.message()).c_str());
    return kExitError;
  }
  std::printf(
      "server %llu removed: its id will not be used again and its address is free. A server "
      "started there with an empty data directory joins as a new server. Its replicas move to "
      "live servers now.\n",
      static_cast<unsigned long long>(id));
  return kExitOk;
}

int Drain(Client& client, uint64_t id, bool cancel) {
  if (absl::Status status = client.DrainServer(id, cancel); !status.ok()) {
    std::fprintf(stderr, "meridian server: cannot %s server %llu: %s\n",
                 cancel ? "undrain" : "drain", static_cast<unsigned long long>(id),
                 std::string(status.message()).c_str());
    return kExitError;
  }
  std::printf(cancel ? "server %llu may hold replicas again.\n"
                     : "server %llu is draining: placement moves its replicas (and leaderships) "
                       "to other servers, one at a time; `meridian status` shows them leave.\n",
              static_cast<unsigned long long>(id));
  return kExitOk;
}

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing operation");
  const std::string& op = args[0];
  if (op != "remove" && op != "drain" && op != "undrain") {
    return Usage(absl::StrCat("unknown operation '", op, "'"));
  }
  uint64_t id = 0;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &id) || id == 0) {
    return Usage(absl::StrCat("'", op,
                              "' takes one server id (a positive integer; see meridian "
                              "status)"));
  }
  if (PlacementAddresses(flags).empty()) {
    return Usage("--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("server", flags);
  if (client == nullptr) return kExitError;
  if (op == "remove") return Remove(*client, id);
  return Drain(*client, id, op == "undrain");
}

}  // namespace

Command ServerCommand() {
  return Command{
      .name = "server",
      .summary = "remove a server whose data is lost; drain one before retiring it",
      .description =
          "remove ID: retires server ID, whose data is lost for good (a failed disk, a wiped\n"
          "data directory). Placement never hands a known server's id to another data\n"
          "directory, because a Paxos replica that forgot its promises could lose committed\n"
          "writes; a server restarted with an empty directory waits, refused, until the old id\n"
          "is removed, and then joins as a new server. The replicas of the removed server are\n"
          "moved to live servers at once (placement's re-replication; a server that is just\n"
          "silent is replaced after placementd's --dead_server_timeout_s). Refused while the\n"
          "server is alive.\n"
          "drain ID: moves every replica (and leadership) off server ID, which keeps running,\n"
          "to servers of the same zone first; placement puts nothing new there. Refused when\n"
          "it is the last live server of its zone serving a group. undrain ID cancels.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default "
                 "$MERIDIAN_PLACEMENT"},
                {"deadline_ms", "10000", "give up after this long"}},
      .args_usage = kUsage,
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
