// The Paxos log on the storage engine: codec round trips and corruption errors, and a replica
// that persists through EngineLogStorage and is rebuilt from it after a restart.
#include "replication/engine_log_storage.h"

#include <gtest/gtest.h>
#include <leveldb/env.h>
#include <leveldb/helpers/memenv.h>

#include "spanserver/paxos/codec.h"

namespace meridian::replication {
namespace {

using namespace ::meridian::paxos;  // NOLINT: the test speaks Paxos throughout

TEST(CodecTest, EntriesAndHardStateRoundTrip) {
  const Entry e{42, Ballot{7, 3}, EntryType::kNormal, std::string("a\0b", 3)};
  auto decoded = DecodeEntry(42, EncodeEntry(e));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, e);
  const HardState hs{Ballot{9, 2}, {1, 2, 3}, {4}, 17};
  auto hs2 = DecodeHardState(EncodeHardState(hs));
  ASSERT_TRUE(hs2.ok());
  EXPECT_EQ(*hs2, hs);
  const Config config{{1, 2, 3}, {5, 6}};
  auto config2 = DecodeConfig(EncodeConfig(config));
  ASSERT_TRUE(config2.ok());
  EXPECT_EQ(*config2, config);
}

TEST(CodecTest, AVersionOneHardStateStillReads) {
  // version 1, promised (3, 2), two members: 1 and 2 (little-endian fixed width).
  std::string v1("\x01", 1);
  v1 += std::string("\x03\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16);
  v1 += std::string("\x02\0\0\0", 4);
  v1 += std::string("\x01\0\0\0\0\0\0\0\x02\0\0\0\0\0\0\0", 16);
  auto hs = DecodeHardState(v1);
  ASSERT_TRUE(hs.ok()) << hs.status();
  EXPECT_EQ(hs->promised, (Ballot{3, 2}));
  EXPECT_EQ(hs->members, (std::vector<ReplicaId>{1, 2}));
  EXPECT_TRUE(hs->learners.empty());
  EXPECT_EQ(hs->config_index, 0u);
}

TEST(CodecTest, MalformedRecordsAreDataLoss) {
  std::string bytes = EncodeEntry(Entry{1, Ballot{1, 1}, EntryType::kNormal, "x"});
  EXPECT_EQ(DecodeEntry(1, bytes.substr(0, 5)).status().code(), absl::StatusCode::kDataLoss);
  bytes[0] = 9;
  EXPECT_EQ(DecodeEntry(1, bytes).status().code(), absl::StatusCode::kDataLoss);
  std::string hs = EncodeHardState(HardState{Ballot{1, 1}, {1, 2}, {}, 0});
  EXPECT_EQ(DecodeConfig("\x01").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(DecodeHardState(hs.substr(0, hs.size() - 1)).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST(EngineLogStorageTest, AReplicaRestartsFromItsDurableLog) {
  std::unique_ptr<leveldb::Env> env(leveldb::NewMemEnv(leveldb::Env::Default()));
  storage::EngineOptions eo;
  eo.env = env.get();
  auto engine = storage::Engine::Open("/paxos-db", eo);
  ASSERT_TRUE(engine.ok()) << engine.status();
  Options o;
  o.group = 5;
  o.id = 1;
  o.members = {1};
  truetime::Interval now{1'000'000, 1'002'000};
  std::vector<Entry> applied;
  {
    EngineLogStorage log(engine->get(), 5);
    Replica r(o, &log, now);
    auto drive = [&] {
      while (r.HasReady()) {
        Ready ready = r.TakeReady();
        storage::WriteBatch batch;
        log.AddToBatch(ready, &batch);
        ASSERT_TRUE((*engine)->Write(batch, /*sync=*/true).ok());
        for (const Entry& e : ready.committed) applied.push_back(e);
        r.Advance(now);
      }
    };
    r.Campaign(now);
    drive();
    ASSERT_EQ(r.role(), Role::kLeader);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(r.Propose("cmd" + std::to_string(i), now).ok());
    drive();
    EXPECT_EQ(r.commit(), 6u);
  }
  EngineLogStorage log(engine->get(), 5);
  EXPECT_EQ(log.LastIndex(), 6u);
  EXPECT_EQ(log.LoadHardState().members, std::vector<ReplicaId>{1});
  EXPECT_EQ(log.LoadHardState().promised.replica, 1u);
  EXPECT_EQ(log.Entries(1, 6, SIZE_MAX).size(), 6u);
  ASSERT_TRUE(log.Get(3).has_value());
  EXPECT_EQ(*log.Get(3), applied[2]);
  EXPECT_FALSE(log.Get(7).has_value());
  Replica restarted(o, &log, now);
  EXPECT_EQ(restarted.last_index(), 6u);
  EXPECT_EQ(restarted.hard_state().promised, Ballot({1, 1}));
}

}  // namespace
}  // namespace meridian::replication
