#include "replication/paxos_wire.h"

#include <gtest/gtest.h>

namespace meridian::replication {
namespace {

paxos::Message FullMessage() {
  paxos::Message m;
  m.type = paxos::MessageType::kPromise;
  m.group = 7;
  m.from = 2;
  m.to = 3;
  m.ballot = {.round = 5, .replica = 2};
  m.index = 11;
  m.reject = true;
  m.promised = {.round = 6, .replica = 3};
  m.more = true;
  m.commit = 9;
  m.match = 10;
  m.lease_seq = 42;
  m.lease_granted = true;
  m.transfer_from = {.round = 4, .replica = 1};
  m.snapshot = 8;
  m.config_index = 5;
  m.entries.push_back({.index = 11,
                       .ballot = {3, 1},
                       .type = paxos::EntryType::kNormal,
                       .command = std::string("a\0b", 3)});
  m.entries.push_back(
      {.index = 12, .ballot = {5, 2}, .type = paxos::EntryType::kNoop, .command = ""});
  return m;
}

void ExpectSame(const paxos::Message& a, const paxos::Message& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.group, b.group);
  EXPECT_EQ(a.from, b.from);
  EXPECT_EQ(a.to, b.to);
  EXPECT_EQ(a.ballot, b.ballot);
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.reject, b.reject);
  EXPECT_EQ(a.promised, b.promised);
  EXPECT_EQ(a.more, b.more);
  EXPECT_EQ(a.commit, b.commit);
  EXPECT_EQ(a.match, b.match);
  EXPECT_EQ(a.lease_seq, b.lease_seq);
  EXPECT_EQ(a.lease_granted, b.lease_granted);
  EXPECT_EQ(a.transfer_from, b.transfer_from);
  EXPECT_EQ(a.snapshot, b.snapshot);
  EXPECT_EQ(a.config_index, b.config_index);
  EXPECT_EQ(a.entries, b.entries);
}

TEST(PaxosWireTest, RoundTripsEveryField) {
  const paxos::Message m = FullMessage();
  proto::PaxosMessage wire = ToProto(m);
  // Through bytes too, as the transport does.
  proto::PaxosMessage parsed;
  ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
  absl::StatusOr<paxos::Message> back = FromProto(parsed);
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(m, *back);
}

TEST(PaxosWireTest, RoundTripsEveryMessageType) {
  for (auto type :
       {paxos::MessageType::kPrepare, paxos::MessageType::kPromise, paxos::MessageType::kAccept,
        paxos::MessageType::kAccepted, paxos::MessageType::kTimeoutNow}) {
    paxos::Message m;
    m.type = type;
    absl::StatusOr<paxos::Message> back = FromProto(ToProto(m));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->type, type);
  }
}

TEST(PaxosWireTest, ToProtoOverwritesItsOutput) {
  proto::PaxosMessage wire = ToProto(FullMessage());
  ToProto(paxos::Message{}, &wire);
  EXPECT_EQ(wire.entries_size(), 0);
  EXPECT_FALSE(wire.reject());
}

TEST(PaxosWireTest, RejectsUnknownTypes) {
  proto::PaxosMessage wire = ToProto(FullMessage());
  wire.set_type(99);
  EXPECT_EQ(FromProto(wire).status().code(), absl::StatusCode::kInvalidArgument);

  wire = ToProto(FullMessage());
  wire.mutable_entries(1)->set_type(7);
  EXPECT_EQ(FromProto(wire).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian::replication
