// A development certificate authority for mutual TLS (`meridian certs`, `meridian demo --secure`,
// tests): ECDSA P-256 keys, SHA-256 signatures, the subject scheme of common/tls.h.
//
// Layout under DIR (each NAME directory is what a process's --tls_dir takes):
//   DIR/ca.crt, DIR/ca.key                            the CA (key mode 0600)
//   DIR/NAME/ca.crt, node.crt, node.key               a node: serverAuth + clientAuth, SANs
//   DIR/NAME/ca.crt, client.crt, client.key           a client (role client or admin): clientAuth
// A node certificate lists its hosts as subjectAltNames (IP or DNS), which clients check against
// the address they dial; a client certificate lists none.
//
// Thread safety: functions of files; no shared state.
#ifndef MERIDIAN_TOOLS_CERTS_H_
#define MERIDIAN_TOOLS_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/tls.h"

namespace meridian::tools {

// Creates DIR (if needed) and the CA in it. ALREADY_EXISTS when DIR/ca.key is there: a second CA
// would silently split the cluster.
absl::Status CreateCa(const std::string& dir, int days = 3650);

struct CertRequest {
  std::string name;  // CN (common/tls.h: 1-64 of [A-Za-z0-9._-])
  TlsRole role = TlsRole::kNode;
  // A node's subjectAltNames: IP addresses or DNS names. Empty: 127.0.0.1 and localhost.
  std::vector<std::string> hosts;
  int days = 365;
};

// Signs a new key pair with DIR's CA and writes DIR/NAME/ (see the layout above); returns that
// directory. ALREADY_EXISTS when its certificate is there; NOT_FOUND without a CA.
absl::StatusOr<std::string> CreateCert(const std::string& dir, const CertRequest& request);

// The identity a PEM certificate carries (its subject, parsed as common/tls.h says).
absl::StatusOr<TlsIdentity> IdentityOfPem(const std::string& pem);

}  // namespace meridian::tools

#endif  // MERIDIAN_TOOLS_CERTS_H_
