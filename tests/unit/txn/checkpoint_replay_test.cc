// Randomized: a transaction manager that restores a checkpoint taken at any log entry and then
// applies the rest of the log ends where a manager that applied the whole log ends (the contract
// in txn/transaction_manager.h).
//
// Seeds: 1..kSeeds; MERIDIAN_CHECKPOINT_SEED=N runs seed N alone. A seed replays exactly.
// Workload: three groups of three replicas on the 2PC harness (harness.h: FakeReplica ports, no
//   Paxos), every group coordinating some transactions: single-group commits (some with a read
//   they hold no lock for, so they abort), 2PC transactions whose prepares and commit reach their
//   groups in random order, client aborts, locking reads, and requests sent again with their old
//   transaction id. Small bounds (Bounds()), so every memory drops entries.
// Faults: group messages delivered late, reordered, duplicated or dropped; proposals committed in
//   random batches, or lost with a leader change; leases lost; replicas restarted (they replay
//   the log); time jumps past the inquiry, resend and forget intervals.
// Checkers, per group, once the workload ends (N committed entries):
//   1. every live replica's Checkpoint() is that of a manager that replayed entries 1..N;
//   2. at random entries C: manager A applies 1..C and writes its image; a fresh manager B
//      restores it (over a copy of A's store) and must be at entry C; then both apply up to C
//      (nothing more) or up to N. Their images must be byte for byte the same, their read-side
//      state too, and, each made the leader of its own copy of the log, they must answer alike a
//      Prepare, a Commit, an inquiry or an ack (one kind per pair) about every transaction id the
//      workload used, older transactions that conflict with every lock, and reads.
// Shown to catch what it checks: with any one field of the image left out of the encoding, this
// test fails (the participant's finished ids: on seed 1, the restored manager prepares again a
// transaction whose outcome it had applied, where the replayed one answers ABORTED).
#include <array>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "gtest/gtest.h"
#include "proto/checkpoint.pb.h"
#include "tests/unit/txn/harness.h"
#include "tests/unit/txn/replay_replica.h"
#include "txn/transaction_manager.h"

namespace meridian::txn {
namespace {

using testing::FakeLog;
using testing::Harness;
using testing::MapStore;
using testing::ReplayReplica;

constexpr uint64_t kSeeds = 40;
constexpr int kSteps = 600;
constexpr int kReplicas = 3;
constexpr int kCheckpointsPerGroup = 3;
constexpr std::array<GroupId, 3> kGroups = {1, 2, 3};

TransactionManagerOptions Bounds() {
  TransactionManagerOptions o;
  o.max_local_decisions = 3;
  o.max_abort_decisions = 2;
  o.max_forgotten_ids = 4;
  o.max_finished_outcomes = 3;
  o.max_prepare_reports = 4;
  o.forget_interval_us = 20'000;
  o.ack_resend_after_us = 30'000;
  o.in_doubt_inquiry_us = 100'000;
  o.report_resend_us = 15'000;
  o.safe_time_interval_us = 50'000;
  o.txn_idle_timeout_us = 150'000;
  return o;
}

// The random workload and faults above, on a Harness.
class Workload {
 public:
  explicit Workload(uint64_t seed) : rng_(seed) {
    for (GroupId g : kGroups) {
      h_.AddGroup(g, kReplicas, Bounds());
      Lead(g, 1);
    }
  }

