// Random strictly serializable histories must pass the list-append checker; each planted
// mutation must make it fail. Seeds: 1..kSeeds, stated in every failure. Workload and faults:
// test_histories.h (list-append, random fail/info outcomes). Also a timing print for 50k txns.
#include <chrono>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "common/random.h"
#include "gtest/gtest.h"
#include "tests/unit/history/test_histories.h"
#include "tools/history/append_checker.h"

namespace meridian::history {
namespace {

using ::meridian::history::testing::RandomConcurrentHistory;
using ::meridian::history::testing::RandomOptions;
using ::meridian::history::testing::RandomSerialHistory;

constexpr uint64_t kSeeds = 40;

CheckResult Check(const History& history) {
  absl::StatusOr<CheckResult> result = CheckAppendHistory(history);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : CheckResult{};
}

// Who appended each (key, value): the index of the writer's completion event, or -1 if it never
// completed.
std::map<std::pair<std::string, int64_t>, int64_t> Writers(const History& history) {
  std::map<int64_t, int64_t> invoke_of_process;
  std::map<int64_t, int64_t> completion_of_invoke;
  for (const Event& e : history) {
    if (e.type == EventType::kInvoke) {
      invoke_of_process[e.process] = e.index;
    } else {
      completion_of_invoke[invoke_of_process[e.process]] = e.index;
    }
  }
  std::map<std::pair<std::string, int64_t>, int64_t> writers;
  for (const Event& e : history) {
    if (e.type != EventType::kInvoke) continue;
    const auto done = completion_of_invoke.find(e.index);
    for (const Op& op : e.txn) {
      if (op.kind == OpKind::kAppend) {
        writers[{op.key, op.value}] = done == completion_of_invoke.end() ? -1 : done->second;
      }
    }
  }
  return writers;
}

// A read to mutate: event, op and position in the list.
struct Site {
  size_t event;
  size_t op;
  size_t position;
};

TEST(AppendCheckerRandomTest, SerialHistoriesPass) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    const CheckResult result = Check(RandomSerialHistory(seed, RandomOptions{}));
    EXPECT_TRUE(result.ok) << "seed " << seed << "\n" << result.report;
    EXPECT_GT(result.txns_ok, 0) << "seed " << seed;
  }
}

TEST(AppendCheckerRandomTest, ConcurrentHistoriesPass) {
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    RandomOptions options;
    options.processes = 2 + static_cast<int>(seed % 7);
    options.final_read = seed % 2 == 0;
    const CheckResult result = Check(RandomConcurrentHistory(seed, options));
    EXPECT_TRUE(result.ok) << "seed " << seed << "\n" << result.report;
  }
}

// Swapping two adjacent elements written by different committed transactions, one of which
// completed before the other was invoked, contradicts real time or another read.
TEST(AppendCheckerRandomTest, SwappedElementsAreCaught) {
  int mutated = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    History history = RandomSerialHistory(seed, RandomOptions{});
    const auto writers = Writers(history);
    auto committed = [&](const std::string& key, int64_t value, size_t reader) {
      const int64_t w = writers.at({key, value});
      return w >= 0 && history[w].type == EventType::kOk && static_cast<size_t>(w) != reader;
    };
    std::vector<Site> sites;
    for (size_t e = 0; e < history.size(); ++e) {
      if (history[e].type != EventType::kOk) continue;
      for (size_t o = 0; o < history[e].txn.size(); ++o) {
        const Op& op = history[e].txn[o];
        if (op.kind != OpKind::kRead) continue;
        for (size_t i = 0; i + 1 < op.read->size(); ++i) {
          const int64_t a = (*op.read)[i];
          const int64_t b = (*op.read)[i + 1];
          if (committed(op.key, a, e) && committed(op.key, b, e) &&
              writers.at({op.key, a}) != writers.at({op.key, b})) {
            sites.push_back(Site{e, o, i});
          }
        }
      }
    }
    if (sites.empty()) continue;
    Random random(seed);
    const Site site = sites[random.Uniform(sites.size())];
    std::vector<int64_t>& list = *history[site.event].txn[site.op].read;
    std::swap(list[site.position], list[site.position + 1]);
    const CheckResult result = Check(history);
    EXPECT_FALSE(result.ok) << "seed " << seed << ": swap at event " << site.event << "\n"
                            << result.report;
    ++mutated;
  }
  EXPECT_GE(mutated, static_cast<int>(kSeeds) / 2);
}

