// The SDK's transaction engine (client/src/txn_engine.h) and buffer (txn_buffer.h) against a fake
// TxnTransport: an in-memory store whose group is the key's first character, with errors
// scripted per RPC. Checks the rules of meridian/transaction.h — what goes where at commit
// (one group: Commit alone; several: Prepare, then Commit with the prepare timestamps), reads of
// the transaction's own writes, whole-transaction retries on ABORTED with the same priority and a
// new id, aborts sent to every group touched, "outcome unknown" never retried, errors of fn
// returned as they are — and the read timestamps of read-only transactions. No network, no sleeps
// (backoff 1 ms).
#include "client/src/txn_engine.h"

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/src/txn_buffer.h"
#include "gtest/gtest.h"
#include "meridian/transaction.h"

namespace meridian::client {
namespace {

uint64_t GroupOf(const std::string& key) { return static_cast<uint8_t>(key[0]); }

class FakeTransport final : public TxnTransport {
 public:
  absl::StatusOr<Location> Locate(const std::string& key, SteadyTime) override {
    Location location;
    location.group = GroupOf(key);
    location.generation = 1;
    return location;
  }
  absl::Status Read(uint64_t group, const std::string& key, proto::TxnReadRequest& request,
                    proto::TxnReadResponse* response, SteadyTime, uint64_t* group_used) override {
    absl::MutexLock lock(&mu);
    *group_used = GroupOf(key);
    log.push_back(
        absl::StrCat("read ", key, " g", *group_used,
                     request.keys_size() > 1 ? absl::StrCat(" keys ", request.keys_size()) : "",
                     request.for_update() ? " for update" : ""));
    ids.push_back(request.txn().id());
    start_ts.push_back(request.txn().start_ts());
    EXPECT_TRUE(group == 0 || group == GroupOf(key));
    if (absl::Status s = Scripted("read"); !s.ok()) return s;
    for (const std::string& k : request.keys()) {
      proto::ValueOrNone* v = response->add_values();
      if (const auto it = data.find(k); it != data.end()) {
        v->set_found(true);
        v->set_value(it->second);
      }
    }
    return absl::OkStatus();
  }
  absl::Status Prepare(uint64_t group, const std::string&, proto::TxnPrepareRequest& request,
                       proto::TxnPrepareResponse* response, SteadyTime) override {
    absl::MutexLock lock(&mu);
    log.push_back(absl::StrCat("prepare g", group, " coordinator g", request.coordinator(),
                               " writes ", request.writes_size(), " reads ", request.reads_size()));
    if (absl::Status s = Scripted("prepare"); !s.ok()) return s;
    response->set_prepare_ts(1000 + static_cast<int64_t>(group));
    pending[group] = request.writes();
    if (absl::Status s = Scripted("prepare-answer"); !s.ok()) {
      // Prepared, but the answer is lost: let the waiting Commit decide before the client
      // learns of the loss (and aborts), as when the report beat the answer.
      mu.Await(absl::Condition(
          +[](FakeTransport* t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(t->mu) { return t->decided > 0; },
          this));
      return s;
    }
    return absl::OkStatus();
  }
  // Like a coordinator: a Commit naming participants waits until each of them prepared (its
  // report) or the client aborted the transaction there, and is logged then.
  absl::Status Commit(uint64_t group, const std::string&, proto::TxnCommitRequest& request,
                      proto::TxnCommitResponse* response, SteadyTime) override {
    absl::MutexLock lock(&mu);
    const uint64_t txn = request.txn().id();
    auto reported_or_aborted = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      if (aborted.count(txn) != 0) return true;
      for (const proto::TxnParticipant& p : request.participants()) {
        if (pending.count(p.group()) == 0) return false;
      }
      return true;
    };
    if (!mu.AwaitWithTimeout(absl::Condition(&reported_or_aborted), absl::Seconds(10))) {
      return MarkOutcomeUnknown(
          absl::DeadlineExceededError("outcome unknown: no report and no abort in 10 s"));
    }
    std::string participants;
    for (const proto::TxnParticipant& p : request.participants()) {
      absl::StrAppend(&participants, " g", p.group(), "@", p.prepare_ts());
    }
    log.push_back(absl::StrCat(
        "commit g", group, " writes ", request.writes_size(), " reads ", request.reads_size(),
        participants,
        request.max_commit_ts() != 0 ? absl::StrCat(" at most ", request.max_commit_ts()) : "",
        aborted.count(txn) != 0 ? " aborted" : ""));
    if (aborted.count(txn) != 0) return absl::AbortedError("aborted by its client");
    if (absl::Status s = Scripted("commit"); !s.ok()) return s;
    Apply(request.writes());
    for (const proto::TxnParticipant& p : request.participants()) Apply(pending[p.group()]);
    pending.clear();
    ++decided;
    response->set_commit_ts(++commit_ts);
    return absl::OkStatus();
  }
  absl::Status Abort(uint64_t group, const std::string&, proto::TxnAbortRequest& request,
                     SteadyTime) override {
    absl::MutexLock lock(&mu);
    std::string participants;
    for (const uint64_t p : request.participants()) absl::StrAppend(&participants, " g", p);
    log.push_back(
        absl::StrCat("abort g", group, request.coordinator() ? " coordinator" : "", participants));
    if (request.coordinator()) aborted.insert(request.txn());
    pending.clear();
    return absl::OkStatus();
  }
  absl::Status Keepalive(uint64_t group, const std::string&, proto::TxnKeepaliveRequest& request,
                         SteadyTime) override {
    absl::MutexLock lock(&mu);
    keepalives.push_back(absl::StrCat("keepalive ", request.txn(), " g", group));
    return Scripted("keepalive");
  }
  absl::Status ReadOnly(uint64_t group, const std::string&, proto::ReadOnlyRequest& request,
                        proto::SnapshotReadResponse* response, SteadyTime) override {
    absl::MutexLock lock(&mu);
    log.push_back(absl::StrCat("readonly g", group, " keys ", request.keys_size()));
    for (const std::string& k : request.keys()) Value(k, response->add_values());
    response->set_read_ts(commit_ts);
    return absl::OkStatus();
  }
  absl::Status SnapshotRead(uint64_t group, const std::string&, bool leader_first,
                            proto::SnapshotReadRequest& request,
                            proto::SnapshotReadResponse* response, SteadyTime) override {
    absl::MutexLock lock(&mu);
    log.push_back(absl::StrCat("snapshot g", group, " keys ", request.keys_size(),
                               leader_first ? " leader first" : " leader last"));
    snapshot_ts.push_back(request.read_ts());
    for (const std::string& k : request.keys()) Value(k, response->add_values());
    // read_ts 0 asks the server to choose (its TT.now().latest): here `chosen_ts`.
    response->set_read_ts(request.read_ts() == 0 ? chosen_ts : request.read_ts());
    return absl::OkStatus();
  }

