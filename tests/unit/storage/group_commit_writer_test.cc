// GroupCommitWriter: many threads' batches are all written and completed, merged into fewer
// LevelDB writes; a merged write is synced if any member asked; the queue bound; shutdown drains.
#include "spanserver/storage/group_commit_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/unit/storage/fault_injection_env.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using testing::EnvKind;
using testing::FaultInjectionEnv;
using testing::StoreLocation;

std::unique_ptr<Engine> OpenOrDie(const StoreLocation& location, leveldb::Env* env = nullptr) {
  absl::StatusOr<std::unique_ptr<Engine>> engine = location.Open(env);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::move(*engine) : nullptr;
}

WriteBatch OneKey(uint64_t tablet, const std::string& key, const std::string& value) {
  WriteBatch batch;
  batch.Put(tablet, key, 1, value);
  return batch;
}

// Runs the next batch's callback on the writer thread and blocks it there until Release(), so a
// test can pile up a queue deterministically.
class WriterBlocker {
 public:
  void Block(GroupCommitWriter& writer) {
    ASSERT_TRUE(writer
                    .Submit(OneKey(999, "blocker", "b"), false,
                            [this](absl::Status) {
                              entered_.Notify();
                              release_.WaitForNotification();
                            })
                    .ok());
    entered_.WaitForNotification();
  }
  void Release() { release_.Notify(); }

 private:
  absl::Notification entered_;
  absl::Notification release_;
};

