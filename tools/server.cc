// `meridian server`: operations on the spanservers a cluster knows.
//   meridian server remove ID    the server's data is lost for good: retire its id
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

constexpr char kUsage[] = "remove ID";

int Usage(const std::string& message) { return PrintUsage("server", kUsage, message); }

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing operation");
  if (args[0] != "remove") return Usage(absl::StrCat("unknown operation '", args[0], "'"));
  uint64_t id = 0;
  if (args.size() != 2 || !absl::SimpleAtoi(args[1], &id) || id == 0) {
    return Usage("'remove' takes one server id (a positive integer; see meridian status)");
  }
  if (PlacementAddresses(flags).empty()) {
    return Usage("--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("server", flags);
  if (client == nullptr) return kExitError;
  if (absl::Status status = client->RemoveServer(id); !status.ok()) {
    std::fprintf(stderr, "meridian server: cannot remove server %llu: %s\n",
                 static_cast<unsigned long long>(id), std::string(status.message()).c_str());
    return kExitError;
  }
  std::printf(
      "server %llu removed: its id will not be used again and its address is free. A server "
      "started there with an empty data directory joins as a new server.\n",
      static_cast<unsigned long long>(id));
  return kExitOk;
}

}  // namespace

Command ServerCommand() {
  return Command{
      .name = "server",
      .summary = "remove a server whose data is lost",
      .description =
          "remove ID: retires server ID, whose data is lost for good (a failed disk, a wiped\n"
          "data directory). Placement never hands a known server's id to another data\n"
          "directory, because a Paxos replica that forgot its promises could lose committed\n"
          "writes; a server restarted with an empty directory waits, refused, until the old id\n"
          "is removed, and then joins as a new server. The replicas of the removed server are\n"
          "moved to live servers at once (placement's re-replication; a server that is just\n"
          "silent is replaced after placementd's --dead_server_timeout_s). Refused while the\n"
          "server is alive.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default "
                 "$MERIDIAN_PLACEMENT"},
                {"deadline_ms", "10000", "give up after this long"}},
      .args_usage = kUsage,
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
