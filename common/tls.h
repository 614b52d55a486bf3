// Mutual TLS settings and peer identities, without any TLS library: what a process was told to
// use (TlsOptions, loaded from a directory of PEM files) and who a verified certificate names
// (TlsIdentity). replication/grpc_tls.h builds gRPC credentials from TlsOptions,
// replication/tcp_transport.cc the peer transport's TLS context, tools/certs.h makes the files.
//
// Identity scheme (docs/operations.md "Mutual TLS"): every certificate is signed by the cluster's
// CA, and its subject carries
//   CN = the name: a node's (spanserver or placementd, e.g. "span-a1") or a client's
//   OU = the role: "node" (servers), "admin" (an operator's client) or "client" (applications)
//   O  = "meridian"
// Names are 1-64 characters of [A-Za-z0-9._-], so a subject prints without escapes. A node or
// admin identity may call admin RPCs; a client identity may not. A spanserver's certificate name
// is bound to its server id when it registers (placement records it), and its peers accept Paxos
// frames from that id only over a connection whose certificate carries that name.
//
// Thread safety: plain values and pure functions.
#ifndef MERIDIAN_COMMON_TLS_H_
#define MERIDIAN_COMMON_TLS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace meridian {

enum class TlsRole { kNode, kAdmin, kClient };

// "node", "admin", "client".
const char* TlsRoleName(TlsRole role);

struct TlsIdentity {
  std::string name;
  TlsRole role = TlsRole::kClient;
  // Nodes (servers call each other's admin RPCs, e.g. Register) and operators.
  bool may_administer() const { return role != TlsRole::kClient; }
};

// True for 1-64 characters of [A-Za-z0-9._-].
bool IsValidTlsName(std::string_view name);

// The identity in a certificate subject printed one-line as RFC 2253 does it
// ("O=meridian,OU=node,CN=span-a1"; gRPC's x509_subject property, OpenSSL's XN_FLAG_RFC2253);
// the order of the attributes does not matter. INVALID_ARGUMENT (saying what is missing) unless
// it has exactly one valid CN and one OU naming a role.
absl::StatusOr<TlsIdentity> ParseTlsSubject(std::string_view subject);

// The PEM files one process uses. Empty (the default): plaintext, no identities.
struct TlsOptions {
  std::string ca_cert_pem;  // the CA that signs every certificate of the cluster
  std::string cert_pem;     // this process's certificate
  std::string key_pem;      // and its private key
  std::string source;       // where they were read from, for logs
  bool enabled() const { return !ca_cert_pem.empty(); }
};

// Reads the three PEM files. NOT_FOUND or INVALID_ARGUMENT naming a file that is missing or
// holds no PEM block.
absl::StatusOr<TlsOptions> LoadTlsFiles(const std::string& ca_cert_file,
                                        const std::string& cert_file, const std::string& key_file);

// Reads DIR/ca.crt and this process's pair: DIR/node.crt + DIR/node.key when present, else
// DIR/client.crt + DIR/client.key (the layout `meridian certs` writes). NOT_FOUND or
// INVALID_ARGUMENT naming the file that is missing or empty.
absl::StatusOr<TlsOptions> LoadTlsDir(const std::string& dir);

// A server's --tls_dir and --insecure, one of which must be given: a server never falls back to
// plaintext unasked. Returns the loaded options (disabled for --insecure) or INVALID_ARGUMENT.
absl::StatusOr<TlsOptions> ServerTlsFromFlags(const std::string& tls_dir, bool insecure);

// The line a process logs when it runs without TLS (`who` names the process).
std::string InsecureWarning(std::string_view who);

}  // namespace meridian

#endif  // MERIDIAN_COMMON_TLS_H_
