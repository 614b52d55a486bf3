// Range ownership (txn/ownership.h) and the ownership records the transaction manager applies:
// releases that wait for prepared transactions, adoptions, ingests and drops, and their place in
// checkpoints.
#include "txn/ownership.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/txn/fake_replica.h"
#include "tests/unit/txn/harness.h"
#include "txn/records.h"
#include "txn/transaction_manager.h"

namespace meridian::txn {
namespace {

using Verdict = Ownership::Verdict;

TEST(OwnershipTest, UnclaimedKeysAreServedAtTheInitialGenerationOnly) {
  Ownership o;
  EXPECT_EQ(o.Check("k", kInitialRangeGeneration), Verdict::kServed);
  // A map that gives the key to this group at a later generation: the adoption is not applied.
  EXPECT_EQ(o.Check("k", kInitialRangeGeneration + 1), Verdict::kBehind);
}

TEST(OwnershipTest, ClaimsSplitTheClaimsTheyOverlap) {
  Ownership o;
  o.Set("b", Ownership::Claim{"y", 5, true, 10});
  o.Set("m", Ownership::Claim{"p", 7, false, 11});  // a release inside the first claim
  EXPECT_EQ(o.Check("c", 5), Verdict::kServed);
  EXPECT_EQ(o.Check("c", 3), Verdict::kServed);  // the server's map is behind this replica
  EXPECT_EQ(o.Check("c", 6), Verdict::kBehind);
  EXPECT_EQ(o.Check("n", 5), Verdict::kStale);  // released at 7
  EXPECT_EQ(o.Check("n", 7), Verdict::kStale);
  EXPECT_EQ(o.Check("n", 8), Verdict::kBehind);    // a newer map gave it back: not applied yet
  EXPECT_EQ(o.Check("q", 5), Verdict::kServed);    // the first claim's right part survives
  EXPECT_EQ(o.Check("a", 1), Verdict::kServed);    // unclaimed
  EXPECT_EQ(o.Check("z", 5), Verdict::kBehind);    // unclaimed, at the initial generation
  EXPECT_FALSE(o.Covering("c", "q").has_value());  // three claims
  ASSERT_TRUE(o.Covering("m", "p").has_value());
  EXPECT_FALSE(o.Covering("m", "p")->owned);
  ASSERT_TRUE(o.Covering("p", "y").has_value());
  EXPECT_EQ(o.Covering("p", "y")->generation, 5u);
  EXPECT_TRUE(o.Covering("y", "").has_value());  // the default
  EXPECT_FALSE(o.Covering("a", "c").has_value());
  // An unbounded claim swallows everything after its start.
  o.Set("d", Ownership::Claim{"", 9, true, 12});
  EXPECT_EQ(o.Check("n", 9), Verdict::kServed);
  EXPECT_EQ(o.Check("zz", 9), Verdict::kServed);
  EXPECT_EQ(o.Check("c", 5), Verdict::kServed);
  EXPECT_EQ(o.Save().size(), 2u) << o.DebugString();
  EXPECT_EQ(o.MaxGeneration("c", "e"), 9u);
  EXPECT_EQ(o.MaxGeneration("b", "c"), 5u);
  EXPECT_EQ(o.MaxGeneration("a", "c"), 5u);  // [a, b) is unclaimed: 1
  EXPECT_EQ(o.MaxGeneration("", "b"), kInitialRangeGeneration);
  Ownership copy;
  copy.Restore(o.Save());
  EXPECT_EQ(copy.Save(), o.Save());
}

// A follower manager of group 1 over a MapStore, fed records by hand.
class OwnershipRecordsTest : public ::testing::Test {
 protected:
  OwnershipRecordsTest() : port_("r1", &log_, &out_), manager_(1, &store_) {
    port_.SetRole(false, paxos::Ballot{1, 2}, 2);
  }

