// `meridian kv`: single-key reads and writes and range scans through the C++ SDK.
//   meridian kv put KEY VALUE | get KEY | delete KEY | scan START END [--limit=N]
// Keys and values are taken as given; output is escaped (EscapeBytes) when not printable.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "meridian/client.h"
#include "tools/command.h"

namespace meridian::tools {

namespace {

constexpr char kUsage[] = "put KEY VALUE | get KEY | delete KEY | scan START END [--limit=N]";

int Usage(const std::string& message) { return PrintUsage("kv", kUsage, message); }

int Error(const absl::Status& status) {
  std::fprintf(stderr, "meridian kv: error: %s\n", status.ToString().c_str());
  return kExitError;
}

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing operation");
  const std::string& op = args[0];
  const size_t want = op == "put" || op == "scan" ? 3 : op == "get" || op == "delete" ? 2 : 0;
  if (want == 0) return Usage(absl::StrCat("unknown operation '", op, "'"));
  if (args.size() != want) {
    return Usage(absl::StrCat("'", op, "' takes ", want - 1, " argument", want == 2 ? "" : "s"));
  }
  uint64_t limit = 0;
  if (!absl::SimpleAtoi(flags.at("limit"), &limit) || limit == 0) {
    return Usage("--limit must be a positive integer");
  }
  if (PlacementAddresses(flags).empty()) {
    return Usage("--placement=HOST:PORT[,HOST:PORT...] (or $MERIDIAN_PLACEMENT) is required");
  }
  std::unique_ptr<Client> client = ConnectOrPrint("kv", flags);
  if (client == nullptr) return kExitError;

  if (op == "put" || op == "delete") {
    const absl::Status status =
        op == "put" ? client->Put(args[1], args[2]) : client->Delete(args[1]);
    if (!status.ok()) return Error(status);
    std::printf("OK\n");
    return kExitOk;
  }
  if (op == "get") {
    absl::StatusOr<std::optional<std::string>> value = client->Get(args[1]);
    if (!value.ok()) return Error(value.status());
    std::printf("%s\n", value->has_value() ? EscapeBytes(**value).c_str() : "(not found)");
    return kExitOk;
  }
  auto rows = client->Scan(args[1], args[2], limit);
  if (!rows.ok()) return Error(rows.status());
  for (const auto& [key, value] : *rows) {
    std::printf("%s\t%s\n", EscapeBytes(key).c_str(), EscapeBytes(value).c_str());
  }
  std::fprintf(stderr, "(%zu row%s)\n", rows->size(), rows->size() == 1 ? "" : "s");
  return kExitOk;
}

}  // namespace

Command KvCommand() {
  return Command{
      .name = "kv",
      .summary = "put, get, delete and scan keys of a running cluster",
      .description =
          "Reads and writes single keys, or scans [START, END) (an empty END = to the end), at\n"
          "the cluster whose placementd is at --placement. Keys and values are taken as given;\n"
          "output is escaped when not printable (\\xHH). A scan prints KEY<TAB>VALUE lines.\n"
          "A write that fails with 'outcome unknown' may or may not have been applied.",
      .flags = {{"placement", "",
                 "placementd addresses HOST:PORT[,HOST:PORT...]; default "
                 "$MERIDIAN_PLACEMENT"},
                {"limit", "100", "scan: at most this many rows"},
                {"deadline_ms", "10000", "give up after this long"}},
      .args_usage = kUsage,
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
