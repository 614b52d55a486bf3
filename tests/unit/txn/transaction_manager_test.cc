// Rules of txn::TransactionManager on the commit path: commit wait, wound-wait, two-phase commit
// with the participants' reported prepare timestamps, and the reports' races with aborts and
// inquiries (manager_harness.h drives the groups). transaction_manager_outcome_test.cc has the
// rest.
#include "txn/transaction_manager.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "tests/unit/txn/manager_harness.h"

namespace meridian::txn::manager_test {
namespace {

TEST_F(TransactionManagerTest, SingleGroupCommitWaitsUntilTheTimestampHasPassed) {
  Group g(1, &clock_);
  g.ElectLeader();
  const TxnRef t{42, clock_};
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Read(r, now, 1, {t, {"k"}}, a); });
  std::optional<Reply> read = g.TakeReply(1);
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->status.ok()) << read->status;
  EXPECT_EQ(read->values, std::vector<std::optional<std::string>>{std::nullopt});

  const Interval at_commit = g.Now();
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {Put("k", "v1")}, {"k"}, {}}, a);
  });
  // The record is applied (one replica commits at once), but the reply waits for TT.after(s).
  EXPECT_FALSE(g.TakeReply(2).has_value());
  ASSERT_GT(g.actions.tick_after, at_commit.latest);
  const Timestamp s = g.actions.tick_after;
  std::optional<Reply> commit;
  Interval replied{};
  RunUntil({&g}, [&] {
    commit = g.TakeReply(2);
    replied = g.Now();
    return commit.has_value();
  });
  ASSERT_TRUE(commit.has_value());
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  EXPECT_EQ(commit->ts, s);
  EXPECT_GT(s, at_commit.latest) << "s must exceed TT.now().latest at the commit request";
  EXPECT_TRUE(replied.After(s)) << "replied before TT.after(s): commit wait skipped";
  EXPECT_EQ(g.manager->LastTs(), s);

  // The lock is gone: another transaction reads the new value at once.
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 3, {TxnRef{43, clock_}, {"k"}}, a);
  });
  std::optional<Reply> after = g.TakeReply(3);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->values, std::vector<std::optional<std::string>>{"v1"});
}

TEST_F(TransactionManagerTest, ACommitThatWouldPassItsTimestampBoundAbortsAndWritesNothing) {
  Group g(1, &clock_);
  g.ElectLeader();
  const Interval at_commit = g.Now();
  // A bound already behind TT.now().latest: no timestamp the coordinator may pick is allowed.
  CommitRequest bounded{TxnRef{42, clock_}, {Put("k", "v1")}, {}, {}};
  bounded.max_commit_ts = at_commit.latest - 1;
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Commit(r, now, 1, bounded, a); });
  std::optional<Reply> refused;
  RunUntil({&g}, [&] { return (refused = g.TakeReply(1)).has_value(); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kAborted) << refused->status;

  // A bound far enough ahead commits at or below it; the refused write never appeared.
  CommitRequest roomy{TxnRef{43, clock_}, {Put("j", "v2")}, {"k"}, {}};
  roomy.max_commit_ts = g.Now().latest + 1'000'000;
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 2, {TxnRef{43, clock_}, {"k"}}, a);
  });
  std::optional<Reply> read = g.TakeReply(2);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->values, std::vector<std::optional<std::string>>{std::nullopt});
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Commit(r, now, 3, roomy, a); });
  std::optional<Reply> commit;
  RunUntil({&g}, [&] { return (commit = g.TakeReply(3)).has_value(); });
  ASSERT_TRUE(commit.has_value());
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  EXPECT_LE(commit->ts, roomy.max_commit_ts);
}

