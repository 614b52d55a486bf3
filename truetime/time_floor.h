// TimeFloor: a persisted high-water mark of TrueTime, so that a server restarted after its clock
// stepped backwards never hands out a timestamp below one it handed out before.
//
// TrueTime never returns a `latest` above the persisted limit: when an interval would reach past
// it, the limit is first raised to that latest plus `margin_us` and synced (so one synced write
// covers `margin_us` of time: 5 a second with the default). On start, TrueTime takes the recorded
// limit as its lowest `latest`; if the clock now reads far below it, the interval is too wide for
// the uncertainty guard and the server refuses to serve until its clock passes the mark (or an
// operator fixes the clock). A restart that takes longer than the margin costs nothing.
//
// File: two 16-byte slots, written alternately with pwrite and fdatasync, each a little-endian
// int64 limit, its CRC-32C and 4 zero bytes; the higher valid slot counts, so a torn write leaves
// the other. Both slots damaged: DATA_LOSS at Open, naming the file (remove it only if the clock
// is known to be right).
//
// Thread safety: Cover() and limit() are safe to call from several threads at once (TrueTime calls
// them under its own mutex).
#ifndef MERIDIAN_TRUETIME_TIME_FLOOR_H_
#define MERIDIAN_TRUETIME_TIME_FLOOR_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "truetime/interval.h"

namespace meridian::truetime {

class TimeFloor {
 public:
  static constexpr int64_t kDefaultMarginUs = 200'000;

  // Opens PATH, creating it (and syncing its directory) when missing. Errors name the file.
  static absl::StatusOr<std::unique_ptr<TimeFloor>> Open(const std::string& path,
                                                         int64_t margin_us = kDefaultMarginUs);
  ~TimeFloor();
  TimeFloor(const TimeFloor&) = delete;
  TimeFloor& operator=(const TimeFloor&) = delete;

  // The limit found at Open (0 for a new file): no timestamp at or above it was handed out.
  Timestamp recorded() const { return recorded_; }
  // The persisted limit now.
  Timestamp limit() const { return limit_.load(std::memory_order_acquire); }
  // Makes `latest` lie below the persisted limit, raising and syncing it when it does not. The
  // error of a failed write or sync (the limit then stays where it was).
  absl::Status Cover(Timestamp latest);
  const std::string& path() const { return path_; }

 private:
  TimeFloor(std::string path, int fd, int64_t margin_us, Timestamp recorded, int next_slot);

  const std::string path_;
  const int fd_;
  const int64_t margin_us_;
  const Timestamp recorded_;
  std::atomic<Timestamp> limit_;
  absl::Mutex mu_;
  int next_slot_ ABSL_GUARDED_BY(mu_);
};

}  // namespace meridian::truetime

#endif  // MERIDIAN_TRUETIME_TIME_FLOOR_H_
