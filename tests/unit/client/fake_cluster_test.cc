// The Client against in-process fake placement and Kv services on loopback gRPC: following
// "meridian-leader", refreshing on "meridian-stale-map", never retrying a write whose outcome is
// unknown, retrying reads, scans across ranges and pages, unreachable servers, deadlines.
// The fakes answer from fixed scripts; no sleeps (the client's own backoff is 1 ms here).
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "meridian/client.h"
#include "proto/kv.grpc.pb.h"
#include "proto/placement.grpc.pb.h"
#include "proto/rpc.h"

namespace meridian {
namespace {

constexpr char kDeadAddress[] = "127.0.0.1:1";  // nothing listens on port 1: refused at once

struct FakeRange {
  std::string start, end;
  uint64_t group = 0;
  std::vector<std::string> leaders;  // Locate answers these in turn, then repeats the last
};

class FakePlacement final : public proto::Placement::Service {
 public:
  grpc::Status Locate(grpc::ServerContext* context, const proto::LocateRequest* request,
                      proto::LocateResponse* reply) override {
    absl::MutexLock lock(&mu);
    ++locates;
    if (!redirect.empty()) {
      context->AddTrailingMetadata("meridian-leader", redirect);
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the placement leader");
    }
    for (FakeRange& range : ranges) {
      if (request->key() < range.start || (!range.end.empty() && request->key() >= range.end)) {
        continue;
      }
      reply->mutable_range()->set_start(range.start);
      reply->mutable_range()->set_end(range.end);
      reply->mutable_range()->set_group(range.group);
      reply->mutable_range()->set_generation(generation);
      reply->set_leader_address(range.leaders.front());
      if (range.leaders.size() > 1) range.leaders.erase(range.leaders.begin());
      return grpc::Status::OK;
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "no range");
  }

  absl::Mutex mu;
  std::vector<FakeRange> ranges ABSL_GUARDED_BY(mu);
  uint64_t generation ABSL_GUARDED_BY(mu) = 1;
  std::string redirect ABSL_GUARDED_BY(mu);
  int locates ABSL_GUARDED_BY(mu) = 0;
};

// One group's replica: a map, or a follower that names its leader.
class FakeKv final : public proto::Kv::Service {
 public:
  grpc::Status Put(grpc::ServerContext* context, const proto::PutRequest* request,
                   proto::PutResponse*) override {
    absl::MutexLock lock(&mu);
    ++writes;
    if (grpc::Status s = Check(context, request->range(), request->key()); !s.ok()) return s;
    data[request->key()] = request->value();
    return grpc::Status::OK;
  }
  grpc::Status Delete(grpc::ServerContext* context, const proto::DeleteRequest* request,
                      proto::DeleteResponse*) override {
    absl::MutexLock lock(&mu);
    ++writes;
    if (grpc::Status s = Check(context, request->range(), request->key()); !s.ok()) return s;
    data.erase(request->key());
    return grpc::Status::OK;
  }
  grpc::Status Get(grpc::ServerContext* context, const proto::GetRequest* request,
                   proto::GetResponse* reply) override {
    absl::MutexLock lock(&mu);
    ++reads;
    if (grpc::Status s = Check(context, request->range(), request->key()); !s.ok()) return s;
    const auto it = data.find(request->key());
    reply->set_found(it != data.end());
    if (it != data.end()) reply->set_value(it->second);
    return grpc::Status::OK;
  }
  grpc::Status Scan(grpc::ServerContext* context, const proto::ScanRequest* request,
                    proto::ScanResponse* reply) override {
    absl::MutexLock lock(&mu);
    ++reads;
    if (grpc::Status s = Check(context, request->range(), "scan"); !s.ok()) return s;
    const size_t limit = std::min<size_t>(request->limit(), page);
    for (auto it = data.lower_bound(request->start()); it != data.end(); ++it) {
      if (!request->end().empty() && it->first >= request->end()) break;
      if (static_cast<size_t>(reply->rows_size()) == limit) {
        reply->set_more(true);
        break;
      }
      proto::KeyValue* row = reply->add_rows();
      row->set_key(it->first);
      row->set_value(it->second);
    }
    return grpc::Status::OK;
  }

