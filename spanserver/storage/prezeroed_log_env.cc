#include "spanserver/storage/prezeroed_log_env.h"

#include <fcntl.h>
#include <leveldb/env.h>
#include <leveldb/status.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {
namespace {

// Zeros are written in pieces of this size, each under the file's mutex, so a foreground write
// never waits for more than one piece.
constexpr size_t kZeroPiece = 256 << 10;
// Appends are buffered up to this many bytes before they are written (as LevelDB's own env does).
constexpr size_t kBufferBytes = 64 << 10;

leveldb::Status PosixError(const std::string& context, int error) {
  return leveldb::Status::IOError(context, std::strerror(error));
}

// True for LevelDB's write-ahead logs: a decimal number followed by ".log".
bool IsLogFile(const std::string& fname) { return internal::IsNumberedFile(fname, ".log"); }

std::string DirOf(const std::string& fname) {
  const size_t slash = fname.rfind('/');
  return slash == std::string::npos ? "." : fname.substr(0, slash);
}

leveldb::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return PosixError(dir, errno);
  leveldb::Status status;
  if (::fsync(fd) != 0) status = PosixError(dir, errno);
  ::close(fd);
  return status;
}

leveldb::Status WriteAt(int fd, const char* data, size_t n, uint64_t offset,
                        const std::string& fname) {
  while (n > 0) {
    const ssize_t done = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (done < 0) {
      if (errno == EINTR) continue;
      return PosixError(fname, errno);
    }
    data += done;
    n -= static_cast<size_t>(done);
    offset += static_cast<uint64_t>(done);
  }
  return leveldb::Status::OK();
}

// What the foreground writer and the background zeroer share about one log file.
struct FileCore {
  FileCore(std::string name, int descriptor) : fname(std::move(name)), fd(descriptor) {}

  const std::string fname;
  absl::Mutex mu;
  int fd ABSL_GUARDED_BY(mu);                    // -1 once closed
  uint64_t written_end ABSL_GUARDED_BY(mu) = 0;  // end of the data written so far
  uint64_t zeroed_end ABSL_GUARDED_BY(mu) = 0;   // end of the zeros written ahead
  bool extending ABSL_GUARDED_BY(mu) = false;    // queued for, or in, the background
  int sync_errno ABSL_GUARDED_BY(mu) = 0;        // a failed zeroer sync's error (header): for good
};

int DataSync(const PrezeroedLogOptions& options, int fd) {
  return options.fdatasync ? options.fdatasync(fd) : ::fdatasync(fd);
}

// Appends `chunk` bytes of zeros beyond both the data and the zeros of `core`, in pieces, then
// syncs them. The file may be closed meanwhile: the zeroer then stops.
void ExtendZeros(FileCore& core, const PrezeroedLogOptions& options,
                 const std::vector<char>& zeros) {
  const size_t chunk = options.chunk_bytes;
  int fd = -1;
  {
    absl::MutexLock lock(&core.mu);
    if (core.fd >= 0) fd = ::dup(core.fd);
  }
  if (fd < 0) {
    absl::MutexLock lock(&core.mu);
    core.extending = false;
    return;
  }
  size_t left = chunk;
  bool ok = true;
  while (left > 0 && ok) {
    absl::MutexLock lock(&core.mu);
    if (core.fd < 0) break;
    const uint64_t start = std::max(core.written_end, core.zeroed_end);
    const size_t n = std::min(left, kZeroPiece);
    ok = WriteAt(fd, zeros.data(), n, start, core.fname).ok();
    if (ok) core.zeroed_end = start + n;
    left -= n;
  }
  // A failed write of zeros costs speed only: the data then extends the file itself. A failed
  // sync may have lost the writer's pages too (header).
  const int sync_errno = ok && DataSync(options, fd) != 0 ? errno : 0;
  ::close(fd);
  absl::MutexLock lock(&core.mu);
  core.extending = false;
  if (sync_errno != 0 && core.sync_errno == 0) core.sync_errno = sync_errno;
}

class PrezeroedLogEnv;

class PrezeroedFile final : public leveldb::WritableFile {
 public:
  PrezeroedFile(PrezeroedLogEnv* env, std::shared_ptr<FileCore> core, std::string dir)
      : env_(env), core_(std::move(core)), dir_(std::move(dir)) {}

  ~PrezeroedFile() override { Close(); }

  leveldb::Status Append(const leveldb::Slice& data) override {
    buffer_.append(data.data(), data.size());
    if (buffer_.size() >= kBufferBytes) return WriteOut();
    return leveldb::Status::OK();
  }

  leveldb::Status Close() override {
    leveldb::Status status = WriteOut();
    absl::MutexLock lock(&core_->mu);
    if (core_->fd >= 0) {
      if (::close(core_->fd) != 0 && status.ok()) status = PosixError(core_->fname, errno);
      core_->fd = -1;
    }
    return status;
  }

  leveldb::Status Flush() override { return WriteOut(); }

  leveldb::Status Sync() override;

