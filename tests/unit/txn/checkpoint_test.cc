// Checkpoint images of txn::TransactionManager (txn/checkpoint.h): a round trip of a state that
// holds every kind of replicated entry, and the images Restore must refuse. The randomized
// check that a restored manager goes on like one that replayed is checkpoint_replay_test.cc.
#include "txn/checkpoint.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/checkpoint.pb.h"
#include "tests/unit/txn/harness.h"
#include "tests/unit/txn/replay_replica.h"
#include "txn/transaction_manager.h"

namespace meridian::txn {
namespace {

using ::testing::ElementsAre;
using testing::Harness;
using ::testing::HasSubstr;
using testing::MapStore;
using testing::ReplayReplica;

constexpr GroupId kCoordinator = 1;

TransactionManagerOptions SmallBounds() {
  TransactionManagerOptions o;
  o.max_local_decisions = 2;
  o.max_abort_decisions = 1;
  o.max_forgotten_ids = 10;
  o.max_finished_outcomes = 10;
  o.forget_interval_us = 10'000;
  o.report_resend_us = 0;
  return o;
}

proto::TxnCheckpoint Parse(const std::string& image) {
  proto::TxnCheckpoint c;
  EXPECT_TRUE(c.ParseFromString(image));
  return c;
}

std::string Serialize(const proto::TxnCheckpoint& c) { return c.SerializeAsString(); }

// Client requests through the harness, to the leader of each group.
class Client {
 public:
  explicit Client(Harness& h) : h_(h) {}

  void Read(GroupId g, TxnRef txn, std::vector<std::string> keys) {
    Send(g, [&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Read(p, now, id, ReadRequest{txn, keys}, out);
    });
  }
  void Prepare(GroupId g, TxnRef txn, std::vector<Mutation> writes,
               std::vector<std::string> reads = {}) {
    Send(g, [&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Prepare(p, now, id, PrepareRequest{txn, kCoordinator, writes, reads}, out);
    });
  }
  void Commit(TxnRef txn, std::vector<Mutation> writes, std::vector<std::string> reads,
              std::vector<GroupId> participants) {
    CommitRequest req{txn, std::move(writes), std::move(reads), {}};
    for (GroupId g : participants) req.participants.push_back(ParticipantRef{g, 0});
    Send(kCoordinator, [&](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Commit(p, now, id, req, out);
    });
  }
  void Abort(TxnId txn, std::vector<GroupId> participants) {
    Send(kCoordinator, [&](auto& m, auto& p, Interval now, RequestId, Actions* out) {
      m.Abort(p, now, AbortRequest{txn, true, participants}, out);
    });
  }
  // Delivers the queued messages to `to` (every one when 0).
  void Deliver(GroupId to = 0) {
    h_.Deliver([&](const GroupMessage& m) { return to == 0 || m.to == to; });
  }

 private:
  template <typename F>
  void Send(GroupId g, F&& f) {
    const RequestId id = h_.NextRequest();
    h_.Do(g, 0, [&](TransactionManager& m, ReplicaPort& port, Interval now, Actions* out) {
      f(m, port, now, id, out);
    });
  }

