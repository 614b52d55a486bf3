// SmallDisk: one server's data directory moved onto a small tmpfs of its own, which the chaos
// nemesis fills with a ballast file (the disk is full: the server's next write fails with ENOSPC
// and it fences its groups, docs/operations.md) and later frees. As in
// tests/integration/full_disk_test.cc; mounting needs root (CAP_SYS_ADMIN).
//
// Thread safety: none; one thread drives it.
#ifndef MERIDIAN_TESTS_CHAOS_SMALL_DISK_H_
#define MERIDIAN_TESTS_CHAOS_SMALL_DISK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace meridian::chaos {

class SmallDisk {
 public:
  // Moves the contents of `dir` (whose process must be stopped) onto a new tmpfs of `bytes`
  // mounted at `dir`. UNAVAILABLE, saying why, when this process may not mount (then `dir` is
  // left as it was).
  static absl::StatusOr<std::unique_ptr<SmallDisk>> Mount(const std::string& dir, int64_t bytes);
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  // Unmounts (lazily: MNT_DETACH). Stop the server first.
  ~SmallDisk();

  // Writes a ballast file until the file system is full; returns the bytes written.
  int64_t Fill();
  // Removes the ballast file.
  void Free();
  bool full() const { return full_; }
  const std::string& dir() const { return dir_; }

 private:
  explicit SmallDisk(std::string dir) : dir_(std::move(dir)) {}

  const std::string dir_;
  bool full_ = false;
};

}  // namespace meridian::chaos

#endif  // MERIDIAN_TESTS_CHAOS_SMALL_DISK_H_