  // The next `method` call fails with `status` (in the order scripted).
  void Fail(const std::string& method, absl::Status status) {
    absl::MutexLock lock(&mu);
    script[method].push_back(std::move(status));
  }
  std::vector<std::string> Log() {
    absl::MutexLock lock(&mu);
    return log;
  }

  absl::Mutex mu;
  std::map<std::string, std::string> data ABSL_GUARDED_BY(mu);
  std::vector<std::string> log ABSL_GUARDED_BY(mu);
  std::vector<uint64_t> ids ABSL_GUARDED_BY(mu);
  std::vector<int64_t> start_ts ABSL_GUARDED_BY(mu);
  std::vector<int64_t> snapshot_ts ABSL_GUARDED_BY(mu);
  std::vector<std::string> keepalives ABSL_GUARDED_BY(mu);
  int64_t commit_ts ABSL_GUARDED_BY(mu) = 0;
  int64_t chosen_ts ABSL_GUARDED_BY(mu) = 1;  // a snapshot read at 0 reads here

 private:
  absl::Status Scripted(const std::string& method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::deque<absl::Status>& q = script[method];
    if (q.empty()) return absl::OkStatus();
    absl::Status s = q.front();
    q.pop_front();
    return s;
  }
  void Apply(const google::protobuf::RepeatedPtrField<proto::Mutation>& writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    for (const proto::Mutation& m : writes) {
      if (m.is_delete()) {
        data.erase(m.key());
      } else {
        data[m.key()] = m.value();
      }
    }
  }
  void Value(const std::string& k, proto::ValueOrNone* v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (const auto it = data.find(k); it != data.end()) {
      v->set_found(true);
      v->set_value(it->second);
    }
  }

