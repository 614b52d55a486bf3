#include "truetime/peer_clock_check.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "truetime/containment_check.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"

namespace meridian::truetime {
namespace {

constexpr Timestamp kStartUs = 1'700'000'000'000'000;

TEST(MajorityRegionTest, FindsThePointsCoveredByAQuorum) {
  std::pair<Timestamp, Timestamp> region;
  ASSERT_TRUE(MajorityRegion({{0, 10}, {5, 20}, {8, 30}}, 2, &region));
  EXPECT_EQ(region, (std::pair<Timestamp, Timestamp>{5, 20}));
  ASSERT_TRUE(MajorityRegion({{0, 10}, {5, 20}, {8, 30}}, 3, &region));
  EXPECT_EQ(region, (std::pair<Timestamp, Timestamp>{8, 10}));
  // One interval far away: the other two still make a majority.
  ASSERT_TRUE(MajorityRegion({{1000, 1010}, {0, 10}, {2, 12}}, 2, &region));
  EXPECT_EQ(region, (std::pair<Timestamp, Timestamp>{2, 10}));
  EXPECT_FALSE(MajorityRegion({{0, 10}, {20, 30}, {40, 50}}, 2, &region));
  EXPECT_FALSE(MajorityRegion({{0, 10}}, 2, &region));
  ASSERT_TRUE(MajorityRegion({{0, 10}}, 1, &region));
  EXPECT_EQ(region, (std::pair<Timestamp, Timestamp>{0, 10}));
}

// A probe of a peer whose clock reads `peer_now` ± `peer_err` at the middle of a round trip of
// `rtt` that ends at monotonic time `received`.
ClockSample Probe(int64_t received, int64_t rtt, Timestamp peer_now, int64_t peer_err) {
  return ClockSample{.sent_mono_us = received - rtt,
                     .received_mono_us = received,
                     .peer = ClockReading{peer_now, peer_err},
                     .received_wall_us = 0};
}

class PeerClockCheckTest : public ::testing::Test {
 protected:
  int64_t mono_ = 1'000'000;
  PeerClockCheck check_{[this] { return mono_; }};
};

TEST_F(PeerClockCheckTest, AgreeingClocksWidenByAtMostTheOneWayDelay) {
  check_.SetPeers({2, 3});
  // Every clock reads mono + kStartUs; the peers answered in the middle of 200 us round trips.
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs + mono_ - 100, 1000)).ok());
  ASSERT_TRUE(check_.AddSample(3, Probe(mono_, 200, kStartUs + mono_ - 100, 1000)).ok());
  const absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs + mono_, 1000});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_LE(w->max_us(), 101);
}

TEST_F(PeerClockCheckTest, AClockBehindAMajorityWidensToReachIt) {
  check_.SetPeers({2, 3});
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs + 300'000, 1000)).ok());
  ASSERT_TRUE(check_.AddSample(3, Probe(mono_, 200, kStartUs + 300'050, 1000)).ok());
  // This server reads 300 ms behind both.
  const absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs, 1000});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(w->early_us, 0);
  EXPECT_GE(w->late_us, 300'000);
  EXPECT_LE(w->late_us, 300'000 + 200 + 1000);
}

TEST_F(PeerClockCheckTest, OneLyingPeerDoesNotMoveAnHonestServer) {
  check_.SetPeers({2, 3});
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs + 300'000, 1000)).ok());  // liar
  ASSERT_TRUE(check_.AddSample(3, Probe(mono_, 200, kStartUs - 100, 1000)).ok());
  const absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs, 1000});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_LE(w->max_us(), 200);
}

TEST_F(PeerClockCheckTest, WithoutAMajorityOfFreshSamplesTheCheckFails) {
  check_.SetPeers({2, 3});
  absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs, 1000});
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(w.status().message().find("fresh clock samples from 0 of 2 peers"), std::string::npos)
      << w.status();
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs - 100, 1000)).ok());
  EXPECT_TRUE(check_.Check(ClockReading{kStartUs, 1000}).ok());
  mono_ += 3'000'001;  // the sample expires
  EXPECT_FALSE(check_.Check(ClockReading{kStartUs + 3'000'001, 1000}).ok());
  // Two peers that disagree with each other and with this server: nobody can tell who is right.
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs + 9'000'000, 1000)).ok());
  ASSERT_TRUE(check_.AddSample(3, Probe(mono_, 200, kStartUs - 9'000'000, 1000)).ok());
  EXPECT_FALSE(check_.Check(ClockReading{kStartUs + 3'000'001, 1000}).ok());
  EXPECT_FALSE(check_.Report().failure.empty());
}

