// ClusterFixture: a gtest fixture that runs a real local cluster (placementd + spanservers as
// child processes, tools/local_cluster.h) in a fresh temporary directory on free loopback ports,
// and an SDK client connected to it. The directory is removed after a passing test and kept (its
// path printed) after a failing one, for the logs.
//
// Thread safety: the fixture is used from the test's main thread; the Client is thread-safe.
#ifndef MERIDIAN_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define MERIDIAN_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <stdlib.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "meridian/client.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"
#include "tools/local_cluster.h"

namespace meridian::integration {

// Leases are short so that failover tests stay fast.
inline constexpr int64_t kLeaseMs = 1000;

inline tools::LocalClusterOptions DefaultOptions() {
  tools::LocalClusterOptions options;
  options.placementd_path = MERIDIAN_PLACEMENTD_PATH;
  options.spanserver_path = MERIDIAN_SPANSERVER_PATH;
  options.zones = 3;
  options.servers_per_zone = 1;
  options.ranges = 8;
  options.paxos_lease_ms = kLeaseMs;
  return options;
}

// Waits (bounded) until `done` holds, checking every 50 ms.
template <typename Pred>
bool WaitFor(absl::Duration timeout, Pred done) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

// A fresh directory under the temporary directory.
inline std::string MakeTempDir(const std::string& prefix) {
  std::string templ = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  char* made = mkdtemp(templ.data());
  EXPECT_NE(made, nullptr) << "mkdtemp " << templ;
  return templ;
}

// The first byte of a key chooses its range (placement splits the key space evenly on it), so a
// key built from byte b lands in range floor(b * ranges / 256).
inline std::string KeyWithFirstByte(int first_byte, const std::string& rest) {
  return std::string(1, static_cast<char>(first_byte)) + rest;
}

// Runs a command line, returning its exit code and its stdout and stderr.
inline int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The whole of a file ("" when it cannot be read).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The number after `label` in the last line of `output` that starts with "summary:"; -1 if none
// (the workloads of `meridian workload` end with such a line).
inline int64_t SummaryCount(const std::string& output, const std::string& label) {
  const size_t line = output.rfind("summary:");
  if (line == std::string::npos) return -1;
  const size_t at = output.find(label, line);
  if (at == std::string::npos) return -1;
  const size_t begin = at + label.size();
  size_t end = begin;
  while (end < output.size() && isdigit(static_cast<unsigned char>(output[end]))) ++end;
  int64_t value = -1;
  if (!absl::SimpleAtoi(output.substr(begin, end - begin), &value)) return -1;
  return value;
}

// Reads the history an append workload recorded and checks it is strictly serializable
// (tools/history/append_checker.h), with some transaction committed; prints the report.
inline void ExpectStrictlySerializable(const std::string& history_path) {
  absl::StatusOr<history::History> events = history::ReadHistoryFile(history_path);
  ASSERT_TRUE(events.ok()) << events.status();
  absl::StatusOr<history::CheckResult> result = history::CheckAppendHistory(*events);
  ASSERT_TRUE(result.ok()) << result.status();
  std::printf("%s", result->report.c_str());
  EXPECT_TRUE(result->ok) << result->report;
  EXPECT_GT(result->txns_ok, 0);
}

class ClusterFixture : public ::testing::Test {
 protected:
  // Puts `count` values of `value_bytes`, the i-th as "v<i>-xxx..." under key `prefix` +
  // (i % keys), and records them in `expected`. A put whose outcome is unknown (leadership moved
  // under it) is put again, for up to 20 s: the same value, so the outcome is the same either way.
  void PutMany(const std::string& prefix, int keys, int first, int count,
               std::map<std::string, std::string>* expected, size_t value_bytes = 1024) {
    for (int i = first; i < first + count; ++i) {
      const std::string key = absl::StrCat(prefix, i % keys);
      std::string value = absl::StrCat("v", i, "-");
      value.resize(value_bytes, 'x');
      absl::Status put = client_->Put(key, value);
      for (int attempt = 0; attempt < 200 && !put.ok(); ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        put = client_->Put(key, value);
      }
      ASSERT_TRUE(put.ok()) << i << ": " << put;
      (*expected)[key] = value;
    }
  }

  // Starts the cluster on free ports at or after `port_hint` and waits until it is ready. With
  // options.http_port_offset > 0 every process serves HTTP too, on the ports right after the
  // gRPC ones (the offset is set to the number of processes).
  void StartCluster(int port_hint, tools::LocalClusterOptions options = DefaultOptions()) {
    dir_ = MakeTempDir("meridian-it");
    options.dir = dir_;
    const int processes = options.placement_replicas + options.zones * options.servers_per_zone;
    if (options.http_port_offset > 0) options.http_port_offset = processes;
    absl::StatusOr<int> base =
        tools::FindFreePorts(port_hint, options.http_port_offset > 0 ? 2 * processes : processes);
    ASSERT_TRUE(base.ok()) << base.status();
    options.base_port = *base;
    cluster_ = std::make_unique<tools::LocalCluster>(options);
    absl::Status started = cluster_->Start();
    ASSERT_TRUE(started.ok()) << started;
    absl::Status ready = cluster_->WaitReady(absl::Seconds(60));
    ASSERT_TRUE(ready.ok()) << ready;
    Connect();
  }

  void Connect() {
    ClientOptions client_options;
    client_options.deadline = std::chrono::milliseconds(10'000);
    if (cluster_->options().secure) {
      client_options.tls = ClientTlsOptions::FromDir(cluster_->admin_tls_dir());
    }
    absl::StatusOr<std::unique_ptr<Client>> client =
        Client::Connect(cluster_->placement_addresses(), client_options);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  void TearDown() override {
    client_.reset();
    if (cluster_ != nullptr) cluster_->StopAll();
    cluster_.reset();
    if (dir_.empty()) return;
    if (HasFailure()) {
      PrintLogTails();
      std::printf("cluster directory kept for its logs: %s\n", dir_.c_str());
    } else if (std::getenv("MERIDIAN_KEEP_TEST_DIR") != nullptr) {
      std::printf("cluster directory kept (MERIDIAN_KEEP_TEST_DIR): %s\n", dir_.c_str());
    } else {
      std::error_code error;
      std::filesystem::remove_all(dir_, error);
    }
  }

  // The last lines of every process's log, so that a failure on a machine whose files are gone
  // (CI) still shows what the servers saw.
  void PrintLogTails() const {
    constexpr size_t kLines = 60;
    std::error_code error;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::filesystem::path(dir_) / "logs", error)) {
      std::ifstream in(entry.path());
      std::deque<std::string> tail;
      for (std::string line; std::getline(in, line);) {
        tail.push_back(std::move(line));
        if (tail.size() > kLines) tail.pop_front();
      }
      std::printf("---- last %zu lines of %s\n", tail.size(), entry.path().c_str());
      for (const std::string& line : tail) std::printf("%s\n", line.c_str());
    }
  }

  std::string dir_;
  std::unique_ptr<tools::LocalCluster> cluster_;
  std::unique_ptr<Client> client_;
};

}  // namespace meridian::integration

#endif  // MERIDIAN_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
