#include "spanserver/storage/table_file_env.h"

#include <leveldb/env.h>
#include <leveldb/slice.h>
#include <leveldb/status.h>

#include <memory>
#include <string>
#include <utility>

#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {
namespace {

// A table file whose Flush() waits for Sync() or Close() (the header says why).
class TableFile final : public leveldb::WritableFile {
 public:
  explicit TableFile(std::unique_ptr<leveldb::WritableFile> file) : file_(std::move(file)) {}

  leveldb::Status Append(const leveldb::Slice& data) override { return file_->Append(data); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return file_->Sync(); }
  leveldb::Status Close() override { return file_->Close(); }

 private:
  std::unique_ptr<leveldb::WritableFile> file_;
};

class TableFileEnv final : public leveldb::EnvWrapper {
 public:
  explicit TableFileEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override {
    leveldb::Status status = target()->NewWritableFile(fname, result);
    if (status.ok() && IsTableFileName(fname)) {
      *result = new TableFile(std::unique_ptr<leveldb::WritableFile>(*result));
    }
    return status;
  }
};

}  // namespace

bool IsTableFileName(const std::string& fname) {
  return internal::IsNumberedFile(fname, ".ldb") || internal::IsNumberedFile(fname, ".sst");
}

std::unique_ptr<leveldb::Env> NewTableFileEnv(leveldb::Env* base) {
  return std::make_unique<TableFileEnv>(base);
}

}  // namespace meridian::storage
