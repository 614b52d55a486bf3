// Integration: reads and writes through the SDK on a real 3-zone cluster, and bad requests.
//
// Cluster: placementd (1 replica) + 3 spanservers (zone-a, zone-b, zone-c), 8 ranges = 8 groups,
// lease 1 s, TrueTime fixed epsilon 1 ms. No faults.
// Workload: 100 keys whose first bytes spread them over all 8 ranges; puts, gets, scans, a delete;
// then malformed and misrouted requests, through the SDK and through a raw Kv stub; a commit
// over all 8 groups after every group's leadership moved behind the client's back.
// Checker: every read returns the last acknowledged value; scans return exactly the keys in
// [start, end) in order across range boundaries; each bad request gets the documented code (and
// "meridian-stale-map" for misrouted ones) and changes nothing.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/kv.grpc.pb.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

constexpr int kKeys = 100;

std::string Key(int i) { return KeyWithFirstByte(i * 256 / kKeys, absl::StrCat("key-", 1000 + i)); }

class ReadWriteTest : public ClusterFixture {};

TEST_F(ReadWriteTest, WritesReadsAndScansAcrossRanges) {
  StartCluster(21100);
  std::map<std::string, std::string> expected;
  for (int i = 0; i < kKeys; ++i) {
    const std::string value = absl::StrCat("value-", i);
    ASSERT_TRUE(client_->Put(Key(i), value).ok()) << i;
    expected[Key(i)] = value;
  }
  for (const auto& [key, value] : expected) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(key);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, value) << EscapeBytes(key);
  }
  absl::StatusOr<std::optional<std::string>> missing = client_->Get("no-such-key");
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());

  // The whole key space: all 100 keys, in order, spread over the 8 ranges.
  auto all = client_->Scan("", "", 1000);
  ASSERT_TRUE(all.ok()) << all.status();
  using Rows = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(Rows(expected.begin(), expected.end()), *all);

  // A sub-range crossing several range boundaries, and a limit.
  auto middle = client_->Scan(Key(10), Key(60), 1000);
  ASSERT_TRUE(middle.ok()) << middle.status();
  ASSERT_EQ(middle->size(), 50u);
  EXPECT_EQ(middle->front().first, Key(10));
  EXPECT_EQ(middle->back().first, Key(59));
  auto limited = client_->Scan(Key(10), "", 7);
  ASSERT_TRUE(limited.ok()) << limited.status();
  ASSERT_EQ(limited->size(), 7u);
  EXPECT_EQ(limited->back().first, Key(16));

  // Overwrite and delete.
  ASSERT_TRUE(client_->Put(Key(5), "new").ok());
  ASSERT_TRUE(client_->Delete(Key(6)).ok());
  EXPECT_EQ(*client_->Get(Key(5)), std::optional<std::string>("new"));
  EXPECT_EQ(*client_->Get(Key(6)), std::nullopt);
  auto after = client_->Scan("", "", 1000);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->size(), static_cast<size_t>(kKeys - 1));
}

// A raw Kv call, for requests the SDK would never send.
struct RawResult {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message = "";
  std::string stale_map = "";  // trailing "meridian-stale-map", "" if absent
};

template <typename Request, typename Response, typename Method>
RawResult CallRaw(const std::string& address, Method method, const Request& request) {
  auto stub = proto::Kv::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  Response response;
  const grpc::Status status = ((*stub).*method)(&context, request, &response);
  RawResult result{.code = status.error_code(), .message = status.error_message()};
  const auto& trailers = context.GetServerTrailingMetadata();
  if (auto it = trailers.find("meridian-stale-map"); it != trailers.end()) {
    result.stale_map.assign(it->second.data(), it->second.size());
  }
  return result;
}

