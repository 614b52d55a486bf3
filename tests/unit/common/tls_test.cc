#include "common/tls.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace meridian {
namespace {

TEST(TlsSubjectTest, ReadsNameAndRoleInAnyOrder) {
  absl::StatusOr<TlsIdentity> node = ParseTlsSubject("CN=span-a1,OU=node,O=meridian");
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_EQ(node->name, "span-a1");
  EXPECT_EQ(node->role, TlsRole::kNode);
  EXPECT_TRUE(node->may_administer());

  absl::StatusOr<TlsIdentity> admin = ParseTlsSubject("O=meridian, OU=admin, CN=ops.alice");
  ASSERT_TRUE(admin.ok()) << admin.status();
  EXPECT_EQ(admin->name, "ops.alice");
  EXPECT_EQ(admin->role, TlsRole::kAdmin);
  EXPECT_TRUE(admin->may_administer());

  absl::StatusOr<TlsIdentity> client = ParseTlsSubject("CN=app_1,OU=client,O=meridian");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->role, TlsRole::kClient);
  EXPECT_FALSE(client->may_administer());
}

TEST(TlsSubjectTest, RefusesSubjectsWithoutAValidIdentity) {
  EXPECT_FALSE(ParseTlsSubject("OU=node,O=meridian").ok());             // no CN
  EXPECT_FALSE(ParseTlsSubject("CN=span-a1,O=meridian").ok());          // no role
  EXPECT_FALSE(ParseTlsSubject("CN=span-a1,OU=root,O=meridian").ok());  // unknown role
  EXPECT_FALSE(ParseTlsSubject("CN=a,CN=b,OU=node").ok());              // two names
  EXPECT_FALSE(ParseTlsSubject("CN=a,OU=client,OU=node").ok());         // two roles
  EXPECT_FALSE(ParseTlsSubject("CN=a b,OU=node").ok());                 // a space
  EXPECT_FALSE(ParseTlsSubject("CN=,OU=node").ok());
  EXPECT_FALSE(ParseTlsSubject("CN=" + std::string(65, 'x') + ",OU=node").ok());
  EXPECT_FALSE(ParseTlsSubject("").ok());
}

TEST(TlsNameTest, AllowsOnlyPlainCharacters) {
  EXPECT_TRUE(IsValidTlsName("span-a1"));
  EXPECT_TRUE(IsValidTlsName("A.b_c-9"));
  EXPECT_FALSE(IsValidTlsName(""));
  EXPECT_FALSE(IsValidTlsName("a,OU=admin"));
  EXPECT_FALSE(IsValidTlsName("a=b"));
  EXPECT_FALSE(IsValidTlsName("é"));
}

class TlsDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "tls-dir-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& body) {
    std::ofstream(dir_ + "/" + name) << "-----BEGIN X-----\n" << body << "\n-----END X-----\n";
  }
  std::string dir_;
};

TEST_F(TlsDirTest, LoadsANodePairBeforeAClientPair) {
  Write("ca.crt", "ca");
  Write("client.crt", "client cert");
  Write("client.key", "client key");
  absl::StatusOr<TlsOptions> client = LoadTlsDir(dir_);
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_TRUE(client->enabled());
  EXPECT_NE(client->cert_pem.find("client cert"), std::string::npos);
  Write("node.crt", "node cert");
  Write("node.key", "node key");
  absl::StatusOr<TlsOptions> node = LoadTlsDir(dir_);
  ASSERT_TRUE(node.ok()) << node.status();
  EXPECT_NE(node->cert_pem.find("node cert"), std::string::npos);
  EXPECT_NE(node->key_pem.find("node key"), std::string::npos);
  EXPECT_NE(node->ca_cert_pem.find("ca"), std::string::npos);
}

TEST_F(TlsDirTest, NamesWhatIsMissing) {
  absl::StatusOr<TlsOptions> none = LoadTlsDir(dir_);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("ca.crt"), absl::string_view::npos);
  Write("ca.crt", "ca");
  Write("node.crt", "node cert");
  absl::StatusOr<TlsOptions> no_key = LoadTlsDir(dir_);
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.status().message().find("node.key"), absl::string_view::npos);
  std::ofstream(dir_ + "/node.key") << "not pem";
  EXPECT_FALSE(LoadTlsDir(dir_).ok());
}

TEST_F(TlsDirTest, AServerNeedsTlsOrAnExplicitInsecure) {
  EXPECT_FALSE(ServerTlsFromFlags("", false).ok());
  EXPECT_FALSE(ServerTlsFromFlags(dir_, true).ok());
  absl::StatusOr<TlsOptions> insecure = ServerTlsFromFlags("", true);
  ASSERT_TRUE(insecure.ok());
  EXPECT_FALSE(insecure->enabled());
  EXPECT_FALSE(ServerTlsFromFlags(dir_, false).ok());  // empty directory
}

}  // namespace
}  // namespace meridian
