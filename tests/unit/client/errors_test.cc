// meridian/errors.h: outcome-unknown is a payload, not a phrase.
#include "meridian/errors.h"

#include "gtest/gtest.h"

namespace meridian {
namespace {

TEST(ErrorsTest, OutcomeUnknownIsTheMarkNotTheText) {
  const absl::Status marked = MarkOutcomeUnknown(absl::DeadlineExceededError("lost"));
  EXPECT_TRUE(IsOutcomeUnknown(marked));
  EXPECT_EQ(marked.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(marked.message(), "lost");
  EXPECT_FALSE(IsOutcomeUnknown(absl::UnavailableError("outcome unknown: looks like one")));
  EXPECT_FALSE(IsOutcomeUnknown(absl::AbortedError("wounded")));
  EXPECT_TRUE(MarkOutcomeUnknown(absl::OkStatus()).ok());
  EXPECT_FALSE(IsOutcomeUnknown(MarkOutcomeUnknown(absl::OkStatus())));
}

}  // namespace
}  // namespace meridian