  void Run() {
    for (int i = 0; i < kSteps; ++i) {
      Step();
      h_.log().clear();
    }
    for (int i = 0; i < 3; ++i) {  // let the last outcomes, acks and forgets through
      for (GroupId g : kGroups) h_.Commit(g, 0);
      h_.Deliver([](const GroupMessage&) { return true; });
      h_.Tick(30'000);
    }
    for (GroupId g : kGroups) h_.Commit(g, 0);
  }

  Harness& harness() { return h_; }
  TxnId last_txn() const { return next_txn_ - 1; }
  std::vector<std::string> keys() const { return {"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"}; }

 private:
  struct TwoPhase {
    TxnRef txn;
    GroupId coordinator = 0;
    std::vector<GroupId> participants;
    std::vector<GroupId> unsent;  // groups not sent their request yet
  };

  void Step() {
    const uint64_t r = rng_.Uniform(100);
    if (r < 12) return SingleGroupCommit();
    if (r < 20) return StartTwoPhase();
    if (r < 38) return AdvanceTwoPhase();
    if (r < 41) return ClientAbort();
    if (r < 45) return SendAgain();
    if (r < 65) return CommitSome();
    if (r < 80) return Deliver();
    if (r < 82) return h_.Duplicate([&](const GroupMessage&) { return rng_.Bernoulli(0.5); });
    if (r < 83) return h_.ClearMessages();
    if (r < 97) return h_.Tick(rng_.Range(1'000, 60'000));
    return Fault();
  }

  GroupId Group() { return kGroups[rng_.Uniform(kGroups.size())]; }
  void CommitSome() {
    const GroupId g = Group();
    h_.Commit(g, rng_.Uniform(4));  // 0: every proposal
  }
  std::string Key() { return absl::StrCat("k", rng_.Uniform(8)); }
  TxnRef NewTxn() { return TxnRef{next_txn_++, h_.now() - rng_.Range(0, 50'000)}; }
  std::vector<Mutation> Writes(TxnId txn) {
    std::vector<Mutation> writes = {{Key(), absl::StrCat("v", txn)}};
    if (rng_.Bernoulli(0.3)) writes.push_back({Key(), std::nullopt});
    return writes;
  }

  // Sends a request now, and keeps it to send again later (SendAgain).
  void Send(GroupId g,
            std::function<void(TransactionManager&, ReplicaPort&, Interval, RequestId, Actions*)>
                request) {
    sent_.push_back([this, g, request] {
      const RequestId id = h_.NextRequest();
      h_.Do(g, 0, [&](TransactionManager& m, ReplicaPort& port, Interval now, Actions* out) {
        request(m, port, now, id, out);
      });
    });
    sent_.back()();
  }

  void SingleGroupCommit() {
    const GroupId g = Group();
    const TxnRef txn = NewTxn();
    std::vector<std::string> reads;
    const uint64_t kind = rng_.Uniform(10);
    if (kind < 4) {  // read first: the commit checks the read lock is still held
      reads = {Key()};
      Send(g, [=](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
        m.Read(p, now, id, ReadRequest{txn, reads}, out);
      });
    } else if (kind < 6) {
      reads = {"never-locked"};
    }
    const CommitRequest req{txn, Writes(txn.id), reads, {}};
    Send(g, [=](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
      m.Commit(p, now, id, req, out);
    });
  }

  void StartTwoPhase() {
    TwoPhase t;
    t.txn = NewTxn();
    t.coordinator = Group();
    for (GroupId g : kGroups) {
      if (g != t.coordinator && (t.participants.empty() || rng_.Bernoulli(0.5))) {
        t.participants.push_back(g);
      }
    }
    t.unsent = t.participants;
    t.unsent.push_back(t.coordinator);
    pending_.push_back(std::move(t));
  }

  // Sends one pending 2PC request, in a random order among its groups.
  void AdvanceTwoPhase() {
    if (pending_.empty()) return;
    const size_t i = rng_.Uniform(pending_.size());
    TwoPhase& t = pending_[i];
    const size_t j = rng_.Uniform(t.unsent.size());
    const GroupId g = t.unsent[j];
    t.unsent.erase(t.unsent.begin() + static_cast<std::ptrdiff_t>(j));
    std::vector<std::string> reads;
    if (rng_.Bernoulli(0.4)) {  // read first: the prepare (or commit) logs the read keys
      reads = {Key()};
      Send(g, [=, txn = t.txn](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
        m.Read(p, now, id, ReadRequest{txn, reads}, out);
      });
    }
    if (g == t.coordinator) {
      CommitRequest req{t.txn, Writes(t.txn.id), reads, {}};
      for (GroupId p : t.participants) req.participants.push_back(ParticipantRef{p, 0});
      Send(g, [=](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
        m.Commit(p, now, id, req, out);
      });
    } else {
      const PrepareRequest req{t.txn, t.coordinator, Writes(t.txn.id), reads};
      Send(g, [=](auto& m, auto& p, Interval now, RequestId id, Actions* out) {
        m.Prepare(p, now, id, req, out);
      });
    }
    if (t.unsent.empty()) pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
  }

  // The client gives up on a pending 2PC: Abort at every group (the coordinator's decides).
  void ClientAbort() {
    if (pending_.empty()) return;
    const size_t i = rng_.Uniform(pending_.size());
    const TwoPhase t = pending_[i];
    pending_.erase(pending_.begin() + static_cast<std::ptrdiff_t>(i));
    Send(t.coordinator, [=](auto& m, auto& p, Interval now, RequestId, Actions* out) {
      m.Abort(p, now, AbortRequest{t.txn.id, true, t.participants}, out);
    });
    for (GroupId g : t.participants) {
      Send(g, [=](auto& m, auto& p, Interval now, RequestId, Actions* out) {
        m.Abort(p, now, AbortRequest{t.txn.id, false, {}}, out);
      });
    }
  }

  void SendAgain() {
    if (!sent_.empty()) sent_[rng_.Uniform(sent_.size())]();
  }

  void Deliver() {
    const double p = rng_.NextDouble();
    h_.Deliver([&](const GroupMessage&) { return rng_.Bernoulli(p); });
  }

  void Lead(GroupId g, int r) {
    h_.Lead(g, r);
    leader_[g] = r;
  }

  void Fault() {
    const GroupId g = Group();
    const int r = static_cast<int>(rng_.Range(1, kReplicas));
    switch (rng_.Uniform(4)) {
      case 0:
        if (rng_.Bernoulli(0.5)) h_.DropProposals(g);
        return Lead(g, r);
      case 1:
        return h_.SetLease(g, leader_[g], false);
      case 2:
        return h_.SetLease(g, leader_[g], true);
      default:
        return h_.Restart(g, r);
    }
  }

  Random rng_;
  Harness h_;
  TxnId next_txn_ = 1;
  std::map<GroupId, int> leader_;
  std::vector<TwoPhase> pending_;
  std::vector<std::function<void()>> sent_;
};

// The image as text, for a readable difference.
std::string Readable(const std::string& image) {
  proto::TxnCheckpoint c;
  if (!c.ParseFromString(image)) return "<not an image>";
  return c.DebugString();
}

std::string ReadSide(TransactionManager& m) {
  const TransactionManager::Memory mem = m.memory();
  return absl::StrCat("applied=", m.applied_index(), " last_ts=", m.LastTs(),
                      " safe=", m.SafeTime(), " prepared=", m.prepared_count(),
                      " decisions=", mem.decisions, " finished=", mem.finished,
                      " forgotten=", mem.forgotten_ids);
}

// What checker 2 asks about every transaction id, each on its own pair of managers (an earlier
// question would change the answer to a later one: a Prepare makes the transaction active here).
enum class Question { kPrepare, kCommit, kInquiry, kAck };

// What `replica`, made the leader of its own copy of `log`, answers to `question` about every
// transaction id up to `last_txn`, then to older transactions in conflict with every key, on a
// tick, and to reads of `keys`. `now` is past every commit wait and resend interval.
std::string Answers(ReplayReplica& replica, Question question, GroupId g, const FakeLog& log,
                    TxnId last_txn, const std::vector<std::string>& keys, Interval now) {
  replica.Lead(log);
  const GroupId other = g % kGroups.size() + 1;
  std::string out;
  auto ask = [&](const Harness::Call& call) { absl::StrAppend(&out, replica.Do(call, now), "\n"); };
  RequestId id = 0;
  for (TxnId t = 1; t <= last_txn; ++t) {
    const TxnRef ref{t, static_cast<Timestamp>(t)};
    absl::StrAppend(&out, "txn ", t, ":\n");
    ask([&](TransactionManager& m, ReplicaPort& p, Interval at, Actions* a) {
      switch (question) {
        case Question::kPrepare:
          return m.Prepare(p, at, ++id, PrepareRequest{ref, other, {}, {}}, a);
        case Question::kCommit:
          return m.Commit(p, at, ++id, CommitRequest{ref, {}, {}, {}}, a);
        case Question::kInquiry:
          return m.Receive(p, at, GroupMessage{GroupMessage::Type::kInquiry, other, g, t}, a);
        case Question::kAck:
          return m.Receive(p, at, GroupMessage{GroupMessage::Type::kAck, other, g, t}, a);
      }
    });
  }
  // Transactions older than any the workload ran, in conflict with every lock a prepared
  // transaction takes again here (its reads and writes): who waits, and who is asked about.
  absl::StrAppend(&out, "conflicts:\n");
  const TxnRef writer{last_txn + 1, 1};
  const TxnRef reader{last_txn + 2, 1};
  std::vector<Mutation> writes;
  for (const std::string& k : keys) writes.push_back({k, "w"});
  ask([&](auto& m, auto& p, Interval at, Actions* a) {
    m.Commit(p, at, ++id, CommitRequest{writer, writes, {}, {}}, a);
  });
  ask([&](auto& m, auto& p, Interval at, Actions* a) {
    m.Read(p, at, ++id, ReadRequest{reader, keys}, a);
  });
  const Interval later{now.earliest + 10'000, now.latest + 10'000};
  absl::StrAppend(&out, "tick and reads:\n");
  ask([&](auto& m, auto& p, Interval, Actions* a) { m.Tick(p, later, a); });
  ask([&](auto& m, auto& p, Interval, Actions* a) {
    m.ReadOnly(p, later, ++id, ReadOnlyRequest{keys}, a);
  });
  ask([&](auto& m, auto& p, Interval, Actions* a) {
    m.SnapshotRead(p, later, ++id, SnapshotReadRequest{keys, m.LastTs() + 1}, a);
  });
  return out;
}

// Checker 2 at entry `c` of group `g`'s log, asking `question` once both managers applied the
// entries up to `end` (c or the last).
void CheckRestoreAt(Workload& w, GroupId g, paxos::Index c, paxos::Index end, Question question) {
  Harness& h = w.harness();
  const FakeLog& log = h.group_log(g);
  ReplayReplica a(g, Bounds(), MapStore());
  ASSERT_TRUE(a.ApplyUpTo(log, c, h.Now()).ok());
  const std::string image = a.manager().Checkpoint();
  ReplayReplica b(g, Bounds(), a.store());
  absl::Status st = b.manager().Restore(image);
  ASSERT_TRUE(st.ok()) << st;
  ASSERT_EQ(b.manager().Checkpoint(), image);
  EXPECT_EQ(b.manager().applied_index(), c);
  ASSERT_TRUE(a.ApplyUpTo(log, end, h.Now()).ok());
  ASSERT_TRUE(b.ApplyUpTo(log, end, h.Now()).ok());
  const std::string image_a = a.manager().Checkpoint();
  const std::string image_b = b.manager().Checkpoint();
  if (image_b != image_a) {
    EXPECT_EQ(Readable(image_b), Readable(image_a));
    ADD_FAILURE() << "the restored manager's image differs";
  }
  EXPECT_EQ(ReadSide(b.manager()), ReadSide(a.manager()));
  const Interval now{h.now() + 1'000'000, h.now() + 1'002'000};
  EXPECT_EQ(Answers(b, question, g, log, w.last_txn(), w.keys(), now),
            Answers(a, question, g, log, w.last_txn(), w.keys(), now));
}

void CheckSeed(uint64_t seed) {
  SCOPED_TRACE(::testing::Message() << "seed " << seed);
  Workload w(seed);
  w.Run();
  Harness& h = w.harness();
  Random pick(seed);
  for (GroupId g : kGroups) {
    const FakeLog& log = h.group_log(g);
    ReplayReplica replay(g, Bounds(), MapStore());
    ASSERT_TRUE(replay.ApplyUpTo(log, log.committed, h.Now()).ok());
    const std::string image = replay.manager().Checkpoint();
    for (int r = 1; r <= kReplicas; ++r) {  // checker 1
      const std::string live = h.manager(g, r).Checkpoint();
      if (live != image) {
        EXPECT_EQ(Readable(live), Readable(image));
        ADD_FAILURE() << "replica " << r << " holds another image than a replay";
      }
    }
    for (int i = 0; i < kCheckpointsPerGroup; ++i) {
      const paxos::Index c = pick.Uniform(log.committed + 1);
      SCOPED_TRACE(::testing::Message() << "checkpoint of group " << g << " at entry " << c);
      for (paxos::Index end : {c, log.committed}) {
        for (Question q :
             {Question::kPrepare, Question::kCommit, Question::kInquiry, Question::kAck}) {
          CheckRestoreAt(w, g, c, end, q);
        }
      }
    }
  }
}

TEST(CheckpointReplayTest, RestoredManagerGoesOnLikeOneThatReplayed) {
  uint64_t first = 1;
  uint64_t last = kSeeds;
  if (const char* s = std::getenv("MERIDIAN_CHECKPOINT_SEED"); s != nullptr) {
    first = last = std::strtoull(s, nullptr, 10);
  }
  for (uint64_t seed = first; seed <= last && !HasFailure(); ++seed) CheckSeed(seed);
}

}  // namespace
}  // namespace meridian::txn
