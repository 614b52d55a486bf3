// WriteLanes (client/src/write_lanes.h): when Put/Delete calls go out and which go together.
// Checks: an idle lane sends at once; past max_in_flight writes queue and leave together, oldest
// first, when a batch finishes; batches respect max_items and max_bytes (but always carry one
// write); lanes of different servers are independent; a queued write can be withdrawn, a sent one
// cannot; and a random run never loses, duplicates or reorders a write, nor exceeds the limits.
#include "client/src/write_lanes.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/random.h"
#include "gtest/gtest.h"

namespace meridian::client {
namespace {

using Tickets = std::vector<uint64_t>;

TEST(WriteLanesTest, IdleLaneSendsAtOnceThenQueuesPastTheLimit) {
  WriteLanes lanes({.max_in_flight = 2, .max_items = 10, .max_bytes = 1000});
  std::optional<WriteLanes::Batch> b = lanes.Submit("s1", 1, 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->address, "s1");
  EXPECT_EQ(b->tickets, Tickets({1}));
  b = lanes.Submit("s1", 2, 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->tickets, Tickets({2}));
  EXPECT_EQ(lanes.in_flight("s1"), 2);
  // The lane is full: the next writes wait, and leave together when one batch finishes.
  EXPECT_FALSE(lanes.Submit("s1", 3, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s1", 4, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s1", 5, 10).has_value());
  EXPECT_EQ(lanes.queued("s1"), 3u);
  b = lanes.Finished("s1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->tickets, Tickets({3, 4, 5}));
  EXPECT_EQ(lanes.in_flight("s1"), 2);
  EXPECT_EQ(lanes.queued("s1"), 0u);
  // Nothing waits: finishing frees a slot and the next write goes alone.
  EXPECT_FALSE(lanes.Finished("s1").has_value());
  EXPECT_EQ(lanes.in_flight("s1"), 1);
  b = lanes.Submit("s1", 6, 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->tickets, Tickets({6}));
}

TEST(WriteLanesTest, LanesOfDifferentServersAreIndependent) {
  WriteLanes lanes({.max_in_flight = 1, .max_items = 10, .max_bytes = 1000});
  ASSERT_TRUE(lanes.Submit("s1", 1, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s1", 2, 10).has_value());
  std::optional<WriteLanes::Batch> b = lanes.Submit("s2", 3, 10);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->address, "s2");
  EXPECT_FALSE(lanes.Finished("s2").has_value());
  b = lanes.Finished("s1");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->address, "s1");
  EXPECT_EQ(b->tickets, Tickets({2}));
}

TEST(WriteLanesTest, BatchesRespectItemAndByteLimitsButAlwaysCarryOneWrite) {
  WriteLanes lanes({.max_in_flight = 1, .max_items = 3, .max_bytes = 100});
  ASSERT_TRUE(lanes.Submit("s", 1, 10).has_value());
  for (uint64_t t = 2; t <= 6; ++t) EXPECT_FALSE(lanes.Submit("s", t, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s", 7, 500).has_value());  // larger than max_bytes alone
  EXPECT_FALSE(lanes.Submit("s", 8, 60).has_value());
  EXPECT_FALSE(lanes.Submit("s", 9, 60).has_value());
  std::vector<Tickets> sent;
  while (std::optional<WriteLanes::Batch> b = lanes.Finished("s")) sent.push_back(b->tickets);
  EXPECT_EQ(sent, std::vector<Tickets>({{2, 3, 4}, {5, 6}, {7}, {8}, {9}}));
  EXPECT_EQ(lanes.in_flight("s"), 0);
}

TEST(WriteLanesTest, OnlyAQueuedWriteCanBeWithdrawn) {
  WriteLanes lanes({.max_in_flight = 1, .max_items = 10, .max_bytes = 1000});
  ASSERT_TRUE(lanes.Submit("s", 1, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s", 2, 10).has_value());
  EXPECT_FALSE(lanes.Submit("s", 3, 10).has_value());
  EXPECT_FALSE(lanes.Withdraw("s", 1));  // in flight
  EXPECT_TRUE(lanes.Withdraw("s", 2));
  EXPECT_FALSE(lanes.Withdraw("s", 2));
  EXPECT_FALSE(lanes.Withdraw("other", 3));
  std::optional<WriteLanes::Batch> b = lanes.Finished("s");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->tickets, Tickets({3}));
}

// Random submits, finishes and withdrawals over three servers: every write not withdrawn is sent
// exactly once, each lane sends in submission order, and no lane exceeds its limits.
TEST(WriteLanesTest, RandomRunsLoseNothingAndKeepOrderAndLimits) {
  const WriteLanes::Options options{.max_in_flight = 2, .max_items = 4, .max_bytes = 64};
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    Random random(seed);
    WriteLanes lanes(options);
    const std::vector<std::string> servers = {"a", "b", "c"};
    std::map<std::string, Tickets> submitted, sent;
    std::map<std::string, std::vector<size_t>> flights;  // sizes of batches in flight
    std::set<uint64_t> withdrawn;
    uint64_t next = 1;
    auto take = [&](const std::optional<WriteLanes::Batch>& b) {
      if (!b.has_value()) return;
      ASSERT_FALSE(b->tickets.empty());
      ASSERT_LE(b->tickets.size(), options.max_items);
      for (uint64_t t : b->tickets) sent[b->address].push_back(t);
      flights[b->address].push_back(b->tickets.size());
      ASSERT_LE(flights[b->address].size(), static_cast<size_t>(options.max_in_flight));
    };
    for (int step = 0; step < 400; ++step) {
      const std::string& s = servers[random.Uniform(servers.size())];
      const uint64_t action = random.Uniform(10);
      if (action < 6) {
        submitted[s].push_back(next);
        take(lanes.Submit(s, next++, 8 + random.Uniform(40)));
      } else if (action < 9) {
        if (flights[s].empty()) continue;
        flights[s].erase(flights[s].begin());
        take(lanes.Finished(s));
      } else if (!submitted[s].empty()) {
        const uint64_t t = submitted[s][random.Uniform(submitted[s].size())];
        if (lanes.Withdraw(s, t)) withdrawn.insert(t);
      }
      ASSERT_EQ(lanes.in_flight(s), static_cast<int>(flights[s].size())) << "seed " << seed;
    }
    for (const std::string& s : servers) {  // drain
      while (!flights[s].empty()) {
        flights[s].erase(flights[s].begin());
        take(lanes.Finished(s));
      }
      Tickets expected;
      for (uint64_t t : submitted[s]) {
        if (!withdrawn.contains(t)) expected.push_back(t);
      }
      EXPECT_EQ(sent[s], expected) << "seed " << seed << " server " << s;
      EXPECT_EQ(lanes.queued(s), 0u);
    }
  }
}

}  // namespace
}  // namespace meridian::client
