// Integration: every process's /metrics and placementd's status page, on a real cluster.
//
// Cluster: placementd + 3 spanservers (8 groups), lease 1 s, mutual TLS everywhere (as `meridian
// demo --secure` runs: the status page's poller reaches the servers with placementd's node
// certificate), every process serving HTTP (--http_listen, LocalClusterOptions::http_port_offset;
// plaintext and read-only). Seed: none (no randomness).
// Workload: 64 single-key puts spread over every range, then 16 read-write transactions that
// read and write one key each (read-modify-write), from one client. No faults.
// Checkers:
//  - tests/integration/check_metrics.py parses /metrics of the spanserver leading group 1 and of
//    placementd with Prometheus' own parser (prometheus_client, Debian's
//    python3-prometheus-client): HELP and TYPE on every family, histograms cumulative with +Inf ==
//    _count; the spanserver's commits, Paxos rounds, synced writes and commit latency counted
//    something, placementd's servers and its own Paxos rounds too.
//  - headless Chromium (Debian's chromium) loads placementd's status page, runs its script, and
//    the DOM it dumps lists every server (row and address) and, for every group, the leader
//    placement reports (polled with a deadline: the balancer may move a leader meanwhile).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

// The body of GET `path` from `url` ("http://127.0.0.1:PORT"); "" when it cannot be fetched.
std::string HttpGet(const std::string& url, const std::string& path) {
  const int port = std::stoi(url.substr(url.rfind(':') + 1));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

class MetricsPagesTest : public ClusterFixture {
 protected:
  void StartWithHttp() {
    tools::LocalClusterOptions options = DefaultOptions();
    options.http_port_offset = 1;  // the fixture puts the HTTP ports after the gRPC ones
    options.secure = true;
    StartCluster(27400, options);
  }

  // Puts over every range and a few read-modify-write transactions.
  void DriveWrites() {
    std::map<std::string, std::string> expected;
    for (int b = 0; b < 256; b += 4) {
      ASSERT_NO_FATAL_FAILURE(PutMany(KeyWithFirstByte(b, "m"), 1, b, 1, &expected));
    }
    for (int i = 0; i < 16; ++i) {
      const std::string key = KeyWithFirstByte(i * 16, "txn");
      absl::StatusOr<int64_t> committed =
          client_->RunTransaction([&key](Transaction& txn) -> absl::Status {
            absl::StatusOr<std::optional<std::string>> old = txn.Get(key);
            if (!old.ok()) return old.status();
            txn.Put(key, old->value_or("") + "x");
            return absl::OkStatus();
          });
      ASSERT_TRUE(committed.ok()) << committed.status();
    }
  }

  // Runs check_metrics.py on `url`/metrics with `flags`; its output goes to the test log.
  void CheckMetrics(const std::string& url, const std::string& flags) {
    std::string output;
    const int code = RunCommand(absl::StrCat(MERIDIAN_SYSTEM_PYTHON, " ", MERIDIAN_CHECK_METRICS,
                                             " ", url, "/metrics ", flags),
                                &output);
    std::printf("%s/metrics:\n%s", url.c_str(), output.c_str());
    EXPECT_EQ(code, 0) << output;
  }
};

TEST_F(MetricsPagesTest, SpanserverAndPlacementdServeMetricsPrometheusParses) {
  ASSERT_NO_FATAL_FAILURE(StartWithHttp());
  ASSERT_NO_FATAL_FAILURE(DriveWrites());
  absl::StatusOr<std::string> leader = cluster_->GroupLeader(1);
  ASSERT_TRUE(leader.ok()) << leader.status();
  CheckMetrics(cluster_->http_url(*leader),
               "--positive meridian_commits_total --observed meridian_paxos_round_seconds "
               "--observed meridian_storage_write_seconds --positive meridian_group_leader "
               "--positive meridian_leader_changes_total --positive meridian_server_disk_bytes "
               "--positive meridian_lease_remaining_seconds");
  // The transactions were coordinated by the leaders of the groups of their keys.
  double txn_commits = 0;
  for (const std::string& name : cluster_->server_names()) {
    const std::string page = HttpGet(cluster_->http_url(name), "/metrics");
    std::smatch match;
    const std::regex commits(R"re(meridian_commits_total\{kind="txn"\} (\d+))re");
    if (std::regex_search(page, match, commits)) txn_commits += std::stod(match[1]);
  }
  EXPECT_GE(txn_commits, 16);
  CheckMetrics(cluster_->http_url("placement-1"),
               "--positive meridian_placement_servers --positive meridian_placement_groups "
               "--positive meridian_placement_leader --observed meridian_paxos_round_seconds");
}

TEST_F(MetricsPagesTest, StatusPageInChromiumShowsEveryServerAndGroupLeader) {
  if (access(kChromium, X_OK) != 0) {
    GTEST_SKIP() << kChromium << " is missing: install Debian's chromium (scripts/setup.sh)";
  }
  ASSERT_NO_FATAL_FAILURE(StartWithHttp());
  const std::string url = cluster_->http_url("placement-1") + "/";
  const std::string profile = dir_ + "/chromium-profile";
  std::string last_dom;
  std::string missing;
  const bool shown = WaitFor(absl::Seconds(60), [&] {
    absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
    if (!topology.ok()) return false;
    last_dom.clear();
    RunCommand(absl::StrCat(kChromium,
                            " --headless --disable-gpu --no-sandbox --virtual-time-budget=3000 "
                            "--user-data-dir=",
                            profile, " --dump-dom ", url, " 2>/dev/null"),
               &last_dom);
    missing.clear();
    for (const proto::ServerInfo& s : topology->servers()) {
      const std::string row = absl::StrCat("<tr id=\"server-", s.id(), "\">");
      if (last_dom.find(row) == std::string::npos ||
          last_dom.find(s.address()) == std::string::npos) {
        absl::StrAppend(&missing, " server ", s.id());
      }
    }
    for (const proto::GroupInfo& g : topology->groups()) {
      const std::string cell = absl::StrCat("<tr id=\"group-", g.id(), "\"><td>", g.id(),
                                            "</td><td class=\"leader\">server ", g.leader(), "<");
      if (g.leader() == 0 || last_dom.find(cell) == std::string::npos) {
        absl::StrAppend(&missing, " group ", g.id(), " leader ", g.leader());
      }
    }
    return topology->servers_size() == 3 && topology->groups_size() > 0 && missing.empty();
  });
  EXPECT_TRUE(shown) << "not on the page:" << missing << "\nlast DOM:\n" << last_dom;
}

}  // namespace
}  // namespace meridian::integration