  ApplyResult::Kind Apply(Record record) {
    paxos::Entry e{++index_, paxos::Ballot{1, 2}, paxos::EntryType::kNormal,
                   EncodeRecord(std::move(record))};
    Actions out;
    absl::StatusOr<ApplyResult> r = manager_.Apply(port_, e, Interval{ts_, ts_ + 2}, &out);
    EXPECT_TRUE(r.ok()) << r.status();
    last_ = r.ok() ? *r : ApplyResult{};
    return last_.kind;
  }
  ApplyResult::Kind Own(OwnershipRecord::Op op, std::vector<RangeClaim> claims,
                        std::vector<Version> versions = {}, Timestamp horizon = 0) {
    return Apply(
        Record{++ts_, OwnershipRecord{op, std::move(claims), std::move(versions), horizon, 100}});
  }

  testing::FakeLog log_;
  std::vector<std::string> out_;
  testing::FakeReplica port_;
  testing::MapStore store_;
  TransactionManager manager_;
  paxos::Index index_ = 0;
  Timestamp ts_ = 100;
  ApplyResult last_;
};

TEST_F(OwnershipRecordsTest, AReleaseWaitsForPreparedTransactionsInItsRange) {
  Apply(Record{++ts_, PrepareRecord{7, 50, 9, {Mutation{"k", "v"}}, {"r"}}});
  EXPECT_EQ(Own(OwnershipRecord::Op::kRelease, {RangeClaim{"j", "l", 2}}),
            ApplyResult::Kind::kRefused);
  EXPECT_EQ(manager_.ownership().Check("k", 1), Verdict::kServed);
  // A prepared read counts too.
  EXPECT_EQ(Own(OwnershipRecord::Op::kRelease, {RangeClaim{"q", "s", 2}}),
            ApplyResult::Kind::kRefused);
  EXPECT_EQ(manager_.BusyIn("a", ""), 1u);
  Apply(Record{++ts_, FinishRecord{7, true, ts_}});
  EXPECT_EQ(manager_.BusyIn("a", ""), 0u);
  EXPECT_EQ(Own(OwnershipRecord::Op::kRelease, {RangeClaim{"j", "l", 2}}),
            ApplyResult::Kind::kOwnership);
  const Timestamp released_at = last_.ts;
  EXPECT_EQ(manager_.ownership().Check("k", 1), Verdict::kStale);
  EXPECT_EQ(manager_.ownership().Check("k", 2), Verdict::kStale);
  EXPECT_EQ(manager_.ownership().Check("k", 3), Verdict::kBehind);
  EXPECT_EQ(manager_.ownership().Check("l", 1), Verdict::kServed);
  // Repeated (a mover's retry): ignored, answering the first release's timestamp.
  EXPECT_EQ(Own(OwnershipRecord::Op::kRelease, {RangeClaim{"j", "l", 2}}),
            ApplyResult::Kind::kIgnored);
  EXPECT_EQ(last_.ts, released_at);
}

TEST_F(OwnershipRecordsTest, IngestAdoptAndDrop) {
  // Copied versions land in the store, but the range is not served until adopted.
  EXPECT_EQ(Own(OwnershipRecord::Op::kIngest, {RangeClaim{"m", "p", 0}},
                {Version{"m1", 5, "a"}, Version{"m1", 9, std::nullopt}, Version{"n", 7, "b"},
                 Version{"z", 7, "outside"}}),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(store_.versions(), 3u);  // the version outside the range is left out
  EXPECT_EQ(*store_.Get("m1", 6), std::optional<std::string>("a"));
  EXPECT_EQ(manager_.ownership().Check("n", 4), Verdict::kBehind);
  EXPECT_EQ(Own(OwnershipRecord::Op::kAdopt, {RangeClaim{"m", "p", 4}}, {}, 40),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(manager_.ownership().Check("n", 4), Verdict::kServed);
  EXPECT_EQ(store_.horizon(), 40);
  // A strong read-only transaction reads at LastTS: it must cover the adopted versions.
  EXPECT_EQ(manager_.LastTs(), last_.ts);
  // A range still served is never dropped.
  EXPECT_EQ(Own(OwnershipRecord::Op::kDrop, {RangeClaim{"m", "p", 4}}),
            ApplyResult::Kind::kRefused);
  EXPECT_EQ(store_.versions(), 3u);
  EXPECT_EQ(Own(OwnershipRecord::Op::kRelease, {RangeClaim{"m", "p", 5}}),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(Own(OwnershipRecord::Op::kDrop, {RangeClaim{"m", "p", 5}}),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(last_.txn, 3u);  // versions erased
  EXPECT_EQ(store_.versions(), 0u);
}

TEST_F(OwnershipRecordsTest, ASplitAdoptsBothHalvesAtTheNewGeneration) {
  EXPECT_EQ(Own(OwnershipRecord::Op::kAdopt, {RangeClaim{"", "m", 3}, RangeClaim{"m", "", 3}}),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(manager_.ownership().Check("a", 1), Verdict::kServed);  // an old map: still ours
  EXPECT_EQ(manager_.ownership().Check("a", 3), Verdict::kServed);
  EXPECT_EQ(manager_.ownership().Check("a", 4), Verdict::kBehind);
  EXPECT_EQ(manager_.ownership().Check("x", 3), Verdict::kServed);
  // An older adoption arriving late changes nothing.
  EXPECT_EQ(Own(OwnershipRecord::Op::kAdopt, {RangeClaim{"", "", 2}}),
            ApplyResult::Kind::kOwnership);
  EXPECT_EQ(manager_.ownership().Check("a", 3), Verdict::kServed);
}

TEST_F(OwnershipRecordsTest, ClaimsAreInTheCheckpoint) {
  Own(OwnershipRecord::Op::kAdopt, {RangeClaim{"", "m", 3}, RangeClaim{"m", "", 3}});
  Own(OwnershipRecord::Op::kRelease, {RangeClaim{"m", "", 4}});
  const std::string image = manager_.Checkpoint();
  testing::MapStore store;
  TransactionManager restored(1, &store);
  ASSERT_TRUE(restored.Restore(image).ok());
  EXPECT_EQ(restored.Checkpoint(), image);
  EXPECT_EQ(restored.ownership().Save(), manager_.ownership().Save());
  EXPECT_EQ(restored.ownership().Check("x", 3), Verdict::kStale);
  EXPECT_EQ(restored.ownership().Check("a", 3), Verdict::kServed);
}

// A range about to be released drains: the leader aborts the transactions holding locks there
// (not the prepared ones, whose fate is their coordinator's), and the others are left alone.
TEST(WoundInTest, AbortsUnpreparedLockHoldersInTheRangeOnly) {
  testing::Harness h;
  h.AddGroup(1, 1, TransactionManagerOptions{});
  h.Lead(1, 1);
  const Timestamp start = h.now();
  auto read = [&](TxnId txn, std::string key) {
    h.Do(1, 0, [&](TransactionManager& m, ReplicaPort& p, Interval now, Actions* out) {
      m.Read(p, now, h.NextRequest(), ReadRequest{TxnRef{txn, start}, {key}}, out);
    });
  };
  read(1, "k");  // inside [j, l)
  read(2, "x");  // outside
  h.Do(1, 0, [&](TransactionManager& m, ReplicaPort& p, Interval now, Actions* out) {
    m.Prepare(p, now, h.NextRequest(),
              PrepareRequest{TxnRef{3, start}, 9, {Mutation{"kk", "v"}}, {}}, out);
  });
  h.Commit(1, 0);  // the prepare record applies: txn 3 is prepared in the range
  EXPECT_EQ(h.manager(1, 1).BusyIn("j", "l"), 3u);  // two lock spans and one prepared txn
  h.Do(1, 0, [&](TransactionManager& m, ReplicaPort& p, Interval now, Actions* out) {
    m.WoundIn(p, now, "j", "l", out);
  });
  const Interval now = h.Now();
  TransactionManager& m = const_cast<TransactionManager&>(h.manager(1, 1));
  EXPECT_EQ(m.Keepalive(1, now).code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(m.Keepalive(2, now).ok());
  EXPECT_TRUE(m.Keepalive(3, now).ok());
  EXPECT_EQ(m.BusyIn("j", "l"), 2u);  // the prepared transaction: its lock and its record
}

}  // namespace
}  // namespace meridian::txn