TEST_F(ReadWriteTest, BadRequestsGetClearErrorsAndChangeNothing) {
  StartCluster(21200);
  const std::string key = Key(42);
  ASSERT_TRUE(client_->Put(key, "original").ok());

  // Through the SDK.
  const absl::Status empty_put = client_->Put("", "v");
  EXPECT_EQ(empty_put.code(), absl::StatusCode::kInvalidArgument) << empty_put;
  EXPECT_EQ(client_->Get("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Delete("").code(), absl::StatusCode::kInvalidArgument);
  const std::string oversized(1024 * 1024 + 1, 'x');
  const absl::Status big = client_->Put(key, oversized);
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument) << big;
  EXPECT_EQ(client_->Put(std::string(4097, 'k'), "v").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(client_->Scan("b", "a", 10).status().code(), absl::StatusCode::kInvalidArgument);

  // Raw requests at the leader of the key's group.
  absl::StatusOr<Topology> topology = client_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  RangeInfo range;
  for (const RangeInfo& r : topology->ranges) {
    if (r.start <= key && (r.end.empty() || key < r.end)) range = r;
  }
  ASSERT_NE(range.group, 0u);
  absl::StatusOr<std::string> leader = cluster_->GroupLeader(range.group);
  ASSERT_TRUE(leader.ok()) << leader.status();
  const std::string address = cluster_->address(*leader);

  auto put = [&](uint64_t group, uint64_t generation, const std::string& k, const std::string& v) {
    proto::PutRequest request;
    request.mutable_range()->set_group(group);
    request.mutable_range()->set_generation(generation);
    request.set_key(k);
    request.set_value(v);
    return CallRaw<proto::PutRequest, proto::PutResponse>(address, &proto::Kv::Stub::Put, request);
  };
  // The control: the right group and generation work.
  EXPECT_EQ(put(range.group, range.generation, key, "original").code, grpc::StatusCode::OK);

  const RawResult wrong_group = put(range.group + 1000, range.generation, key, "bad");
  EXPECT_EQ(wrong_group.code, grpc::StatusCode::UNAVAILABLE) << wrong_group.message;
  EXPECT_EQ(wrong_group.stale_map, "1");
  const RawResult wrong_generation = put(range.group, range.generation + 7, key, "bad");
  EXPECT_EQ(wrong_generation.code, grpc::StatusCode::UNAVAILABLE) << wrong_generation.message;
  EXPECT_EQ(wrong_generation.stale_map, "1");
  // A key outside the group's range.
  const std::string outside = KeyWithFirstByte(
      static_cast<unsigned char>(range.start.empty() ? 0 : range.start[0]) < 0x80 ? 0xf5 : 0x05,
      "outside");
  const RawResult wrong_key = put(range.group, range.generation, outside, "bad");
  EXPECT_EQ(wrong_key.code, grpc::StatusCode::UNAVAILABLE) << wrong_key.message;
  EXPECT_EQ(wrong_key.stale_map, "1");
  const RawResult empty_key = put(range.group, range.generation, "", "bad");
  EXPECT_EQ(empty_key.code, grpc::StatusCode::INVALID_ARGUMENT) << empty_key.message;
  const RawResult raw_big = put(range.group, range.generation, key, oversized);
  EXPECT_EQ(raw_big.code, grpc::StatusCode::INVALID_ARGUMENT) << raw_big.message;

  proto::GetRequest get;
  get.mutable_range()->set_group(range.group + 1000);
  get.mutable_range()->set_generation(range.generation);
  get.set_key(key);
  const RawResult stale_get =
      CallRaw<proto::GetRequest, proto::GetResponse>(address, &proto::Kv::Stub::Get, get);
  EXPECT_EQ(stale_get.code, grpc::StatusCode::UNAVAILABLE) << stale_get.message;
  EXPECT_EQ(stale_get.stale_map, "1");

  // Nothing changed.
  EXPECT_EQ(*client_->Get(key), std::optional<std::string>("original"));
  EXPECT_EQ(*client_->Get(outside), std::nullopt);
  auto all = client_->Scan("", "", 1000);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front(), std::make_pair(key, std::string("original")));
}

// A many-group commit whose cached leaders are stale but alive: a server is killed, its groups
// fail over and the client commits (caching the interim leaders); the server restarts and takes
// its groups back (it is their preferred leader). The next commit's first Prepare attempts reach
// the interim leaders, are told the new ones, and must be sent again there.
// Checker: both commits succeed and every key reads the second commit's value.
TEST_F(ReadWriteTest, ManyGroupCommitFollowsLeadersThatMoved) {
  StartCluster(21400);
  std::vector<std::string> keys;
  for (int range = 0; range < 8; ++range) keys.push_back(KeyWithFirstByte(range * 32 + 1, "txn"));
  auto commit_all = [&](const std::string& value) {
    std::vector<Mutation> mutations;
    for (const std::string& k : keys) mutations.push_back(Mutation::Put(k, value));
    return client_->Commit(std::move(mutations));
  };
  // Leaders as placement reports them (cluster_ asks it directly: client_'s cache is untouched).
  auto leaders = [&] {
    std::map<uint64_t, uint64_t> leader_of;
    absl::StatusOr<proto::Topology> t = cluster_->GetTopology();
    if (t.ok()) {
      for (const proto::GroupInfo& g : t->groups()) leader_of[g.id()] = g.leader();
    }
    return leader_of;
  };
  // The victim: the server leading the most groups, once placement has heard of every leader.
  std::map<uint64_t, uint64_t> leader_of;
  ASSERT_TRUE(WaitFor(absl::Seconds(30), [&] {
    leader_of = leaders();
    for (const auto& [group, leader] : leader_of) {
      if (leader == 0) return false;
    }
    return !leader_of.empty();
  })) << "placement did not report every group's leader";
  std::map<uint64_t, std::set<uint64_t>> groups_led_by;
  for (const auto& [group, leader] : leader_of) groups_led_by[leader].insert(group);
  uint64_t victim_id = groups_led_by.begin()->first;
  for (const auto& [server, groups] : groups_led_by) {
    if (groups.size() > groups_led_by[victim_id].size()) victim_id = server;
  }
  const std::set<uint64_t> victim_groups = groups_led_by[victim_id];
  absl::StatusOr<proto::Topology> topology = cluster_->GetTopology();
  ASSERT_TRUE(topology.ok()) << topology.status();
  const std::string victim = cluster_->ServerName(*topology, victim_id);
  ASSERT_FALSE(victim.empty()) << "no process for server " << victim_id;

  ASSERT_TRUE(cluster_->Kill(victim).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(30),
                      [&] {
                        for (const auto& [group, leader] : leaders()) {
                          if (leader == 0 || leader == victim_id) return false;
                        }
                        return true;
                      }))
      << "the groups of " << victim << " did not fail over";
  absl::StatusOr<int64_t> first = commit_all("v1");
  ASSERT_TRUE(first.ok()) << first.status();

  ASSERT_TRUE(cluster_->Restart(victim).ok());
  ASSERT_TRUE(WaitFor(absl::Seconds(60),
                      [&] {
                        const std::map<uint64_t, uint64_t> now = leaders();
                        for (uint64_t group : victim_groups) {
                          auto it = now.find(group);
                          if (it == now.end() || it->second != victim_id) return false;
                        }
                        return true;
                      }))
      << victim << " did not take its groups back";

  absl::StatusOr<int64_t> second = commit_all("v2");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);
  for (const std::string& k : keys) {
    absl::StatusOr<std::optional<std::string>> got = client_->Get(k);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(*got, std::optional<std::string>("v2")) << EscapeBytes(k);
  }
}

}  // namespace
}  // namespace meridian::integration
