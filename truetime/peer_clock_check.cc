#include "truetime/peer_clock_check.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::truetime {
namespace {

// ceil(us * ppm / 1e6) for us, ppm >= 0: the drift allowance rounds up.
int64_t DriftUs(int64_t us, int64_t ppm) {
  if (us <= 0 || ppm <= 0) return 0;
  return (us / 1'000'000) * ppm + ((us % 1'000'000) * ppm + 999'999) / 1'000'000;
}

}  // namespace

bool MajorityRegion(const std::vector<std::pair<Timestamp, Timestamp>>& ranges, size_t quorum,
                    std::pair<Timestamp, Timestamp>* region) {
  if (quorum == 0) return false;
  auto covered = [&](Timestamp x) {
    size_t n = 0;
    for (const auto& [lo, hi] : ranges) n += (lo <= x && x <= hi) ? 1 : 0;
    return n;
  };
  // Coverage only rises at a left end and only falls after a right end, so the lowest covered
  // point is a left end and the highest a right end.
  bool found = false;
  for (const auto& [lo, hi] : ranges) {
    if (lo > hi || covered(lo) < quorum) continue;
    region->first = found ? std::min(region->first, lo) : lo;
    found = true;
  }
  if (!found) return false;
  region->second = region->first;
  for (const auto& [lo, hi] : ranges) {
    if (lo <= hi && covered(hi) >= quorum) region->second = std::max(region->second, hi);
  }
  return true;
}

PeerClockCheck::PeerClockCheck(std::function<int64_t()> mono_now_us, PeerClockOptions options)
    : mono_now_us_(std::move(mono_now_us)), options_(options) {
  CHECK(mono_now_us_ != nullptr);
  CHECK(options_.sample_ttl_us > 0 && options_.mono_drift_ppm >= 0);
  CHECK(options_.samples_per_peer > 0);
}

void PeerClockCheck::SetPeers(const std::vector<uint64_t>& peers) {
  absl::MutexLock lock(&mu_);
  std::map<uint64_t, std::deque<ClockSample>> next;
  for (uint64_t peer : peers) {
    auto it = samples_.find(peer);
    next[peer] = it == samples_.end() ? std::deque<ClockSample>{} : std::move(it->second);
  }
  samples_ = std::move(next);
}

std::vector<uint64_t> PeerClockCheck::peers() const {
  absl::MutexLock lock(&mu_);
  std::vector<uint64_t> out;
  for (const auto& [peer, samples] : samples_) out.push_back(peer);
  return out;
}

absl::Status PeerClockCheck::AddSample(uint64_t peer, const ClockSample& sample) {
  const int64_t mono = mono_now_us_();
  if (sample.received_mono_us < sample.sent_mono_us || sample.received_mono_us > mono) {
    return absl::InvalidArgumentError(
        absl::StrCat("clock probe of server ", peer, " answered at monotonic ",
                     sample.received_mono_us, " outside [", sample.sent_mono_us, ", ", mono, "]"));
  }
  if (sample.peer.error_us < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("server ", peer, " reported a negative clock error ", sample.peer.error_us));
  }
  absl::MutexLock lock(&mu_);
  auto it = samples_.find(peer);
  if (it == samples_.end()) {
    return absl::InvalidArgumentError(absl::StrCat("server ", peer, " is not a clock peer"));
  }
  std::deque<ClockSample>& samples = it->second;
  samples.push_front(sample);
  if (samples.size() > options_.samples_per_peer) samples.pop_back();
  return absl::OkStatus();
}

bool PeerClockCheck::Project(std::deque<ClockSample>& samples, int64_t mono, Range* out) const {
  bool have = false;
  size_t kept = 0;
  for (const ClockSample& s : samples) {
    if (mono - s.received_mono_us > options_.sample_ttl_us || s.received_mono_us > mono) break;
    const int64_t drift = DriftUs(mono - s.sent_mono_us, options_.mono_drift_ppm);
    const Range r{s.peer.now_us - s.peer.error_us + (mono - s.received_mono_us) - drift,
                  s.peer.now_us + s.peer.error_us + (mono - s.sent_mono_us) + drift};
    if (!have) {
      *out = r;
      have = true;
    } else if (r.lo <= out->hi && out->lo <= r.hi) {
      out->lo = std::max(out->lo, r.lo);
      out->hi = std::min(out->hi, r.hi);
    } else {
      break;  // disagrees with the newer samples: a clock was stepped in between
    }
    ++kept;
  }
  samples.resize(kept);  // expired and superseded samples are gone for good
  return have;
}

absl::StatusOr<ClockWidening> PeerClockCheck::Check(const ClockReading& own) {
  const int64_t mono = mono_now_us_();
  absl::MutexLock lock(&mu_);
  if (options_.testing_ignore) return ClockWidening{};
  const Range self{own.now_us - own.error_us, own.now_us + own.error_us};
  std::vector<std::pair<Timestamp, Timestamp>> ranges = {{self.lo, self.hi}};
  int fresh = 0;
  for (auto& [peer, samples] : samples_) {
    Range r;
    if (!Project(samples, mono, &r)) continue;
    ranges.emplace_back(r.lo, r.hi);
    ++fresh;
  }
  const size_t servers = 1 + samples_.size();
  const size_t quorum = servers / 2 + 1;
  std::pair<Timestamp, Timestamp> region;
  if (!MajorityRegion(ranges, quorum, &region)) {
    last_widening_ = {};
    last_failure_ =
        absl::StrCat("this server's clock cannot be reconciled with a majority of its ", servers,
                     " servers (fresh clock samples from ", fresh, " of ", samples_.size(),
                     " peers; no instant lies within ", quorum, " of their intervals)");
    return absl::UnavailableError(last_failure_);
  }
  last_failure_.clear();
  last_widening_ = ClockWidening{std::max<int64_t>(0, self.lo - region.first),
                                 std::max<int64_t>(0, region.second - self.hi)};
  return last_widening_;
}

PeerClockReport PeerClockCheck::Report() const {
  const int64_t mono = mono_now_us_();
  absl::MutexLock lock(&mu_);
  PeerClockReport report;
  report.widening = last_widening_;
  report.failure = last_failure_;
  for (const auto& [peer, samples] : samples_) {
    PeerClockReport::Peer p;
    p.id = peer;
    if (!samples.empty()) {
      const ClockSample& s = samples.front();
      p.rtt_us = s.received_mono_us - s.sent_mono_us;
      p.age_us = mono - s.received_mono_us;
      p.fresh = p.age_us <= options_.sample_ttl_us;
      // The peer's reading against this server's wall clock at the middle of the round trip,
      // as NTP estimates an offset.
      p.bound_us = p.rtt_us / 2 + s.peer.error_us;
      p.offset_us = s.peer.now_us - (s.received_wall_us - p.rtt_us / 2);
    }
    report.peers.push_back(p);
  }
  return report;
}

}  // namespace meridian::truetime