// A read that misses the last element it saw, appended by a transaction that completed before
// the reader was invoked, is a stale read; the final read still shows the element.
TEST(AppendCheckerRandomTest, StaleReadsAreCaught) {
  int mutated = 0;
  int realtime = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    History history = RandomSerialHistory(seed, RandomOptions{});
    const auto writers = Writers(history);
    std::vector<Site> sites;
    for (size_t e = 0; e + 1 < history.size(); ++e) {  // not the final read
      if (history[e].type != EventType::kOk) continue;
      for (size_t o = 0; o < history[e].txn.size(); ++o) {
        const Op& op = history[e].txn[o];
        if (op.kind != OpKind::kRead || op.read->empty()) continue;
        const int64_t w = writers.at({op.key, op.read->back()});
        if (w >= 0 && static_cast<size_t>(w) != e && history[w].type == EventType::kOk) {
          sites.push_back(Site{e, o, op.read->size() - 1});
        }
      }
    }
    if (sites.empty()) continue;
    Random random(seed);
    const Site site = sites[random.Uniform(sites.size())];
    history[site.event].txn[site.op].read->pop_back();
    const CheckResult result = Check(history);
    EXPECT_FALSE(result.ok) << "seed " << seed << ": stale read at event " << site.event << "\n"
                            << result.report;
    realtime += result.anomaly_counts.contains(kGSingleRealtime);
    ++mutated;
  }
  EXPECT_GE(mutated, static_cast<int>(kSeeds) / 2);
  EXPECT_GT(realtime, 0);
}

// Turning an observed committed transaction into a failed one plants an aborted read.
TEST(AppendCheckerRandomTest, ReadsOfFailedTransactionsAreCaught) {
  int mutated = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    History history = RandomSerialHistory(seed, RandomOptions{});
    const auto writers = Writers(history);
    std::vector<size_t> observed;  // completion events of ok writers that another ok txn read
    for (size_t e = 0; e < history.size(); ++e) {
      if (history[e].type != EventType::kOk) continue;
      for (const Op& op : history[e].txn) {
        if (op.kind != OpKind::kRead) continue;
        for (const int64_t v : *op.read) {
          const int64_t w = writers.at({op.key, v});
          if (w >= 0 && static_cast<size_t>(w) != e && history[w].type == EventType::kOk) {
            observed.push_back(w);
          }
        }
      }
    }
    if (observed.empty()) continue;
    Random random(seed);
    Event& victim = history[observed[random.Uniform(observed.size())]];
    victim.type = EventType::kFail;
    victim.commit_ts.reset();
    for (Op& op : victim.txn) op.read.reset();
    const CheckResult result = Check(history);
    EXPECT_TRUE(result.anomaly_counts.contains(kG1a)) << "seed " << seed << "\n" << result.report;
    ++mutated;
  }
  EXPECT_GE(mutated, static_cast<int>(kSeeds) / 2);
}

// A big history with many planted stale reads: every one is a real-time violation, and the
// cycle searches stay bounded. Prints the time; asserts only the verdict.
TEST(AppendCheckerRandomTest, ManyAnomaliesInABigHistory) {
  RandomOptions options;
  options.txns = 20'000;
  options.keys = 10;
  options.appends_per_key = 50;
  History history = RandomSerialHistory(11, options);
  const auto writers = Writers(history);
  Random random(11);
  int planted = 0;
  for (size_t e = 0; e + 1 < history.size() && planted < 2'000; ++e) {
    if (history[e].type != EventType::kOk || !random.Bernoulli(0.3)) continue;
    for (Op& op : history[e].txn) {
      if (op.kind != OpKind::kRead || op.read->empty()) continue;
      const int64_t w = writers.at({op.key, op.read->back()});
      if (w < 0 || static_cast<size_t>(w) == e || history[w].type != EventType::kOk) continue;
      op.read->pop_back();
      ++planted;
      break;
    }
  }
  // A wall-clock measurement for the log only; nothing depends on it.
  const auto start = std::chrono::steady_clock::now();
  const CheckResult result = Check(history);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_FALSE(result.ok);
  std::printf("%d stale reads planted: check %.3f s\n  %s\n", planted, seconds,
              result.summary.c_str());
}

// Prints how long 50k-transaction histories take; asserts only that they pass.
TEST(AppendCheckerRandomTest, FiftyThousandTransactionsCheckQuickly) {
  RandomOptions options;
  options.txns = 50'000;
  options.keys = 10;
  options.appends_per_key = 50;
  options.fail_rate = 0.05;
  options.info_rate = 0.05;
  for (const bool concurrent : {false, true}) {
    options.processes = concurrent ? 10 : 5;
    const History history =
        concurrent ? RandomConcurrentHistory(7, options) : RandomSerialHistory(7, options);
    std::string text;
    for (const Event& event : history) text += EventToJson(event) + "\n";
    // A wall-clock measurement for the log only; nothing depends on it.
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<History> parsed = ParseHistory(text);
    const auto parsed_at = std::chrono::steady_clock::now();
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    const CheckResult result = Check(*parsed);
    const auto checked_at = std::chrono::steady_clock::now();
    EXPECT_TRUE(result.ok) << result.summary;
    std::printf("%s history, %zu events (%zu bytes): parse %.3f s, check %.3f s\n  %s\n",
                concurrent ? "concurrent" : "serial", history.size(), text.size(),
                std::chrono::duration<double>(parsed_at - start).count(),
                std::chrono::duration<double>(checked_at - parsed_at).count(),
                result.summary.c_str());
  }
}

}  // namespace
}  // namespace meridian::history