  std::map<std::string, std::deque<absl::Status>> script ABSL_GUARDED_BY(mu);
  std::map<uint64_t, google::protobuf::RepeatedPtrField<proto::Mutation>> pending
      ABSL_GUARDED_BY(mu);
  std::set<uint64_t> aborted ABSL_GUARDED_BY(mu);  // transactions aborted at their coordinator
  int decided ABSL_GUARDED_BY(mu) = 0;             // Commits that committed
};

TxnEngineOptions FastOptions() {
  TxnEngineOptions options;
  options.backoff_initial = std::chrono::milliseconds(1);
  options.backoff_max = std::chrono::milliseconds(1);
  return options;
}

using Log = std::vector<std::string>;

// Reads x, writes x+1 to every key in `keys` (x from the first key, 0 when missing).
std::function<absl::Status(Transaction&)> Increment(std::vector<std::string> keys,
                                                    int* calls = nullptr) {
  return [keys, calls](Transaction& txn) -> absl::Status {
    if (calls != nullptr) ++*calls;
    absl::StatusOr<std::optional<std::string>> v = txn.Get(keys[0]);
    if (!v.ok()) return v.status();
    const int x = v->has_value() ? std::stoi(**v) : 0;
    for (const std::string& k : keys) txn.Put(k, std::to_string(x + 1));
    return absl::OkStatus();
  };
}

TEST(TxnOptionsTest, RejectsBadOptions) {
  EXPECT_TRUE(ValidateTransactionOptions({}).ok());
  TransactionOptions txn;
  txn.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(ValidateTransactionOptions(txn).code(), absl::StatusCode::kInvalidArgument);
  txn = {};
  txn.max_attempts = 0;
  EXPECT_EQ(ValidateTransactionOptions(txn).code(), absl::StatusCode::kInvalidArgument);

  EXPECT_TRUE(ValidateReadOnlyOptions(ReadOnlyOptions::Strong()).ok());
  EXPECT_TRUE(ValidateReadOnlyOptions(ReadOnlyOptions::AtTimestamp(5)).ok());
  EXPECT_TRUE(ValidateReadOnlyOptions(ReadOnlyOptions::MaxStaleness({})).ok());
  EXPECT_EQ(ValidateReadOnlyOptions(ReadOnlyOptions::AtTimestamp(0)).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ValidateReadOnlyOptions(ReadOnlyOptions::MaxStaleness(std::chrono::microseconds(-1))).code(),
      absl::StatusCode::kInvalidArgument);
  ReadOnlyOptions ro;
  ro.deadline = std::chrono::milliseconds(0);
  EXPECT_EQ(ValidateReadOnlyOptions(ro).code(), absl::StatusCode::kInvalidArgument);
}

TEST(TxnBufferTest, ReadsSeeOwnWritesAndEarlierReads) {
  TxnBuffer buffer;
  EXPECT_EQ(buffer.Lookup("a"), std::nullopt);
  buffer.RecordRead(7, "a", "1");
  EXPECT_EQ(buffer.Lookup("a"), std::optional<std::optional<std::string>>("1"));
  buffer.Put("a", "2");
  EXPECT_EQ(buffer.Lookup("a"), std::optional<std::optional<std::string>>("2"));
  buffer.Delete("a");
  ASSERT_TRUE(buffer.Lookup("a").has_value());
  EXPECT_EQ(*buffer.Lookup("a"), std::nullopt);
  buffer.Put("b", "3");
  buffer.Put("b", "4");
  EXPECT_EQ(buffer.writes().at("b"), "4");
}

TEST(TxnBufferTest, CommitPlanGroupsReadsAndWrites) {
  TxnBuffer buffer;
  buffer.RecordRead(1, "a1", std::nullopt);
  buffer.Put("a1", "x");
  buffer.Put("b1", "y");
  buffer.Put("b2", "z");
  const auto plan = buffer.CommitPlan({{"a1", 1}, {"b1", 2}, {"b2", 2}});
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(plan.at(1).reads, std::vector<std::string>{"a1"});
  EXPECT_EQ(plan.at(1).writes.size(), 1u);
  EXPECT_EQ(plan.at(2).routing_key, "b1");
  EXPECT_EQ(plan.at(2).writes.size(), 2u);
  EXPECT_EQ(ChooseCoordinator(plan), 2u);  // the most writes
}

class TxnEngineTest : public ::testing::Test {
 protected:
  FakeTransport transport;
  TxnEngine engine{&transport, FastOptions()};
};

TEST_F(TxnEngineTest, OneGroupCommitsWithoutPrepare) {
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"a1", "a2"}), {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(*ts, 1);
  EXPECT_EQ(transport.Log(), (Log{"read a1 g97", "commit g97 writes 2 reads 1"}));
  absl::MutexLock lock(&transport.mu);
  EXPECT_EQ(transport.data.at("a2"), "1");
}

TEST_F(TxnEngineTest, SeveralGroupsPrepareThenCommitAtTheCoordinator) {
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"a1", "b1", "b2"}), {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  // Coordinator: group 'b' (98) has the most writes; 'a' (97) prepares with its read and write.
  EXPECT_EQ(transport.Log(), (Log{"read a1 g97", "prepare g97 coordinator g98 writes 1 reads 1",
                                  "commit g98 writes 2 reads 0 g97@0"}));
}

