// Rules of txn::TransactionManager, each on real paxos::Replica groups of one (the log commits at
// once), with a hand-driven TrueTime interval (epsilon 1 ms) and an in-memory Store. Group
// messages between managers are delivered by the test, so 2PC steps can be reordered, dropped
// and duplicated on purpose.
#include "txn/transaction_manager.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"
#include "proto/kv.pb.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/replica.h"

namespace meridian::txn {
namespace {

constexpr int64_t kEpsilon = 1000;
constexpr Timestamp kStart = 1'700'000'000'000'000;

class MapStore : public Store {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, Timestamp ts) override {
    auto it = data_.find(std::string(key));
    if (it == data_.end()) return std::optional<std::string>();
    auto v = it->second.upper_bound(ts);
    if (v == it->second.begin()) return std::optional<std::string>();
    return std::prev(v)->second;
  }
  absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes) override {
    for (const Mutation& m : writes) data_[m.key][ts] = m.value;
    return absl::OkStatus();
  }
  size_t versions(const std::string& key) const {
    auto it = data_.find(key);
    return it == data_.end() ? 0 : it->second.size();
  }

 private:
  std::map<std::string, std::map<Timestamp, std::optional<std::string>>> data_;
};

// One group of one replica: storage, replica, store, manager; rebuilt from storage by Restart.
struct Group {
  Group(GroupId id, Timestamp* clock, TransactionManagerOptions options = {})
      : id(id), clock(clock), options(options) {
    Build();
  }

  void Build() {
    paxos::Options o;
    o.group = id;
    o.id = 1;
    o.members = {1};
    o.lease_us = 2'000'000;
    replica = std::make_unique<paxos::Replica>(o, &log, Now());
    store = std::make_unique<MapStore>();
    manager = std::make_unique<TransactionManager>(id, store.get(), options);
  }
  // A crash and restart: the log survives; the store and the manager are rebuilt by replay.
  void Restart() { Build(); }

  Interval Now() const { return Interval{*clock - kEpsilon, *clock + kEpsilon}; }

  // Carries out the replica's Ready cycles and feeds committed entries to the manager.
  void Pump() {
    for (int i = 0; i < 100 && replica->HasReady(); ++i) {
      paxos::Ready r = replica->TakeReady();
      if (r.hard_state) log.SaveHardState(*r.hard_state);
      for (const paxos::Entry& e : r.entries) log.Put(e);
      for (const paxos::Entry& e : r.committed) {
        absl::StatusOr<ApplyResult> applied = manager->Apply(*replica, e, Now(), &actions);
        ASSERT_TRUE(applied.ok()) << applied.status();
      }
      replica->Advance(Now());
    }
  }

  void Tick() {
    replica->Tick(Now());
    Pump();
    manager->Tick(*replica, Now(), &actions);
    Pump();
  }

  // Moves the clock until this group leads with a lease and the manager serves.
  void ElectLeader() {
    for (int i = 0; i < 1000 && !manager->leading(); ++i) {
      *clock += 10'000;
      Tick();
    }
    ASSERT_TRUE(manager->leading()) << "group " << id << " never led";
  }

  std::optional<Reply> TakeReply(RequestId rid) {
    for (size_t i = 0; i < actions.replies.size(); ++i) {
      if (actions.replies[i].id == rid) {
        Reply r = actions.replies[i];
        actions.replies.erase(actions.replies.begin() + static_cast<std::ptrdiff_t>(i));
        return r;
      }
    }
    return std::nullopt;
  }

  template <typename F>
  void Do(F&& f) {
    f(*manager, *replica, Now(), &actions);
    Pump();
  }

  GroupId id;
  Timestamp* clock;
  TransactionManagerOptions options;
  paxos::MemoryLogStorage log;
  std::unique_ptr<paxos::Replica> replica;
  std::unique_ptr<MapStore> store;
  std::unique_ptr<TransactionManager> manager;
  Actions actions;
};

// Delivers to `c` the prepare reports (kPrepared) that `p` sent it, taking them out of p's
// messages: the coordinator commits only with the timestamps participants reported.
void DeliverReports(Group& p, Group& c) {
  std::vector<GroupMessage> rest;
  for (const GroupMessage& msg : std::exchange(p.actions.messages, {})) {
    if (msg.type != GroupMessage::Type::kPrepared || msg.to != c.id) {
      rest.push_back(msg);
      continue;
    }
    c.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, msg, a); });
  }
  p.actions.messages = std::move(rest);
}

class TransactionManagerTest : public ::testing::Test {
 protected:
  Timestamp clock_ = kStart;

  // Advances time in 100 us steps, ticking every group, until `done` or `max_us` passed.
  template <typename F>
  void RunUntil(std::vector<Group*> groups, F&& done, int64_t max_us = 100'000) {
    for (int64_t t = 0; t < max_us && !done(); t += 100) {
      clock_ += 100;
      for (Group* g : groups) g->Tick();
    }
  }

  static Mutation Put(std::string k, std::string v) { return Mutation{std::move(k), std::move(v)}; }

  // 2PC of `t` with coordinator `c`: prepares a write in each participant, commits, and waits for
  // the coordinator's reply (its outcome messages stay in c.actions). The commit timestamp, or 0
  // after reporting a failure.
  Timestamp PrepareAndCommit(Group& c, const std::vector<Group*>& participants, const TxnRef& t) {
    const RequestId rid = t.id * 10;
    std::vector<ParticipantRef> prepared;
    for (Group* g : participants) {
      g->Do([&](auto& m, auto& r, Interval now, Actions* a) {
        m.Prepare(r, now, rid, PrepareRequest{t, c.id, {Put("k", "v")}, {}}, a);
      });
      std::optional<Reply> reply = g->TakeReply(rid);
      if (!reply.has_value() || !reply->status.ok()) {
        ADD_FAILURE() << "prepare of " << t.id << " at group " << g->id << " failed";
        return 0;
      }
      prepared.push_back({g->id, reply->ts});
      DeliverReports(*g, c);
    }
    c.Do([&](auto& m, auto& r, Interval now, Actions* a) {
      m.Commit(r, now, rid + 1, CommitRequest{t, {}, {}, prepared}, a);
    });
    std::vector<Group*> all = participants;
    all.push_back(&c);
    std::optional<Reply> commit;
    RunUntil(all, [&] { return (commit = c.TakeReply(rid + 1)).has_value(); });
    if (!commit.has_value() || !commit->status.ok()) {
      ADD_FAILURE() << "commit of " << t.id << " failed";
      return 0;
    }
    return commit->ts;
  }

  // Hands every message `from` has sent to the group it is addressed to, among `to`.
  static void DeliverAll(Group& from, const std::vector<Group*>& to) {
    for (const GroupMessage& msg : std::exchange(from.actions.messages, {})) {
      for (Group* g : to) {
        if (g->id != msg.to) continue;
        g->Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, msg, a); });
      }
    }
  }
};

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
  // The outcome (commit) arrives: the data appears at s and the reader gets it.
  const GroupMessage outcome{GroupMessage::Type::kOutcome, 1, 2, 7, true, prepare_ts + 10};
  p.Do([&](auto& m, auto& r, Interval now, Actions* a) { m.Receive(r, now, outcome, a); });
  std::optional<Reply> read = p.TakeReply(2);
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
}  // namespace meridian::txn
