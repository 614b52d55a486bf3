#include "spanserver/server/clock_monitor.h"

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "proto/kv.pb.h"

namespace meridian::spanserver {
namespace {

constexpr size_t kProbeBytes = 2 + 3 * 8;
constexpr char kProbeKind = 1;
constexpr char kAnswerKind = 2;

void PutInt64(std::string& out, int64_t v) {
  const uint64_t u = static_cast<uint64_t>(v);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((u >> (8 * i)) & 0xff));
}

int64_t GetInt64(const char* p) {
  uint64_t u = 0;
  for (int i = 0; i < 8; ++i) u |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return static_cast<int64_t>(u);
}

void Log(const std::string& line) { std::fprintf(stderr, "spanserver: %s\n", line.c_str()); }

}  // namespace

std::string EncodeClockProbe(const ClockProbe& probe) {
  std::string out;
  out.reserve(kProbeBytes);
  out.push_back('\0');
  out.push_back(probe.answer ? kAnswerKind : kProbeKind);
  PutInt64(out, probe.sent_mono_us);
  PutInt64(out, probe.answer ? probe.reading.now_us : 0);
  PutInt64(out, probe.answer ? probe.reading.error_us : 0);
  return out;
}

bool IsClockAttachment(const std::string& wire) { return !wire.empty() && wire[0] == '\0'; }

std::optional<ClockProbe> DecodeClockProbe(const std::string& wire) {
  if (wire.size() != kProbeBytes || wire[0] != '\0') return std::nullopt;
  if (wire[1] != kProbeKind && wire[1] != kAnswerKind) return std::nullopt;
  ClockProbe probe;
  probe.answer = wire[1] == kAnswerKind;
  probe.sent_mono_us = GetInt64(wire.data() + 2);
  probe.reading.now_us = GetInt64(wire.data() + 10);
  probe.reading.error_us = GetInt64(wire.data() + 18);
  return probe;
}

ClockMonitor::ClockMonitor(truetime::TrueTime* truetime, truetime::PeerClockCheck* check,
                           SendFn send, int64_t interval_us)
    : truetime_(truetime), check_(check), send_(std::move(send)), interval_us_(interval_us) {}

ClockMonitor::~ClockMonitor() { Stop(); }

void ClockMonitor::Start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "clock");
    Loop();
  });
}

void ClockMonitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void ClockMonitor::SetPeers(std::vector<uint64_t> peers) {
  std::sort(peers.begin(), peers.end());
  peers.erase(std::unique(peers.begin(), peers.end()), peers.end());
  std::vector<uint64_t> added;
  {
    absl::MutexLock lock(&mu_);
    if (peers == peers_) return;
    for (uint64_t p : peers) {
      if (!std::binary_search(peers_.begin(), peers_.end(), p)) added.push_back(p);
    }
    peers_ = peers;
  }
  check_->SetPeers(peers);
  Log(absl::StrCat("clock peers: ", peers.size(), " servers"));
  ProbeAll(added);
}

void ClockMonitor::ProbeAll(const std::vector<uint64_t>& peers) {
  for (uint64_t peer : peers) {
    send_(peer, EncodeClockProbe(ClockProbe{
                    .answer = false, .sent_mono_us = check_->MonoNowUs(), .reading = {}}));
  }
}

void ClockMonitor::Receive(uint64_t from, const std::string& wire) {
  const std::optional<ClockProbe> probe = DecodeClockProbe(wire);
  if (!probe.has_value()) {
    absl::MutexLock lock(&mu_);
    ++malformed_;
    return;
  }
  absl::StatusOr<truetime::ClockReading> reading = truetime_->source().Read();
  if (!reading.ok()) return;  // no reading to offer or to compare: the probe is lost
  if (!probe->answer) {
    send_(from, EncodeClockProbe(ClockProbe{
                    .answer = true, .sent_mono_us = probe->sent_mono_us, .reading = *reading}));
    return;
  }
  const truetime::ClockSample sample{.sent_mono_us = probe->sent_mono_us,
                                     .received_mono_us = check_->MonoNowUs(),
                                     .peer = probe->reading,
                                     .received_wall_us = reading->now_us};
  if (!check_->AddSample(from, sample).ok()) {
    absl::MutexLock lock(&mu_);
    ++malformed_;
  }
}

