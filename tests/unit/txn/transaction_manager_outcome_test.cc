// Rules of txn::TransactionManager after the decision: inquiries, forgotten decisions, restarts,
// read-only and snapshot reads beside prepared transactions, malformed requests, and the bounds on
// what a group remembers (manager_harness.h drives the groups).
#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/unit/txn/manager_harness.h"

namespace meridian::txn::manager_test {
namespace {

TEST_F(TransactionManagerTest, InquiryDuringCommitWaitIsAnsweredOnlyAfterIt) {
  Group c(1, &clock_);
  Group p(2, &clock_);
  c.ElectLeader();
  p.ElectLeader();
  const TxnRef t{7, clock_};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Put("pk", "pv")}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  DeliverReports(p, c);
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {}, {}, {{2, prepare_ts}}}, a);
  });
  const Timestamp s = c.actions.tick_after;
  ASSERT_GT(s, 0);
  ASSERT_FALSE(c.Now().After(s));
  const GroupMessage inquiry{GroupMessage::Type::kInquiry, 2, 1, 7, false, 0};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, inquiry, a); });
  EXPECT_TRUE(c.actions.messages.empty()) << "answered inside the commit wait";
  Interval answered{};
  RunUntil({&c}, [&] {
    answered = c.Now();
    return !c.actions.messages.empty();
  });
  ASSERT_FALSE(c.actions.messages.empty());
  EXPECT_TRUE(answered.After(s));
  for (const GroupMessage& m : c.actions.messages) {
    EXPECT_TRUE(m.committed);
    EXPECT_EQ(m.commit_ts, s);
  }
}

// A participant's inquiry makes the coordinator presume abort; the participant applies it; the
// client's late Commit must then be refused, however little of the decision the coordinator
// still keeps (`coordinator`'s bounds).
void InquiryAbortsDurablyAndALateCommitIsRefused(Timestamp* clock,
                                                 TransactionManagerOptions coordinator) {
  TransactionManagerOptions o;
  o.in_doubt_inquiry_us = 50'000;
  Group c(1, clock, coordinator);
  Group p(2, clock, o);
  c.ElectLeader();
  p.ElectLeader();
  const TxnRef t{7, *clock};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Mutation{"pk", "pv"}}, {}}, a);
  });
  ASSERT_TRUE(p.TakeReply(1)->status.ok());
  DeliverReports(p, c);
  // The client vanishes. The participant asks the coordinator after in_doubt_inquiry_us.
  for (int i = 0; i < 1000 && p.actions.messages.empty(); ++i) {
    *clock += 100;
    p.Tick();
  }
  ASSERT_EQ(p.actions.messages.size(), 1u);
  const GroupMessage inquiry = p.actions.messages[0];
  EXPECT_EQ(inquiry.type, GroupMessage::Type::kInquiry);
  EXPECT_EQ(inquiry.to, 1u);
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, inquiry, a); });
  ASSERT_EQ(c.actions.messages.size(), 1u);
  const GroupMessage answer = std::exchange(c.actions.messages, {})[0];
  EXPECT_FALSE(answer.committed);
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, answer, a); });
  EXPECT_EQ(p.manager->prepared_count(), 0u);
  EXPECT_EQ(p.store->versions("pk"), 0u);
  // The same inquiry again (duplicated) is answered "aborted" again, without a second decision.
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, inquiry, a); });
  ASSERT_EQ(c.actions.messages.size(), 1u);
  EXPECT_FALSE(std::exchange(c.actions.messages, {})[0].committed);
  // A late Commit from the client cannot commit it any more, even at a coordinator that
  // restarted since (its leader's soft state, which remembers recent aborts too, is gone).
  c.Restart();
  c.ElectLeader();
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {}, {}, {{2, 5}}}, a);
  });
  std::optional<Reply> late = c.TakeReply(2);
  ASSERT_TRUE(late.has_value());
  EXPECT_EQ(late->status.code(), absl::StatusCode::kAborted) << late->status;
  for (const GroupMessage& m : c.actions.messages) EXPECT_FALSE(m.committed);
}