TEST_F(TransactionManagerTest, CommitAppliedAfterItsWaitRepliesWithoutATick) {
  Group g(1, &clock_);
  g.ElectLeader();
  g.manager->Commit(*g.replica, g.Now(), 2,
                    CommitRequest{TxnRef{7, clock_}, {Put("k", "v")}, {}, {}}, &g.actions);
  EXPECT_FALSE(g.TakeReply(2).has_value());
  // The Paxos round outlasts 2 epsilon: the record is applied after TT.after(s).
  clock_ += 3 * kEpsilon;
  g.Pump();
  std::optional<Reply> commit = g.TakeReply(2);
  ASSERT_TRUE(commit.has_value()) << "a commit whose wait was over waited for a tick";
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  EXPECT_TRUE(g.Now().After(commit->ts));
}

TEST_F(TransactionManagerTest, PlantedSkipCommitWaitRepliesEarlyAndIsCaught) {
  TransactionManagerOptions o;
  o.testing_skip_commit_wait = true;
  Group g(1, &clock_, o);
  g.ElectLeader();
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{TxnRef{1, clock_}, {Put("k", "v")}, {}, {}}, a);
  });
  std::optional<Reply> commit = g.TakeReply(2);
  ASSERT_TRUE(commit.has_value());
  // The assertion the previous test makes fails here: the reply came before TT.after(s).
  EXPECT_FALSE(g.Now().After(commit->ts));
}

TEST_F(TransactionManagerTest, OlderWriterWoundsYoungerReaderWhichThenAborts) {
  Group g(1, &clock_);
  g.ElectLeader();
  const TxnRef older{1, clock_ - 500};
  const TxnRef younger{2, clock_};
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Read(r, now, 1, {younger, {"k"}}, a); });
  ASSERT_TRUE(g.TakeReply(1)->status.ok());
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{older, {Put("k", "old")}, {}, {}}, a);
  });
  // The younger reader was wounded and released at once (it had nothing in flight), so the
  // older writer commits after its commit wait.
  std::optional<Reply> commit;
  RunUntil({&g}, [&] { return (commit = g.TakeReply(2)).has_value(); });
  ASSERT_TRUE(commit.has_value());
  EXPECT_TRUE(commit->status.ok()) << commit->status;
  // The younger one's commit is refused, durably.
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 3, CommitRequest{younger, {Put("k", "young")}, {"k"}, {}}, a);
  });
  std::optional<Reply> refused;
  RunUntil({&g}, [&] { return (refused = g.TakeReply(3)).has_value(); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kAborted) << refused->status;
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Read(r, now, 4, {TxnRef{9, clock_}, {"k"}}, a);
  });
  EXPECT_EQ(g.TakeReply(4)->values, std::vector<std::optional<std::string>>{"old"});
}

TEST_F(TransactionManagerTest, YoungerWriterWaitsForOlderReader) {
  Group g(1, &clock_);
  g.ElectLeader();
  const TxnRef older{1, clock_ - 500};
  const TxnRef younger{2, clock_};
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Read(r, now, 1, {older, {"k"}}, a); });
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{younger, {Put("k", "young")}, {}, {}}, a);
  });
  RunUntil(
      {&g}, [] { return false; }, 20'000);
  EXPECT_FALSE(g.TakeReply(2).has_value()) << "the younger writer must wait for the reader";
  // The older transaction commits (read-only here): its lock goes, the writer proceeds.
  g.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 3, CommitRequest{older, {}, {"k"}, {}}, a);
  });
  std::optional<Reply> young;
  RunUntil({&g}, [&] { return (young = g.TakeReply(2)).has_value(); });
  ASSERT_TRUE(young.has_value());
  EXPECT_TRUE(young->status.ok()) << young->status;
  EXPECT_TRUE(g.TakeReply(3)->status.ok());
}

