#include "tools/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::tools {
namespace {

struct FreeKey {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct FreeCert {
  void operator()(X509* c) const { X509_free(c); }
};
struct FreeBio {
  void operator()(BIO* b) const { BIO_free(b); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, FreeKey>;
using CertPtr = std::unique_ptr<X509, FreeCert>;
using BioPtr = std::unique_ptr<BIO, FreeBio>;

absl::Status OpenSslError(const std::string& what) {
  return absl::InternalError(absl::StrCat("OpenSSL failed: ", what));
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes `contents` to `path`, readable by its owner only when `secret`.
absl::Status WriteFile(const std::string& path, const std::string& contents, bool secret) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError("cannot write " + path);
    out << contents;
    if (!out.flush()) return absl::DataLossError("cannot write " + path);
  }
  if (secret && ::chmod(path.c_str(), 0600) != 0) {
    return absl::PermissionDeniedError("cannot chmod 0600 " + path);
  }
  return absl::OkStatus();
}

std::string PemOfCert(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string PemOfKey(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return OpenSslError(absl::StrCat("extension ", OBJ_nid2sn(nid), "=", value));
  const int added = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return added == 1 ? absl::OkStatus() : OpenSslError("X509_add_ext");
}

// A certificate for `key` with `subject` (O=meridian, OU=ou, CN=cn), valid for `days` from now,
// not yet signed and without extensions.
absl::StatusOr<CertPtr> NewCert(EVP_PKEY* key, const std::string& ou, const std::string& cn,
                                int days) {
  CertPtr cert(X509_new());
  if (cert == nullptr) return OpenSslError("X509_new");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslError("RAND_bytes");
  serial[0] &= 0x7f;  // a positive INTEGER
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // tolerate small clock differences
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), int64_t{days} * 86400);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const auto add = [name](const char* field, const std::string& value) {
    X509_NAME_add_entry_by_txt(name, field, MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  };
  add("O", "meridian");
  add("OU", ou);
  add("CN", cn);
  return cert;
}

absl::StatusOr<KeyPtr> NewKey() {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslError("EVP_EC_gen(P-256)");
  return key;
}

std::string SubjectAltNames(const std::vector<std::string>& hosts) {
  std::vector<std::string> names;
  for (const std::string& host : hosts) {
    unsigned char buf[16];
    const bool ip =
        inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
    names.push_back(absl::StrCat(ip ? "IP:" : "DNS:", host));
  }
  return absl::StrJoin(names, ",");
}

}  // namespace

absl::Status CreateCa(const std::string& dir, int days) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  if (std::filesystem::exists(dir + "/ca.key")) {
    return absl::AlreadyExistsError(dir + "/ca.key exists: this directory already has a CA");
  }
  absl::StatusOr<KeyPtr> key = NewKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<CertPtr> cert = NewCert(key->get(), "ca", "meridian-ca", days);
  if (!cert.ok()) return cert.status();
  X509_set_issuer_name(cert->get(), X509_get_subject_name(cert->get()));
  for (const auto& [nid, value] :
       {std::pair<int, std::string>{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
        {NID_key_usage, "critical,keyCertSign,cRLSign"},
        {NID_subject_key_identifier, "hash"}}) {
    if (absl::Status s = AddExtension(cert->get(), cert->get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert->get(), key->get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  if (absl::Status s = WriteFile(dir + "/ca.key", PemOfKey(key->get()), true); !s.ok()) return s;
  return WriteFile(dir + "/ca.crt", PemOfCert(cert->get()), false);
}

absl::StatusOr<std::string> CreateCert(const std::string& dir, const CertRequest& request) {
  if (!IsValidTlsName(request.name) || request.name == "ca") {
    return absl::InvalidArgumentError(
        absl::StrCat("name '", request.name, "': 1-64 characters of [A-Za-z0-9._-], and not 'ca'"));
  }
  const std::string ca_pem = ReadFile(dir + "/ca.crt");
  const std::string ca_key_pem = ReadFile(dir + "/ca.key");
  if (ca_pem.empty() || ca_key_pem.empty()) {
    return absl::NotFoundError(
        absl::StrCat(dir, " has no CA (ca.crt, ca.key): run `meridian certs create-ca` first"));
  }
  BioPtr ca_bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())));
  CertPtr ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio(BIO_new_mem_buf(ca_key_pem.data(), static_cast<int>(ca_key_pem.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (ca == nullptr || ca_key == nullptr) return OpenSslError("reading the CA in " + dir);

  const bool node = request.role == TlsRole::kNode;
  const std::string out_dir = absl::StrCat(dir, "/", request.name);
  const std::string base = absl::StrCat(out_dir, node ? "/node" : "/client");
  if (std::filesystem::exists(base + ".crt")) {
    return absl::AlreadyExistsError(base + ".crt exists");
  }
  absl::StatusOr<KeyPtr> key = NewKey();
  if (!key.ok()) return key.status();
  absl::StatusOr<CertPtr> cert =
      NewCert(key->get(), TlsRoleName(request.role), request.name, request.days);
  if (!cert.ok()) return cert.status();
  X509_set_issuer_name(cert->get(), X509_get_subject_name(ca.get()));
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
      {NID_ext_key_usage, node ? "serverAuth,clientAuth" : "clientAuth"},
      {NID_authority_key_identifier, "keyid:always"}};
  if (node) {
    std::vector<std::string> hosts = request.hosts;
    if (hosts.empty()) hosts = {"127.0.0.1", "localhost"};
    extensions.push_back({NID_subject_alt_name, SubjectAltNames(hosts)});
  }
  for (const auto& [nid, value] : extensions) {
    if (absl::Status s = AddExtension(cert->get(), ca.get(), nid, value); !s.ok()) return s;
  }
  if (X509_sign(cert->get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslError("signing");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", out_dir));
  if (absl::Status s = WriteFile(out_dir + "/ca.crt", ca_pem, false); !s.ok()) return s;
  if (absl::Status s = WriteFile(base + ".key", PemOfKey(key->get()), true); !s.ok()) return s;
  if (absl::Status s = WriteFile(base + ".crt", PemOfCert(cert->get()), false); !s.ok()) return s;
  return out_dir;
}

absl::StatusOr<TlsIdentity> IdentityOfPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  CertPtr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return absl::InvalidArgumentError("not a PEM certificate");
  BioPtr out(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(out.get(), X509_get_subject_name(cert.get()), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(out.get(), &data);
  return ParseTlsSubject(std::string(data, static_cast<size_t>(n)));
}

}  // namespace meridian::tools
