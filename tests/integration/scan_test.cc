// Range reads in transactions, against a real cluster (transaction.h Transaction::Scan and
// ReadOnlyTransaction): scans across ranges with the transaction's own writes merged in, and
// the guarantee scans exist for — no phantoms. Several clients each insert a row under a prefix
// only while a scan of the prefix finds fewer than a cap, and count their inserts in a counter
// kept in another group (so the commits are two-phase, the scanned range locked at a participant
// or at the coordinator). Without range locks two transactions would both see cap - 1 rows and
// both insert; with them, the table never passes the cap and the counter always equals it.
// Removing the range lock from ReadPath::Read made this test fail (rows past the cap), which is
// what it is for.
#include <atomic>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "tests/integration/cluster_fixture.h"

namespace meridian::integration {
namespace {

using Rows = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> KeysOf(const Rows& rows) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : rows) keys.push_back(key);
  return keys;
}

class ScanTest : public ClusterFixture {};

TEST_F(ScanTest, ScansCrossRangesAndSeeTheTransactionsOwnWrites) {
  StartCluster(24600);
  // Keys in four ranges: first bytes 0x10, 0x50, 0x90 and 0xd0 (8 ranges over the first byte).
  std::vector<std::string> keys;
  for (int b : {0x10, 0x50, 0x90, 0xd0}) {
    for (int i = 0; i < 3; ++i) keys.push_back(KeyWithFirstByte(b, absl::StrCat("k", i)));
  }
  for (const std::string& key : keys) ASSERT_TRUE(client_->Put(key, "v" + key.substr(1)).ok());

  Rows seen;
  absl::StatusOr<int64_t> ts = client_->RunTransaction([&](Transaction& txn) {
    txn.Put(KeyWithFirstByte(0x50, "k1a"), "buffered");  // a new key between two others
    txn.Delete(keys[6]);                                 // hides a row of the third range
    ASSIGN_OR_RETURN(seen, txn.Scan("", "", 100));
    return absl::OkStatus();
  });
  ASSERT_TRUE(ts.ok()) << ts.status();
  std::vector<std::string> expected = keys;
  expected.erase(expected.begin() + 6);
  expected.insert(expected.begin() + 5, KeyWithFirstByte(0x50, "k1a"));
  EXPECT_EQ(KeysOf(seen), expected);

  // A limit cuts the rows; a span inside one range; bad arguments.
  absl::StatusOr<int64_t> limited = client_->RunTransaction([&](Transaction& txn) {
    ASSIGN_OR_RETURN(Rows rows, txn.Scan(keys[1], KeyWithFirstByte(0xd0, "k2"), 4));
    EXPECT_EQ(KeysOf(rows),
              (std::vector<std::string>{keys[1], keys[2], keys[3], KeyWithFirstByte(0x50, "k1")}));
    ASSIGN_OR_RETURN(rows, txn.Scan(keys[9], keys[11], 10));
    EXPECT_EQ(KeysOf(rows), (std::vector<std::string>{keys[9], keys[10]}));
    return absl::OkStatus();
  });
  ASSERT_TRUE(limited.ok()) << limited.status();
  absl::StatusOr<int64_t> bad =
      client_->RunTransaction([&](Transaction& txn) { return txn.Scan("b", "a", 10).status(); });
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();

  // Read-only transactions: now, and at a timestamp before the transaction above committed.
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> now = client_->BeginReadOnly();
  ASSERT_TRUE(now.ok()) << now.status();
  absl::StatusOr<Rows> rows = (*now)->Scan("", "", 100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(KeysOf(*rows), expected);
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> before =
      client_->BeginReadOnly(ReadOnlyOptions::AtTimestamp(*ts - 1));
  ASSERT_TRUE(before.ok()) << before.status();
  rows = (*before)->Scan("", "", 100);
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(KeysOf(*rows), keys);
  absl::StatusOr<std::vector<std::optional<std::string>>> values =
      (*before)->Get({keys[6], KeyWithFirstByte(0x50, "k1a")});
  ASSERT_TRUE(values.ok()) << values.status();
  EXPECT_EQ(*values,
            (std::vector<std::optional<std::string>>{"v" + keys[6].substr(1), std::nullopt}));
}

TEST_F(ScanTest, ConcurrentCappedInsertsNeverPassTheCap) {
  StartCluster(24700);
  constexpr int kCap = 12;
  constexpr int kClients = 6;
  constexpr int kTriesPerClient = 6;
  const std::string prefix = KeyWithFirstByte(0x70, "slot/");
  const std::string prefix_end = KeyWithFirstByte(0x70, "slot0");
  const std::string counter = KeyWithFirstByte(0x20, "count");  // another range, another group
  std::atomic<int> inserted{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kTriesPerClient; ++i) {
        bool did_insert = false;
        absl::StatusOr<int64_t> ts = client_->RunTransaction([&](Transaction& txn) {
          did_insert = false;
          ASSIGN_OR_RETURN(Rows rows, txn.Scan(prefix, prefix_end, 1000));
          if (rows.size() >= kCap) return absl::OkStatus();
          ASSIGN_OR_RETURN(std::optional<std::string> count, txn.Get(counter));
          int64_t n = 0;
          if (count.has_value() && !absl::SimpleAtoi(*count, &n)) {
            return absl::DataLossError("the counter is not a number");
          }
          txn.Put(absl::StrCat(prefix, c, "-", i), "row");
          txn.Put(counter, absl::StrCat(n + 1));
          did_insert = true;
          return absl::OkStatus();
        });
        if (!ts.ok()) {
          ++failed;
        } else if (did_insert) {
          ++inserted;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  absl::StatusOr<std::unique_ptr<ReadOnlyTransaction>> check = client_->BeginReadOnly();
  ASSERT_TRUE(check.ok()) << check.status();
  absl::StatusOr<Rows> rows = (*check)->Scan(prefix, prefix_end, 1000);
  ASSERT_TRUE(rows.ok()) << rows.status();
  absl::StatusOr<std::vector<std::optional<std::string>>> count = (*check)->Get({counter});
  ASSERT_TRUE(count.ok()) << count.status();
  std::printf("%d inserts committed, %zu rows, counter %s\n", inserted.load(), rows->size(),
              (*count)[0].value_or("<none>").c_str());
  EXPECT_EQ(static_cast<int>(rows->size()), kCap);  // 36 tries for 12 slots: all filled, no more
  EXPECT_EQ(inserted.load(), kCap);
  EXPECT_EQ((*count)[0], std::optional<std::string>(absl::StrCat(kCap)));
}

}  // namespace
}  // namespace meridian::integration