TEST_F(TxnEngineTest, ReadOfOwnWriteSendsNoRpc) {
  absl::StatusOr<int64_t> ts = engine.Run(
      [](Transaction& txn) -> absl::Status {
        txn.Put("a1", "mine");
        absl::StatusOr<std::optional<std::string>> v = txn.Get("a1");
        if (!v.ok()) return v.status();
        EXPECT_EQ(*v, "mine");
        txn.Delete("a1");
        v = txn.Get("a1");
        if (!v.ok()) return v.status();
        EXPECT_EQ(*v, std::nullopt);
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(transport.Log(), (Log{"commit g97 writes 1 reads 0"}));
}

TEST_F(TxnEngineTest, GetManyReadsEachGroupOnceAndAnswersKnownKeysFromTheAttempt) {
  {
    absl::MutexLock lock(&transport.mu);
    transport.data = {{"a1", "x"}, {"b1", "z"}, {"b2", "y"}};
  }
  absl::StatusOr<int64_t> ts = engine.Run(
      [](Transaction& txn) -> absl::Status {
        txn.Put("a9", "mine");
        absl::StatusOr<std::optional<std::string>> b1 = txn.Get("b1");
        if (!b1.ok()) return b1.status();
        absl::StatusOr<std::vector<std::optional<std::string>>> v =
            txn.GetMany({"a1", "b2", "a2", "a1", "a9", "b1"}, /*for_update=*/true);
        if (!v.ok()) return v.status();
        EXPECT_EQ(*v, (std::vector<std::optional<std::string>>{"x", "y", std::nullopt, "x", "mine",
                                                               "z"}));
        // Everything read is known now: no more requests.
        v = txn.GetMany({"a2", "b2"});
        if (!v.ok()) return v.status();
        EXPECT_EQ(*v, (std::vector<std::optional<std::string>>{std::nullopt, "y"}));
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(
      transport.Log(),
      (Log{"read b1 g98", "read a1 g97 keys 2 for update", "read b2 g98 for update",
           "prepare g98 coordinator g97 writes 0 reads 2", "commit g97 writes 1 reads 2 g98@0"}));
}

TEST_F(TxnEngineTest, TheLowestCommitTimestampBoundGoesToTheCoordinator) {
  absl::StatusOr<int64_t> ts = engine.Run(
      [](Transaction& txn) -> absl::Status {
        txn.LimitCommitTimestamp(5'000);
        txn.Put("a1", "1");
        txn.Put("b1", "1");
        txn.LimitCommitTimestamp(4'000);
        txn.LimitCommitTimestamp(6'000);
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(transport.Log(), (Log{"prepare g98 coordinator g97 writes 1 reads 0",
                                  "commit g97 writes 1 reads 0 g98@0 at most 4000"}));
}

TEST_F(TxnEngineTest, AFailedGetManyEndsTheAttemptAndTheRetryReadsAgain) {
  transport.Fail("read", absl::AbortedError("wounded"));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(
      [&calls](Transaction& txn) -> absl::Status {
        ++calls;
        absl::StatusOr<std::vector<std::optional<std::string>>> v = txn.GetMany({"a1", "a2"});
        if (!v.ok()) return v.status();
        txn.Put("a1", "1");
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(calls, 2);
}

TEST_F(TxnEngineTest, AbortedCommitRetriesWithSamePriorityAndNewId) {
  transport.Fail("commit", absl::AbortedError("wounded"));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"a1"}, &calls), {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(transport.Log(), (Log{"read a1 g97", "commit g97 writes 1 reads 1", "abort g97",
                                  "read a1 g97", "commit g97 writes 1 reads 1"}));
  absl::MutexLock lock(&transport.mu);
  ASSERT_EQ(transport.ids.size(), 2u);
  EXPECT_NE(transport.ids[0], transport.ids[1]);
  EXPECT_EQ(transport.start_ts[0], transport.start_ts[1]);
}

TEST_F(TxnEngineTest, AbortedReadRetriesTheWholeTransaction) {
  transport.Fail("read", absl::AbortedError("wounded"));
  int calls = 0;
  ASSERT_TRUE(engine.Run(Increment({"a1"}, &calls), {}).ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(TxnEngineTest, SwallowedAbortedReadStillRetries) {
  transport.Fail("read", absl::AbortedError("wounded"));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(
      [&](Transaction& txn) {
        ++calls;
        txn.Get("a1").IgnoreError();  // a careless fn
        txn.Put("a1", "v");
        return absl::OkStatus();
      },
      {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(transport.Log(),
            (Log{"read a1 g97", "abort g97", "read a1 g97", "commit g97 writes 1 reads 1"}));
}

TEST_F(TxnEngineTest, GivesUpAfterMaxAttempts) {
  for (int i = 0; i < 3; ++i) transport.Fail("commit", absl::AbortedError("wounded"));
  TransactionOptions options;
  options.max_attempts = 3;
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"a1"}, &calls), options);
  EXPECT_EQ(ts.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(calls, 3);
  EXPECT_FALSE(IsOutcomeUnknown(ts.status()));
}

TEST_F(TxnEngineTest, OutcomeUnknownIsReturnedAndNeverRetried) {
  transport.Fail("commit", MarkOutcomeUnknown(absl::DeadlineExceededError(
                               "outcome unknown: the write may or may not...")));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"a1", "b1"}, &calls), {});
  EXPECT_EQ(ts.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(IsOutcomeUnknown(ts.status()));
  EXPECT_EQ(calls, 1);
  // One commit, never retried; then best-effort aborts, which the coordinator honours only if it
  // has not decided yet (they free prepared participants sooner; the outcome stays unknown).
  int commits = 0;
  bool coordinator_abort = false;
  for (const std::string& line : transport.Log()) {
    commits += line.rfind("commit", 0) == 0 ? 1 : 0;
    coordinator_abort |= line.find("abort") == 0 && line.find("coordinator") != std::string::npos;
  }
  EXPECT_EQ(commits, 1);
  EXPECT_TRUE(coordinator_abort);
}

TEST_F(TxnEngineTest, UnknownPrepareAbortsAtTheCoordinatorAndRetries) {
  transport.Fail("prepare", MarkOutcomeUnknown(absl::UnavailableError("outcome unknown: lost")));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"b1", "a1"}, &calls), {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(calls, 2);
  const Log log = transport.Log();
  ASSERT_GE(log.size(), 6u);
  // Groups 97 and 98 have one write each: the coordinator is the lower id, 97. Its Commit went
  // out with the prepare and waits there for g98's report; the failed prepare makes the client
  // abort at the coordinator, which answers the Commit ABORTED.
  EXPECT_EQ(log[1], "prepare g98 coordinator g97 writes 1 reads 1");
  EXPECT_EQ(log[2], "abort g97 coordinator g98");
  EXPECT_EQ(log[3], "commit g97 writes 1 reads 0 g98@0 aborted");
  Log aborts(log.begin() + 4, log.begin() + 6);  // the attempt's aborts, sent in parallel
  std::sort(aborts.begin(), aborts.end());
  EXPECT_EQ(aborts, (Log{"abort g97 coordinator g98", "abort g98"}));
}

TEST_F(TxnEngineTest, ACommitDecidedBeforeAFailedPrepareAnswerCounts) {
  // The prepare took effect (the coordinator has its report) but its answer was lost: the
  // client's abort comes after the decision, and the Commit's answer (committed) is the outcome.
  transport.Fail("prepare-answer",
                 MarkOutcomeUnknown(absl::UnavailableError("outcome unknown: lost")));
  int calls = 0;
  absl::StatusOr<int64_t> ts = engine.Run(Increment({"b1", "a1"}, &calls), {});
  ASSERT_TRUE(ts.ok()) << ts.status();
  EXPECT_EQ(calls, 1);
  const Log log = transport.Log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[1], "prepare g98 coordinator g97 writes 1 reads 1");
  EXPECT_EQ(log[2], "commit g97 writes 1 reads 0 g98@0");
  EXPECT_EQ(log[3], "abort g97 coordinator g98");
  absl::MutexLock lock(&transport.mu);
  EXPECT_EQ(transport.data.at("a1"), "1");
  EXPECT_EQ(transport.data.at("b1"), "1");
}

TEST_F(TxnEngineTest, ErrorsOfFnAreReturnedAfterAborting) {
  absl::StatusOr<int64_t> ts = engine.Run(
      [](Transaction& txn) -> absl::Status {
        if (absl::Status s = txn.Get("a1").status(); !s.ok()) return s;
        return absl::NotFoundError("no such account");
      },
      {});
  EXPECT_EQ(ts.status(), absl::NotFoundError("no such account"));
  EXPECT_EQ(transport.Log(), (Log{"read a1 g97", "abort g97"}));
}

TEST_F(TxnEngineTest, EmptyKeyIsInvalid) {
  absl::StatusOr<int64_t> ts = engine.Run(
      [](Transaction& txn) {
        txn.Put("", "v");
        return absl::OkStatus();
      },
      {});
  EXPECT_EQ(ts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(transport.Log().empty());
}

TEST(KeepaliveSenderTest, KeepsReadGroupsAliveAndNoticesWounds) {
  FakeTransport transport;
  KeepaliveSender keepalive(&transport, std::chrono::milliseconds(1));
  transport.Fail("keepalive", absl::OkStatus());
  transport.Fail("keepalive", absl::AbortedError("wounded"));
  TxnAttempt attempt(&transport, &keepalive, /*id=*/42, /*start_ts=*/1, /*attempt=*/1,
                     std::chrono::steady_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(attempt.Get("a1").ok());
  // The sender's thread sends every millisecond; wait (bounded) for the wounding reply.
  const SteadyTime give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!keepalive.Wounded(42) && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::yield();
  }
  ASSERT_TRUE(keepalive.Wounded(42));
  {
    absl::MutexLock lock(&transport.mu);
    ASSERT_GE(transport.keepalives.size(), 2u);
    EXPECT_EQ(transport.keepalives[0], "keepalive 42 g97");
  }
  // The attempt is over: a new read and the commit answer ABORTED without asking a server.
  EXPECT_EQ(attempt.Get("a2").status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(attempt.Commit().status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(transport.Log(), (Log{"read a1 g97"}));
}

TEST_F(TxnEngineTest, StrongReadOfOneGroupAsksItsLeader) {
  absl::StatusOr<ReadResult> r = engine.ReadOnly({"a1", "a2"}, ReadOnlyOptions::Strong());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(transport.Log(), (Log{"readonly g97 keys 2"}));
}

TEST_F(TxnEngineTest, StrongReadOfSeveralGroupsReadsAtTheFirstServersTimestamp) {
  ASSERT_TRUE(engine.Run(Increment({"a1", "b1"}), {}).ok());
  {
    absl::MutexLock lock(&transport.mu);
    transport.chosen_ts = 777'000;
  }
  absl::StatusOr<ReadResult> r = engine.ReadOnly({"b1", "a1", "a9"}, ReadOnlyOptions::Strong());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->read_ts, 777'000);
  {
    // The first group was asked to choose (0), the second read at its choice.
    absl::MutexLock lock(&transport.mu);
    EXPECT_EQ(std::vector<int64_t>(transport.snapshot_ts.end() - 2, transport.snapshot_ts.end()),
              (std::vector<int64_t>{0, 777'000}));
  }
  EXPECT_EQ(r->values, (std::vector<std::optional<std::string>>{"1", "1", std::nullopt}));
  const Log log = transport.Log();
  EXPECT_EQ(Log(log.end() - 2, log.end()),
            (Log{"snapshot g97 keys 2 leader first", "snapshot g98 keys 1 leader first"}));
}

TEST_F(TxnEngineTest, StaleAndExactReadsGoToAnyReplicaLeaderLast) {
  const int64_t before = absl::ToUnixMicros(absl::Now());
  absl::StatusOr<ReadResult> r =
      engine.ReadOnly({"a1"}, ReadOnlyOptions::MaxStaleness(std::chrono::seconds(5)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_LE(r->read_ts, absl::ToUnixMicros(absl::Now()) - 5'000'000);
  EXPECT_GE(r->read_ts, before - 5'000'000);
  r = engine.ReadOnly({"a1"}, ReadOnlyOptions::AtTimestamp(1234));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->read_ts, 1234);
  EXPECT_EQ(transport.Log(),
            (Log{"snapshot g97 keys 1 leader last", "snapshot g97 keys 1 leader last"}));
  EXPECT_EQ(engine.ReadOnly({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(engine.ReadOnly({""}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meridian::client
