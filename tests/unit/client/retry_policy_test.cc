#include "client/src/retry_policy.h"

#include <string>

#include "common/random.h"
#include "gtest/gtest.h"
#include "tests/unit/client/attempt_results.h"

namespace meridian::client {
namespace {

using absl::StatusCode;

using testing::LeaderHint;
using testing::NotSent;
using testing::Result;
using testing::StaleMap;

constexpr CallKind kBoth[] = {CallKind::kRead, CallKind::kWrite};

TEST(RetryPolicyTest, SuccessAndRequestErrorsReturnAtOnce) {
  for (const CallKind kind : kBoth) {
    for (const StatusCode code :
         {StatusCode::kOk, StatusCode::kInvalidArgument, StatusCode::kFailedPrecondition,
          StatusCode::kAborted, StatusCode::kInternal, StatusCode::kNotFound}) {
      EXPECT_EQ(Decide(kind, Result(code), "a:1").action, Action::kReturn)
          << static_cast<int>(code);
    }
  }
}

TEST(RetryPolicyTest, ALeaderHintIsFollowedByReadsAndWrites) {
  for (const CallKind kind : kBoth) {
    const Decision d = Decide(kind, LeaderHint("b:1"), "a:1");
    EXPECT_EQ(d.action, Action::kFollowLeader);
    EXPECT_EQ(d.leader, "b:1");
  }
}

TEST(RetryPolicyTest, AnEmptyOrSelfLeaderHintRefreshes) {
  for (const CallKind kind : kBoth) {
    EXPECT_EQ(Decide(kind, LeaderHint(""), "a:1").action, Action::kRefreshAndRetry);
    EXPECT_EQ(Decide(kind, LeaderHint("a:1"), "a:1").action, Action::kRefreshAndRetry);
  }
}

TEST(RetryPolicyTest, AStaleMapRefreshes) {
  for (const CallKind kind : kBoth) {
    EXPECT_EQ(Decide(kind, StaleMap(), "a:1").action, Action::kRefreshAndRetry);
  }
}

TEST(RetryPolicyTest, ARequestNeverSentIsRetriedEvenForWrites) {
  for (const CallKind kind : kBoth) {
    EXPECT_EQ(Decide(kind, NotSent(StatusCode::kUnavailable), "a:1").action,
              Action::kRefreshAndRetry);
  }
}

TEST(RetryPolicyTest, AWriteWithoutMarkersHasAnUnknownOutcome) {
  for (const StatusCode code :
       {StatusCode::kUnavailable, StatusCode::kDeadlineExceeded, StatusCode::kCancelled}) {
    EXPECT_EQ(Decide(CallKind::kWrite, Result(code), "a:1").action, Action::kOutcomeUnknown);
    EXPECT_EQ(Decide(CallKind::kRead, Result(code), "a:1").action, Action::kRefreshAndRetry);
  }
}

TEST(RetryPolicyTest, RejectedForLoadIsRetried) {
  for (const CallKind kind : kBoth) {
    EXPECT_EQ(Decide(kind, Result(StatusCode::kResourceExhausted), "a:1").action,
              Action::kRefreshAndRetry);
  }
}

TEST(RetryPolicyTest, NeverSentIsRecognisedFromGrpcsPickFailure) {
  EXPECT_TRUE(
      RpcNeverSent(StatusCode::kUnavailable,
                   "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:"
                   "1: Failed to connect to remote host: Connection refused"));
  EXPECT_FALSE(RpcNeverSent(StatusCode::kUnavailable, "Socket closed"));
  EXPECT_FALSE(RpcNeverSent(StatusCode::kDeadlineExceeded, "failed to connect to all addresses"));
}

TEST(BackoffTest, GrowsExponentiallyWithJitterUpToTheMax) {
  Random random(7);
  Backoff backoff(/*initial_us=*/1000, /*max_us=*/8000, &random);
  const int64_t caps[] = {1000, 2000, 4000, 8000, 8000, 8000};
  for (const int64_t cap : caps) {
    const int64_t d = backoff.NextDelayUs();
    EXPECT_GE(d, cap / 2);
    EXPECT_LE(d, cap);
  }
}

TEST(BackoffTest, TheSameSeedGivesTheSameDelays) {
  Random a(42);
  Random b(42);
  Backoff x(1000, 100000, &a);
  Backoff y(1000, 100000, &b);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(x.NextDelayUs(), y.NextDelayUs());
}

}  // namespace
}  // namespace meridian::client
