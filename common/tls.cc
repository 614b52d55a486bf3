#include "common/tls.h"

#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace meridian {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (buffer.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no PEM block"));
  }
  return buffer.str();
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

const char* TlsRoleName(TlsRole role) {
  switch (role) {
    case TlsRole::kNode:
      return "node";
    case TlsRole::kAdmin:
      return "admin";
    case TlsRole::kClient:
      return "client";
  }
  return "?";
}

bool IsValidTlsName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<TlsIdentity> ParseTlsSubject(std::string_view subject) {
  std::optional<std::string> cn;
  std::optional<std::string> ou;
  const absl::string_view whole(subject.data(), subject.size());
  for (absl::string_view part : absl::StrSplit(whole, ',')) {
    part = absl::StripAsciiWhitespace(part);
    std::optional<std::string>* slot = nullptr;
    if (absl::ConsumePrefix(&part, "CN=")) slot = &cn;
    if (absl::ConsumePrefix(&part, "OU=")) slot = &ou;
    if (slot == nullptr) continue;
    if (slot->has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("certificate subject '", whole, "' has more than one CN or OU"));
    }
    *slot = std::string(part);
  }
  if (!cn.has_value() || !IsValidTlsName(*cn)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate subject '", whole, "' has no CN of 1-64 characters [A-Za-z0-9._-]"));
  }
  TlsIdentity identity;
  identity.name = *cn;
  if (ou == "node") {
    identity.role = TlsRole::kNode;
  } else if (ou == "admin") {
    identity.role = TlsRole::kAdmin;
  } else if (ou == "client") {
    identity.role = TlsRole::kClient;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "certificate subject '", whole, "' has no OU naming a role (node, admin or client)"));
  }
  return identity;
}

absl::StatusOr<TlsOptions> LoadTlsFiles(const std::string& ca_cert_file,
                                        const std::string& cert_file, const std::string& key_file) {
  TlsOptions options;
  options.source = cert_file;
  absl::StatusOr<std::string> ca = ReadPem(ca_cert_file);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadPem(cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(key_file);
  if (!key.ok()) return key.status();
  options.ca_cert_pem = *std::move(ca);
  options.cert_pem = *std::move(cert);
  options.key_pem = *std::move(key);
  return options;
}

absl::StatusOr<TlsOptions> LoadTlsDir(const std::string& dir) {
  const std::string prefix = dir + (Exists(dir + "/node.crt") ? "/node" : "/client");
  absl::StatusOr<TlsOptions> options =
      LoadTlsFiles(dir + "/ca.crt", prefix + ".crt", prefix + ".key");
  if (!options.ok()) {
    return absl::Status(options.status().code(),
                        absl::StrCat(options.status().message(), " (", dir,
                                     " needs ca.crt and node.crt/node.key or "
                                     "client.crt/client.key; see `meridian certs`)"));
  }
  options->source = dir;
  return options;
}

absl::StatusOr<TlsOptions> ServerTlsFromFlags(const std::string& tls_dir, bool insecure) {
  if (!tls_dir.empty() && insecure) {
    return absl::InvalidArgumentError("give --tls_dir or --insecure, not both");
  }
  if (insecure) return TlsOptions{};
  if (tls_dir.empty()) {
    return absl::InvalidArgumentError(
        "give --tls_dir=DIR (mutual TLS; `meridian certs` makes the files) or --insecure "
        "(plaintext, no authentication: for local experiments only)");
  }
  return LoadTlsDir(tls_dir);
}

std::string InsecureWarning(std::string_view who) {
  return absl::StrCat(
      "WARNING: ", absl::string_view(who.data(), who.size()),
      " runs INSECURE (--insecure): plaintext, no authentication, anyone who reaches a "
      "port may read, write and administer the cluster. Use --tls_dir for anything real");
}

}  // namespace meridian
