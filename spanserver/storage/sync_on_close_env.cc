#include "spanserver/storage/sync_on_close_env.h"

#include <leveldb/env.h>

#include <memory>
#include <string>

#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {
namespace {

class SyncOnCloseFile final : public leveldb::WritableFile {
 public:
  explicit SyncOnCloseFile(leveldb::WritableFile* file) : file_(file) {}
  ~SyncOnCloseFile() override {
    if (!closed_) Close();
  }

  leveldb::Status Append(const leveldb::Slice& data) override {
    dirty_ = dirty_ || data.size() > 0;
    return file_->Append(data);
  }
  leveldb::Status Close() override {
    leveldb::Status s;
    if (dirty_) s = Sync();
    leveldb::Status c = file_->Close();
    closed_ = true;
    return s.ok() ? c : s;
  }
  leveldb::Status Flush() override { return file_->Flush(); }
  leveldb::Status Sync() override {
    leveldb::Status s = file_->Sync();
    if (s.ok()) dirty_ = false;
    return s;
  }

 private:
  std::unique_ptr<leveldb::WritableFile> file_;
  bool dirty_ = false;
  bool closed_ = false;
};

class SyncOnCloseEnv final : public leveldb::EnvWrapper {
 public:
  explicit SyncOnCloseEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override {
    return Wrap(fname, target()->NewWritableFile(fname, result), result);
  }
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override {
    return Wrap(fname, target()->NewAppendableFile(fname, result), result);
  }

 private:
  static leveldb::Status Wrap(const std::string& fname, leveldb::Status s,
                              leveldb::WritableFile** result) {
    if (s.ok() && internal::IsNumberedFile(fname, ".log")) *result = new SyncOnCloseFile(*result);
    return s;
  }
};

}  // namespace

std::unique_ptr<leveldb::Env> NewSyncOnCloseEnv(leveldb::Env* base) {
  return std::make_unique<SyncOnCloseEnv>(base);
}

}  // namespace meridian::storage
