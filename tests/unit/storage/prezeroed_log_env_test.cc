// PrezeroedLogEnv (spanserver/storage/prezeroed_log_env.h) under an Engine on a real directory.
// Checks:
//  - synced writes stay inside the zeroed space: a Sync never makes the log longer (the point
//    of the env), and the zeros are real blocks, not a sparse hole;
//  - a reopen reads every write back through the zeros, across background extensions and log
//    switches, and writes larger than the zeroed space still work;
//  - a faked power cut: each log loses everything after its last Sync (the zeros stay), or keeps
//    a torn, random prefix of it; the DB still opens and every write acknowledged as synced is
//    there (FindLostWrites).
#include "spanserver/storage/prezeroed_log_env.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using testing::AckedWrite;
using testing::EnvKind;
using testing::FindLostWrites;
using ::testing::IsEmpty;
using testing::StoreLocation;

constexpr size_t kInitial = 64 << 10;
constexpr size_t kChunk = 128 << 10;

// The parameter: whether the zeros are appended in the background (as in the server) or by the
// writer itself (deterministic order of data and zeros).
class PrezeroedLogEnvTest : public ::testing::TestWithParam<bool> {
 protected:
  PrezeroedLogEnvTest() : location_(EnvKind::kDisk) { MakeEnv(); }

  void MakeEnv(size_t initial = kInitial, size_t chunk = kChunk) {
    PrezeroedLogOptions options;
    options.initial_bytes = initial;
    options.chunk_bytes = chunk;
    options.background = GetParam();
    options.on_sync = [this](const std::string& fname, uint64_t synced) {
      absl::MutexLock lock(&mu_);
      synced_[fname] = synced;
    };
    env_ = NewPrezeroedLogEnv(leveldb::Env::Default(), options);
  }

