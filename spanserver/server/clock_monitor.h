// ClockMonitor: measures this server's clock against its peers' and feeds TrueTime's peer check
// (truetime/peer_clock_check.h), so that a server whose clock lies stops serving instead of
// breaking external consistency.
//
// Every `interval_us` the monitor's thread sends each peer a probe carrying this server's
// monotonic time; a peer answers at once, on the io thread that received the probe, with its raw
// clock reading and the echoed monotonic time; the answer becomes a ClockSample. Probes and
// answers ride the peer transport as attachments (replication/tcp_transport.h), beside the
// transaction layer's group messages, so they share its connections, its mutual TLS (a probe's
// sender is its certificate's server) and its bounds. A clock attachment begins with a zero byte,
// which no serialized protobuf message does (field number 0 does not exist), so the runtime tells
// the two apart without another envelope:
//
//   attachment := 0x00 kind(1 byte: 1 probe, 2 answer) sent_mono_us now_us error_us
//                 (each a little-endian int64; now_us and error_us are 0 in a probe)
//
// Peers are the other replicas of this server's groups (SetPeers, from each topology). After each
// round the monitor asks TrueTime whether it is available and logs each change, with the reason.
//
// Thread safety: every method is safe to call from several threads at once.
#ifndef MERIDIAN_SPANSERVER_SERVER_CLOCK_MONITOR_H_
#define MERIDIAN_SPANSERVER_SERVER_CLOCK_MONITOR_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "truetime/peer_clock_check.h"
#include "truetime/truetime.h"

namespace meridian::proto {
class ClockStatus;
}  // namespace meridian::proto

namespace meridian::spanserver {

// A decoded clock attachment.
struct ClockProbe {
  bool answer = false;
  int64_t sent_mono_us = 0;
  truetime::ClockReading reading;  // answers only
};
std::string EncodeClockProbe(const ClockProbe& probe);
// nullopt when `wire` is not a well-formed clock attachment.
std::optional<ClockProbe> DecodeClockProbe(const std::string& wire);
// Whether `wire` is meant as a clock attachment (its first byte is zero).
bool IsClockAttachment(const std::string& wire);

class ClockMonitor {
 public:
  using SendFn = std::function<void(uint64_t to, std::string wire)>;

  // `truetime` and `check` must outlive the monitor; `check` must be the one `truetime` uses.
  ClockMonitor(truetime::TrueTime* truetime, truetime::PeerClockCheck* check, SendFn send,
               int64_t interval_us);
  ~ClockMonitor();  // Stop()s
  ClockMonitor(const ClockMonitor&) = delete;
  ClockMonitor& operator=(const ClockMonitor&) = delete;

  // Starts the probing thread ("clock").
  void Start();
  void Stop();

  // The other replicas of this server's groups; new peers are probed at once.
  void SetPeers(std::vector<uint64_t> peers);
  // Handles a clock attachment from server `from`: answers a probe, records an answer. Malformed
  // ones are counted and dropped.
  void Receive(uint64_t from, const std::string& wire);

  // Records placementd's clock as a heartbeat's answer carried it (`placement` = the middle and
  // half-width of its interval), the heartbeat having left at monotonic `sent_mono_us`; logs
  // when the two clocks provably disagree. Reported only, not counted in the majority.
  void RecordPlacementClock(int64_t sent_mono_us, truetime::ClockReading placement);

  // Fills `out` for ServerStatus.
  void FillStatus(proto::ClockStatus* out) const;
  uint64_t malformed() const;

 private:
  void Loop();
  void ProbeAll(const std::vector<uint64_t>& peers);
  void LogAvailability();

  truetime::TrueTime* const truetime_;
  truetime::PeerClockCheck* const check_;
  const SendFn send_;
  const int64_t interval_us_;

  mutable absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<uint64_t> peers_ ABSL_GUARDED_BY(mu_);
  uint64_t malformed_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<bool> logged_available_ ABSL_GUARDED_BY(mu_);
  std::optional<truetime::ClockSample> placement_ ABSL_GUARDED_BY(mu_);
  bool placement_disagreed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace meridian::spanserver

#endif  // MERIDIAN_SPANSERVER_SERVER_CLOCK_MONITOR_H_
