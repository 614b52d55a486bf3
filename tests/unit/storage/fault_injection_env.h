// FaultInjectionEnv: a leveldb::EnvWrapper that fakes a power cut, for storage tests. Modelled on
// LevelDB's db/fault_injection_test.cc (which is not shipped, so this is our own).
//
// It tracks, for every file created or appended to through it, how many bytes were appended and
// how many of them were covered by the file's last Sync(). A power cut is two steps:
//   1. SetFilesystemActive(false) at the moment of the crash: from then on appends, syncs, file
//      creations, renames and deletions are acknowledged but change nothing, as if the machine
//      had died (close the DB afterwards; whatever it does then is lost).
//   2. PowerCut(), once nothing has the files open: every file is cut back to its last synced
//      length and a file that was never synced disappears with its directory entry (its name is
//      taken to be durable with its first Sync). With a `torn_tail` generator a random prefix of
//      each file's unsynced tail survives instead, as a real disk may persist part of a write (a
//      never-synced file then disappears only when its surviving prefix is empty).
// Failing disks: FailWrites(error) makes every append, flush, sync and file creation through
// the env return `error` (IOError "No space left on device" for a full disk, "Input/output
// error" for EIO) until FailWrites(OK); nothing of what fails reaches the files.
// Files the env never saw written (created before it, or by NewLogger/LockFile) are left alone;
// deletions and renames are taken to be durable at once.
//
// Thread safety: thread-safe (LevelDB calls it from its background thread too).
#ifndef MERIDIAN_TESTS_UNIT_STORAGE_FAULT_INJECTION_ENV_H_
#define MERIDIAN_TESTS_UNIT_STORAGE_FAULT_INJECTION_ENV_H_

#include <leveldb/env.h>
#include <leveldb/status.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/random.h"

namespace meridian::storage::testing {

class FaultInjectionEnv : public leveldb::EnvWrapper {
 public:
  struct FileState {
    uint64_t appended = 0;  // bytes appended through this env
    uint64_t synced = 0;    // bytes covered by the last Sync()
    bool ever_synced = false;
  };

  // `base` is not owned and must outlive this env.
  explicit FaultInjectionEnv(leveldb::Env* base) : leveldb::EnvWrapper(base) {}

  leveldb::Status NewWritableFile(const std::string& fname,
                                  leveldb::WritableFile** result) override;
  leveldb::Status NewAppendableFile(const std::string& fname,
                                    leveldb::WritableFile** result) override;
  leveldb::Status RemoveFile(const std::string& fname) override;
  leveldb::Status RenameFile(const std::string& src, const std::string& target) override;

  void SetFilesystemActive(bool active) { active_.store(active); }
  void FailWrites(leveldb::Status error) {
    absl::MutexLock lock(&mu_);
    write_error_ = std::move(error);
  }
  leveldb::Status WriteError() const {
    absl::MutexLock lock(&mu_);
    return write_error_;
  }
  // Appends, flushes and syncs that returned the injected error.
  uint64_t FailedWrites() const { return failed_writes_.load(); }
  bool IsFilesystemActive() const { return active_.load(); }

  // Step 2 above. Reactivates the file system and forgets all tracking: what is left is durable.
  leveldb::Status PowerCut(Random* torn_tail = nullptr);

  // Bytes appended but not synced, summed over all tracked files (to check a test loses data).
  uint64_t UnsyncedBytes() const;

 private:
  friend class TrackedFile;

  // The injected write error (counted when not OK).
  leveldb::Status Injected();
  void OnAppend(const std::shared_ptr<FileState>& state, uint64_t n);
  void OnSync(const std::shared_ptr<FileState>& state);
  // Rewrites `fname` with only its first `length` bytes.
  leveldb::Status Truncate(const std::string& fname, uint64_t length);

  std::atomic<bool> active_{true};
  std::atomic<uint64_t> failed_writes_{0};
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  leveldb::Status write_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::storage::testing

#endif  // MERIDIAN_TESTS_UNIT_STORAGE_FAULT_INJECTION_ENV_H_
