#include "tests/chaos/net_partition.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace meridian::chaos {
namespace {

// The nft binary: on PATH or in the sbin directories a root shell has; "" when none.
std::string FindNft() {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin"}) {
    const std::string path = absl::StrCat(dir, "/nft");
    if (access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

// Only dotted IPv4 literals reach a rule: nothing else can be smuggled into the script.
bool IsIpv4Literal(const std::string& s) {
  int dots = 0;
  for (const char c : s) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3 && !s.empty() && s.size() <= 15;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NftPartitioner>> NftPartitioner::Create(
    const std::string& scratch_dir) {
  const std::string nft = FindNft();
  if (nft.empty()) {
    return absl::UnavailableError(
        "the nft tool is missing (Debian package nftables; scripts/setup.sh installs it)");
  }
  const std::string table = absl::StrCat("meridian_chaos_", getpid());
  std::unique_ptr<NftPartitioner> partitioner(new NftPartitioner(nft, scratch_dir, table));
  const absl::Status created = partitioner->Run(
      absl::StrCat("table ip ", table, " {\n  chain output {\n", "    type filter hook output ",
                   "priority 0; policy accept;\n  }\n}\n"));
  if (!created.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "nft cannot create a table (it needs root / CAP_NET_ADMIN and nf_tables in the kernel): ",
        created.message()));
  }
  partitioner->created_ = true;
  return partitioner;
}

NftPartitioner::NftPartitioner(std::string nft, std::string scratch_dir, std::string table)
    : nft_(std::move(nft)), scratch_dir_(std::move(scratch_dir)), table_(std::move(table)) {}

NftPartitioner::~NftPartitioner() {
  if (!created_) return;
  const absl::Status deleted = Run(absl::StrCat("delete table ip ", table_, "\n"));
  if (!deleted.ok()) {
    std::fprintf(stderr, "chaos: could not delete nft table %s: %s\n", table_.c_str(),
                 deleted.ToString().c_str());
  }
}

absl::Status NftPartitioner::SetCuts(const std::vector<Link>& links) {
  std::string script = absl::StrCat("flush chain ip ", table_, " output\n");
  for (const auto& [a, b] : links) {
    if (!IsIpv4Literal(a) || !IsIpv4Literal(b)) {
      return absl::InvalidArgumentError(absl::StrCat("not IPv4 addresses: ", a, " ", b));
    }
    for (const auto& [from, to] : {std::pair(a, b), std::pair(b, a)}) {
      absl::StrAppend(&script, "add rule ip ", table_, " output ip saddr ", from, " ip daddr ", to,
                      " drop\n");
    }
  }
  absl::Status status = Run(script);
  if (status.ok()) cuts_ = links;
  return status;
}

absl::Status NftPartitioner::Run(const std::string& script) {
  const std::string path = absl::StrCat(scratch_dir_, "/nft-rules.txt");
  {
    std::ofstream out(path, std::ios::trunc);
    out << script;
    if (!out.flush()) return absl::InternalError("cannot write " + path);
  }
  const std::string command = absl::StrCat(nft_, " -f ", path, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run " + nft_);
  std::string output;
  char buffer[1024];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  const int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("nft -f failed: ", absl::StripTrailingAsciiWhitespace(output)));
}

}  // namespace meridian::chaos
