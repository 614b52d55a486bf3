// CheckOwnership: when a request's map is current for the group it names. A group may serve
// several ranges at different generations (after a split, or a move into it); a transaction's
// request names the generation of the first key the client touched there, which need not be the
// range of the first key the request carries.
#include "spanserver/server/admission.h"

#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "proto/kv.pb.h"
#include "spanserver/server/routing_table.h"

namespace meridian::spanserver {
namespace {

// Group 2 serves [m, p) at generation 8 and [p, t) at generation 5; group 1 serves the rest.
class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    routing_.SetTopology({{"", "m", 1, 1}, {"m", "p", 2, 8}, {"p", "t", 2, 5}, {"t", "", 1, 3}},
                         {});
  }
  static proto::RangeRef Ref(uint64_t group, uint64_t generation) {
    proto::RangeRef ref;
    ref.set_group(group);
    ref.set_generation(generation);
    return ref;
  }
  RoutingTable routing_;
};

TEST_F(AdmissionTest, ATransactionMayNameAnotherRangeOfTheGroupThanItsFirstKeys) {
  // The client scanned [m, t) first (routing by "m", generation 8), then wrote "q" and "r".
  const std::vector<std::string_view> keys = {"q", "r"};
  EXPECT_FALSE(CheckOwnership(routing_, Ref(2, 8), keys).has_value());
  EXPECT_FALSE(CheckOwnership(routing_, Ref(2, 5), keys).has_value());
  EXPECT_FALSE(CheckOwnership(routing_, Ref(2, 8), {}).has_value());  // scans only
}

TEST_F(AdmissionTest, AStaleGenerationOrAKeyElsewhereIsRefused) {
  std::optional<Refusal> refusal = CheckOwnership(routing_, Ref(2, 7), {"q"});
  ASSERT_TRUE(refusal.has_value());
  EXPECT_TRUE(refusal->stale_map);
  EXPECT_NE(refusal->status.message().find("no range at generation 7"), std::string_view::npos);
  refusal = CheckOwnership(routing_, Ref(2, 8), {"q", "u"});  // "u" is group 1's
  ASSERT_TRUE(refusal.has_value());
  EXPECT_TRUE(refusal->stale_map);
  EXPECT_TRUE(CheckOwnership(routing_, Ref(3, 1), {"a"}).has_value());  // no such group
}

TEST_F(AdmissionTest, AOneKeyRequestMustNameItsKeysRange) {
  RangeEntry range;
  EXPECT_FALSE(CheckOwnership(routing_, Ref(2, 5), {"q"}, &range).has_value());
  EXPECT_EQ(range.start, "p");
  EXPECT_EQ(range.generation, 5u);
  EXPECT_TRUE(CheckOwnership(routing_, Ref(2, 8), {"q"}, &range).has_value());
}

}  // namespace
}  // namespace meridian::spanserver