  void Open(size_t write_buffer_size = 4 << 20) {
    EngineOptions options;
    options.env = env_.get();
    options.write_buffer_size = write_buffer_size;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location_.path(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
  }

  std::vector<std::string> LogFiles() const {
    std::vector<std::string> logs;
    for (const auto& entry : std::filesystem::directory_iterator(location_.path())) {
      if (entry.path().extension() == ".log") logs.push_back(entry.path().string());
    }
    return logs;
  }

  // A batch of one put of `bytes` bytes plus a log entry; appends the put to `writes`.
  static WriteBatch MakeBatch(int id, size_t bytes, std::vector<AckedWrite>* writes) {
    AckedWrite w{1, absl::StrCat("k", id), id + 1,
                 std::string(bytes, static_cast<char>('a' + id % 26))};
    WriteBatch batch;
    batch.Put(w.tablet, w.key, w.ts, w.value);
    batch.AppendLog(2, id + 1, absl::StrCat("entry-", id));
    writes->push_back(std::move(w));
    return batch;
  }

  StoreLocation location_;
  absl::Mutex mu_;
  std::map<std::string, uint64_t> synced_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<leveldb::Env> env_;
  std::unique_ptr<Engine> engine_;
};

// The zeroer's fdatasync writes back the writer's pages too, and the kernel reports a write-back
// error to one of the two only: an error the zeroer saw must fail the writer's syncs, for good.
TEST(PrezeroedLogEnvSyncErrorTest, AFailedBackgroundSyncFailsEveryLaterSyncOfTheFile) {
  StoreLocation location(EnvKind::kDisk);
  std::atomic<bool> fail{false};
  PrezeroedLogOptions options;
  options.initial_bytes = kInitial;
  options.chunk_bytes = kChunk;
  options.background = false;  // the zeros are appended inside the writer's Flush
  options.fdatasync = [&fail](int fd) {
    if (!fail.load()) return ::fdatasync(fd);
    errno = EIO;
    return -1;
  };
  std::unique_ptr<leveldb::Env> env = NewPrezeroedLogEnv(leveldb::Env::Default(), options);
  std::filesystem::create_directories(location.path());
  leveldb::WritableFile* raw = nullptr;
  ASSERT_TRUE(env->NewWritableFile(location.path() + "/000007.log", &raw).ok());
  std::unique_ptr<leveldb::WritableFile> file(raw);

  // The first write already comes within half a chunk of the zeros' end: the zeroer extends them
  // during this Flush, and its sync fails. The writer's own sync then succeeds.
  ASSERT_TRUE(file->Append(std::string(1024, 'x')).ok());
  fail = true;
  ASSERT_TRUE(file->Flush().ok());
  fail = false;
  const leveldb::Status synced = file->Sync();
  EXPECT_FALSE(synced.ok()) << "a lost write-back was reported as durable";
  EXPECT_NE(synced.ToString().find("Input/output error"), std::string::npos) << synced.ToString();
  ASSERT_TRUE(file->Append(std::string(1024, 'y')).ok());
  EXPECT_FALSE(file->Sync().ok());
}

TEST_P(PrezeroedLogEnvTest, SyncsOverwriteRealZerosAndNeverLengthenTheLog) {
  Open();
  std::vector<AckedWrite> writes;
  // About 40 KiB of records: inside the initial zeros.
  for (int id = 0; id < 100; ++id) {
    ASSERT_TRUE(engine_->Write(MakeBatch(id, 300, &writes), /*sync=*/true).ok());
    const std::vector<std::string> logs = LogFiles();
    ASSERT_EQ(logs.size(), 1u);
    struct stat st;
    ASSERT_EQ(::stat(logs[0].c_str(), &st), 0);
    // The background zeroer may have added a chunk, never the data itself.
    ASSERT_TRUE(static_cast<size_t>(st.st_size) == kInitial ||
                static_cast<size_t>(st.st_size) == kInitial + kChunk)
        << "write " << id << ": the log is " << st.st_size << " bytes";
    // Real blocks: overwriting a hole would allocate, which is what the env avoids.
    EXPECT_GE(static_cast<uint64_t>(st.st_blocks) * 512, static_cast<uint64_t>(st.st_size))
        << "the zeroed space is sparse";
  }
  engine_.reset();
  Open();
  EXPECT_THAT(FindLostWrites(*engine_, writes), IsEmpty());
}

TEST_P(PrezeroedLogEnvTest, ReopenReadsEverythingAcrossExtensionsSwitchesAndHugeWrites) {
  // Chunks smaller than one buffered write, so the data also overtakes the zeros and the
  // zeroer must append behind it, not over it.
  MakeEnv(/*initial=*/4 << 10, /*chunk=*/8 << 10);
  Open(/*write_buffer_size=*/512 << 10);  // a new log about every 512 KiB
  std::vector<AckedWrite> writes;
  for (int id = 0; id < 1500; ++id) {
    // Every 300th write is larger than 64 KiB, more than LevelDB buffers.
    const size_t bytes = id % 300 == 299 ? (100 << 10) : 1000;
    ASSERT_TRUE(engine_->Write(MakeBatch(id, bytes, &writes), /*sync=*/id % 3 == 0).ok());
  }
  engine_.reset();
  Open();
  EXPECT_THAT(FindLostWrites(*engine_, writes), IsEmpty());
}

TEST_P(PrezeroedLogEnvTest, SyncedWritesSurviveAPowerCutThatDropsOrTearsUnsyncedData) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    Open(/*write_buffer_size=*/256 << 10);
    Random rng(seed);
    std::vector<AckedWrite> synced, unsynced;
    const int base = static_cast<int>(seed) * 10000;
    for (int i = 0; i < 400; ++i) {
      const bool sync = rng.Bernoulli(0.3);
      ASSERT_TRUE(
          engine_
              ->Write(MakeBatch(base + i, 200 + rng.Uniform(800), sync ? &synced : &unsynced), sync)
              .ok());
    }
    std::vector<AckedWrite> tail;
    ASSERT_TRUE(engine_->Write(MakeBatch(base + 999, 500, &tail), /*sync=*/false).ok());
    // The machine dies here: what the close below syncs does not count.
    std::map<std::string, uint64_t> durable_at_crash;
    {
      absl::MutexLock lock(&mu_);
      durable_at_crash = synced_;
    }
    engine_.reset();
    // The cut: after each log's last synced byte, the disk kept zeros (seed odd) or a random
    // prefix of what was written followed by zeros or garbage (seed even).
    for (const std::string& log : LogFiles()) {
      uint64_t durable = 0;
      if (auto it = durable_at_crash.find(log); it != durable_at_crash.end()) durable = it->second;
      const uint64_t size = std::filesystem::file_size(log);
      if (durable >= size) continue;
      uint64_t from = durable;
      if (seed % 2 == 0) from += rng.Uniform(size - durable);
      std::string junk(size - from, '\0');
      if (seed % 4 == 0) {
        for (size_t k = 0; k < std::min<size_t>(junk.size(), 4096); ++k) {
          junk[k] = static_cast<char>(rng.Uniform(256));
        }
      }
      const int fd = ::open(log.c_str(), O_WRONLY);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(::pwrite(fd, junk.data(), junk.size(), static_cast<off_t>(from)),
                static_cast<ssize_t>(junk.size()));
      ::close(fd);
    }
    {
      absl::MutexLock lock(&mu_);
      synced_.clear();
    }
    Open(/*write_buffer_size=*/256 << 10);
    EXPECT_THAT(FindLostWrites(*engine_, synced), IsEmpty());
    if (seed % 2 == 1) {
      // Everything after the last sync of the newest log is gone (the cut is not vacuous).
      EXPECT_EQ(FindLostWrites(*engine_, tail).size(), tail.size());
    }
    engine_.reset();
  }
}

INSTANTIATE_TEST_SUITE_P(Zeroer, PrezeroedLogEnvTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Background" : "Inline";
                         });

}  // namespace
}  // namespace meridian::storage
