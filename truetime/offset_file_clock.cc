#include "truetime/offset_file_clock.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace meridian::truetime {

OffsetFileClock::OffsetFileClock(PhysicalClock* base, std::string path, int64_t reread_interval_us)
    : base_(base), path_(std::move(path)), reread_interval_us_(reread_interval_us) {
  next_read_mono_us_.store(base_->MonoNowUs() + reread_interval_us_, std::memory_order_relaxed);
  Reread();
}

int64_t OffsetFileClock::OffsetUs() {
  const int64_t now = base_->MonoNowUs();
  int64_t due = next_read_mono_us_.load(std::memory_order_relaxed);
  if (now >= due && next_read_mono_us_.compare_exchange_strong(due, now + reread_interval_us_,
                                                               std::memory_order_relaxed)) {
    Reread();
  }
  return offset_us_.load(std::memory_order_relaxed);
}

Timestamp OffsetFileClock::WallNowUs() {
  const int64_t offset = OffsetUs();
  return base_->WallNowUs() + offset;
}

void OffsetFileClock::Reread() {
  std::ifstream in(path_);
  if (!in) {
    offset_us_.store(0, std::memory_order_relaxed);  // no file: no offset
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  const std::string content(absl::StripAsciiWhitespace(text.str()));
  int64_t offset = 0;
  if (content.empty() || absl::SimpleAtoi(content, &offset)) {
    offset_us_.store(offset, std::memory_order_relaxed);
    return;
  }
  absl::MutexLock lock(&malformed_mu_);
  if (content != last_malformed_) {
    std::fprintf(stderr, "testing clock: %s holds '%s', not microseconds; keeping %lld\n",
                 path_.c_str(), content.c_str(),
                 static_cast<long long>(offset_us_.load(std::memory_order_relaxed)));
    last_malformed_ = content;
  }
}

}  // namespace meridian::truetime
