#include "tests/chaos/small_disk.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace meridian::chaos {
namespace {

namespace fs = std::filesystem;

constexpr char kBallast[] = "chaos-ballast";

}  // namespace

absl::StatusOr<std::unique_ptr<SmallDisk>> SmallDisk::Mount(const std::string& dir, int64_t bytes) {
  const fs::path saved = dir + ".saved";
  std::error_code error;
  fs::rename(dir, saved, error);
  if (error) return absl::InternalError(absl::StrCat("cannot move ", dir, ": ", error.message()));
  fs::create_directories(dir, error);
  const std::string options = absl::StrCat("size=", bytes);
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, options.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    fs::remove(dir, error);
    fs::rename(saved, dir, error);
    return absl::UnavailableError(
        absl::StrCat("cannot mount a tmpfs at ", dir, ": ", why, " (it needs root)"));
  }
  std::unique_ptr<SmallDisk> disk(new SmallDisk(dir));
  fs::copy(saved, dir, fs::copy_options::recursive, error);
  if (error)
    return absl::InternalError(absl::StrCat("cannot copy into ", dir, ": ", error.message()));
  fs::remove_all(saved, error);
  return disk;
}

SmallDisk::~SmallDisk() { ::umount2(dir_.c_str(), MNT_DETACH); }

int64_t SmallDisk::Fill() {
  const std::string path = (fs::path(dir_) / kBallast).string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int64_t written = 0;
  if (fd >= 0) {
    // 1 MiB pieces, then 4 KiB ones, each until the file system refuses: bounded by its size.
    for (const size_t piece : {size_t{1} << 20, size_t{4096}}) {
      const std::string bytes(piece, 'b');
      ssize_t n = 0;
      while ((n = ::write(fd, bytes.data(), bytes.size())) > 0) written += n;
    }
    ::close(fd);
  }
  full_ = true;
  return written;
}

void SmallDisk::Free() {
  std::error_code error;
  fs::remove(fs::path(dir_) / kBallast, error);
  full_ = false;
}

}  // namespace meridian::chaos