  // Independent writes, each checked and applied as a Put or Delete would be. The first batch
  // waits for `release_first_batch` when `hold_first_batch` is set.
  grpc::Status WriteBatch(grpc::ServerContext* context, const proto::WriteBatchRequest* request,
                          proto::WriteBatchResponse* reply) override {
    absl::MutexLock lock(&mu);
    if (auto it = context->client_metadata().find("meridian-protocol");
        it != context->client_metadata().end()) {
      protocol.assign(it->second.data(), it->second.length());
    }
    if (no_write_batch) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no WriteBatch");
    if (++batches == 1 && hold_first_batch) {
      mu.Await(absl::Condition(&release_first_batch));
    }
    largest_batch = std::max(largest_batch, request->writes_size());
    for (const proto::KvWrite& w : request->writes()) {
      ++writes;
      proto::KvWriteResult* result = reply->add_results();
      const Verdict v = Judge(w.range(), w.key());
      result->set_code(v.status.error_code());
      result->set_message(v.status.error_message());
      result->set_stale_map(v.stale_map);
      result->set_has_leader_hint(!v.leader.empty());
      result->set_leader_hint(v.leader);
      if (!v.status.ok()) continue;
      if (w.is_delete()) {
        data.erase(w.key());
      } else {
        data[w.key()] = w.value();
      }
    }
    return grpc::Status::OK;
  }

  // A request's fate, with the markers its reply carries.
  struct Verdict {
    grpc::Status status;
    std::string leader;
    bool stale_map = false;
  };

  Verdict Judge(const proto::RangeRef& range, const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (!leader.empty()) {
      return {grpc::Status(grpc::StatusCode::UNAVAILABLE, "not the leader"), leader, false};
    }
    if (range.generation() != generation) {
      return {grpc::Status(grpc::StatusCode::UNAVAILABLE, "stale generation"), "", true};
    }
    if (plain_unavailable > 0) {
      --plain_unavailable;
      return {grpc::Status(grpc::StatusCode::UNAVAILABLE, "lost leadership"), "", false};
    }
    if (key.empty())
      return {grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "empty key"), "", false};
    return {};
  }

  grpc::Status Check(grpc::ServerContext* context, const proto::RangeRef& range,
                     const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    Verdict v = Judge(range, key);
    if (!v.leader.empty()) context->AddTrailingMetadata("meridian-leader", v.leader);
    if (v.stale_map) context->AddTrailingMetadata("meridian-stale-map", "1");
    return v.status;
  }

  absl::Mutex mu;
  std::map<std::string, std::string> data ABSL_GUARDED_BY(mu);
  std::string leader ABSL_GUARDED_BY(mu);  // non-empty: a follower naming this leader
  uint64_t generation ABSL_GUARDED_BY(mu) = 1;
  int plain_unavailable ABSL_GUARDED_BY(mu) = 0;  // fail this many calls without markers
  size_t page ABSL_GUARDED_BY(mu) = 1000;
  int writes ABSL_GUARDED_BY(mu) = 0;
  int reads ABSL_GUARDED_BY(mu) = 0;
  bool no_write_batch ABSL_GUARDED_BY(mu) = false;  // answer WriteBatch UNIMPLEMENTED
  std::string protocol ABSL_GUARDED_BY(mu);         // "meridian-protocol" of the last WriteBatch
  bool hold_first_batch ABSL_GUARDED_BY(mu) = false;
  bool release_first_batch ABSL_GUARDED_BY(mu) = false;
  int batches ABSL_GUARDED_BY(mu) = 0;
  int largest_batch ABSL_GUARDED_BY(mu) = 0;
};

struct Server {
  explicit Server(grpc::Service* service) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service);
    server = builder.BuildAndStart();
    address = absl::StrCat("127.0.0.1:", port);
  }
  ~Server() { server->Shutdown(); }
  std::unique_ptr<grpc::Server> server;
  std::string address;
};

ClientOptions FastOptions() {
  ClientOptions options;
  options.deadline = std::chrono::milliseconds(3000);
  options.attempt_timeout = std::chrono::milliseconds(1000);
  options.backoff_initial = std::chrono::milliseconds(1);
  options.backoff_max = std::chrono::milliseconds(5);
  return options;
}