// Two-phase commit across a coordinator group (1) and a participant (2).
TEST_F(TransactionManagerTest, TwoPhaseCommitAppliesAtOneTimestampEverywhere) {
  Group c(1, &clock_);
  Group p(2, &clock_);
  c.ElectLeader();
  p.ElectLeader();
  const TxnRef t{7, clock_};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Read(r, now, 1, {t, {"pk"}}, a); });
  ASSERT_TRUE(p.TakeReply(1)->status.ok());
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 2, PrepareRequest{t, 1, {Put("pk", "pv")}, {"pk"}}, a);
  });
  std::optional<Reply> prepared = p.TakeReply(2);
  ASSERT_TRUE(prepared.has_value());
  ASSERT_TRUE(prepared->status.ok()) << prepared->status;
  const Timestamp prepare_ts = prepared->ts;
  EXPECT_EQ(p.manager->prepared_count(), 1u);
  EXPECT_LT(p.manager->SafeTime(*p.replica), prepare_ts) << "t_tm_safe must stay below p";
  // A duplicated Prepare gets the same answer and logs nothing new.
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 3, PrepareRequest{t, 1, {Put("pk", "pv")}, {"pk"}}, a);
  });
  EXPECT_EQ(p.TakeReply(3)->ts, prepare_ts);
  DeliverReports(p, c);

  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 4, CommitRequest{t, {Put("ck", "cv")}, {}, {{2, prepare_ts}}}, a);
  });
  std::optional<Reply> commit;
  RunUntil({&c, &p}, [&] { return (commit = c.TakeReply(4)).has_value(); });
  ASSERT_TRUE(commit.has_value());
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  const Timestamp s = commit->ts;
  EXPECT_GE(s, prepare_ts);
  // The coordinator tells the participant; deliver it twice (duplicates are harmless).
  ASSERT_EQ(c.actions.messages.size(), 1u);
  const GroupMessage outcome = c.actions.messages[0];
  EXPECT_EQ(outcome.to, 2u);
  EXPECT_TRUE(outcome.committed);
  EXPECT_EQ(outcome.commit_ts, s);
  for (int i = 0; i < 2; ++i) {
    p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, outcome, a); });
  }
  EXPECT_EQ(p.manager->prepared_count(), 0u);
  EXPECT_EQ(p.store->versions("pk"), 1u);
  EXPECT_EQ(*p.store->Get("pk", s).value(), "pv");
  EXPECT_FALSE(p.store->Get("pk", s - 1).value().has_value());
  EXPECT_EQ(*c.store->Get("ck", s).value(), "cv");
}

// The coordinator commits with the prepare timestamps the participants reported, not with the
// client's. Here the participant's clock runs 50 ms ahead (within its own uncertainty, as far as
// this test is concerned) and the client understates the prepare timestamp: a coordinator that
// believed it would pick s below the participant's prepare timestamp (the plant shows it), and
// the participant would commit below reads its safe time allowed.
void CommitUsesReportedPrepareTimestamps(Timestamp* clock, bool trust_client) {
  TransactionManagerOptions co;
  co.testing_trust_client_prepare_ts = trust_client;
  Timestamp ahead = *clock + 50'000;
  Group c(1, clock, co);
  Group p(2, &ahead);
  c.ElectLeader();
  ahead = *clock + 50'000;
  p.ElectLeader();
  const TxnRef t{7, *clock};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Mutation{"pk", "pv"}}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  ASSERT_GT(prepare_ts, c.Now().latest);
  // The client's Commit arrives first, with a timestamp below the real one: no record yet.
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {}, {}, {{2, prepare_ts - 20'000}}}, a);
  });
  if (!trust_client) {
    EXPECT_EQ(c.actions.tick_after, 0) << "committed before the participant reported";
    EXPECT_FALSE(c.TakeReply(2).has_value());
  }
  DeliverReports(p, c);
  std::optional<Reply> commit;
  for (int i = 0; i < 1000 && !(commit = c.TakeReply(2)).has_value(); ++i) {
    *clock += 100;
    ahead += 100;
    c.Tick();
  }
  ASSERT_TRUE(commit.has_value());
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  EXPECT_GE(commit->ts, prepare_ts) << "committed below the participant's prepare timestamp";
}

