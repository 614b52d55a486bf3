// A group's Paxos log: codec round trips and corruption errors, a replica that persists through
// GroupLogStorage and is rebuilt from it after a restart, and the migration of a log kept in
// LevelDB by an older server.
#include "replication/group_log_storage.h"

#include <gtest/gtest.h>
#include <leveldb/env.h>
#include <leveldb/helpers/memenv.h>

#include "spanserver/paxos/codec.h"
#include "spanserver/storage/write_batch.h"

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

class GroupLogStorageTest : public ::testing::Test {
 protected:
  GroupLogStorageTest() : env_(leveldb::NewMemEnv(leveldb::Env::Default())) {
    storage::EngineOptions eo;
    eo.env = env_.get();
    engine_ = *storage::Engine::Open("/db", eo);
    Reopen();
  }

  void Reopen() {
    log_.reset();
    storage::PaxosLogOptions lo;
    lo.env = env_.get();
    auto log = storage::PaxosLog::Open("/paxos_log", lo);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::PaxosLog> log_;
};

TEST_F(GroupLogStorageTest, AReplicaRestartsFromItsDurableLog) {
  Options o;
  o.group = 5;
  o.id = 1;
  o.members = {1};
  truetime::Interval now{1'000'000, 1'002'000};
  std::vector<Entry> applied;
  {
    GroupLogStorage log(log_.get(), 5);
    Replica r(o, &log, now);
    auto drive = [&] {
      while (r.HasReady()) {
        Ready ready = r.TakeReady();
        storage::PaxosLogBatch batch;
        log.AddToBatch(ready, &batch);
        ASSERT_TRUE(log_->Write(batch, /*sync=*/true).ok());
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
  Reopen();
  GroupLogStorage log(log_.get(), 5);
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

// A data directory written by a server that kept its Paxos logs in LevelDB: the logs move into
// the PaxosLog, whole, and leave LevelDB; a second run finds nothing more to move.
TEST_F(GroupLogStorageTest, LogsKeptInLevelDbAreMovedOutWhole) {
  ASSERT_TRUE(engine_->SetFormatVersion(1).ok());  // as the older server left it
  const HardState hs{Ballot{4, 2}, {1, 2, 3}, {}, 0};
  storage::WriteBatch old;
  old.SaveHardState(7, EncodeHardState(hs));
  old.SaveGroupRecord(kLegacyCompactionRecord, 7, EncodeLegacyCompaction(10));
  std::vector<Entry> entries;
  for (Index i = 11; i <= 40; ++i) {
    entries.push_back(Entry{i, Ballot{4, 2}, EntryType::kNormal, "command-" + std::to_string(i)});
    old.AppendLog(7, i, EncodeEntry(entries.back()));
  }
  old.SaveHardState(8, EncodeHardState(HardState{Ballot{1, 1}, {1}, {}, 0}));
  // Group 9's replica wrote its marker and nothing else yet.
  old.SaveReplicaMarker(9, "marker");
  ASSERT_TRUE(engine_->Write(old, true).ok());

  std::vector<std::string> notes;
  auto note = [&](const std::string& line) { notes.push_back(line); };
  ASSERT_TRUE(MigrateEngineLogs(engine_.get(), log_.get(), note).ok());
  EXPECT_EQ(notes.size(), 1u);
  Reopen();
  GroupLogStorage log(log_.get(), 7);
  EXPECT_EQ(log.LoadHardState(), hs);
  EXPECT_EQ(log.Compacted(), 10u);
  EXPECT_EQ(log.LastIndex(), 40u);
  EXPECT_EQ(log.Entries(11, 40, SIZE_MAX), entries);
  EXPECT_EQ(GroupLogStorage(log_.get(), 8).LoadHardState().promised, (Ballot{1, 1}));
  EXPECT_EQ(log_->Groups(), (std::vector<uint64_t>{7, 8, 9}));
  EXPECT_EQ(log_->HardState(9), EncodeHardState(HardState{}));
  EXPECT_EQ(engine_->format_version(), kPaxosLogFormat);
  // Gone from LevelDB.
  EXPECT_TRUE(engine_->ListGroups()->empty());
  EXPECT_FALSE(engine_->LoadGroupRecord(kLegacyCompactionRecord, 7)->has_value());
  notes.clear();
  ASSERT_TRUE(MigrateEngineLogs(engine_.get(), log_.get(), note).ok());
  EXPECT_TRUE(notes.empty());
}

}  // namespace
}  // namespace meridian::replication