TEST_F(TransactionManagerTest, InquiryForUnknownTransactionAbortsItDurably) {
  InquiryAbortsDurablyAndALateCommitIsRefused(&clock_, {});
}

TEST_F(TransactionManagerTest, ForgottenAbortDecisionsStillRefuseLateCommits) {
  TransactionManagerOptions o;
  o.max_abort_decisions = 0;  // every abort decision is dropped to its id at once
  InquiryAbortsDurablyAndALateCommitIsRefused(&clock_, o);
  // And the dropped decisions leave only ids behind.
  Group c(1, &clock_, o);
  c.ElectLeader();
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Receive(r, now, GroupMessage{GroupMessage::Type::kInquiry, 2, 1, 99, false, 0}, a);
  });
  EXPECT_EQ(c.manager->memory().decisions, 0u);
  EXPECT_EQ(c.manager->memory().forgotten_ids, 1u);
}

TEST_F(TransactionManagerTest, PrepareWithoutItsReadLocksAborts) {
  Group g(1, &clock_);
  g.ElectLeader();
  // Transaction 5 claims it read "k" here, but holds no lock on it (e.g. the leader changed).
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{TxnRef{5, clock_}, 9, {Put("x", "1")}, {"k"}}, a);
  });
  std::optional<Reply> reply = g.TakeReply(1);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status.code(), absl::StatusCode::kAborted) << reply->status;
  EXPECT_EQ(g.manager->prepared_count(), 0u);
}

TEST_F(TransactionManagerTest, RestartReplaysPreparedStateAndRetakesItsLocks) {
  Group p(2, &clock_);
  p.ElectLeader();
  const TxnRef t{7, clock_};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Put("pk", "pv")}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  p.Restart();
  p.ElectLeader();
  EXPECT_EQ(p.manager->prepared_count(), 1u);
  // An older reader must wait: the prepared transaction cannot be wounded, its X lock is back.
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 2, {TxnRef{1, kStart - 1}, {"pk"}}, a);
  });
  EXPECT_FALSE(p.TakeReply(2).has_value());
  // ...and the participant asks its coordinator to abort the prepared transaction.
  bool asked = false;
  for (const GroupMessage& m : p.actions.messages) {
    asked |= m.type == GroupMessage::Type::kInquiry && m.txn == 7 && m.to == 1;
  }
  EXPECT_TRUE(asked);
  // The outcome (commit) arrives, after the coordinator's commit wait: the data appears at s and
  // the reader gets it.
  clock_ = std::max(clock_, prepare_ts + 10);
  const GroupMessage outcome{GroupMessage::Type::kOutcome, 1, 2, 7, true, prepare_ts + 10};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, outcome, a); });
  std::optional<Reply> read = p.TakeReply(2);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->values, std::vector<std::optional<std::string>>{"pv"});
}

// Outcomes a participant must not apply: from a group that is not the transaction's coordinator
// (forged, or misrouted), with a commit timestamp below the prepare timestamp, or one in the
// future (no commit wait could have ended). Each is refused and counted, and the transaction
// stays prepared until the true outcome comes.
TEST_F(TransactionManagerTest, ImplausibleOutcomesAreRefusedAndTheTrueOneApplies) {
  Group p(2, &clock_);
  p.ElectLeader();
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{TxnRef{7, clock_}, 1, {Put("pk", "pv")}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  clock_ = std::max(clock_, prepare_ts + 10);
  const std::vector<GroupMessage> forged = {
      {GroupMessage::Type::kOutcome, 3, 2, 7, true, prepare_ts + 10},         // not the coordinator
      {GroupMessage::Type::kOutcome, 3, 2, 7, false, 0},                      // an abort, likewise
      {GroupMessage::Type::kOutcome, 1, 2, 7, true, prepare_ts - 1},          // below the prepare
      {GroupMessage::Type::kOutcome, 1, 2, 7, true, clock_ + 3'600'000'000},  // in the future
  };
  for (const GroupMessage& msg : forged) {
    p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, msg, a); });
    RunUntil(
        {&p}, [] { return false; }, 1'000);
  }
  EXPECT_EQ(p.manager->refused_outcomes(), forged.size());
  EXPECT_EQ(p.manager->prepared_count(), 1u);

  const GroupMessage outcome{GroupMessage::Type::kOutcome, 1, 2, 7, true, prepare_ts + 10};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, outcome, a); });
  RunUntil({&p}, [&] { return p.manager->prepared_count() == 0; });
  EXPECT_EQ(p.manager->prepared_count(), 0u);
  EXPECT_EQ(p.manager->refused_outcomes(), forged.size());
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 2, {TxnRef{8, clock_}, {"pk"}}, a);
  });
  std::optional<Reply> read;
  RunUntil({&p}, [&] { return (read = p.TakeReply(2)).has_value(); });
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->values, std::vector<std::optional<std::string>>{"pv"});
}

