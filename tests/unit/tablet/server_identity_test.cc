// DataDirIdentity and PrepareReplica on a real directory and LevelDB: a new directory draws an
// incarnation once; a new replica writes its marker before it may vote; a database that lost a
// replica's state (or is someone else's) keeps that replica down; a lost identity file is rebuilt
// from the database.
#include "spanserver/server/server_identity.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "replication/group_log_storage.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::spanserver {
namespace {

class ServerIdentityTest : public ::testing::Test {
 protected:
  ServerIdentityTest()
      : dir_(std::filesystem::path(::testing::TempDir()) /
             ("server_identity_test_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    OpenEngine();
  }
  ~ServerIdentityTest() override {
    log_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenEngine() {
    engine_.reset();
    auto engine = storage::Engine::Open((dir_ / "db").string());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    log_.reset();
    auto log = storage::PaxosLog::Open((dir_ / "paxos_log").string());
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
  }

  DataDirIdentity Load(uint64_t fresh, std::string* note) {
    absl::StatusOr<DataDirIdentity> identity =
        LoadOrCreateIdentity(dir_.string(), engine_.get(), fresh, note);
    EXPECT_TRUE(identity.ok()) << identity.status();
    return identity.value_or(DataDirIdentity{});
  }

  std::filesystem::path dir_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<storage::PaxosLog> log_;
};

TEST(DataDirIdentityCodecTest, RoundTripsAndRejectsGarbage) {
  const DataDirIdentity identity{7, 0xFEEDull, {1, 5, 9}};
  const std::string text = EncodeIdentity(identity);
  EXPECT_EQ(text, "meridian-identity 1\nserver_id 7\nincarnation 000000000000feed\ngroups 1,5,9\n");
  EXPECT_EQ(*DecodeIdentity("f", text), identity);
  EXPECT_EQ(*DecodeIdentity("f", EncodeIdentity({0, 3, {}})), (DataDirIdentity{0, 3, {}}));
  for (const std::string bad :
       {"", "7\n", "meridian-identity 1\nserver_id x\nincarnation 1\ngroups \n",
        "meridian-identity 1\nserver_id 7\nincarnation 0\ngroups \n",
        "meridian-identity 1\nserver_id 7\nincarnation 1\ngroups 1,,2\n"}) {
    EXPECT_EQ(DecodeIdentity("f", bad).status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

TEST_F(ServerIdentityTest, ANewDirectoryDrawsItsIncarnationOnce) {
  std::string note;
  const DataDirIdentity first = Load(0xA1, &note);
  EXPECT_EQ(first, (DataDirIdentity{0, 0xA1, {}}));
  EXPECT_NE(note.find("new data directory"), std::string::npos) << note;
  // Restarted before registering: the same incarnation is offered again.
  EXPECT_EQ(Load(0xB2, &note), first);
  EXPECT_EQ(note, "");
}

TEST_F(ServerIdentityTest, ANewReplicaWritesItsMarkerAndIsRememberedBeforeItStarts) {
  std::string note;
  DataDirIdentity identity = Load(0xA1, &note);
  identity.server_id = 3;
  ASSERT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11),
            paxos::ReplicaStart::kFresh);
  EXPECT_EQ(identity.groups, std::set<uint64_t>{11});
  EXPECT_EQ(Load(0, &note), identity) << "the identity file lists the group";
  absl::StatusOr<std::optional<std::string>> marker = engine_->LoadReplicaMarker(11);
  ASSERT_TRUE(marker.ok() && marker->has_value());
  EXPECT_EQ(*paxos::DecodeReplicaMarker(11, **marker), (paxos::ReplicaMarker{11, 3, 0xA1}));
  // A restart recovers it.
  EXPECT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11),
            paxos::ReplicaStart::kRecover);
}

TEST_F(ServerIdentityTest, AWipedDatabaseKeepsTheReplicasItHostedDown) {
  std::string note;
  DataDirIdentity identity = Load(0xA1, &note);
  identity.server_id = 3;
  ASSERT_TRUE(PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11).ok());
  log_.reset();
  engine_.reset();
  std::filesystem::remove_all(dir_ / "db");
  std::filesystem::remove_all(dir_ / "paxos_log");
  OpenEngine();
  absl::StatusOr<paxos::ReplicaStart> start =
      PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11);
  EXPECT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(engine_->LoadReplicaMarker(11)->has_value()) << "no marker was written";
  // A group it never hosted may still start.
  EXPECT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 12),
            paxos::ReplicaStart::kFresh);
}