TEST_F(PeerClockCheckTest, AServerAloneNeedsNoPeers) {
  check_.SetPeers({});
  const absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs, 1000});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->max_us(), 0);
}

TEST_F(PeerClockCheckTest, AWallClockStepShowsAtOnceThroughTheMonotonicClock) {
  check_.SetPeers({2, 3});
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs - 100, 1000)).ok());
  ASSERT_TRUE(check_.AddSample(3, Probe(mono_, 200, kStartUs - 100, 1000)).ok());
  ASSERT_LE(check_.Check(ClockReading{kStartUs, 1000})->max_us(), 101);
  // 10 ms later this server's wall clock has jumped a second ahead; no new probe yet.
  mono_ += 10'000;
  const absl::StatusOr<ClockWidening> w =
      check_.Check(ClockReading{kStartUs + 10'000 + 1'000'000, 1000});
  ASSERT_TRUE(w.ok());
  EXPECT_GE(w->early_us, 1'000'000 - 200);
}

TEST_F(PeerClockCheckTest, SamplesThatDisagreeWithNewerOnesAreDropped) {
  check_.SetPeers({2});
  // The peer stepped 1 s ahead between two probes: only the newer sample counts.
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs - 100, 1000)).ok());
  mono_ += 100'000;
  ASSERT_TRUE(check_.AddSample(2, Probe(mono_, 200, kStartUs + 1'100'000 - 100, 1000)).ok());
  const absl::StatusOr<ClockWidening> w = check_.Check(ClockReading{kStartUs + 1'100'000, 1000});
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_LE(w->max_us(), 101);
}

TEST_F(PeerClockCheckTest, RefusesImpossibleSamples) {
  check_.SetPeers({2});
  EXPECT_FALSE(check_.AddSample(3, Probe(mono_, 200, kStartUs, 1000)).ok());      // not a peer
  EXPECT_FALSE(check_.AddSample(2, Probe(mono_ + 1, 200, kStartUs, 1000)).ok());  // future
  EXPECT_FALSE(check_.AddSample(2, Probe(mono_, -5, kStartUs, 1000)).ok());       // before it left
  EXPECT_FALSE(check_.AddSample(2, Probe(mono_, 200, kStartUs, -1)).ok());
  EXPECT_FALSE(check_.Check(ClockReading{kStartUs, 1000}).ok());  // nothing was recorded
}

