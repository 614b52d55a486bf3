// Mover against FakeMovementClient (data groups in memory) and a MetadataStateMachine standing
// in for the placement group. Rounds run on the test thread (RunOnce) on simulated TrueTime, so
// they are deterministic; only the last tests start the mover's own thread.
//
// Checked after every move: the destination holds exactly the versions the source held in the
// range (the first copy and the writes made before the release), the source holds none, the map
// switched once, and the fake saw no protocol violation (an Adopt before TT.after(release_ts),
// a delta export of a range not released, an Ingest into a released range...).
#include "placement/mover.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "placement/metadata.h"
#include "tests/unit/placement/fake_movement_client.h"
#include "tests/unit/placement/move_test_util.h"
#include "truetime/simulated_clock.h"
#include "truetime/truetime.h"

namespace meridian::placement {
namespace {

using Method = FakeMovementClient::Method;
using testing::CreateGroupCommand;
using testing::MoveCommand;
using testing::RangesOf;
using testing::ResultOf;
using testing::SplitCommand;

// Placement for the mover: a MetadataStateMachine, with every proposal recorded.
class FakePlacement : public MoverHost {
 public:
  bool IsLeader() override { return leader.load(); }
  absl::StatusOr<proto::Topology> ReadTopology() override {
    if (!leader.load()) return absl::UnavailableError("not the leader");
    return metadata.Snapshot();
  }
  absl::StatusOr<std::string> Propose(const proto::PlacementCommand& command) override {
    if (!leader.load()) return absl::UnavailableError("not the leader");
    absl::MutexLock lock(&mu);
    if (fail_proposals > 0) {
      --fail_proposals;
      return absl::UnavailableError("lost leadership: outcome unknown");
    }
    proposed.push_back(command);
    return metadata.ApplyCommand(command);
  }
  // How many `op` commands were proposed (and applied).
  int Proposed(proto::PlacementCommand::OpCase op) {
    absl::MutexLock lock(&mu);
    int n = 0;
    for (const proto::PlacementCommand& c : proposed) n += c.op_case() == op ? 1 : 0;
    return n;
  }

