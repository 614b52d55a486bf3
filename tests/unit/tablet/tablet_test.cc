// TxnTablet, the data groups' state machine, on its non-transactional records: puts and deletes
// at their commit timestamps (through the round's batch when GroupHost gives one), idempotent
// re-apply (as after a restart), no-ops, and malformed commands. The engine runs on an in-memory
// Env; the replica is a lone one over an in-memory log (the tablet only needs it bound).
#include "spanserver/tablet/tablet.h"

#include <leveldb/env.h>
#include <leveldb/helpers/memenv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/kv.pb.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"
#include "spanserver/tablet/txn_tablet.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::tablet {
namespace {

constexpr uint64_t kTablet = 7;

class TabletTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    storage::EngineOptions options;
    options.env = env_.get();
    auto engine = storage::Engine::Open("/tablet_test", options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    auto source =
        truetime::MakeClockSource(truetime::ClockSourceKind::kFixed, {.fixed_epsilon_us = 1000});
    ASSERT_TRUE(source.ok()) << source.status();
    truetime_ =
        std::make_unique<truetime::TrueTime>(*std::move(source), truetime::TrueTime::Options{});
    paxos::Options o;
    o.group = kTablet;
    o.id = 1;
    o.members = {1};
    replica_ = std::make_unique<paxos::Replica>(o, &log_, truetime_->Now().value());
    Rebuild();
  }

  // A new tablet over the same engine, as after a restart.
  void Rebuild() {
    tablet_ = std::make_unique<TxnTablet>(kTablet, engine_.get(), truetime_.get(),
                                          txn::TransactionManagerOptions{}, TxnTablet::Hooks{});
    tablet_->Bind(replica_.get());
  }

  static paxos::Entry Normal(paxos::Index index, std::string command) {
    paxos::Entry entry;
    entry.index = index;
    entry.ballot = {1, 1};
    entry.command = std::move(command);
    return entry;
  }

  std::optional<std::string> Get(const std::string& key, Timestamp ts) {
    auto value = engine_->Get(kTablet, key, ts);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : std::nullopt;
  }

  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<truetime::TrueTime> truetime_;
  paxos::MemoryLogStorage log_;
  std::unique_ptr<paxos::Replica> replica_;
  std::unique_ptr<TxnTablet> tablet_;
};

TEST_F(TabletTest, PutAndDeleteWriteVersionsAtTheirCommitTimestamps) {
  auto r1 = tablet_->Apply(Normal(1, EncodePutCommand(100, "k", "v1")));
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(DecodeApplyResult(*r1).value(), 100);
  ASSERT_TRUE(tablet_->Apply(Normal(2, EncodePutCommand(200, "k", "v2"))).ok());
  auto r3 = tablet_->Apply(Normal(3, EncodeDeleteCommand(300, "k")));
  ASSERT_TRUE(r3.ok()) << r3.status();
  EXPECT_EQ(DecodeApplyResult(*r3).value(), 300);

  EXPECT_EQ(Get("k", 99), std::nullopt);
  EXPECT_EQ(Get("k", 100), "v1");
  EXPECT_EQ(Get("k", 250), "v2");
  EXPECT_EQ(Get("k", 300), std::nullopt);
  // Other tablets on the same engine see nothing.
  EXPECT_EQ(engine_->Get(kTablet + 1, "k", 250).value(), std::nullopt);
}

TEST_F(TabletTest, ApplyToBatchWritesOnlyThroughTheBatch) {
  storage::WriteBatch batch;
  auto r1 = tablet_->ApplyToBatch(Normal(1, EncodePutCommand(100, "k", "v1")), &batch,
                                  truetime_->Now().value());
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_EQ(DecodeApplyResult(*r1).value(), 100);
  auto r2 = tablet_->ApplyToBatch(Normal(2, EncodeDeleteCommand(200, "k")), &batch,
                                  truetime_->Now().value());
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(DecodeApplyResult(*r2).value(), 200);
  paxos::Entry noop;
  noop.index = 3;
  noop.type = paxos::EntryType::kNoop;
  ASSERT_TRUE(tablet_->ApplyToBatch(noop, &batch, truetime_->Now().value()).ok());
  auto bad = tablet_->ApplyToBatch(Normal(4, EncodePutCommand(500, "", "v")), &batch,
                                   truetime_->Now().value());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(batch.Count(), 2u);  // the put and the tombstone; nothing for the no-op or the error
  EXPECT_EQ(Get("k", 150), std::nullopt);  // nothing written yet

  ASSERT_TRUE(engine_->Write(batch, /*sync=*/false).ok());
  EXPECT_EQ(Get("k", 150), "v1");
  EXPECT_EQ(Get("k", 250), std::nullopt);
}