TEST_F(TransactionManagerTest, ReadOnlyTransactionReadsAtLastTsWithNothingPrepared) {
  Group g(1, &clock_);
  g.ElectLeader();
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 1, CommitRequest{TxnRef{1, clock_}, {Put("k", "v")}, {}, {}}, a);
  });
  std::optional<Reply> commit;
  RunUntil({&g}, [&] { return (commit = g.TakeReply(1)).has_value(); });
  ASSERT_TRUE(commit.has_value());
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.ReadOnly(r, now, 2, {{"k"}}, a); });
  std::optional<Reply> ro = g.TakeReply(2);
  ASSERT_TRUE(ro.has_value());
  ASSERT_TRUE(ro->status.ok()) << ro->status;
  EXPECT_EQ(ro->ts, commit->ts);
  EXPECT_EQ(ro->values, std::vector<std::optional<std::string>>{"v"});
}

TEST_F(TransactionManagerTest, SnapshotReadWaitsForSafeTimeBehindAPreparedTransaction) {
  TransactionManagerOptions o;
  o.snapshot_wait_us = 30'000;
  Group p(2, &clock_, o);
  p.ElectLeader();
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{TxnRef{7, clock_}, 1, {Put("pk", "pv")}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  // A snapshot at or above p cannot be served while the outcome is unknown.
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.SnapshotRead(r, now, 2, {{"pk"}, prepare_ts + 5}, a);
  });
  EXPECT_FALSE(p.TakeReply(2).has_value());
  // Below p it can, once TT.after(the read timestamp) holds.
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.SnapshotRead(r, now, 3, {{"pk"}, prepare_ts - 1}, a);
  });
  std::optional<Reply> below;
  RunUntil(
      {&p}, [&] { return (below = p.TakeReply(3)).has_value(); }, 10'000);
  ASSERT_TRUE(below.has_value());
  EXPECT_TRUE(below->status.ok()) << below->status;
  EXPECT_FALSE(p.TakeReply(2).has_value());
  // The waiting read gives up with UNAVAILABLE after snapshot_wait_us.
  std::optional<Reply> waited;
  RunUntil({&p}, [&] { return (waited = p.TakeReply(2)).has_value(); });
  ASSERT_TRUE(waited.has_value());
  EXPECT_EQ(waited->status.code(), absl::StatusCode::kUnavailable) << waited->status;
}

TEST_F(TransactionManagerTest, PlantedSnapshotIgnoringSafeTimeIsServedAboveIt) {
  TransactionManagerOptions o;
  o.testing_snapshot_ignore_safe_time = true;
  Group p(2, &clock_, o);
  p.ElectLeader();
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{TxnRef{7, clock_}, 1, {Put("pk", "pv")}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.SnapshotRead(r, now, 2, {{"pk"}, prepare_ts + 5}, a);
  });
  // The previous test's expectation (no answer above safe time) fails under the plant.
  EXPECT_TRUE(p.TakeReply(2).has_value());
}

TEST_F(TransactionManagerTest, MalformedRequestsAreRejectedAndChangeNothing) {
  Group g(1, &clock_);
  g.ElectLeader();
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 1, {TxnRef{1, clock_}, {""}}, a);
    m.Prepare(r, now, 2, PrepareRequest{TxnRef{2, clock_}, 1, {Put("k", "v")}, {}}, a);
    m.Commit(r, now, 3, CommitRequest{TxnRef{3, clock_}, {Put("k", "v")}, {}, {{1, 5}}}, a);
    m.Commit(r, now, 4,
             CommitRequest{TxnRef{4, clock_}, {Put(std::string(5000, 'k'), "v")}, {}, {}}, a);
  });
  for (RequestId id : {1, 2, 3, 4}) {
    std::optional<Reply> r = g.TakeReply(id);
    ASSERT_TRUE(r.has_value()) << id;
    EXPECT_EQ(r->status.code(), absl::StatusCode::kInvalidArgument) << id << ": " << r->status;
  }
  EXPECT_EQ(g.manager->LastTs(), 0);
}