TEST_F(TransactionManagerTest, CommitWaitsForAndUsesThePreparedReports) {
  CommitUsesReportedPrepareTimestamps(&clock_, /*trust_client=*/false);
}

TEST_F(TransactionManagerTest, CheckerCatchesACoordinatorTrustingTheClientsPrepareTimestamps) {
  EXPECT_NONFATAL_FAILURE(CommitUsesReportedPrepareTimestamps(&clock_, /*trust_client=*/true),
                          "committed below the participant's prepare timestamp");
}

// The SDK sends the coordinator's Commit together with the prepares, without prepare timestamps
// (0): it waits for the participants' reports and commits above them.
TEST_F(TransactionManagerTest, ACommitSentWithThePreparesWaitsForTheirReports) {
  Group c(1, &clock_);
  Group p(2, &clock_);
  c.ElectLeader();
  p.ElectLeader();
  const TxnRef t{7, clock_};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {Put("ck", "cv")}, {}, {{2, 0}}}, a);
  });
  EXPECT_FALSE(c.TakeReply(2).has_value());
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Mutation{"pk", "pv"}}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  EXPECT_FALSE(c.TakeReply(2).has_value());
  DeliverReports(p, c);
  std::optional<Reply> commit;
  for (int i = 0; i < 1000 && !(commit = c.TakeReply(2)).has_value(); ++i) {
    clock_ += 100;
    c.Tick();
  }
  ASSERT_TRUE(commit.has_value());
  ASSERT_TRUE(commit->status.ok()) << commit->status;
  EXPECT_GE(commit->ts, prepare_ts);
}

// A participant did not prepare (it never reports): the client's abort at the coordinator
// answers the Commit that waits there ABORTED and tells the participants.
TEST_F(TransactionManagerTest, AClientAbortAnswersACommitStillWaitingForReports) {
  Group c(1, &clock_);
  c.ElectLeader();
  const TxnRef t{7, clock_};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {Put("ck", "cv")}, {}, {{2, 0}}}, a);
  });
  EXPECT_FALSE(c.TakeReply(2).has_value());
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Abort(r, now, AbortRequest{7, true, {2}}, a);
  });
  std::optional<Reply> reply;
  RunUntil({&c}, [&] { return (reply = c.TakeReply(2)).has_value(); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status.code(), absl::StatusCode::kAborted) << reply->status;
  ASSERT_FALSE(c.actions.messages.empty());
  EXPECT_EQ(c.actions.messages.back().type, GroupMessage::Type::kOutcome);
  EXPECT_EQ(c.actions.messages.back().to, 2u);
  EXPECT_FALSE(c.actions.messages.back().committed);
  EXPECT_FALSE(c.store->Get("ck", clock_).value().has_value());
}

// A participant's inquiry while the coordinator still waits for reports aborts the transaction
// (nothing is logged yet), and the waiting Commit is answered ABORTED.
TEST_F(TransactionManagerTest, AnInquiryAbortsACommitStillWaitingForReports) {
  Group c(1, &clock_);
  c.ElectLeader();
  const TxnRef t{7, clock_};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {Put("ck", "cv")}, {}, {{2, clock_}}}, a);
  });
  EXPECT_FALSE(c.TakeReply(2).has_value());
  const GroupMessage inquiry{GroupMessage::Type::kInquiry, 2, 1, 7, false, 0};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, inquiry, a); });
  std::optional<Reply> reply;
  RunUntil({&c}, [&] { return (reply = c.TakeReply(2)).has_value(); });
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status.code(), absl::StatusCode::kAborted) << reply->status;
  ASSERT_FALSE(c.actions.messages.empty());
  EXPECT_FALSE(c.actions.messages.back().committed);
  EXPECT_FALSE(c.store->Get("ck", clock_).value().has_value());
}