  Harness& h_;
};

// Coordinator 1 (two replicas) and participants 2 and 3 end up holding every kind of entry:
//   1: single-group decisions (txn 1 dropped by the bound, 2 committed, 3 aborted), a commit with
//      participants forgotten (10) and one still kept (11), an abort with participants whose
//      decision the bound dropped (12) and one kept (13);
//   2: outcomes applied (10, 11, 12) and a prepared transaction with a read and a delete (14);
//   3: an outcome applied (13) and a prepared transaction (11, its outcome lost).
void BuildEveryKind(Harness& h) {
  h.AddGroup(1, 2, SmallBounds());
  h.AddGroup(2, 1, SmallBounds());
  h.AddGroup(3, 1, SmallBounds());
  for (GroupId g : {1, 2, 3}) h.Lead(g, 1);
  Client c(h);
  const Timestamp start = h.now();
  c.Commit({1, start}, {{"k1", "v"}}, {}, {});
  c.Commit({2, start}, {{"k2", "v"}}, {}, {});
  c.Commit({3, start}, {{"k3", "v"}}, {"never-read"}, {});  // it holds no read lock: aborted
  h.Commit(1, 0);
  h.Tick(10'000);  // commit waits end
  // 10: commits, every participant acks, the decision is forgotten.
  c.Prepare(2, {10, start}, {{"p", "v10"}});
  h.Commit(2, 0);
  c.Deliver();
  c.Commit({10, start}, {}, {}, {2});
  h.Commit(1, 0);
  h.Tick(10'000);
  c.Deliver();  // the outcome
  h.Commit(2, 0);
  c.Deliver();  // the ack
  h.Tick(10'000);
  h.Commit(1, 0);  // the forget record
  // 11: commits; group 3 never hears the outcome.
  c.Prepare(2, {11, start}, {{"p", "v11"}});
  c.Prepare(3, {11, start}, {{"q", "v11"}});
  h.Commit(2, 0);
  h.Commit(3, 0);
  c.Deliver();
  c.Commit({11, start}, {}, {}, {2, 3});
  h.Commit(1, 0);
  h.Tick(10'000);
  c.Deliver(2);
  h.ClearMessages();
  h.Commit(2, 0);
  // 12 and 13: the client aborts them after they prepared; 13's decision pushes out 12's.
  c.Prepare(2, {12, start}, {{"p", "v12"}});
  c.Prepare(3, {13, start}, {{"q13", "v13"}});
  h.Commit(2, 0);
  h.Commit(3, 0);
  h.ClearMessages();
  c.Abort(12, {2});
  h.Commit(1, 0);
  c.Abort(13, {3});
  h.Commit(1, 0);
  c.Deliver();
  h.Commit(2, 0);
  h.Commit(3, 0);
  // 14: prepared at 2 with a read and a delete.
  c.Read(2, {14, start}, {"r"});
  c.Prepare(2, {14, start}, {{"p", "v14"}, {"d", std::nullopt}}, {"r"});
  h.Commit(2, 0);
  h.ClearMessages();
}

TEST(CheckpointTest, EveryKindOfEntryRoundTrips) {
  Harness h;
  BuildEveryKind(h);
  const proto::TxnCheckpoint c1 = Parse(h.manager(1, 1).Checkpoint());
  ASSERT_EQ(c1.decisions().decisions_size(), 4) << c1.DebugString() << absl::StrJoin(h.log(), "\n");
  EXPECT_EQ(c1.decisions().decisions(0).txn(), 2u);   // single-group commit
  EXPECT_EQ(c1.decisions().decisions(1).txn(), 3u);   // single-group abort
  EXPECT_EQ(c1.decisions().decisions(2).txn(), 11u);  // commit with participants
  EXPECT_THAT(c1.decisions().decisions(2).participants(), ElementsAre(2, 3));
  EXPECT_EQ(c1.decisions().decisions(3).txn(), 13u);  // abort with participants
  EXPECT_FALSE(c1.decisions().decisions(3).committed());
  EXPECT_THAT(c1.decisions().local_decisions(), ElementsAre(2, 3));
  EXPECT_THAT(c1.decisions().abort_decisions(), ElementsAre(13));
  EXPECT_THAT(c1.decisions().unforgotten_commits(), ElementsAre(11));
  EXPECT_THAT(c1.decisions().forgotten_commits(), ElementsAre(10));
  EXPECT_THAT(c1.decisions().forgotten_aborts(), ElementsAre(12));
  const proto::TxnCheckpoint c2 = Parse(h.manager(2, 1).Checkpoint());
  EXPECT_THAT(c2.participant().finished(), ElementsAre(10, 11, 12));
  ASSERT_EQ(c2.participant().prepared_size(), 1);
  EXPECT_EQ(c2.participant().prepared(0).txn(), 14u);
  EXPECT_THAT(c2.participant().prepared(0).reads(), ElementsAre("r"));
  EXPECT_TRUE(c2.participant().prepared(0).writes(1).is_delete());
  const proto::TxnCheckpoint c3 = Parse(h.manager(3, 1).Checkpoint());
  EXPECT_THAT(c3.participant().finished(), ElementsAre(13));
  ASSERT_EQ(c3.participant().prepared_size(), 1);
  EXPECT_EQ(c3.participant().prepared(0).txn(), 11u);

  for (GroupId g : {1, 2, 3}) {
    SCOPED_TRACE(::testing::Message() << "group " << g);
    const TransactionManager& original = h.manager(g, 1);
    const std::string image = original.Checkpoint();
    EXPECT_GT(Parse(image).applied().index(), 0u);
    ReplayReplica restored(g, SmallBounds(), MapStore());
    ASSERT_TRUE(restored.manager().Restore(image).ok());
    EXPECT_EQ(restored.manager().Checkpoint(), image);
    EXPECT_EQ(restored.manager().applied_index(), original.applied_index());
    EXPECT_EQ(restored.manager().LastTs(), original.LastTs());
    EXPECT_EQ(restored.manager().SafeTime(), original.SafeTime());
    EXPECT_EQ(restored.manager().prepared_count(), original.prepared_count());
    EXPECT_EQ(restored.manager().memory().decisions, original.memory().decisions);
    EXPECT_EQ(restored.manager().memory().finished, original.memory().finished);
    EXPECT_EQ(restored.manager().memory().forgotten_ids, original.memory().forgotten_ids);
  }
  // A follower holds the same image as the leader.
  EXPECT_EQ(h.manager(1, 2).Checkpoint(), h.manager(1, 1).Checkpoint());
}

TEST(CheckpointTest, EncodingIsOneToOne) {
  CheckpointImage image;
  image.group = 7;
  image.applied = AppliedState::Image{12, 100, 150};
  Participant::Prepared p;
  p.prepare_ts = 120;
  p.ref = TxnRef{5, 90};
  p.coordinator = 3;
  p.writes = {{"a", "1"}, {"b", std::nullopt}, {"c", ""}};
  p.reads = {"r1", ""};
  p.read_ranges = {KeyRange{"a", "m"}, KeyRange{"", ""}};
  image.participant.prepared = {p};
  image.participant.finished = {9, 4, 6};
  image.decisions.decisions = {{1, Decision{true, 110, {}}}, {8, Decision{false, 0, {4, 2}}}};
  image.decisions.local_decisions = {3, 1};  // 3: no longer among the decisions
  image.decisions.abort_decisions = {8};
  image.decisions.forgotten_commits = {21, 20};
  image.decisions.forgotten_aborts = {30};
  const std::string bytes = EncodeCheckpoint(image);
  absl::StatusOr<CheckpointImage> back = DecodeCheckpoint(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeCheckpoint(*back), bytes);
  EXPECT_EQ(back->group, 7u);
  EXPECT_EQ(back->applied.index, 12u);
  EXPECT_EQ(back->applied.last_write_ts, 100);
  EXPECT_EQ(back->applied.paxos_safe, 150);
  ASSERT_EQ(back->participant.prepared.size(), 1u);
  const Participant::Prepared& q = back->participant.prepared[0];
  EXPECT_EQ(q.prepare_ts, 120);
  EXPECT_EQ(q.ref.id, 5u);
  EXPECT_EQ(q.ref.start_ts, 90);
  EXPECT_EQ(q.coordinator, 3u);
  EXPECT_EQ(q.writes, p.writes);  // a delete stays a delete; an empty value stays a value
  EXPECT_EQ(q.reads, p.reads);
  EXPECT_EQ(q.read_ranges, p.read_ranges);
  EXPECT_EQ(back->participant.finished, image.participant.finished);
  EXPECT_EQ(back->decisions.decisions, image.decisions.decisions);
  EXPECT_EQ(back->decisions.local_decisions, image.decisions.local_decisions);
  EXPECT_EQ(back->decisions.forgotten_commits, image.decisions.forgotten_commits);
}

// ---- what Restore refuses --------------------------------------------------------------------

class RestoreTest : public ::testing::Test {
 protected:
  void SetUp() override { BuildEveryKind(h_); }

  // A fresh replica of `g` restores `image`; the status, and that nothing changed on an error.
  absl::Status RestoreFresh(GroupId g, const std::string& image,
                            const TransactionManagerOptions& options = SmallBounds()) {
    ReplayReplica fresh(g, options, MapStore());
    const std::string before = fresh.manager().Checkpoint();
    absl::Status st = fresh.manager().Restore(image);
    if (!st.ok()) {
      EXPECT_EQ(fresh.manager().Checkpoint(), before) << "a refused image changed the manager";
    }
    return st;
  }

  Harness h_;
};

TEST_F(RestoreTest, RefusesGarbage) {
  for (const std::string& garbage : {std::string(), std::string("not an image"),
                                     std::string("\xff\xff\xff\xff", 4), std::string(64, '\0')}) {
    absl::Status st = RestoreFresh(2, garbage);
    EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss) << st;
  }
}

TEST_F(RestoreTest, RefusesEveryTruncation) {
  const std::string image = h_.manager(2, 1).Checkpoint();
  for (size_t n = 0; n < image.size(); ++n) {
    absl::Status st = RestoreFresh(2, image.substr(0, n));
    ASSERT_EQ(st.code(), absl::StatusCode::kDataLoss) << "cut to " << n << " bytes: " << st;
  }
  EXPECT_TRUE(RestoreFresh(2, image).ok());
}

TEST_F(RestoreTest, RefusesAnotherVersion) {
  proto::TxnCheckpoint c = Parse(h_.manager(1, 1).Checkpoint());
  c.set_version(kCheckpointVersion + 1);
  absl::Status st = RestoreFresh(1, Serialize(c));
  EXPECT_EQ(st.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(st.message(), HasSubstr("version 2"));
}

TEST_F(RestoreTest, RefusesListsOutOfOrderOrRepeated) {
  const proto::TxnCheckpoint c = Parse(h_.manager(1, 1).Checkpoint());
  proto::TxnCheckpoint swapped = c;
  swapped.mutable_decisions()->mutable_decisions()->SwapElements(0, 1);
  EXPECT_EQ(RestoreFresh(1, Serialize(swapped)).code(), absl::StatusCode::kDataLoss);
  proto::TxnCheckpoint repeated = c;
  repeated.mutable_decisions()->add_forgotten_aborts(12);
  EXPECT_EQ(RestoreFresh(1, Serialize(repeated)).code(), absl::StatusCode::kDataLoss);
}

TEST_F(RestoreTest, RefusesAnotherGroupsImage) {
  absl::Status st = RestoreFresh(3, h_.manager(2, 1).Checkpoint());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
}

TEST_F(RestoreTest, RefusesAnImageBeyondItsBounds) {
  TransactionManagerOptions smaller = SmallBounds();
  smaller.max_finished_outcomes = 2;  // group 2 remembers 3
  absl::Status st = RestoreFresh(2, h_.manager(2, 1).Checkpoint(), smaller);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_THAT(st.message(), HasSubstr("other options"));
}

TEST_F(RestoreTest, RefusesAManagerThatAppliedOrRestored) {
  const std::string image = h_.manager(2, 1).Checkpoint();
  ReplayReplica replica(2, SmallBounds(), MapStore());
  ASSERT_TRUE(replica.ApplyUpTo(h_.group_log(2), 1, h_.Now()).ok());
  const std::string before = replica.manager().Checkpoint();
  absl::Status st = replica.manager().Restore(image);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_EQ(replica.manager().Checkpoint(), before);

  ReplayReplica restored(2, SmallBounds(), MapStore());
  ASSERT_TRUE(restored.manager().Restore(image).ok());
  EXPECT_EQ(restored.manager().Restore(image).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RestoreTest, RefusesALeader) {
  // A group whose log is empty: a fresh manager serves as its leader at once.
  ReplayReplica leader(2, SmallBounds(), MapStore());
  leader.Lead(testing::FakeLog{});
  leader.Do([](TransactionManager& m, ReplicaPort& port, Interval now,
               Actions* out) { m.ReadOnly(port, now, 1, ReadOnlyRequest{{"k"}}, out); },
            h_.Now());
  ASSERT_TRUE(leader.manager().leading());
  absl::Status st = leader.manager().Restore(h_.manager(2, 1).Checkpoint());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
}

}  // namespace
}  // namespace meridian::txn
