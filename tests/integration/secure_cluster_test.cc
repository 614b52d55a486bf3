// Integration: a whole cluster with mutual TLS everywhere (`meridian demo --secure`'s setup).
//
// Cluster: placementd (1 replica) + 3 spanservers (zone-a, zone-b, zone-c), 8 ranges = 8 groups,
// lease 1 s; every process runs --tls_dir with its own node certificate (LocalCluster's
// `secure`: a CA and certificates under DIR/tls). No faults.
// Workload: through the SDK with the admin certificate, puts and gets over all ranges and a
// read-write transaction over several groups (two-phase commit, group messages and Paxos over the
// TLS peer transport); then an SDK client with a plain client certificate, one without any, the
// CLI with and without --tls_dir.
// Checker: every read returns the last acknowledged value; placement recorded each server's
// certificate name; the plain client reads and writes but is denied RemoveServer with
// PERMISSION_DENIED; a client without a certificate reaches nothing; no spanserver dropped a
// peer frame for a sender mismatch or refused a peer's certificate.
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tools/certs.h"

namespace meridian::integration {
namespace {

class SecureClusterTest : public ClusterFixture {};

std::string Key(int i) { return KeyWithFirstByte(i * 256 / 40, absl::StrCat("secure-", i)); }

TEST_F(SecureClusterTest, ServesTheSdkOverMutualTlsAndAuthorizesAdminCalls) {
  tools::LocalClusterOptions options = DefaultOptions();
  options.secure = true;
  StartCluster(23100, options);

  std::map<std::string, std::string> expected;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(client_->Put(Key(i), absl::StrCat("v", i)).ok()) << i;
    expected[Key(i)] = absl::StrCat("v", i);
  }
  absl::StatusOr<int64_t> committed = client_->RunTransaction([](Transaction& txn) -> absl::Status {
    for (int i : {0, 13, 27, 39}) txn.Put(Key(i), absl::StrCat("t", i));
    return absl::OkStatus();
  });
  ASSERT_TRUE(committed.ok()) << committed.status();
  for (int i : {0, 13, 27, 39}) expected[Key(i)] = absl::StrCat("t", i);
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, value);
  }

  // Placement bound each server id to its certificate's name.
  absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  std::set<std::string> names;
  for (const proto::ServerInfo& server : topology->servers()) names.insert(server.name());
  EXPECT_EQ(names, (std::set<std::string>{"span-a1", "span-b1", "span-c1"}));

  // An application's certificate: data yes, administration no.
  tools::CertRequest app;
  app.name = "app";
  app.role = TlsRole::kClient;
  absl::StatusOr<std::string> app_dir = tools::CreateCert(dir_ + "/tls", app);
  ASSERT_TRUE(app_dir.ok()) << app_dir.status();
  ClientOptions app_options;
  app_options.deadline = std::chrono::milliseconds(10'000);
  app_options.tls = ClientTlsOptions::FromDir(*app_dir);
  absl::StatusOr<std::unique_ptr<Client>> app_client =
      Client::Connect(cluster_->placement_addresses(), app_options);
  ASSERT_TRUE(app_client.ok()) << app_client.status();
  ASSERT_TRUE((*app_client)->Put(Key(1), "from-app").ok());
  EXPECT_EQ(*client_->Get(Key(1)), std::optional<std::string>("from-app"));
  const absl::Status removed = (*app_client)->RemoveServer(topology->servers(0).id());
  EXPECT_EQ(removed.code(), absl::StatusCode::kPermissionDenied) << removed;
  EXPECT_TRUE(absl::StrContains(removed.message(), "admin")) << removed;

  // No certificate: nothing answers.
  ClientOptions plain_options;
  plain_options.deadline = std::chrono::milliseconds(2'000);
  absl::StatusOr<std::unique_ptr<Client>> plain =
      Client::Connect(cluster_->placement_addresses(), plain_options);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE((*plain)->Get(Key(1)).ok());

  // The command line, with the admin's directory and without.
  const std::string placement = absl::StrJoin(cluster_->placement_addresses(), ",");
  std::string output;
  EXPECT_EQ(
      RunCommand(absl::StrCat(MERIDIAN_CLI_PATH, " kv get ", Key(2).substr(1),
                              " --placement=", placement, " --tls_dir=", cluster_->admin_tls_dir()),
                 &output),
      0)
      << output;
  output.clear();
  EXPECT_NE(RunCommand(absl::StrCat(MERIDIAN_CLI_PATH,
                                    " status --deadline_ms=2000 --placement=", placement),
                       &output),
            0)
      << output;

  // Every peer connection was a verified node, and every frame came from its certificate's
  // server.
  for (const std::string& name : cluster_->server_names()) {
    absl::StatusOr<proto::ServerStatusResponse> status = cluster_->ServerStatus(name);
    ASSERT_TRUE(status.ok()) << name << ": " << status.status();
  }
  for (const char* name : {"span-a1", "span-b1", "span-c1"}) {
    const std::string log = ReadFile(dir_ + "/logs/" + std::string(name) + ".log");
    EXPECT_TRUE(absl::StrContains(log, "mutual TLS")) << name;
    EXPECT_FALSE(absl::StrContains(log, "sender is not its certificate's server")) << name;
    EXPECT_FALSE(absl::StrContains(log, "TLS refused")) << name;
    EXPECT_FALSE(absl::StrContains(log, "without a valid node certificate")) << name;
  }
}

}  // namespace
}  // namespace meridian::integration