// A participant that prepares after the coordinator aborted the transaction (its Prepare waited
// for locks while the client's Commit was refused and the client aborted) learns the outcome from
// the answer to its report, not from an inquiry a second later.
TEST_F(TransactionManagerTest, AReportToACoordinatorThatAbortedIsAnsweredAtOnce) {
  Group c(1, &clock_);
  c.ElectLeader();
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Abort(r, now, AbortRequest{7, false, {}}, a);  // aborted here, no decision logged
  });
  c.actions.messages.clear();
  const GroupMessage report{GroupMessage::Type::kPrepared, 2, 1, 7, false, clock_};
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, report, a); });
  bool told = false;
  RunUntil({&c}, [&] {
    for (const GroupMessage& m : c.actions.messages) {
      told |= m.type == GroupMessage::Type::kOutcome && m.txn == 7 && m.to == 2 && !m.committed;
    }
    return told;
  });
  EXPECT_TRUE(told) << "the prepared participant was left in doubt";
}

// A report lost on its way (or dropped by a coordinator leader that changed) is sent again by the
// prepared participant's leader, so the waiting commit goes on instead of waiting for an inquiry
// that would abort it.
void ALostReportIsSentAgain(Timestamp* clock, TransactionManagerOptions participant,
                            bool expect_commit) {
  Group c(1, clock);
  Group p(2, clock, participant);
  c.ElectLeader();
  p.ElectLeader();
  const TxnRef t{7, *clock};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Prepare(r, now, 1, PrepareRequest{t, 1, {Mutation{"pk", "pv"}}, {}}, a);
  });
  const Timestamp prepare_ts = p.TakeReply(1)->ts;
  ASSERT_EQ(p.actions.messages.size(), 1u);
  p.actions.messages.clear();  // the first report is lost
  c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
    m.Commit(r, now, 2, CommitRequest{t, {}, {}, {{2, prepare_ts}}}, a);
  });
  EXPECT_FALSE(c.TakeReply(2).has_value());
  std::optional<Reply> reply;
  int reports = 0;
  for (int64_t waited = 0; waited < 500'000 && !reply.has_value(); waited += 1'000) {
    *clock += 1'000;
    p.Tick();
    c.Tick();
    for (const GroupMessage& m : p.actions.messages) {
      ASSERT_NE(m.type, GroupMessage::Type::kInquiry) << "asked before reporting again";
      if (m.type == GroupMessage::Type::kPrepared) {
        ++reports;
        EXPECT_EQ(m.commit_ts, prepare_ts);
        EXPECT_FALSE(m.leader_only);
      }
    }
    DeliverReports(p, c);
    p.actions.messages.clear();
    reply = c.TakeReply(2);
  }
  if (!expect_commit) {
    EXPECT_FALSE(reply.has_value()) << "committed without a report";
    EXPECT_EQ(reports, 0);
    return;
  }
  ASSERT_TRUE(reply.has_value()) << "the commit still waits for the lost report";
  ASSERT_TRUE(reply->status.ok()) << reply->status;
  EXPECT_GE(reply->ts, prepare_ts);
  EXPECT_GE(reports, 1);
}

TEST_F(TransactionManagerTest, ALostPrepareReportIsSentAgainAndTheCommitGoesOn) {
  ALostReportIsSentAgain(&clock_, {}, /*expect_commit=*/true);
}

// The check above fails when participants do not report again (report_resend_us = 0): the
// commit is still waiting after half a second.
TEST_F(TransactionManagerTest, CheckerCatchesAParticipantThatNeverReportsAgain) {
  TransactionManagerOptions never;
  never.report_resend_us = 0;
  ALostReportIsSentAgain(&clock_, never, /*expect_commit=*/false);
}

// Found by the simulator (append seed 316): a participant that asked during the coordinator's
// commit wait learned "committed at s", applied and released, and a later transaction read s's
// data and committed below s. The answer must wait until TT.after(s).

}  // namespace
}  // namespace meridian::txn::manager_test
