#include "tests/unit/storage/fault_injection_env.h"

#include <utility>
#include <vector>

namespace meridian::storage::testing {

// Forwards to the real file while the file system is active; records appends and syncs.
class TrackedFile : public leveldb::WritableFile {
 public:
  TrackedFile(FaultInjectionEnv* env, std::unique_ptr<leveldb::WritableFile> target,
              std::shared_ptr<FaultInjectionEnv::FileState> state)
      : env_(env), target_(std::move(target)), state_(std::move(state)) {}

  leveldb::Status Append(const leveldb::Slice& data) override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    if (leveldb::Status e = env_->Injected(); !e.ok()) return e;
    leveldb::Status s = target_->Append(data);
    if (s.ok()) env_->OnAppend(state_, data.size());
    return s;
  }
  leveldb::Status Close() override { return target_->Close(); }
  leveldb::Status Flush() override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    if (leveldb::Status e = env_->Injected(); !e.ok()) return e;
    return target_->Flush();
  }
  leveldb::Status Sync() override {
    if (!env_->IsFilesystemActive()) return leveldb::Status::OK();
    if (leveldb::Status e = env_->Injected(); !e.ok()) return e;
    leveldb::Status s = target_->Sync();
    if (s.ok()) env_->OnSync(state_);
    return s;
  }

 private:
  FaultInjectionEnv* const env_;
  std::unique_ptr<leveldb::WritableFile> target_;
  const std::shared_ptr<FaultInjectionEnv::FileState> state_;
};

// What a dead machine "creates": it accepts everything and keeps nothing.
class DiscardingFile : public leveldb::WritableFile {
 public:
  leveldb::Status Append(const leveldb::Slice&) override { return leveldb::Status::OK(); }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }
};

leveldb::Status FaultInjectionEnv::NewWritableFile(const std::string& fname,
                                                   leveldb::WritableFile** result) {
  if (!IsFilesystemActive()) {
    *result = new DiscardingFile;
    return leveldb::Status::OK();
  }
  if (leveldb::Status e = Injected(); !e.ok()) return e;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewWritableFile(fname, &file);
  if (!s.ok()) return s;
  auto state = std::make_shared<FileState>();
  {
    absl::MutexLock lock(&mu_);
    files_[fname] = state;
  }
  *result = new TrackedFile(this, std::unique_ptr<leveldb::WritableFile>(file), std::move(state));
  return s;
}

leveldb::Status FaultInjectionEnv::NewAppendableFile(const std::string& fname,
                                                     leveldb::WritableFile** result) {
  if (!IsFilesystemActive()) {
    *result = new DiscardingFile;
    return leveldb::Status::OK();
  }
  uint64_t existing = 0;
  if (target()->FileExists(fname) && !target()->GetFileSize(fname, &existing).ok()) existing = 0;
  leveldb::WritableFile* file = nullptr;
  leveldb::Status s = target()->NewAppendableFile(fname, &file);
  if (!s.ok()) return s;
  std::shared_ptr<FileState> state;
  {
    absl::MutexLock lock(&mu_);
    auto it = files_.find(fname);
    if (it != files_.end()) {
      state = it->second;
    } else {
      // What was there before is as durable as the file's directory entry.
      state = std::make_shared<FileState>(FileState{existing, existing, true});
      files_[fname] = state;
    }
  }
  *result = new TrackedFile(this, std::unique_ptr<leveldb::WritableFile>(file), std::move(state));
  return s;
}

leveldb::Status FaultInjectionEnv::RemoveFile(const std::string& fname) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  leveldb::Status s = target()->RemoveFile(fname);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    files_.erase(fname);
  }
  return s;
}

leveldb::Status FaultInjectionEnv::RenameFile(const std::string& src, const std::string& target) {
  if (!IsFilesystemActive()) return leveldb::Status::OK();
  leveldb::Status s = this->target()->RenameFile(src, target);
  if (s.ok()) {
    absl::MutexLock lock(&mu_);
    files_.erase(target);
    auto it = files_.find(src);
    if (it != files_.end()) {
      files_[target] = std::move(it->second);
      files_.erase(src);
    }
  }
  return s;
}

leveldb::Status FaultInjectionEnv::Injected() {
  leveldb::Status e = WriteError();
  if (!e.ok()) failed_writes_.fetch_add(1);
  return e;
}

void FaultInjectionEnv::OnAppend(const std::shared_ptr<FileState>& state, uint64_t n) {
  absl::MutexLock lock(&mu_);
  state->appended += n;
}

void FaultInjectionEnv::OnSync(const std::shared_ptr<FileState>& state) {
  absl::MutexLock lock(&mu_);
  state->synced = state->appended;
  state->ever_synced = true;
}

uint64_t FaultInjectionEnv::UnsyncedBytes() const {
  absl::MutexLock lock(&mu_);
  uint64_t total = 0;
  for (const auto& [name, state] : files_) total += state->appended - state->synced;
  return total;
}

leveldb::Status FaultInjectionEnv::Truncate(const std::string& fname, uint64_t length) {
  leveldb::SequentialFile* raw_in = nullptr;
  leveldb::Status s = target()->NewSequentialFile(fname, &raw_in);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::SequentialFile> in(raw_in);
  std::string contents;
  std::vector<char> scratch(64 << 10);
  while (contents.size() < length) {
    leveldb::Slice chunk;
    s = in->Read(std::min<uint64_t>(scratch.size(), length - contents.size()), &chunk,
                 scratch.data());
    if (!s.ok()) return s;
    if (chunk.empty()) break;
    contents.append(chunk.data(), chunk.size());
  }
  in.reset();
  leveldb::WritableFile* raw_out = nullptr;
  s = target()->NewWritableFile(fname, &raw_out);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::WritableFile> out(raw_out);
  s = out->Append(contents);
  if (s.ok()) s = out->Sync();
  if (s.ok()) s = out->Close();
  return s;
}

leveldb::Status FaultInjectionEnv::PowerCut(Random* torn_tail) {
  std::map<std::string, std::shared_ptr<FileState>> files;
  {
    absl::MutexLock lock(&mu_);
    files.swap(files_);
  }
  for (const auto& [name, state] : files) {
    const uint64_t unsynced = state->appended - state->synced;
    const uint64_t kept = torn_tail != nullptr ? torn_tail->Uniform(unsynced + 1) : 0;
    leveldb::Status s;
    if (!state->ever_synced && kept == 0) {
      s = target()->RemoveFile(name);
    } else if (kept < unsynced) {
      s = Truncate(name, state->synced + kept);
    }
    if (!s.ok()) return s;
  }
  SetFilesystemActive(true);
  return leveldb::Status::OK();
}

}  // namespace meridian::storage::testing