// A clock that has stopped agreeing with its peers: every read is UNAVAILABLE.
class UnavailableClockSource : public truetime::ClockSource {
 public:
  absl::StatusOr<truetime::ClockReading> Read() override {
    return absl::UnavailableError("this server's clock disagrees with its peers");
  }
  std::string Describe() const override { return "unavailable"; }
  void SleepFor(int64_t) override {}
};

// A committed entry is applied with the interval of the host's round, never a fresh TrueTime
// read: the clock may have become unavailable since the round began, and an apply error fences
// the group for good (the chaos suite found a group fenced that way after a clock step).
TEST_F(TabletTest, ApplyingUsesTheRoundsIntervalNotAFreshClockRead) {
  const truetime::Interval round = truetime_->Now().value();
  truetime::TrueTime lost(std::make_unique<UnavailableClockSource>(),
                          truetime::TrueTime::Options{});
  tablet_ = std::make_unique<TxnTablet>(kTablet, engine_.get(), &lost,
                                        txn::TransactionManagerOptions{}, TxnTablet::Hooks{});
  tablet_->Bind(replica_.get());
  storage::WriteBatch batch;
  auto applied = tablet_->ApplyToBatch(Normal(1, EncodePutCommand(100, "k", "v1")), &batch, round);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(batch.Count(), 1u);
  tablet_.reset();  // before `lost` goes
}

// Between ApplyToBatch and the host writing the round's batch, the manager already counts a
// record as applied (its timestamp is the group's newest), so a snapshot at that timestamp is
// served then; it must see the put although the engine does not hold it yet.
TEST_F(TabletTest, ReadsBeforeTheBatchIsWrittenSeeItsWrites) {
  storage::WriteBatch batch;
  ASSERT_TRUE(tablet_
                  ->ApplyToBatch(Normal(1, EncodePutCommand(100, "k", "v1")), &batch,
                                 truetime_->Now().value())
                  .ok());
  ASSERT_TRUE(tablet_
                  ->ApplyToBatch(Normal(2, EncodeDeleteCommand(200, "gone")), &batch,
                                 truetime_->Now().value())
                  .ok());
  auto read = [&](Timestamp ts, std::vector<std::string> keys) {
    std::optional<txn::Reply> got;
    txn::SnapshotReadRequest req;
    req.keys = std::move(keys);
    req.read_ts = ts;
    tablet_->SnapshotRead(*replica_, truetime_->Now().value(), req,
                          [&](txn::Reply r) { got = std::move(r); });
    EXPECT_TRUE(got.has_value() && got->status.ok()) << (got ? got->status.ToString() : "none");
    return got.has_value() ? got->values : std::vector<std::optional<std::string>>{};
  };
  EXPECT_EQ(Get("k", 150), std::nullopt);  // not in the engine yet
  EXPECT_EQ(read(150, {"k"}), (std::vector<std::optional<std::string>>{"v1"}));
  EXPECT_EQ(read(99, {"k"}), (std::vector<std::optional<std::string>>{std::nullopt}));

  ASSERT_TRUE(engine_->Write(batch, /*sync=*/false).ok());
  tablet_->Written();
  EXPECT_EQ(read(150, {"k"}), (std::vector<std::optional<std::string>>{"v1"}));
  // The batch's writes are served by the engine from here on.
  ASSERT_TRUE(tablet_
                  ->ApplyToBatch(Normal(3, EncodePutCommand(300, "k", "v3")), &batch,
                                 truetime_->Now().value())
                  .ok());
  EXPECT_EQ(read(300, {"k"}), (std::vector<std::optional<std::string>>{"v3"}));
  EXPECT_EQ(read(250, {"k"}), (std::vector<std::optional<std::string>>{"v1"}));
}

