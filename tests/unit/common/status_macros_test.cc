#include "common/status_macros.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

absl::StatusOr<int> Half(int x) {
  if (x % 2 != 0) return absl::InvalidArgumentError("odd");
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int half, Half(x));
  ASSIGN_OR_RETURN_CTX(int quarter, Half(half), "second halving");
  return quarter;
}

absl::Status CheckEven(int x) {
  RETURN_IF_ERROR(Half(x).status());
  RETURN_IF_ERROR_CTX(Half(x / 2).status(), "quarter");
  return absl::OkStatus();
}

TEST(StatusMacrosTest, PassesValuesAndErrorsThrough) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(3).status().message(), "odd");
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quarter(6).status().message(), "second halving: odd");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(6).message(), "quarter: odd");
}

}  // namespace
}  // namespace meridian
