// TableFileEnv (spanserver/storage/table_file_env.h). Checks:
//  - a table file's Flush() reaches the wrapped file never, its data reaches the disk at Sync()
//    and Close(); every other file's Flush() is passed on;
//  - an Engine opened without an env of its own (so over TableFileEnv) on a real directory
//    flushes its memtable to many table files, compacts them, and reads every write back after
//    a reopen.
#include "spanserver/storage/table_file_env.h"

#include <leveldb/env.h>
#include <sys/stat.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
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

// Counts the Flush() calls that reach each file of the wrapped env.
class FlushCountingEnv final : public leveldb::EnvWrapper {
 public:
  FlushCountingEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override {
    leveldb::Status status = target()->NewWritableFile(fname, result);
    if (status.ok()) *result = new File(this, fname, *result);
    return status;
  }

  int flushes(const std::string& fname) {
    absl::MutexLock lock(&mu_);
    return flushes_[fname];
  }

 private:
  class File final : public leveldb::WritableFile {
   public:
    File(FlushCountingEnv* env, std::string fname, leveldb::WritableFile* file)
        : env_(env), fname_(std::move(fname)), file_(file) {}
    leveldb::Status Append(const leveldb::Slice& data) override { return file_->Append(data); }
    leveldb::Status Flush() override {
      {
        absl::MutexLock lock(&env_->mu_);
        ++env_->flushes_[fname_];
      }
      return file_->Flush();
    }
    leveldb::Status Sync() override { return file_->Sync(); }
    leveldb::Status Close() override { return file_->Close(); }

   private:
    FlushCountingEnv* const env_;
    const std::string fname_;
    std::unique_ptr<leveldb::WritableFile> file_;
  };

  absl::Mutex mu_;
  std::map<std::string, int> flushes_ ABSL_GUARDED_BY(mu_);
};

int64_t FileSize(const std::string& fname) {
  struct stat st;
  return ::stat(fname.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

TEST(TableFileEnvTest, TableFilesWriteAtSyncAndCloseAndOtherFilesFlushAsAsked) {
  StoreLocation location(EnvKind::kDisk);
  FlushCountingEnv counting;
  std::unique_ptr<leveldb::Env> env = NewTableFileEnv(&counting);
  const std::string block(1000, 'b');
  ASSERT_TRUE(env->CreateDir(location.path()).ok() || env->FileExists(location.path()));
  const std::vector<std::pair<std::string, bool>> files = {{"000007.ldb", true},
                                                           {"000008.sst", true},
                                                           {"000009.log", false},
                                                           {"MANIFEST-000002", false}};
  for (const auto& [name, table] : files) {
    SCOPED_TRACE(name);
    const std::string fname = location.path() + "/" + name;
    leveldb::WritableFile* raw = nullptr;
    ASSERT_TRUE(env->NewWritableFile(fname, &raw).ok());
    std::unique_ptr<leveldb::WritableFile> file(raw);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(file->Append(block).ok());
      ASSERT_TRUE(file->Flush().ok());
    }
    EXPECT_EQ(counting.flushes(fname), table ? 0 : 10);
    // 10,000 bytes fit the default env's buffer: a table file has written none of them yet.
    EXPECT_EQ(FileSize(fname), table ? 0 : 10'000);
    ASSERT_TRUE(file->Sync().ok());
    EXPECT_EQ(FileSize(fname), 10'000);
    ASSERT_TRUE(file->Append(block).ok());
    ASSERT_TRUE(file->Close().ok());
    EXPECT_EQ(FileSize(fname), 11'000);
  }
}

TEST(TableFileEnvTest, NamesTableFilesOnly) {
  EXPECT_TRUE(IsTableFileName("/d/000123.ldb"));
  EXPECT_TRUE(IsTableFileName("000123.sst"));
  EXPECT_FALSE(IsTableFileName("/d/000123.log"));
  EXPECT_FALSE(IsTableFileName("/d/MANIFEST-000002"));
  EXPECT_FALSE(IsTableFileName("/d/.ldb"));
  EXPECT_FALSE(IsTableFileName("/d/x00123.ldb"));
  EXPECT_FALSE(IsTableFileName("/d.ldb/CURRENT"));
}

TEST(TableFileEnvTest, AnEngineOverItFlushesCompactsAndReadsEverythingBack) {
  StoreLocation location(EnvKind::kDisk);
  EngineOptions options;  // no env: the engine layers TableFileEnv over the default env
  options.write_buffer_size = 64 << 10;
  std::vector<AckedWrite> writes;
  {
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location.path(), options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    // About 3 MiB in 4 KiB values: dozens of memtable flushes and some compactions.
    for (int id = 0; id < 750; ++id) {
      AckedWrite w{1, absl::StrCat("key-", id), id + 1,
                   std::string(4096, static_cast<char>('a' + id % 26))};
      WriteBatch batch;
      batch.Put(w.tablet, w.key, w.ts, w.value);
      ASSERT_TRUE((*engine)->Write(batch, /*sync=*/id % 50 == 0).ok());
      writes.push_back(std::move(w));
    }
    EXPECT_THAT(FindLostWrites(**engine, writes), IsEmpty());
  }
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Open(location.path(), options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_THAT(FindLostWrites(**engine, writes), IsEmpty());
}

}  // namespace
}  // namespace meridian::storage