TEST_F(TransactionManagerTest, FollowerOfNothingAnswersUnavailable) {
  Group g(1, &clock_);  // never elected
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 1, {TxnRef{1, clock_}, {"k"}}, a);
  });
  EXPECT_EQ(g.TakeReply(1)->status.code(), absl::StatusCode::kUnavailable);
}

// Found by the simulator (append seed 2000398): an old leader's commit record, recovered by a
// later leader after a newer leader had served snapshots above its timestamp, was applied and
// changed a snapshot already read. Records below one already applied take no effect.
TEST_F(TransactionManagerTest, RecordBelowAnAppliedTimestampTakesNoEffect) {
  Group g(1, &clock_);
  MapStore store;
  TransactionManager manager(1, &store);
  auto entry = [](paxos::Index index, const proto::TabletCommand& c) {
    paxos::Entry e;
    e.index = index;
    e.command = c.SerializeAsString();
    return e;
  };
  proto::TabletCommand safe;
  safe.set_commit_ts(2000);
  safe.mutable_safe_time();
  proto::TabletCommand late;
  late.set_commit_ts(1500);
  late.mutable_txn_commit()->set_txn(9);
  proto::Mutation* m = late.mutable_txn_commit()->add_writes();
  m->set_key("k");
  m->set_value("late");
  Actions actions;
  ASSERT_TRUE(manager.Apply(*g.replica, entry(1, safe), g.Now(), &actions).ok());
  absl::StatusOr<ApplyResult> r = manager.Apply(*g.replica, entry(2, late), g.Now(), &actions);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kind, ApplyResult::Kind::kIgnored);
  EXPECT_EQ(store.versions("k"), 0u);
  EXPECT_EQ(manager.LastTs(), 0);
}

// Every Kv put is a single-group transaction, so their decisions must not pile up: only the
// newest max_local_decisions are kept (identically after a replay), and the completed
// transactions leave nothing else behind. A duplicated Commit of a remembered one gets its first
// outcome.
TEST_F(TransactionManagerTest, SingleGroupDecisionsAreBounded) {
  TransactionManagerOptions o;
  o.max_local_decisions = 2;
  Group g(1, &clock_, o);
  g.ElectLeader();
  std::vector<Timestamp> committed;
  for (TxnId t = 1; t <= 5; ++t) {
    const CommitRequest req{TxnRef{t, clock_}, {Put("k" + std::to_string(t), "v")}, {}, {}};
    g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Commit(r, now, t, req, a); });
    std::optional<Reply> reply;
    RunUntil({&g}, [&] { return (reply = g.TakeReply(t)).has_value(); });
    ASSERT_TRUE(reply.has_value() && reply->status.ok());
    committed.push_back(reply->ts);
  }
  EXPECT_EQ(g.manager->memory().decisions, 2u);
  EXPECT_EQ(g.manager->memory().active, 0u);
  // The newest is remembered: its duplicate gets the first timestamp and writes nothing new.
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 6, CommitRequest{TxnRef{5, clock_}, {Put("k5", "v")}, {}, {}}, a);
  });
  std::optional<Reply> dup;
  RunUntil({&g}, [&] { return (dup = g.TakeReply(6)).has_value(); });
  ASSERT_TRUE(dup.has_value() && dup->status.ok()) << (dup ? dup->status.ToString() : "none");
  EXPECT_EQ(dup->ts, committed.back());
  EXPECT_EQ(g.store->versions("k5"), 1u);

  g.Restart();
  g.ElectLeader();
  EXPECT_EQ(g.manager->memory().decisions, 2u);
}