TEST_F(PeerClockCheckTest, ReportsEachPeersOffset) {
  check_.SetPeers({2});
  ClockSample s = Probe(mono_, 200, kStartUs + 5'000, 1000);
  s.received_wall_us = kStartUs + 100;  // the middle of the round trip read kStartUs here
  ASSERT_TRUE(check_.AddSample(2, s).ok());
  const PeerClockReport report = check_.Report();
  ASSERT_EQ(report.peers.size(), 1u);
  EXPECT_TRUE(report.peers[0].fresh);
  EXPECT_EQ(report.peers[0].offset_us, 5'000);
  EXPECT_EQ(report.peers[0].rtt_us, 200);
  EXPECT_EQ(report.peers[0].bound_us, 1100);
}

// Seed, workload and checker of the lying-clock scenario:
//   seed: the argument; nodes: `nodes` TrueTime instances over SimulatedClockSources drawn inside
//   their bounds, each with a PeerClockCheck on true time as its monotonic clock, all other nodes
//   as peers. Each step advances true time by 0..50 ms; every node probes every other (round trip
//   50 us..5 ms, the peer reading at a random point inside it; 10% of probes lost); then one random
//   node calls Now().
//   Faults: from a random step on, one node's clock lies by `lie_us` beyond its own bound.
//   Checkers: every Now() that succeeds contains true time (CheckContainsTrueTime).
//   With `ignore` (the planted bug testing_ignore) the peer check is off.
// Returns the first violation, or OK; counts the liar's refused and served calls.
struct LieRun {
  absl::Status status;
  int liar_refused = 0;
  int liar_served = 0;
};

LieRun RunLyingClockScenario(uint64_t seed, int nodes, int steps, int64_t lie_us, bool ignore) {
  meridian::Random rng(seed);
  const SimulatedClockBounds bounds{
      .base_error_us = 1000, .max_drift_ppm = 200, .sync_interval_us = 1'000'000};
  SimulatedTime time(kStartUs);
  std::vector<SimulatedClockSource*> clocks;
  std::vector<std::unique_ptr<PeerClockCheck>> checks;
  std::vector<std::unique_ptr<TrueTime>> tts;
  for (int i = 0; i < nodes; ++i) {
    auto clock = std::make_unique<SimulatedClockSource>(&time, bounds,
                                                        RandomSimulatedClockParams(bounds, rng));
    clocks.push_back(clock.get());
    checks.push_back(std::make_unique<PeerClockCheck>([&time] { return time.NowUs(); },
                                                      PeerClockOptions{.testing_ignore = ignore}));
    std::vector<uint64_t> peers;
    for (int j = 0; j < nodes; ++j) {
      if (j != i) peers.push_back(static_cast<uint64_t>(j));
    }
    checks.back()->SetPeers(peers);
    tts.push_back(std::make_unique<TrueTime>(
        std::move(clock),
        TrueTime::Options{.max_epsilon_us = 20'000, .peers = checks.back().get()}));
  }
  const int liar = static_cast<int>(rng.Uniform(nodes));
  const int lie_step = static_cast<int>(rng.Uniform(steps / 2));
  LieRun run;
  for (int step = 0; step < steps; ++step) {
    if (step == lie_step) clocks[liar]->SetViolation(lie_us);
    time.Advance(rng.Range(0, 50'000));
    const Timestamp t = time.NowUs();
    for (int a = 0; a < nodes; ++a) {
      for (int b = 0; b < nodes; ++b) {
        if (a == b || rng.Bernoulli(0.1)) continue;
        const int64_t rtt = rng.Range(50, 5'000);
        const int64_t back = rng.Range(0, rtt);
        const ClockSample s{.sent_mono_us = t - rtt,
                            .received_mono_us = t,
                            .peer = clocks[b]->ReadingAt(t - back),
                            .received_wall_us = clocks[a]->ReadingAt(t).now_us};
        if (absl::Status st = checks[a]->AddSample(static_cast<uint64_t>(b), s); !st.ok()) {
          run.status = st;
          return run;
        }
      }
    }
    const int node = static_cast<int>(rng.Uniform(nodes));
    const absl::StatusOr<Interval> now = tts[node]->Now();
    if (!now.ok()) {
      if (node == liar && step >= lie_step) ++run.liar_refused;
      continue;
    }
    if (node == liar && step >= lie_step) ++run.liar_served;
    if (absl::Status s = CheckContainsTrueTime(*now, t); !s.ok()) {
      run.status =
          absl::InternalError(absl::StrCat("seed ", seed, " step ", step, " node ", node,
                                           (node == liar ? " (the liar)" : ""), ": ", s.message()));
      return run;
    }
  }
  return run;
}

TEST(PeerClockScenarioTest, ALyingClockWidensOrIsRefusedButNeverLies) {
  int refused = 0;
  int served = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    // Lies from 1 us past the bound (served, widened) to 200 ms (beyond the 20 ms guard).
    const int64_t lie_us = seed % 3 == 0 ? 1 + static_cast<int64_t>(seed) * 37 : 200'000;
    for (int nodes : {3, 5}) {
      const LieRun run = RunLyingClockScenario(seed, nodes, 300, lie_us, /*ignore=*/false);
      ASSERT_TRUE(run.status.ok()) << run.status;
      refused += run.liar_refused;
      served += run.liar_served;
    }
  }
  // Both outcomes were exercised: small lies served with a wider interval, large ones refused.
  EXPECT_GT(refused, 0);
  EXPECT_GT(served, 0);
}

TEST(PeerClockScenarioTest, WithoutTheCheckTheContainmentCheckerCatchesTheLiar) {
  int caught = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const LieRun run = RunLyingClockScenario(seed, 3, 300, 200'000, /*ignore=*/true);
    if (!run.status.ok()) ++caught;
  }
  EXPECT_GT(caught, 10);
}

}  // namespace
}  // namespace meridian::truetime
