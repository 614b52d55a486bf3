// The client's routing loop (client/src/router.h) with a fake placement and scripted attempts: one
// range, group 1, replicas a, b and c, placement naming `a` the leader. Each test scripts how the
// attempts at each address end and compares the addresses tried, in order, with the expected
// trail. No network; backoff is 1 ms.
#include "client/src/router.h"

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "meridian/errors.h"
#include "tests/unit/client/attempt_results.h"

namespace meridian::client {
namespace {

using absl::StatusCode;
using Clock = std::chrono::steady_clock;

using testing::LeaderHint;
using testing::Result;
using testing::StaleMap;

AttemptResult Unreachable() {
  AttemptResult r = testing::NotSent(StatusCode::kUnavailable);
  r.message = "cannot connect";
  return r;
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest()
      : router_({.attempt_timeout = std::chrono::milliseconds(1000),
                 .backoff_initial = std::chrono::milliseconds(1),
                 .backoff_max = std::chrono::milliseconds(1),
                 .leader_backoff_max = std::chrono::milliseconds(1),
                 .seed = 7},
                [this](const std::string&, SteadyTime) -> absl::StatusOr<Location> {
                  ++locates_;
                  if (!placement_error_.ok()) return placement_error_;
                  return location_;
                }) {
    location_ = {"", "", 1, 1, {"a", "b", "c"}, "a"};
  }

  // Runs one call; every attempt at an address takes the next scripted result there (OK once
  // the script is used up).
  absl::Status Call(RoutePolicy policy,
                    std::chrono::milliseconds deadline = std::chrono::milliseconds(2000)) {
    return router_.Call(policy, "k", Clock::now() + deadline,
                        [this](const std::string& address, const Location& at, SteadyTime) {
                          trail_.push_back(address);
                          EXPECT_EQ(at.group, location_.group);
                          std::deque<AttemptResult>& script = script_[address];
                          if (script.empty()) return Result(StatusCode::kOk);
                          AttemptResult result = script.front();
                          script.pop_front();
                          return result;
                        });
  }

  // The addresses tried since the last call of Trail().
  std::string Trail() {
    std::string trail = absl::StrJoin(trail_, " ");
    trail_.clear();
    return trail;
  }

  Location location_;
  absl::Status placement_error_;
  int locates_ = 0;
  std::map<std::string, std::deque<AttemptResult>> script_;
  std::vector<std::string> trail_;
  Router router_;
};

constexpr RoutePolicy kLeaderWrite{CallKind::kWrite, Replicas::kLeader, 0};
constexpr RoutePolicy kLeaderRead{CallKind::kRead, Replicas::kLeader, 0};

TEST_F(RouterTest, ALeaderHintIsFollowedAndCached) {
  location_.leader_address = "b";
  script_["b"] = {LeaderHint("c")};
  EXPECT_TRUE(Call(kLeaderWrite).ok());
  EXPECT_EQ(Trail(), "b c");
  EXPECT_TRUE(Call(kLeaderWrite).ok());
  EXPECT_EQ(Trail(), "c");
  EXPECT_EQ(locates_, 1);
}

TEST_F(RouterTest, AStaleMapRefreshesFromPlacement) {
  script_["a"] = {StaleMap()};
  EXPECT_TRUE(Call(kLeaderWrite).ok());
  EXPECT_EQ(Trail(), "a a");
  EXPECT_EQ(locates_, 2);
}

TEST_F(RouterTest, AWriteSentAndLostIsOutcomeUnknownAndNotRetried) {
  script_["a"] = {Result(StatusCode::kDeadlineExceeded)};
  const absl::Status status = Call(kLeaderWrite);
  EXPECT_EQ(status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsOutcomeUnknown(status)) << status;
  EXPECT_EQ(Trail(), "a");
}

TEST_F(RouterTest, AReadSentAndLostIsRetried) {
  script_["a"] = {Result(StatusCode::kUnavailable), Result(StatusCode::kDeadlineExceeded)};
  EXPECT_TRUE(Call(kLeaderRead).ok());
  EXPECT_EQ(Trail(), "a a a");
}

TEST_F(RouterTest, AFinalErrorIsReturnedNamedByGroupAndAddress) {
  script_["a"] = {Result(StatusCode::kInvalidArgument)};
  const absl::Status status = Call(kLeaderWrite);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "group 1 at a: ");
  EXPECT_EQ(Trail(), "a");
}

// A read whose leader cannot be reached asks the other replicas, which name the leader; a write
// only ever goes to a leader, found again at placement.
TEST_F(RouterTest, AnUnreachableLeaderSendsReadsToFollowersAndWritesBackToPlacement) {
  script_["a"] = {Unreachable(), Unreachable()};
  script_["b"] = {LeaderHint("c")};
  EXPECT_TRUE(Call(kLeaderRead).ok());
  EXPECT_EQ(Trail(), "a b c");
  EXPECT_EQ(locates_, 2);

  location_.leader_address = "a";
  script_["a"] = {Unreachable()};
  router_.ReplaceAll({location_});
  locates_ = 0;
  EXPECT_TRUE(Call(kLeaderWrite).ok());
  EXPECT_EQ(Trail(), "a a");
  EXPECT_EQ(locates_, 1);
}

TEST_F(RouterTest, AMovedRangeIsAbortedWithoutAnAttempt) {
  const absl::Status status = Call({CallKind::kWrite, Replicas::kLeader, 2});
  EXPECT_EQ(status.code(), StatusCode::kAborted) << status;
  EXPECT_EQ(Trail(), "");
}

TEST_F(RouterTest, SweepsTryEveryReplicaWithTheLeaderFirstOrLast) {
  script_["a"] = {Result(StatusCode::kUnavailable)};
  script_["b"] = {LeaderHint("a"), Result(StatusCode::kUnavailable)};
  script_["c"] = {Result(StatusCode::kUnavailable)};
  EXPECT_TRUE(Call({CallKind::kRead, Replicas::kAnyLeaderFirst, 1}).ok());
  EXPECT_EQ(Trail(), "a b c a");

  script_["b"] = {Result(StatusCode::kUnavailable)};
  EXPECT_TRUE(Call({CallKind::kRead, Replicas::kAnyLeaderLast, 1}).ok());
  EXPECT_EQ(Trail(), "b c");
}

TEST_F(RouterTest, AStaleMapEndsASweepAndRefreshes) {
  script_["a"] = {StaleMap()};
  EXPECT_TRUE(Call({CallKind::kRead, Replicas::kAnyLeaderFirst, 1}).ok());
  EXPECT_EQ(Trail(), "a a");
  EXPECT_EQ(locates_, 2);
}

TEST_F(RouterTest, TheDeadlineEndsAWriteAsNotAppliedAndAReadAsDeadlineExceeded) {
  script_["a"] = std::deque<AttemptResult>(100'000, Unreachable());
  const absl::Status write = Call(kLeaderWrite, std::chrono::milliseconds(30));
  EXPECT_EQ(write.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(IsOutcomeUnknown(write));
  EXPECT_TRUE(absl::StartsWith(write.message(), "not applied")) << write;

  location_.replica_addresses = {"a"};
  router_.ReplaceAll({location_});
  const absl::Status read = Call(kLeaderRead, std::chrono::milliseconds(30));
  EXPECT_EQ(read.code(), StatusCode::kDeadlineExceeded) << read;
}

TEST_F(RouterTest, APlacementFailureEndsTheCallAndAWriteSaysNotApplied) {
  placement_error_ = absl::UnavailableError("placement down");
  const absl::Status write = Call(kLeaderWrite);
  EXPECT_EQ(write.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StartsWith(write.message(), "not applied")) << write;
  placement_error_ = absl::NotFoundError("no such range");
  EXPECT_EQ(Call(kLeaderRead).code(), StatusCode::kNotFound);
  EXPECT_EQ(Trail(), "");
}

// Route alone: the replicas a read tries when the leader is unknown, round robin.
// While no replica knows a leader (an election), a leader-only call retries at least every
// leader_backoff_max, however long backoff_max is, so it finds the new leader soon after the
// election ends; with the cap as long as backoff_max it sleeps up to a second at a time.
TEST(RouterBackoffTest, LookingForALeaderBacksOffAtMostLeaderBackoffMax) {
  const auto attempts_in_a_second = [](std::chrono::milliseconds leader_cap) {
    Router router({.attempt_timeout = std::chrono::milliseconds(1000),
                   .backoff_initial = std::chrono::milliseconds(1),
                   .backoff_max = std::chrono::milliseconds(1000),
                   .leader_backoff_max = leader_cap,
                   .seed = 7},
                  [](const std::string&, SteadyTime) -> absl::StatusOr<Location> {
                    return Location{"", "", 1, 1, {"a", "b", "c"}, "a"};
                  });
    int attempts = 0;
    const absl::Status s =
        router.Call(kLeaderWrite, "k", Clock::now() + std::chrono::milliseconds(1000),
                    [&](const std::string&, const Location&, SteadyTime) {
                      ++attempts;
                      return LeaderHint("");  // not the leader, and knows none
                    });
    EXPECT_FALSE(s.ok());
    return attempts;
  };
  EXPECT_GE(attempts_in_a_second(std::chrono::milliseconds(10)), 40);
  EXPECT_LE(attempts_in_a_second(std::chrono::milliseconds(1000)), 15);
}

TEST(RouteTest, AReadWithoutALeaderGoesRoundTheReplicas) {
  Route route({CallKind::kRead, Replicas::kLeader, 0});
  const Location at{"", "", 1, 1, {"a", "b", "c"}, ""};
  std::vector<std::string> picks;
  for (int i = 0; i < 4; ++i) picks.push_back(route.Pick(at));
  EXPECT_EQ(absl::StrJoin(picks, " "), "a b c a");
  Route write({CallKind::kWrite, Replicas::kLeader, 0});
  EXPECT_EQ(write.Pick(at), "");
}

}  // namespace
}  // namespace meridian::client