  MetadataStateMachine metadata;
  std::atomic<bool> leader{true};
  absl::Mutex mu;
  std::vector<proto::PlacementCommand> proposed ABSL_GUARDED_BY(mu);
  int fail_proposals ABSL_GUARDED_BY(mu) = 0;
};

class MoverTest : public ::testing::Test {
 protected:
  MoverTest()
      : time_(1'000'000'000),
        truetime_(std::make_unique<truetime::SimulatedClockSource>(
                      &time_, truetime::SimulatedClockBounds{}, truetime::SimulatedClockParams{}),
                  truetime::TrueTime::Options{}),
        movement_(&truetime_) {
    testing::SetUpTwoRanges(placement_.metadata);
    EXPECT_EQ(ResultOf(placement_.metadata.ApplyCommand(CreateGroupCommand({1, 2, 3}))).group(),
              3u);
    options_.backoff_initial_us = 0;
    options_.backoff_max_us = 0;
    options_.attempts_per_step = 3;
  }

  std::unique_ptr<Mover> NewMover() {
    return std::make_unique<Mover>(&placement_, &movement_, &truetime_, options_);
  }

  // Writes `key` = `value` at group 1 and remembers it as a version the move must carry.
  void Write(const std::string& key, const std::string& value, bool is_delete = false) {
    absl::StatusOr<int64_t> ts = movement_.Write(1, key, value, is_delete);
    ASSERT_TRUE(ts.ok()) << ts.status();
    expected_[{key, *ts}] = {is_delete ? "" : value, is_delete};
  }

  void WriteInitialData() {
    movement_.SetHorizon(1, 42);
    for (const char* key : {"a", "b", "c", "d", "e", "f", "g"}) {
      Write(key, std::string(key) + "1");
      Write(key, std::string(key) + "2");
    }
    Write("c", "", /*is_delete=*/true);
    ASSERT_TRUE(movement_.Write(2, "n", "other range").ok());
  }

  // Records a move of ["", "m") from group 1 to group 3.
  void StartTheMove() {
    ASSERT_TRUE(
        ResultOf(placement_.metadata.ApplyCommand(MoveCommand("", "m", 1, 3))).refusal().empty());
  }

  // The checks of the file comment, for the move of ["", "m") from 1 to 3 at generation 2.
  void ExpectMoved() {
    const proto::Topology topology = placement_.metadata.Snapshot();
    EXPECT_EQ(RangesOf(topology), "[,m)->3@2 [m,)->2@1 ");
    EXPECT_EQ(topology.moves_size(), 0);
    EXPECT_EQ(movement_.VersionsIn(3, "", "m"), expected_);
    EXPECT_TRUE(movement_.VersionsIn(1, "", "m").empty());
    EXPECT_EQ(movement_.VersionsIn(2, "m", "").size(), 1u);
    ASSERT_EQ(movement_.Adopted(3).size(), 1u);
    EXPECT_EQ(movement_.Adopted(3)[0].generation(), 2u);
    EXPECT_EQ(movement_.Horizon(3), 42);
    EXPECT_EQ(placement_.Proposed(proto::PlacementCommand::kFinishMove), 1);
    EXPECT_EQ(placement_.Proposed(proto::PlacementCommand::kMoveDropped), 1);
    EXPECT_TRUE(movement_.Violations().empty()) << movement_.Violations().front();
  }

  truetime::SimulatedTime time_;
  truetime::TrueTime truetime_;
  FakeMovementClient movement_;
  FakePlacement placement_;
  MoverOptions options_;
  FakeMovementClient::Versions expected_;
};

TEST_F(MoverTest, AMoveCopiesEveryVersionIncludingWritesDuringTheCopy) {
  WriteInitialData();
  StartTheMove();
  // Writes land at the source after the first copy began: the delta must carry them.
  bool wrote = false;
  movement_.after = [&](Method method, uint64_t group) {
    if (method != Method::kExport || group != 1 || wrote) return;
    wrote = true;
    Write("a", "a3");
    Write("h", "h1");
    Write("b", "", /*is_delete=*/true);
  };
  std::unique_ptr<Mover> mover = NewMover();
  absl::StatusOr<bool> moved = mover->RunOnce();
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(*moved);
  EXPECT_TRUE(wrote);
  ExpectMoved();
  // Writes at the source fail once it released the range.
  EXPECT_FALSE(movement_.Write(1, "a", "late").ok());
  EXPECT_FALSE(*mover->RunOnce());  // nothing left to do
}

TEST_F(MoverTest, IngestsStayUnderTheSpanserversLimit) {
  // Pages of three versions of 400 KiB: an ingest of a whole page would be refused.
  for (int i = 0; i < 5; ++i) Write("k" + std::to_string(i), std::string(400 << 10, 'x'));
  Write("j", "small");
  StartTheMove();
  ASSERT_TRUE(NewMover()->RunOnce().ok());
  EXPECT_LE(movement_.MaxIngestBytes(), FakeMovementClient::kMaxIngestBytes);
  EXPECT_GE(movement_.Calls(Method::kIngest), 5);
  EXPECT_EQ(movement_.VersionsIn(3, "", "m"), expected_);
  EXPECT_TRUE(movement_.Violations().empty());
}

TEST(PacedDelayTest, AheadOfTheRateWaitsBehindItDoesNot) {
  constexpr uint64_t kMiB = 1 << 20;
  EXPECT_EQ(PacedDelayUs(kMiB, kMiB, 250'000), 750'000);
  EXPECT_EQ(PacedDelayUs(4 * kMiB, kMiB, 0), 250'000);
  EXPECT_EQ(PacedDelayUs(kMiB, kMiB, 1'000'000), 0);
  EXPECT_EQ(PacedDelayUs(kMiB, kMiB, 3'000'000), 0);  // behind: no catching up by bursting
  EXPECT_EQ(PacedDelayUs(0, kMiB, 0), 0);             // unpaced
}

// A paced copy asks for small pages and takes at least as long as its bytes take at the rate
// (TrueTime stands still here, so every page's share is waited for in full); the delta after
// the release is neither paced nor paged small.
TEST_F(MoverTest, APacedCopyTakesSmallPagesAndKeepsToItsRate) {
  // Pages of three versions; the last page needs no wait after it: 6 x 20 KiB, at least 58 ms.
  for (int i = 0; i < 9; ++i) Write("k" + std::to_string(i), std::string(20 << 10, 'x'));
  StartTheMove();
  options_.copy_bytes_per_s = 2 << 20;
  std::vector<std::pair<int64_t, uint32_t>> pages;  // after_ts, max_bytes
  movement_.on_export = [&](const proto::ExportRequest& r) {
    pages.emplace_back(r.after_ts(), r.max_bytes());
  };
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(NewMover()->RunOnce().ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(55));
  EXPECT_EQ(movement_.VersionsIn(3, "", "m"), expected_);
  ASSERT_GE(pages.size(), 3u);
  EXPECT_EQ(pages.front().second, 64u << 10);  // 25 ms at 2 MiB/s is below the 64 KiB floor
  EXPECT_GT(pages.back().first, 0);            // the delta...
  EXPECT_EQ(pages.back().second, options_.export_max_bytes);  // ...in whole pages
}

TEST_F(MoverTest, ReleaseIsRetriedWhileTheRangeIsBusy) {
  WriteInitialData();
  StartTheMove();
  movement_.busy_releases = 2;
  ASSERT_TRUE(NewMover()->RunOnce().ok());
  EXPECT_EQ(movement_.Calls(Method::kRelease), 3);
  ExpectMoved();
}

TEST_F(MoverTest, AStepThatKeepsFailingGivesUpAndTheMoveStaysRecorded) {
  WriteInitialData();
  StartTheMove();
  movement_.before = [](Method method, uint64_t) {
    return method == Method::kIngest ? absl::UnavailableError("group 3 has no leader")
                                     : absl::OkStatus();
  };
  std::unique_ptr<Mover> mover = NewMover();
  const absl::StatusOr<bool> moved = mover->RunOnce();
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(movement_.Calls(Method::kIngest), options_.attempts_per_step);
  proto::Topology topology = placement_.metadata.Snapshot();
  ASSERT_EQ(topology.moves_size(), 1);
  mover->Annotate(&topology);
  EXPECT_TRUE(absl::StrContains(topology.moves(0).phase(), "group 3 has no leader"))
      << topology.moves(0).phase();
  EXPECT_EQ(RangesOf(topology), "[,m)->1@1 [m,)->2@1 ");

  movement_.before = nullptr;  // group 3 elected a leader
  ASSERT_TRUE(mover->RunOnce().ok());
  ExpectMoved();
}

TEST_F(MoverTest, AFollowerMovesNothing) {
  WriteInitialData();
  StartTheMove();
  placement_.leader = false;
  const absl::StatusOr<bool> moved = NewMover()->RunOnce();
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(*moved);
  EXPECT_EQ(movement_.Calls(Method::kExport), 0);
}

TEST_F(MoverTest, ASplitAdoptsBothHalvesThenSwitchesTheMap) {
  ASSERT_TRUE(
      ResultOf(placement_.metadata.ApplyCommand(SplitCommand("m", "", 2, "t"))).refusal().empty());
  ASSERT_TRUE(NewMover()->RunOnce().ok());
  const proto::Topology topology = placement_.metadata.Snapshot();
  EXPECT_EQ(RangesOf(topology), "[,m)->1@1 [m,t)->2@2 [t,)->2@2 ");
  EXPECT_EQ(topology.moves_size(), 0);
  const std::vector<proto::RangeClaim> adopted = movement_.Adopted(2);
  ASSERT_EQ(adopted.size(), 2u);
  EXPECT_EQ(adopted[0].start(), "m");
  EXPECT_EQ(adopted[0].end(), "t");
  EXPECT_EQ(adopted[1].start(), "t");
  EXPECT_EQ(adopted[1].end(), "");
  EXPECT_EQ(adopted[1].generation(), 2u);
  EXPECT_EQ(movement_.Calls(Method::kExport), 0);
  EXPECT_EQ(placement_.Proposed(proto::PlacementCommand::kFinishMove), 1);
}

// A placement failover in the middle of a move: the first mover's calls all fail from the
// `crash_after`-th successful call of `crash_at` on (its leader died), and a new Mover — a new
// leader's, knowing only the recorded MoveInfo — carries the move to its end.
struct Crash {
  const char* name;
  Method crash_at;
  int crash_after;
};

void PrintTo(const Crash& crash, std::ostream* os) { *os << crash.name; }

class MoverFailoverTest : public MoverTest, public ::testing::WithParamInterface<Crash> {};

TEST_P(MoverFailoverTest, ANewMoverFinishesTheMoveAndTheMapSwitchesOnce) {
  WriteInitialData();
  StartTheMove();
  movement_.drop_limit = 3;  // several Drop calls
  const Crash crash = GetParam();
  std::atomic<bool> crashed{false};
  std::atomic<int> seen{0};
  movement_.after = [&](Method method, uint64_t) {
    if (method != crash.crash_at || ++seen != crash.crash_after) return;
    crashed = true;
    placement_.leader = false;
  };
  movement_.before = [&](Method, uint64_t) {
    return crashed ? absl::UnavailableError("placement leader gone") : absl::OkStatus();
  };
  std::unique_ptr<Mover> first = NewMover();
  const absl::StatusOr<bool> cut = first->RunOnce();
  EXPECT_FALSE(cut.ok());
  EXPECT_TRUE(crashed);
  first.reset();

  movement_.before = nullptr;
  placement_.leader = true;
  std::unique_ptr<Mover> second = NewMover();
  const absl::StatusOr<bool> moved = second->RunOnce();
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(*moved);
  ExpectMoved();
}

INSTANTIATE_TEST_SUITE_P(CrashPoints, MoverFailoverTest,
                         ::testing::Values(Crash{"AfterTheFirstExportPage", Method::kExport, 1},
                                           Crash{"AfterIngest", Method::kIngest, 2},
                                           Crash{"AfterRelease", Method::kRelease, 1},
                                           Crash{"AfterAdopt", Method::kAdopt, 1},
                                           Crash{"DuringTheDrop", Method::kDrop, 1}),
                         [](const ::testing::TestParamInfo<Crash>& info) {
                           return info.param.name;
                         });

TEST_F(MoverTest, AProposalWithAnUnknownOutcomeIsRepeatedHarmlessly) {
  WriteInitialData();
  StartTheMove();
  {
    absl::MutexLock lock(&placement_.mu);
    placement_.fail_proposals = 1;  // FinishMove fails once, as if leadership was lost
  }
  ASSERT_TRUE(NewMover()->RunOnce().ok());
  ExpectMoved();
}

TEST_F(MoverTest, TheThreadDrivesMovesInOrderAndStops) {
  WriteInitialData();
  StartTheMove();
  ASSERT_TRUE(
      ResultOf(placement_.metadata.ApplyCommand(SplitCommand("m", "", 2, "t"))).refusal().empty());
  options_.idle_poll_us = 1'000;
  std::unique_ptr<Mover> mover = NewMover();
  mover->Start();
  mover->Kick();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (placement_.metadata.Snapshot().moves_size() > 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  mover->Stop();
  EXPECT_EQ(RangesOf(placement_.metadata.Snapshot()), "[,m)->3@2 [m,t)->2@3 [t,)->2@3 ");
  absl::MutexLock lock(&placement_.mu);
  std::vector<uint64_t> finished;
  for (const proto::PlacementCommand& c : placement_.proposed) {
    if (c.has_finish_move()) finished.push_back(c.finish_move().id());
  }
  EXPECT_EQ(finished, (std::vector<uint64_t>{1, 2}));
}

TEST_F(MoverTest, StopReturnsPromptlyDuringBackoff) {
  WriteInitialData();
  StartTheMove();
  options_.backoff_initial_us = 60'000'000;
  options_.backoff_max_us = 60'000'000;
  std::atomic<int> calls{0};
  movement_.before = [&](Method, uint64_t) {
    ++calls;
    return absl::UnavailableError("no leader");
  };
  std::unique_ptr<Mover> mover = NewMover();
  mover->Start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (calls.load() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_GT(calls.load(), 0);
  const auto start = std::chrono::steady_clock::now();
  mover->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_EQ(calls.load(), 1);  // it was waiting out its backoff
}

}  // namespace
}  // namespace meridian::placement
