// CheckReplicaStart and the marker codec: a replica tells "new" from "forgot" from "not mine".
#include "spanserver/paxos/replica_marker.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace meridian::paxos {
namespace {

constexpr ReplicaMarker kMe{7, 2, 0xABCDEF0123456789ull};

TEST(ReplicaMarkerTest, RoundTrips) {
  absl::StatusOr<ReplicaMarker> back = DecodeReplicaMarker(7, EncodeReplicaMarker(kMe));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, kMe);
}

TEST(ReplicaMarkerTest, MalformedIsDataLoss) {
  std::string bytes = EncodeReplicaMarker(kMe);
  EXPECT_EQ(DecodeReplicaMarker(7, bytes.substr(0, 16)).status().code(),
            absl::StatusCode::kDataLoss);
  bytes[0] = 9;  // unknown version
  EXPECT_EQ(DecodeReplicaMarker(7, bytes).status().code(), absl::StatusCode::kDataLoss);
}

TEST(ReplicaMarkerTest, NewReplicaStartsFresh) {
  EXPECT_EQ(*CheckReplicaStart(std::nullopt, /*has_state=*/false, kMe, /*once_persisted=*/false),
            ReplicaStart::kFresh);
}

TEST(ReplicaMarkerTest, OwnStateRecovers) {
  EXPECT_EQ(*CheckReplicaStart(kMe, /*has_state=*/true, kMe, /*once_persisted=*/true),
            ReplicaStart::kRecover);
  // Marker written, crashed before the identity record listed the group: still its own state.
  EXPECT_EQ(*CheckReplicaStart(kMe, /*has_state=*/false, kMe, /*once_persisted=*/false),
            ReplicaStart::kRecover);
}

TEST(ReplicaMarkerTest, WipedDiskOfAReplicaThatPersistedBeforeIsRefused) {
  absl::StatusOr<ReplicaStart> start =
      CheckReplicaStart(std::nullopt, /*has_state=*/false, kMe, /*once_persisted=*/true);
  ASSERT_EQ(start.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(start.status().message(), "holds none")) << start.status();
}

TEST(ReplicaMarkerTest, StateWithoutMarkerIsRefused) {
  EXPECT_EQ(CheckReplicaStart(std::nullopt, /*has_state=*/true, kMe, /*once_persisted=*/false)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(ReplicaMarkerTest, SomeoneElsesStateIsRefused) {
  ReplicaMarker other_replica = kMe;
  other_replica.replica = 3;
  ReplicaMarker other_incarnation = kMe;
  other_incarnation.incarnation = 1;
  for (const ReplicaMarker& stored : {other_replica, other_incarnation}) {
    EXPECT_EQ(
        CheckReplicaStart(stored, /*has_state=*/true, kMe, /*once_persisted=*/true).status().code(),
        absl::StatusCode::kFailedPrecondition)
        << stored.ToString();
  }
}

}  // namespace
}  // namespace meridian::paxos