// The Paxos log lives beside the database (DATA_DIR/paxos_log): losing it alone is a loss too.
TEST_F(ServerIdentityTest, AWipedPaxosLogKeepsTheReplicasItHostedDown) {
  std::string note;
  DataDirIdentity identity = Load(0xA1, &note);
  identity.server_id = 3;
  ASSERT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11),
            paxos::ReplicaStart::kFresh);
  // Restarted with its log: it recovers, though it never persisted more than the empty state.
  OpenEngine();
  EXPECT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11),
            paxos::ReplicaStart::kRecover);
  log_.reset();
  std::filesystem::remove_all(dir_ / "paxos_log");
  OpenEngine();
  absl::StatusOr<paxos::ReplicaStart> start =
      PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11);
  EXPECT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(start.status().message().find("Paxos log"), std::string_view::npos) << start.status();
}

TEST_F(ServerIdentityTest, ALostIdentityFileIsRebuiltFromTheDatabase) {
  std::string note;
  DataDirIdentity identity = Load(0xA1, &note);
  identity.server_id = 3;
  ASSERT_TRUE(PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11).ok());
  ASSERT_TRUE(PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 12).ok());
  std::filesystem::remove(IdentityPath(dir_.string()));
  EXPECT_EQ(Load(0xB2, &note), identity);
  EXPECT_NE(note.find("rebuilt from the database"), std::string::npos) << note;
}

TEST_F(ServerIdentityTest, ADirectoryFromBeforeIdentitiesIsAdoptedWithItsGroups) {
  std::ofstream(dir_ / "server_id") << "7\n";
  ASSERT_TRUE(engine_->SetFormatVersion(1).ok());  // as the older server left it
  storage::WriteBatch batch;
  batch.SaveHardState(3, paxos::EncodeHardState(paxos::HardState{paxos::Ballot{1, 7}, {7}, {}, 0}));
  batch.AppendLog(
      4, 1,
      paxos::EncodeEntry(paxos::Entry{1, paxos::Ballot{1, 7}, paxos::EntryType::kNormal, "x"}));
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  std::string note;
  DataDirIdentity identity = Load(0xA1, &note);
  EXPECT_EQ(identity, (DataDirIdentity{7, 0xA1, {3, 4}}));
  EXPECT_NE(note.find("adopted"), std::string::npos) << note;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "server_id"));
  // Then the server moves the logs out of LevelDB (replication::MigrateEngineLogs).
  ASSERT_TRUE(
      replication::MigrateEngineLogs(engine_.get(), log_.get(), [](const std::string&) {}).ok());
  EXPECT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 3),
            paxos::ReplicaStart::kRecover);
  EXPECT_EQ(*PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 4),
            paxos::ReplicaStart::kRecover);
}

TEST_F(ServerIdentityTest, SomeoneElsesDatabaseIsRefused) {
  storage::WriteBatch batch;
  batch.SaveReplicaMarker(11, paxos::EncodeReplicaMarker({11, 3, 0xC3}));
  ASSERT_TRUE(engine_->Write(batch, true).ok());
  storage::PaxosLogBatch hard_states;
  hard_states.SaveHardState(11, "hs");
  hard_states.SaveHardState(12, "hs");
  ASSERT_TRUE(log_->Write(hard_states, true).ok());
  DataDirIdentity identity{3, 0xA1, {}};
  EXPECT_EQ(PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 11).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Paxos state without any marker (group 12): whose it is cannot be told.
  EXPECT_EQ(PrepareReplica(dir_.string(), engine_.get(), log_.get(), &identity, 12).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace meridian::spanserver
