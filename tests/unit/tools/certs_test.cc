// tools/certs.h: the CA and certificates `meridian certs` makes, checked with OpenSSL: the
// identity in each subject, the signature chain, the extensions, the files' permissions.
#include "tools/certs.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace meridian::tools {
namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

X509* ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// True when `cert_pem` chains to `ca_pem` for `purpose` (X509_PURPOSE_SSL_SERVER/CLIENT).
bool Verifies(const std::string& ca_pem, const std::string& cert_pem, int purpose) {
  X509* ca = ParseCert(ca_pem);
  X509* cert = ParseCert(cert_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
  return ok;
}

class CertsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "certs-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ + "/ca";
    ASSERT_TRUE(CreateCa(dir_).ok());
  }
  void TearDown() override {
    std::filesystem::remove_all(std::filesystem::path(dir_).parent_path());
  }
  std::string dir_;
};

TEST_F(CertsTest, ANodeCertificateCarriesItsNameRoleAndHosts) {
  absl::StatusOr<std::string> out = CreateCert(
      dir_,
      {.name = "span-a1", .role = TlsRole::kNode, .hosts = {"127.0.0.1", "db1.local"}, .days = 30});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, dir_ + "/span-a1");
  const std::string pem = Read(*out + "/node.crt");
  absl::StatusOr<TlsIdentity> identity = IdentityOfPem(pem);
  ASSERT_TRUE(identity.ok()) << identity.status();
  EXPECT_EQ(identity->name, "span-a1");
  EXPECT_EQ(identity->role, TlsRole::kNode);
  EXPECT_EQ(Read(*out + "/ca.crt"), Read(dir_ + "/ca.crt"));
  EXPECT_TRUE(Verifies(Read(dir_ + "/ca.crt"), pem, X509_PURPOSE_SSL_SERVER));
  EXPECT_TRUE(Verifies(Read(dir_ + "/ca.crt"), pem, X509_PURPOSE_SSL_CLIENT));
  X509* cert = ParseCert(pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "db1.local", 0, 0, nullptr), 1);
  EXPECT_NE(X509_check_ip_asc(cert, "10.0.0.1", 0), 1);
  X509_free(cert);
  struct stat key_stat;
  ASSERT_EQ(stat((*out + "/node.key").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  // The directory is what --tls_dir takes.
  absl::StatusOr<TlsOptions> tls = LoadTlsDir(*out);
  ASSERT_TRUE(tls.ok()) << tls.status();
  EXPECT_EQ(tls->cert_pem, pem);
}

TEST_F(CertsTest, ClientCertificatesAreForClientsOnly) {
  ASSERT_TRUE(
      CreateCert(dir_, {.name = "ops", .role = TlsRole::kAdmin, .hosts = {}, .days = 30}).ok());
  ASSERT_TRUE(
      CreateCert(dir_, {.name = "app", .role = TlsRole::kClient, .hosts = {}, .days = 30}).ok());
  const std::string ca = Read(dir_ + "/ca.crt");
  const std::string admin = Read(dir_ + "/ops/client.crt");
  const std::string client = Read(dir_ + "/app/client.crt");
  EXPECT_EQ(IdentityOfPem(admin)->role, TlsRole::kAdmin);
  EXPECT_EQ(IdentityOfPem(client)->role, TlsRole::kClient);
  EXPECT_EQ(IdentityOfPem(client)->name, "app");
  EXPECT_TRUE(Verifies(ca, client, X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(Verifies(ca, client, X509_PURPOSE_SSL_SERVER));
}

TEST_F(CertsTest, AnotherCaDoesNotVerifyAndNothingIsOverwritten) {
  const std::string other = dir_ + "-other";
  ASSERT_TRUE(CreateCa(other).ok());
  ASSERT_TRUE(
      CreateCert(dir_, {.name = "n1", .role = TlsRole::kNode, .hosts = {}, .days = 1}).ok());
  EXPECT_FALSE(
      Verifies(Read(other + "/ca.crt"), Read(dir_ + "/n1/node.crt"), X509_PURPOSE_SSL_CLIENT));
  EXPECT_EQ(CreateCa(dir_).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CreateCert(dir_, {.name = "n1", .role = TlsRole::kNode, .hosts = {}, .days = 1})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(
      CreateCert(dir_, {.name = "a,OU=admin", .role = TlsRole::kClient, .hosts = {}, .days = 1})
          .ok());
  EXPECT_EQ(
      CreateCert(dir_ + "-none", {.name = "x", .role = TlsRole::kNode, .hosts = {}, .days = 1})
          .status()
          .code(),
      absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian::tools