 private:
  leveldb::Status WriteOut();

  PrezeroedLogEnv* const env_;
  const std::shared_ptr<FileCore> core_;
  const std::string dir_;
  std::string buffer_;
  uint64_t offset_ = 0;  // where the buffer goes
  bool dir_synced_ = false;
};

class PrezeroedLogEnv final : public leveldb::EnvWrapper {
 public:
  PrezeroedLogEnv(leveldb::Env* base, PrezeroedLogOptions options)
      : leveldb::EnvWrapper(base),
        options_(std::move(options)),
        zeros_(std::max(options_.initial_bytes, std::min(options_.chunk_bytes, kZeroPiece)), 0),
        zeroer_([this] { RunZeroer(); }) {}

  ~PrezeroedLogEnv() override {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    zeroer_.join();
  }

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override {
    if (!IsLogFile(fname)) return target()->NewWritableFile(fname, result);
    *result = nullptr;
    const int fd = ::open(fname.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(fname, errno);
    leveldb::Status status = WriteAt(fd, zeros_.data(), options_.initial_bytes, 0, fname);
    if (status.ok() && Sync(fd) != 0) status = PosixError(fname, errno);
    if (!status.ok()) {
      ::close(fd);
      ::unlink(fname.c_str());
      return status;
    }
    auto core = std::make_shared<FileCore>(fname, fd);
    {
      absl::MutexLock lock(&core->mu);
      core->zeroed_end = options_.initial_bytes;
    }
    *result = new PrezeroedFile(this, std::move(core), DirOf(fname));
    return leveldb::Status::OK();
  }

  // After the data reached `written_end`: asks the zeroer for more zeros when they run low.
  void MaybeExtend(const std::shared_ptr<FileCore>& core) {
    {
      absl::MutexLock lock(&core->mu);
      if (core->extending || options_.chunk_bytes == 0) return;
      if (core->written_end + options_.chunk_bytes / 2 < core->zeroed_end) return;
      core->extending = true;
    }
    if (!options_.background) {
      ExtendZeros(*core, options_, zeros_);
      return;
    }
    absl::MutexLock lock(&mu_);
    queue_.push_back(core);
  }

  int Sync(int fd) const { return DataSync(options_, fd); }

  void OnSync(const std::string& fname, uint64_t synced) {
    if (options_.on_sync) options_.on_sync(fname, synced);
  }

 private:
  void RunZeroer() {
    while (true) {
      std::shared_ptr<FileCore> core;
      {
        absl::MutexLock lock(&mu_);
        auto ready = [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || !queue_.empty(); };
        mu_.Await(absl::Condition(&ready));
        if (stop_) return;
        core = std::move(queue_.front());
        queue_.pop_front();
      }
      ExtendZeros(*core, options_, zeros_);
    }
  }

  const PrezeroedLogOptions options_;
  // Zeros for the start of a new log (initial_bytes) and for each piece of an extension.
  const std::vector<char> zeros_;
  absl::Mutex mu_;
  std::deque<std::shared_ptr<FileCore>> queue_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread zeroer_;  // last: starts once the rest is built
};

leveldb::Status PrezeroedFile::WriteOut() {
  if (buffer_.empty()) return leveldb::Status::OK();
  {
    absl::MutexLock lock(&core_->mu);
    if (core_->fd < 0) return leveldb::Status::IOError(core_->fname, "write after close");
    leveldb::Status status =
        WriteAt(core_->fd, buffer_.data(), buffer_.size(), offset_, core_->fname);
    if (!status.ok()) return status;
    offset_ += buffer_.size();
    core_->written_end = std::max(core_->written_end, offset_);
  }
  buffer_.clear();
  env_->MaybeExtend(core_);
  return leveldb::Status::OK();
}

leveldb::Status PrezeroedFile::Sync() {
  if (leveldb::Status status = WriteOut(); !status.ok()) return status;
  if (!dir_synced_) {
    // The file's name, created when LevelDB opened it, becomes durable with its first sync.
    if (leveldb::Status status = SyncDir(dir_); !status.ok()) return status;
    dir_synced_ = true;
  }
  int fd = -1;
  {
    absl::MutexLock lock(&core_->mu);
    fd = core_->fd;
  }
  if (fd < 0) return leveldb::Status::IOError(core_->fname, "sync after close");
  if (env_->Sync(fd) != 0) return PosixError(core_->fname, errno);
  int zeroer_errno = 0;
  {
    absl::MutexLock lock(&core_->mu);
    zeroer_errno = core_->sync_errno;
  }
  if (zeroer_errno != 0) {
    return PosixError(core_->fname + " (a background sync of the file failed)", zeroer_errno);
  }
  env_->OnSync(core_->fname, offset_);
  return leveldb::Status::OK();
}

}  // namespace

std::unique_ptr<leveldb::Env> NewPrezeroedLogEnv(leveldb::Env* base, PrezeroedLogOptions options) {
  return std::make_unique<PrezeroedLogEnv>(base, std::move(options));
}

}  // namespace meridian::storage
