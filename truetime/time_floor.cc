#include "truetime/time_floor.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/crc32c.h"

namespace meridian::truetime {
namespace {

constexpr size_t kSlotBytes = 16;

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

void EncodeSlot(Timestamp limit, char out[kSlotBytes]) {
  std::memset(out, 0, kSlotBytes);
  const uint64_t v = static_cast<uint64_t>(limit);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  const uint32_t crc = crc32c::Value(std::string_view(out, 8));
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
}

bool DecodeSlot(const char in[kSlotBytes], Timestamp* limit) {
  uint64_t v = 0;
  uint32_t crc = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  for (int i = 0; i < 4; ++i) crc |= uint32_t{static_cast<unsigned char>(in[8 + i])} << (8 * i);
  if (crc != crc32c::Value(std::string_view(in, 8))) return false;
  *limit = static_cast<Timestamp>(v);
  return true;
}

absl::Status SyncDirectory(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return absl::UnavailableError(Errno("cannot open directory of", path));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return absl::UnavailableError(Errno("cannot sync directory of", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<TimeFloor>> TimeFloor::Open(const std::string& path,
                                                           int64_t margin_us) {
  if (margin_us <= 0) return absl::InvalidArgumentError("time floor margin must be positive");
  const bool existed = std::filesystem::exists(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return absl::UnavailableError(Errno("cannot open", path));
  char buf[2 * kSlotBytes] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n < 0) {
    ::close(fd);
    return absl::UnavailableError(Errno("cannot read", path));
  }
  Timestamp recorded = 0;
  int next_slot = 0;
  if (n > 0) {
    Timestamp a = 0;
    Timestamp b = 0;
    const bool a_ok = n >= static_cast<ssize_t>(kSlotBytes) && DecodeSlot(buf, &a);
    const bool b_ok = n >= static_cast<ssize_t>(2 * kSlotBytes) && DecodeSlot(buf + kSlotBytes, &b);
    if (!a_ok && !b_ok) {
      ::close(fd);
      return absl::DataLossError(absl::StrCat(
          "the time high-water mark in ", path,
          " is damaged; remove the file only if this machine's clock is known to be right"));
    }
    recorded = std::max(a_ok ? a : 0, b_ok ? b : 0);
    next_slot = (a_ok && (!b_ok || a >= b)) ? 1 : 0;  // overwrite the older or damaged slot
  }
  if (!existed) {
    if (absl::Status s = SyncDirectory(path); !s.ok()) {
      ::close(fd);
      return s;
    }
  }
  return std::unique_ptr<TimeFloor>(new TimeFloor(path, fd, margin_us, recorded, next_slot));
}

TimeFloor::TimeFloor(std::string path, int fd, int64_t margin_us, Timestamp recorded, int next_slot)
    : path_(std::move(path)),
      fd_(fd),
      margin_us_(margin_us),
      recorded_(recorded),
      limit_(recorded),
      next_slot_(next_slot) {}

TimeFloor::~TimeFloor() { ::close(fd_); }

absl::Status TimeFloor::Cover(Timestamp latest) {
  if (latest < limit()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  if (latest < limit()) return absl::OkStatus();
  const Timestamp next = latest + margin_us_;
  char slot[kSlotBytes];
  EncodeSlot(next, slot);
  const off_t offset = static_cast<off_t>(next_slot_ * kSlotBytes);
  if (::pwrite(fd_, slot, kSlotBytes, offset) != static_cast<ssize_t>(kSlotBytes)) {
    return absl::UnavailableError(Errno("cannot write the time high-water mark to", path_));
  }
  if (::fdatasync(fd_) != 0) {
    return absl::UnavailableError(Errno("cannot sync the time high-water mark in", path_));
  }
  next_slot_ = 1 - next_slot_;
  limit_.store(next, std::memory_order_release);
  return absl::OkStatus();
}

}  // namespace meridian::truetime