TEST(GroupCommitWriterTest, ManyThreadsAllCompleteAndAllIsDurable) {
  StoreLocation location(EnvKind::kDisk);
  std::unique_ptr<Engine> engine = OpenOrDie(location);
  constexpr int kThreads = 16;
  constexpr int kPerThread = 200;
  std::atomic<int> completed{0};
  std::atomic<int> failed{0};
  GroupCommitWriter::Stats stats;
  {
    GroupCommitWriter writer(engine.get());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          WriteBatch batch = OneKey(t, absl::StrCat("k", i), absl::StrCat(t, "/", i));
          batch.AppendLog(t, i + 1, "entry");
          const bool sync = i % 4 == 0;
          if (i % 2 == 0) {
            if (!writer.Write(std::move(batch), sync).ok()) failed++;
            completed++;
          } else {
            absl::Status s = writer.Submit(std::move(batch), sync, [&](absl::Status st) {
              if (!st.ok()) failed++;
              completed++;
            });
            if (!s.ok()) failed++, completed++;
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    writer.Shutdown();  // drains the submitted batches
    stats = writer.stats();
  }
  EXPECT_EQ(completed.load(), kThreads * kPerThread);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(stats.batches, uint64_t{kThreads * kPerThread});
  EXPECT_LE(stats.leveldb_writes, stats.batches);
  EXPECT_GT(stats.synced_leveldb_writes, 0u);

  engine.reset();
  engine = OpenOrDie(location);
  for (int t = 0; t < kThreads; ++t) {
    absl::StatusOr<std::vector<KeyValue>> rows = engine->Scan(t, "", "", 1);
    ASSERT_TRUE(rows.ok());
    EXPECT_EQ(rows->size(), size_t{kPerThread});
    absl::StatusOr<std::optional<uint64_t>> last = engine->LastLogIndex(t);
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(last->value_or(0), uint64_t{kPerThread});
  }
}

TEST(GroupCommitWriterTest, QueuedBatchesMergeInOrderAndTheMergedWriteIsSyncedIfAnyAsked) {
  StoreLocation location(EnvKind::kMemory);
  FaultInjectionEnv env(location.base_env());
  std::unique_ptr<Engine> engine = OpenOrDie(location, &env);
  GroupCommitWriter writer(engine.get());
  WriterBlocker blocker;
  blocker.Block(writer);
  // Queued behind the blocked writer thread: an unsynced batch first, then a synced one that
  // overwrites its key. They go out as one LevelDB write, which must be synced.
  const GroupCommitWriter::Stats before = writer.stats();
  absl::Notification unsynced_done, synced_done;
  ASSERT_TRUE(writer
                  .Submit(OneKey(1, "k", "first"), /*sync=*/false,
                          [&](absl::Status s) {
                            EXPECT_TRUE(s.ok());
                            unsynced_done.Notify();
                          })
                  .ok());
  ASSERT_TRUE(writer
                  .Submit(OneKey(1, "k", "second"), /*sync=*/true,
                          [&](absl::Status s) {
                            EXPECT_TRUE(s.ok());
                            synced_done.Notify();
                          })
                  .ok());
  blocker.Release();
  unsynced_done.WaitForNotification();
  synced_done.WaitForNotification();
  const GroupCommitWriter::Stats after = writer.stats();
  EXPECT_EQ(after.batches - before.batches, 2u);
  EXPECT_EQ(after.leveldb_writes - before.leveldb_writes, 1u);
  EXPECT_EQ(after.synced_leveldb_writes - before.synced_leveldb_writes, 1u);

  env.SetFilesystemActive(false);
  writer.Shutdown();
  engine.reset();
  ASSERT_TRUE(env.PowerCut().ok());
  engine = OpenOrDie(location, &env);
  EXPECT_EQ(engine->Get(1, "k", 1)->value_or("<lost>"), "second");
}

TEST(GroupCommitWriterTest, StagedBatchesWaitForFlushAndGoOutTogetherInOrder) {
  StoreLocation location(EnvKind::kMemory);
  std::unique_ptr<Engine> engine = OpenOrDie(location);
  GroupCommitWriter writer(engine.get());
  std::atomic<int> staged_done{0};
  absl::Notification three_done;
  auto count = [&](absl::Status s) {
    EXPECT_TRUE(s.ok());
    if (staged_done.fetch_add(1) == 2) three_done.Notify();
  };
  absl::StatusOr<bool> first = writer.Stage(OneKey(1, "k", "a"), /*sync=*/true, count);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);  // the staging area was empty: the caller arranges the Flush
  absl::StatusOr<bool> second = writer.Stage(OneKey(2, "other", "b"), false, count);
  absl::StatusOr<bool> third = writer.Stage(OneKey(1, "k", "c"), false, count);
  ASSERT_TRUE(second.ok() && third.ok());
  EXPECT_FALSE(*second);
  EXPECT_FALSE(*third);
  // A batch submitted now is written without them: when it completes, none of them has.
  absl::Notification submitted;
  int staged_when_submitted_done = -1;
  ASSERT_TRUE(writer
                  .Submit(OneKey(3, "s", "d"), false,
                          [&](absl::Status) {
                            staged_when_submitted_done = staged_done.load();
                            submitted.Notify();
                          })
                  .ok());
  submitted.WaitForNotification();
  EXPECT_EQ(staged_when_submitted_done, 0);
  // Flushed behind a blocked writer: the three go out as one synced write, in staging order.
  WriterBlocker blocker;
  blocker.Block(writer);
  const GroupCommitWriter::Stats before = writer.stats();
  writer.Flush();
  blocker.Release();
  three_done.WaitForNotification();
  const GroupCommitWriter::Stats flushed = writer.stats();
  EXPECT_EQ(flushed.leveldb_writes - before.leveldb_writes, 1u);
  EXPECT_EQ(flushed.synced_leveldb_writes - before.synced_leveldb_writes, 1u);
  writer.Flush();  // nothing staged: no effect
  absl::StatusOr<bool> after_flush = writer.Stage(OneKey(4, "late", "e"), false, count);
  ASSERT_TRUE(after_flush.ok());
  EXPECT_TRUE(*after_flush);  // a new staging round
  // Shutdown writes what is still staged.
  writer.Shutdown();
  EXPECT_EQ(staged_done.load(), 4);
  const GroupCommitWriter::Stats after = writer.stats();
  EXPECT_EQ(after.batches - before.batches, 3u + 1u);  // the three, the late one
  EXPECT_EQ(after.leveldb_writes - before.leveldb_writes, 2u);
  EXPECT_EQ(after.synced_leveldb_writes - before.synced_leveldb_writes, 1u);
  EXPECT_EQ(after.flushes - before.flushes, 2u);  // Flush() and Shutdown's
  EXPECT_EQ(engine->Get(1, "k", 1)->value_or("<lost>"), "c");
  EXPECT_EQ(engine->Get(4, "late", 1)->value_or("<lost>"), "e");
  // Staging after shutdown is refused, like Submit.
  EXPECT_EQ(writer.Stage(OneKey(5, "x", "y"), false, count).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(GroupCommitWriterTest, SubmitBeyondTheLimitIsResourceExhaustedAndWriteWaits) {
  StoreLocation location(EnvKind::kMemory);
  std::unique_ptr<Engine> engine = OpenOrDie(location);
  GroupCommitOptions options;
  options.max_pending_batches = 2;
  GroupCommitWriter writer(engine.get(), options);
  WriterBlocker blocker;
  blocker.Block(writer);
  int ran = 0;
  ASSERT_TRUE(writer.Submit(OneKey(1, "a", "a"), false, [&](absl::Status) { ++ran; }).ok());
  ASSERT_TRUE(writer.Submit(OneKey(1, "b", "b"), false, [&](absl::Status) { ++ran; }).ok());
  absl::Status full = writer.Submit(OneKey(1, "c", "c"), false, [&](absl::Status) { ++ran; });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  // A blocking Write waits for room instead.
  std::atomic<bool> written{false};
  std::thread waiter([&] {
    EXPECT_TRUE(writer.Write(OneKey(1, "d", "d"), false).ok());
    written = true;
  });
  blocker.Release();
  waiter.join();
  EXPECT_TRUE(written.load());
  writer.Shutdown();
  EXPECT_EQ(ran, 2);
  EXPECT_TRUE(engine->Get(1, "d", 1)->has_value());
  EXPECT_FALSE(engine->Get(1, "c", 1)->has_value());
}

// A caller whose batch is refused submits it again later (GroupHost retries a Paxos round from
// a timer), so a refusal must leave the batch whole: a batch emptied by a refused Submit would
// be "written" empty on the retry, and the round acknowledged without its log entries.
TEST(GroupCommitWriterTest, ARefusedBatchIsLeftWholeForTheRetry) {
  StoreLocation location(EnvKind::kMemory);
  std::unique_ptr<Engine> engine = OpenOrDie(location);
  GroupCommitOptions options;
  options.max_pending_batches = 1;
  GroupCommitWriter writer(engine.get(), options);
  WriterBlocker blocker;
  blocker.Block(writer);
  ASSERT_TRUE(writer.Submit(OneKey(1, "a", "a"), false, [](absl::Status) {}).ok());
  WriteBatch batch = OneKey(1, "retried", "v");
  const size_t bytes = batch.ApproximateBytes();
  absl::Status full = writer.Submit(std::move(batch), true, [](absl::Status) {});
  ASSERT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  EXPECT_FALSE(batch.empty());
  EXPECT_EQ(batch.ApproximateBytes(), bytes);
  blocker.Release();
  absl::Notification done;
  while (!writer
              .Submit(std::move(batch), true,
                      [&](absl::Status s) {
                        EXPECT_TRUE(s.ok()) << s;
                        done.Notify();
                      })
              .ok()) {
    std::this_thread::yield();
  }
  done.WaitForNotification();
  EXPECT_EQ(engine->Get(1, "retried", 1)->value_or("<lost>"), "v");
}

TEST(GroupCommitWriterTest, ShutdownDrainsAcceptedBatchesAndRefusesNewOnes) {
  StoreLocation location(EnvKind::kMemory);
  std::unique_ptr<Engine> engine = OpenOrDie(location);
  GroupCommitWriter writer(engine.get());
  WriterBlocker blocker;
  blocker.Block(writer);
  std::atomic<int> ok{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(writer
                    .Submit(OneKey(1, absl::StrCat("k", i), "v"), i % 10 == 0,
                            [&](absl::Status s) { ok += s.ok() ? 1 : 0; })
                    .ok());
  }
  std::thread shutdown([&] { writer.Shutdown(); });
  // Shutdown refuses new batches as soon as it starts; wait for that, then let the writer drain.
  while (writer.Submit(WriteBatch(), false, [](absl::Status) {}).code() !=
         absl::StatusCode::kFailedPrecondition) {
    std::this_thread::yield();
  }
  EXPECT_EQ(writer.Write(WriteBatch(), false).code(), absl::StatusCode::kFailedPrecondition);
  blocker.Release();
  shutdown.join();
  EXPECT_EQ(ok.load(), 100);
  absl::StatusOr<std::vector<KeyValue>> rows = engine->Scan(1, "", "", 1);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 100u);
}

// A full disk (or EIO) under a synced write: that write and everything queued after it fail,
// even once the disk has room again, and nothing acknowledged before it is lost.
TEST(GroupCommitWriterTest, AFailedWriteFailsEveryLaterWriteAndKeepsWhatWasAcknowledged) {
  StoreLocation location(EnvKind::kDisk);
  FaultInjectionEnv env(location.base_env());
  std::unique_ptr<Engine> engine = OpenOrDie(location, &env);
  auto writer = std::make_unique<GroupCommitWriter>(engine.get());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(writer->Write(OneKey(1, absl::StrCat("acked", i), "v"), true).ok());
  }
  EXPECT_TRUE(writer->failure().ok());

  env.FailWrites(leveldb::Status::IOError("000005.log", "No space left on device"));
  const absl::Status failed = writer->Write(OneKey(1, "lost", "v"), true);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.ToString().find("No space left on device"), std::string::npos) << failed;
  EXPECT_EQ(writer->failure(), failed);
  const uint64_t failed_writes = env.FailedWrites();
  EXPECT_GT(failed_writes, 0u);

  // The disk has room again; the writer still refuses, and issues no write to the engine.
  env.FailWrites(leveldb::Status::OK());
  const absl::Status later = writer->Write(OneKey(1, "after", "v"), true);
  EXPECT_EQ(later.code(), failed.code());
  EXPECT_NE(later.ToString().find("an earlier write of this server failed"), std::string::npos)
      << later;
  absl::StatusOr<std::optional<std::string>> after = engine->Get(1, "after", 1);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());

  writer.reset();
  engine.reset();
  engine = OpenOrDie(location);
  ASSERT_NE(engine, nullptr);
  for (int i = 0; i < 10; ++i) {
    absl::StatusOr<std::optional<std::string>> v = engine->Get(1, absl::StrCat("acked", i), 1);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_EQ(v->value_or("<missing>"), "v") << i;
  }
}

}  // namespace
}  // namespace meridian::storage