// Placement plus two replicas of group 1 covering everything: `follower` names `leader`.
class FakeClusterTest : public ::testing::Test {
 protected:
  FakeClusterTest()
      : placement_server_(&placement_), follower_server_(&follower_), leader_server_(&leader_) {
    absl::MutexLock lock(&placement_.mu);
    placement_.ranges = {{"", "", 1, {follower_server_.address}}};
    absl::MutexLock follower_lock(&follower_.mu);
    follower_.leader = leader_server_.address;
  }

  std::unique_ptr<Client> Connect() {
    auto client = Client::Connect({placement_server_.address}, FastOptions());
    EXPECT_TRUE(client.ok()) << client.status();
    return *std::move(client);
  }

  FakePlacement placement_;
  FakeKv follower_;
  FakeKv leader_;
  Server placement_server_;
  Server follower_server_;
  Server leader_server_;
};

TEST_F(FakeClusterTest, PutGetDeleteFollowTheLeaderHint) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v").ok());
  absl::StatusOr<std::optional<std::string>> value = client->Get("k");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or("(none)"), "v");
  ASSERT_TRUE(client->Delete("k").ok());
  value = client->Get("k");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_FALSE(value->has_value());
  absl::MutexLock lock(&follower_.mu);
  EXPECT_EQ(follower_.writes, 1);  // the hint was cached after the first redirect
  EXPECT_EQ(follower_.reads, 0);
}

TEST_F(FakeClusterTest, AStaleMapRefreshesFromPlacement) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v1").ok());
  {
    absl::MutexLock lock(&placement_.mu);
    placement_.generation = 2;
    placement_.ranges[0].leaders = {leader_server_.address};
    EXPECT_EQ(placement_.locates, 1);
  }
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.generation = 2;
  }
  ASSERT_TRUE(client->Put("k", "v2").ok());
  absl::MutexLock lock(&placement_.mu);
  EXPECT_EQ(placement_.locates, 2);
}

TEST_F(FakeClusterTest, CallsNameTheProtocolVersion) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v").ok());
  absl::MutexLock lock(&leader_.mu);
  EXPECT_EQ(leader_.protocol, rpc::kProtocolVersionText);
}

TEST_F(FakeClusterTest, AWriteFailingWithoutMarkersIsReportedAsOutcomeUnknown) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v1").ok());
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.plain_unavailable = 1;
    leader_.writes = 0;
  }
  const absl::Status status = client->Put("k", "v2");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(IsOutcomeUnknown(status)) << status;
  EXPECT_TRUE(absl::StartsWith(status.message(), "outcome unknown")) << status;
  absl::MutexLock lock(&leader_.mu);
  EXPECT_EQ(leader_.writes, 1);  // not retried
}

TEST_F(FakeClusterTest, AReadFailingWithoutMarkersIsRetried) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v").ok());
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.plain_unavailable = 2;
  }
  absl::StatusOr<std::optional<std::string>> value = client->Get("k");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->value_or("(none)"), "v");
}

TEST_F(FakeClusterTest, InvalidArgumentIsReturnedAtOnce) {
  std::unique_ptr<Client> client = Connect();
  ASSERT_TRUE(client->Put("k", "v").ok());
  EXPECT_EQ(client->Put("", "v").code(), absl::StatusCode::kInvalidArgument);
  absl::MutexLock lock(&leader_.mu);
  EXPECT_EQ(leader_.writes, 2);
}

TEST_F(FakeClusterTest, AnUnreachableLeaderIsSkippedEvenForWrites) {
  {
    absl::MutexLock lock(&placement_.mu);
    placement_.ranges[0].leaders = {kDeadAddress, leader_server_.address};
  }
  std::unique_ptr<Client> client = Connect();
  const absl::Status status = client->Put("k", "v");
  EXPECT_TRUE(status.ok()) << status;
  absl::MutexLock lock(&leader_.mu);
  EXPECT_EQ(leader_.data["k"], "v");
}

