// ClockMonitor: the clock attachments' encoding, and three servers' monitors wired to each other
// (a synchronous send stands in for the peer transport) fencing the one whose clock lies.
#include "spanserver/server/clock_monitor.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "proto/kv.pb.h"

namespace meridian::spanserver {
namespace {

constexpr truetime::Timestamp kStartUs = 1'700'000'000'000'000;

TEST(ClockProbeTest, EncodesAndDecodes) {
  const ClockProbe answer{.answer = true, .sent_mono_us = -7, .reading = {kStartUs, 1000}};
  const std::string wire = EncodeClockProbe(answer);
  EXPECT_TRUE(IsClockAttachment(wire));
  const std::optional<ClockProbe> decoded = DecodeClockProbe(wire);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->answer);
  EXPECT_EQ(decoded->sent_mono_us, -7);
  EXPECT_EQ(decoded->reading, (truetime::ClockReading{kStartUs, 1000}));
  // A probe carries no reading.
  const std::optional<ClockProbe> probe = DecodeClockProbe(
      EncodeClockProbe({.answer = false, .sent_mono_us = 5, .reading = {kStartUs, 1}}));
  ASSERT_TRUE(probe.has_value());
  EXPECT_FALSE(probe->answer);
  EXPECT_EQ(probe->reading, truetime::ClockReading{});
  // Truncated, too long, another kind, or a protobuf message (no leading zero byte).
  EXPECT_FALSE(DecodeClockProbe(wire.substr(0, wire.size() - 1)).has_value());
  EXPECT_FALSE(DecodeClockProbe(wire + "x").has_value());
  std::string other = wire;
  other[1] = 9;
  EXPECT_FALSE(DecodeClockProbe(other).has_value());
  EXPECT_FALSE(IsClockAttachment("\x08\x01"));
  EXPECT_FALSE(IsClockAttachment(""));
}

// A clock the test sets: true time plus an offset.
class OffsetClockSource : public truetime::ClockSource {
 public:
  OffsetClockSource(const int64_t* true_us, int64_t offset_us)
      : true_us_(true_us), offset_us_(offset_us) {}
  absl::StatusOr<truetime::ClockReading> Read() override {
    return truetime::ClockReading{*true_us_ + offset_us_, 1000};
  }
  std::string Describe() const override { return "offset"; }
  void SleepFor(int64_t) override {}

 private:
  const int64_t* true_us_;
  const int64_t offset_us_;
};

struct Server {
  std::unique_ptr<truetime::PeerClockCheck> check;
  std::unique_ptr<truetime::TrueTime> tt;
  std::unique_ptr<ClockMonitor> monitor;
};

TEST(ClockMonitorTest, TheServerWhoseClockLiesIsFencedAndSaysWhy) {
  int64_t true_us = kStartUs;
  std::map<uint64_t, Server> servers;
  const std::map<uint64_t, int64_t> offsets = {{1, 0}, {2, 300}, {3, -300'000}};
  for (const auto& [id, offset] : offsets) {
    Server& s = servers[id];
    s.check = std::make_unique<truetime::PeerClockCheck>([&true_us] { return true_us; });
    s.tt = std::make_unique<truetime::TrueTime>(
        std::make_unique<OffsetClockSource>(&true_us, offset),
        truetime::TrueTime::Options{.max_epsilon_us = 10'000, .peers = s.check.get()});
  }
  for (auto& [id, server] : servers) {
    server.monitor = std::make_unique<ClockMonitor>(
        server.tt.get(), server.check.get(),
        [&servers, from = id](uint64_t to, std::string wire) {
          servers.at(to).monitor->Receive(from, wire);
        },
        100'000);
  }
  // Peers known but not yet probed: no majority, no TrueTime.
  servers[1].check->SetPeers({2, 3});
  EXPECT_FALSE(servers[1].tt->Now().ok());
  for (auto& [id, server] : servers) {
    std::vector<uint64_t> peers;
    for (const auto& [other, unused] : offsets) {
      if (other != id) peers.push_back(other);
    }
    server.monitor->SetPeers(peers);  // probes the new peers at once
  }
  EXPECT_TRUE(servers[1].tt->Now().ok());
  EXPECT_TRUE(servers[2].tt->Now().ok());
  const absl::StatusOr<truetime::Interval> liar = servers[3].tt->Now();
  EXPECT_EQ(liar.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(liar.status().message().find("disagrees with its peers"), std::string::npos)
      << liar.status();

  proto::ClockStatus status;
  servers[3].monitor->FillStatus(&status);
  EXPECT_FALSE(status.unavailable().empty());
  ASSERT_EQ(status.peers_size(), 2);
  for (const proto::PeerClock& p : status.peers()) {
    EXPECT_TRUE(p.fresh());
    EXPECT_NEAR(static_cast<double>(p.offset_us()), 300'000.0, 1'000.0) << p.server();
  }
  proto::ClockStatus honest;
  servers[1].monitor->FillStatus(&honest);
  EXPECT_TRUE(honest.unavailable().empty()) << honest.unavailable();

  // A malformed clock attachment is counted and changes nothing.
  servers[1].monitor->Receive(2, std::string("\0\x07", 2));
  EXPECT_EQ(servers[1].monitor->malformed(), 1u);
  EXPECT_TRUE(servers[1].tt->Now().ok());
}

}  // namespace
}  // namespace meridian::spanserver