void ClockMonitor::Loop() {
  while (true) {
    std::vector<uint64_t> peers;
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Microseconds(interval_us_))) return;
      peers = peers_;
    }
    ProbeAll(peers);
    LogAvailability();
    // Keeps the time high-water mark a few rounds ahead, off the request path.
    if (absl::Status s = truetime_->PersistAhead(3 * interval_us_); !s.ok()) {
      Log("cannot persist the time high-water mark: " + s.ToString());
    }
  }
}

void ClockMonitor::LogAvailability() {
  const absl::StatusOr<truetime::Interval> now = truetime_->Now();
  absl::MutexLock lock(&mu_);
  if (logged_available_.has_value() && *logged_available_ == now.ok()) return;
  logged_available_ = now.ok();
  if (now.ok()) {
    Log(absl::StrCat("TrueTime available: [", now->earliest, ", ", now->latest, "], epsilon ",
                     now->epsilon_us(), " us"));
  } else {
    Log(absl::StrCat("TrueTime unavailable, serving nothing until the clock agrees again: ",
                     now.status().message()));
  }
}

void ClockMonitor::RecordPlacementClock(int64_t sent_mono_us, truetime::ClockReading placement) {
  absl::StatusOr<truetime::ClockReading> own = truetime_->source().Read();
  if (!own.ok()) return;
  const truetime::ClockSample sample{.sent_mono_us = sent_mono_us,
                                     .received_mono_us = check_->MonoNowUs(),
                                     .peer = placement,
                                     .received_wall_us = own->now_us};
  // Disjoint when even the round trip and both errors cannot explain the difference.
  const int64_t rtt = sample.received_mono_us - sample.sent_mono_us;
  const int64_t offset = placement.now_us - (own->now_us - rtt / 2);
  const bool disagree =
      (offset < 0 ? -offset : offset) > rtt / 2 + placement.error_us + own->error_us;
  absl::MutexLock lock(&mu_);
  placement_ = sample;
  if (disagree != placement_disagreed_) {
    placement_disagreed_ = disagree;
    Log(disagree ? absl::StrCat("warning: this server's clock and placementd's disagree: ",
                                "placementd reads ", offset, " us ahead (round trip ", rtt,
                                " us, errors ", placement.error_us, " and ", own->error_us, " us)")
                 : "this server's clock agrees with placementd's again");
  }
}

void ClockMonitor::FillStatus(proto::ClockStatus* out) const {
  out->set_source(truetime_->source().Describe());
  if (absl::StatusOr<truetime::ClockReading> r = truetime_->source().Read(); r.ok()) {
    out->set_error_us(r->error_us);
  }
  if (absl::StatusOr<truetime::Interval> now = truetime_->Now(); !now.ok()) {
    out->set_unavailable(std::string(now.status().message()));
  }
  const truetime::PeerClockReport report = check_->Report();
  out->set_widen_early_us(report.widening.early_us);
  out->set_widen_late_us(report.widening.late_us);
  for (const truetime::PeerClockReport::Peer& p : report.peers) {
    proto::PeerClock* peer = out->add_peers();
    peer->set_server(p.id);
    peer->set_offset_us(p.offset_us);
    peer->set_bound_us(p.bound_us);
    peer->set_rtt_us(p.rtt_us);
    peer->set_age_ms(p.age_us / 1000);
    peer->set_fresh(p.fresh);
  }
  absl::MutexLock lock(&mu_);
  if (placement_.has_value()) {
    const truetime::ClockSample& s = *placement_;
    const int64_t rtt = s.received_mono_us - s.sent_mono_us;
    proto::PeerClock* p = out->mutable_placement();
    p->set_offset_us(s.peer.now_us - (s.received_wall_us - rtt / 2));
    p->set_bound_us(rtt / 2 + s.peer.error_us);
    p->set_rtt_us(rtt);
    p->set_age_ms((check_->MonoNowUs() - s.received_mono_us) / 1000);
    p->set_fresh(true);
  }
}

uint64_t ClockMonitor::malformed() const {
  absl::MutexLock lock(&mu_);
  return malformed_;
}

}  // namespace meridian::spanserver