// Scans merge the unwritten batch's versions with the engine's rows: a pending put adds or
// replaces a row, a pending delete hides one, and the limit counts merged rows.
TEST_F(TabletTest, ScansBeforeTheBatchIsWrittenMergeItsWrites) {
  // Records take effect in increasing timestamp order: 100..103, then the batch's 200..203.
  paxos::Index index = 0;
  for (const char* key : {"a", "c", "e", "g"}) {
    ASSERT_TRUE(tablet_->Apply(Normal(index + 1, EncodePutCommand(100 + index, key, "old"))).ok());
    ++index;
  }
  storage::WriteBatch batch;
  for (const std::string& command :
       {EncodePutCommand(200, "b", "new"), EncodeDeleteCommand(201, "c"),
        EncodePutCommand(202, "e", "new"), EncodePutCommand(203, "z", "new")}) {
    ASSERT_TRUE(
        tablet_->ApplyToBatch(Normal(++index, command), &batch, truetime_->Now().value()).ok());
  }
  auto scan = [&](Timestamp ts, const std::string& start, const std::string& end, uint32_t limit) {
    std::optional<txn::Reply> got;
    txn::SnapshotReadRequest req;
    req.read_ts = ts;
    req.scan = txn::ScanSpan{txn::KeyRange{start, end}, limit};
    tablet_->SnapshotRead(*replica_, truetime_->Now().value(), req,
                          [&](txn::Reply r) { got = std::move(r); });
    EXPECT_TRUE(got.has_value() && got->status.ok()) << (got ? got->status.ToString() : "none");
    std::string rows;
    if (got.has_value()) {
      for (const txn::Row& row : got->rows) rows += row.key + "=" + row.value + " ";
      if (got->more) rows += "more";
    }
    return rows;
  };
  // Safe time is the newest record's timestamp, 203: snapshots up to it are served at once.
  EXPECT_EQ(scan(203, "", "", 100), "a=old b=new e=new g=old z=new ");
  EXPECT_EQ(scan(150, "", "", 100), "a=old c=old e=old g=old ");  // before the batch
  EXPECT_EQ(scan(203, "b", "g", 100), "b=new e=new ");
  EXPECT_EQ(scan(203, "", "", 3), "a=old b=new e=new more");
  EXPECT_EQ(scan(203, "f", "", 1), "g=old more");
  ASSERT_TRUE(engine_->Write(batch, /*sync=*/false).ok());
  tablet_->Written();
  EXPECT_EQ(scan(203, "", "", 100), "a=old b=new e=new g=old z=new ");
}

TEST_F(TabletTest, TransactionRecordsRideTheBatchToo) {
  proto::TabletCommand commit;
  commit.set_commit_ts(100);
  commit.mutable_txn_commit()->set_txn(9);
  proto::Mutation* m = commit.mutable_txn_commit()->add_writes();
  m->set_key("k");
  m->set_value("txn");
  storage::WriteBatch batch;
  auto result = tablet_->ApplyToBatch(Normal(1, commit.SerializeAsString()), &batch,
                                      truetime_->Now().value());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(batch.Count(), 1u);
  EXPECT_EQ(Get("k", 100), std::nullopt);
  ASSERT_TRUE(engine_->Write(batch, /*sync=*/false).ok());
  tablet_->Written();
  EXPECT_EQ(Get("k", 100), "txn");
}

TEST_F(TabletTest, ReapplyingTheLogFromTheStartIsIdempotent) {
  const paxos::Entry log[] = {
      Normal(1, EncodePutCommand(10, "a", "1")), Normal(2, EncodePutCommand(20, "b", "2")),
      Normal(3, EncodeDeleteCommand(30, "a")), Normal(4, EncodePutCommand(40, "a", "3"))};
  for (const paxos::Entry& entry : log) ASSERT_TRUE(tablet_->Apply(entry).ok());
  // A restart rebuilds the state machine and applies every committed entry again.
  Rebuild();
  for (const paxos::Entry& entry : log) {
    auto result = tablet_->Apply(entry);
    ASSERT_TRUE(result.ok()) << result.status();
  }
  auto rows = engine_->Scan(kTablet, "", "", 1000);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0], (storage::KeyValue{"a", "3"}));
  EXPECT_EQ((*rows)[1], (storage::KeyValue{"b", "2"}));
  EXPECT_EQ(Get("a", 35), std::nullopt);
  EXPECT_EQ(Get("a", 15), "1");
}

TEST_F(TabletTest, NoopChangesNothing) {
  paxos::Entry noop;
  noop.index = 1;
  noop.type = paxos::EntryType::kNoop;
  auto result = tablet_->Apply(noop);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(*result, "");
  EXPECT_FALSE(DecodeApplyResult(*result).ok());
  EXPECT_TRUE(engine_->Scan(kTablet, "", "", storage::Timestamp{1} << 60).value().empty());
}

TEST_F(TabletTest, MalformedCommandsAreErrorsAndWriteNothing) {
  proto::TabletCommand no_op;
  no_op.set_commit_ts(5);
  proto::TabletCommand zero_ts;
  zero_ts.mutable_put()->set_key("k");
  const std::string bad[] = {
      "\xff\xff garbage",            // does not parse
      no_op.SerializeAsString(),     // no operation
      zero_ts.SerializeAsString(),   // no commit timestamp
      EncodePutCommand(5, "", "v"),  // empty key
      EncodeDeleteCommand(5, ""),
  };
  for (const std::string& command : bad) {
    auto result = tablet_->Apply(Normal(1, command));
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
  }
  EXPECT_TRUE(engine_->Scan(kTablet, "", "", storage::Timestamp{1} << 60).value().empty());
}

TEST(ApplyResultTest, RoundTrips) {
  EXPECT_EQ(DecodeApplyResult(EncodeApplyResult(1'700'000'000'000'000)).value(),
            1'700'000'000'000'000);
  EXPECT_EQ(DecodeApplyResult("12x").status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace meridian::tablet