// Writes made at once by many threads share WriteBatch RPCs while the first batch is held, and
// each write still gets its own answer: the empty keys fail, the rest are written.
TEST_F(FakeClusterTest, ConcurrentWritesShareBatchesAndEachGetsItsOwnResult) {
  ClientOptions options = FastOptions();
  options.write_batches_in_flight = 1;
  auto connected = Client::Connect({placement_server_.address}, options);
  ASSERT_TRUE(connected.ok()) << connected.status();
  std::unique_ptr<Client> client = *std::move(connected);
  ASSERT_TRUE(client->Put("warm", "up").ok());  // locate and learn the leader first
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.hold_first_batch = true;
    leader_.batches = 0;
  }
  constexpr int kThreads = 24;
  std::vector<absl::Status> results(kThreads);
  std::vector<std::thread> threads;
  auto key = [](int i) { return i % 3 == 0 ? std::string() : absl::StrCat("k", i); };
  threads.emplace_back([&] { results[0] = client->Put(key(0), "v0"); });
  {
    absl::MutexLock lock(&leader_.mu);
    auto first_arrived = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(leader_.mu) {
      return leader_.batches >= 1;
    };
    leader_.mu.Await(absl::Condition(&first_arrived));
  }
  for (int i = 1; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = i % 5 == 4 ? client->Delete(key(i)) : client->Put(key(i), "v"); });
  }
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.release_first_batch = true;
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&leader_.mu);
  for (int i = 0; i < kThreads; ++i) {
    if (i % 3 == 0) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kInvalidArgument) << i << ": " << results[i];
    } else {
      EXPECT_TRUE(results[i].ok()) << i << ": " << results[i];
      EXPECT_EQ(leader_.data.contains(key(i)), i % 5 != 4) << i;
    }
  }
  EXPECT_LE(leader_.batches, kThreads);
  std::cout << "largest batch: " << leader_.largest_batch << " writes, " << leader_.batches
            << " batches for " << kThreads << " writes\n";
}

// A server without WriteBatch (another version) is an error the caller sees, never a write
// applied some other way or an unknown outcome.
TEST_F(FakeClusterTest, AServerWithoutWriteBatchIsAClearError) {
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.no_write_batch = true;
  }
  std::unique_ptr<Client> client = Connect();
  const absl::Status status = client->Put("k", "v");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnimplemented) << status;
  EXPECT_FALSE(IsOutcomeUnknown(status));
  absl::MutexLock lock(&leader_.mu);
  EXPECT_TRUE(leader_.data.empty());
}

TEST_F(FakeClusterTest, ScansCrossRangesAndPages) {
  FakeKv second;
  Server second_server(&second);
  {
    absl::MutexLock lock(&placement_.mu);
    placement_.ranges = {{"", "m", 1, {leader_server_.address}},
                         {"m", "", 2, {second_server.address}}};
  }
  {
    absl::MutexLock lock(&leader_.mu);
    leader_.data = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
    leader_.page = 2;
  }
  {
    absl::MutexLock lock(&second.mu);
    second.data = {{"m", "4"}, {"x", "5"}};
  }
  std::unique_ptr<Client> client = Connect();
  auto rows = client->Scan("", "", 100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  std::string all;
  for (const auto& [k, v] : *rows) absl::StrAppend(&all, k, "=", v, " ");
  EXPECT_EQ(all, "a=1 b=2 c=3 m=4 x=5 ");
  rows = client->Scan("b", "n", 3);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ(rows->back().first, "m");
  rows = client->Scan("b", "c", 10);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->size(), 1u);
  EXPECT_EQ(client->Scan("b", "a", 10).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client->Scan("a", "", 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(FakeClusterTest, PlacementCallsFollowTheLeaderHint) {
  FakePlacement follower_placement;
  Server follower_placement_server(&follower_placement);
  {
    absl::MutexLock lock(&follower_placement.mu);
    follower_placement.redirect = placement_server_.address;
  }
  auto client = Client::Connect({follower_placement_server.address}, FastOptions());
  ASSERT_TRUE(client.ok());
  EXPECT_TRUE((*client)->Put("k", "v").ok());
}

TEST(ClientTest, UnreachablePlacementEndsAtTheDeadline) {
  ClientOptions options = FastOptions();
  options.deadline = std::chrono::milliseconds(300);
  auto client = Client::Connect({kDeadAddress}, options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ((*client)->Get("k").status().code(), absl::StatusCode::kDeadlineExceeded);
  const absl::Status put = (*client)->Put("k", "v");
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(put.message(), "not applied")) << put;
}

TEST(ClientTest, ConnectChecksItsArguments) {
  EXPECT_EQ(Client::Connect({}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Client::Connect({""}).status().code(), absl::StatusCode::kInvalidArgument);
  ClientOptions options;
  options.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(Client::Connect({"127.0.0.1:1"}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian
