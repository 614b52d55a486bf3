// `meridian certs`: a development CA and the certificates of a cluster (tools/certs.h).
//   meridian certs create-ca --dir=D
//   meridian certs create-node --dir=D --name=N [--host=127.0.0.1,localhost]
//   meridian certs create-client --dir=D --name=N [--admin]
// Each NAME directory under D is what a process's --tls_dir takes.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/certs.h"
#include "tools/command.h"

namespace meridian::tools {
namespace {

constexpr char kUsage[] = "create-ca | create-node | create-client";

int Usage(const std::string& message) { return PrintUsage("certs", kUsage, message); }

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "meridian certs: %s\n", std::string(status.message()).c_str());
  return kExitError;
}

int Run(const Flags& flags, const std::vector<std::string>& args) {
  if (args.size() != 1) return Usage("give one operation");
  const std::string& op = args[0];
  const std::string& dir = flags.at("dir");
  if (dir.empty()) return Usage("--dir is required");
  int days = op == "create-ca" ? 3650 : 365;
  if (!flags.at("days").empty() &&
      (!absl::SimpleAtoi(flags.at("days"), &days) || days < 1 || days > 36500)) {
    return Usage("--days must be an integer in [1, 36500]");
  }
  if (op == "create-ca") {
    if (absl::Status s = CreateCa(dir, days); !s.ok()) return Fail(s);
    std::printf("CA written to %s/ca.crt and %s/ca.key (keep ca.key secret)\n", dir.c_str(),
                dir.c_str());
    return kExitOk;
  }
  if (op != "create-node" && op != "create-client") {
    return Usage(absl::StrCat("unknown operation '", op, "'"));
  }
  CertRequest request;
  request.name = flags.at("name");
  request.days = days;
  if (request.name.empty()) return Usage("--name is required");
  if (op == "create-node") {
    if (flags.at("admin") == "true") return Usage("--admin is for create-client");
    request.role = TlsRole::kNode;
    request.hosts = absl::StrSplit(flags.at("host"), ',', absl::SkipWhitespace());
  } else {
    if (!flags.at("host").empty()) return Usage("--host is for create-node");
    request.role = flags.at("admin") == "true" ? TlsRole::kAdmin : TlsRole::kClient;
  }
  absl::StatusOr<std::string> out = CreateCert(dir, request);
  if (!out.ok()) return Fail(out.status());
  std::printf("%s certificate for '%s' written to %s (give it as --tls_dir=%s)\n",
              TlsRoleName(request.role), request.name.c_str(), out->c_str(), out->c_str());
  return kExitOk;
}

}  // namespace

Command CertsCommand() {
  return Command{
      .name = "certs",
      .summary = "make a development CA and certificates for mutual TLS",
      .description =
          "create-ca: a CA in --dir (ca.crt, ca.key).\n"
          "create-node: a server's certificate (spanserver, placementd) in --dir/NAME: ca.crt,\n"
          "node.crt, node.key; --host lists the IPs and DNS names it is reached at.\n"
          "create-client: a client's in --dir/NAME: ca.crt, client.crt, client.key; --admin\n"
          "lets it call admin RPCs (server remove/drain, placement split/move-range/policy).\n"
          "Identity: CN=NAME, OU=node|admin|client, O=meridian. Give a NAME directory to a\n"
          "process as --tls_dir (docs/operations.md, \"Mutual TLS\").",
      .flags = {{"dir", "", "the CA's directory"},
                {"name", "", "the certificate's name (CN): [A-Za-z0-9._-], up to 64"},
                {"host", "",
                 "create-node: IPs and DNS names, comma-separated (default: "
                 "127.0.0.1,localhost)"},
                {"admin", "false", "create-client: an operator's certificate", true},
                {"days", "", "validity in days (default: 3650 for the CA, 365 for the others)"}},
      .args_usage = kUsage,
      .run_with_args = Run,
  };
}

}  // namespace meridian::tools