// Participants' remembered outcomes are bounded the same way, identically after a replay.
TEST_F(TransactionManagerTest, ParticipantOutcomesAreBounded) {
  TransactionManagerOptions o;
  o.max_finished_outcomes = 2;
  TransactionManagerOptions co;
  co.max_local_decisions = 1;
  Group c(1, &clock_, co);
  Group p(2, &clock_, o);
  c.ElectLeader();
  p.ElectLeader();
  for (TxnId t = 1; t <= 4; ++t) {
    ASSERT_NE(PrepareAndCommit(c, {&p}, TxnRef{t, clock_}), 0);
    DeliverAll(c, {&p});
    EXPECT_EQ(p.manager->prepared_count(), 0u);
  }
  EXPECT_EQ(p.manager->memory().finished, 2u);
  // Decisions with participants are kept whatever the bound on single-group ones.
  EXPECT_EQ(c.manager->memory().decisions, 4u);
  p.Restart();
  p.ElectLeader();
  EXPECT_EQ(p.manager->memory().finished, 2u);
}

// A coordinator forgets a commit decision once every participant acknowledged applying it (the
// id goes out with a safe-time record); an inquiry that was sent before the participant finished
// and arrives afterwards is then ignored, not answered with presumed abort.
TEST_F(TransactionManagerTest, CommitDecisionsAreForgottenOnceEveryParticipantAcked) {
  Group c(1, &clock_);
  Group p(2, &clock_);
  Group q(3, &clock_);
  c.ElectLeader();
  p.ElectLeader();
  q.ElectLeader();
  const TxnRef t{9, clock_};
  ASSERT_NE(PrepareAndCommit(c, {&p, &q}, t), 0);
  const GroupMessage stale_inquiry{GroupMessage::Type::kInquiry, 3, 1, t.id, false, 0};
  // Outcomes reach the participants; each acks once its finish record applied.
  DeliverAll(c, {&p, &q});
  std::vector<GroupMessage> acks;
  for (Group* g : {&p, &q}) {
    for (const GroupMessage& reply : std::exchange(g->actions.messages, {})) {
      if (reply.type == GroupMessage::Type::kAck) acks.push_back(reply);
    }
  }
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].to, 1u);
  EXPECT_EQ(c.manager->memory().decisions, 1u);
  // One ack is not enough.
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, acks[0], a); });
  RunUntil(
      {&c}, [] { return false; }, 2'000'000);
  EXPECT_EQ(c.manager->memory().decisions, 1u);
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, acks[1], a); });
  RunUntil(
      {&c}, [&] { return c.manager->memory().decisions == 0; }, 2'000'000);
  EXPECT_EQ(c.manager->memory().decisions, 0u);
  // The stale inquiry logs nothing (no abort of a committed transaction).
  const size_t before = c.log.LastIndex();
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, stale_inquiry, a); });
  EXPECT_EQ(c.log.LastIndex(), before);
  EXPECT_TRUE(c.actions.messages.empty());
  // A replica rebuilt from the log forgets it too.
  c.Restart();
  c.ElectLeader();
  EXPECT_EQ(c.manager->memory().decisions, 0u);
}

// An ack that is lost (or heard by a leader that since lost its post) only delays forgetting: the
// coordinator sends the outcome again after ack_resend_after_us, and a participant that applied
// it acks again.
TEST_F(TransactionManagerTest, LostAcksAreAskedForAgain) {
  Group c(1, &clock_);
  Group p(2, &clock_);
  c.ElectLeader();
  p.ElectLeader();
  ASSERT_NE(PrepareAndCommit(c, {&p}, TxnRef{11, clock_}), 0);
  DeliverAll(c, {&p});
  ASSERT_EQ(p.manager->prepared_count(), 0u);
  p.actions.messages.clear();  // the ack is lost
  // Carry messages both ways from here on, until the coordinator forgets.
  RunUntil(
      {&c, &p},
      [&] {
        DeliverAll(c, {&p});
        DeliverAll(p, {&c});
        return c.manager->memory().decisions == 0;
      },
      10'000'000);
  EXPECT_EQ(c.manager->memory().decisions, 0u);
}

}  // namespace
}  // namespace meridian::txn::manager_test
