// Random-model test. Seed: kSeed (change it to explore; a failure prints the step). Workload: puts
// and tombstones at random timestamps to a small key space in 3 tablets, random point reads and
// bounded scans at random timestamps, GC at a rising horizon, and reopens. Checker: every read at
// or above the tablet's horizon equals a std::map model that never forgets a version (so GC must
// not change what such reads see); every read below it is FAILED_PRECONDITION.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "spanserver/storage/engine.h"
#include "tests/unit/storage/storage_test_util.h"

namespace meridian::storage {
namespace {

using testing::EnvKind;
using testing::StoreLocation;

constexpr uint64_t kSeed = 20240611;
constexpr int kSteps = 20000;
constexpr int kTablets = 3;

// tablet -> key -> ts -> value (nullopt: tombstone).
using Model =
    std::map<uint64_t, std::map<std::string, std::map<Timestamp, std::optional<std::string>>>>;

std::optional<std::string> ModelGet(const Model& model, uint64_t tablet, const std::string& key,
                                    Timestamp ts) {
  auto t = model.find(tablet);
  if (t == model.end()) return std::nullopt;
  auto k = t->second.find(key);
  if (k == t->second.end()) return std::nullopt;
  auto v = k->second.upper_bound(ts);
  if (v == k->second.begin()) return std::nullopt;
  return std::prev(v)->second;
}

std::vector<KeyValue> ModelScan(const Model& model, uint64_t tablet, const std::string& start,
                                const std::string& end, Timestamp ts, size_t limit) {
  std::vector<KeyValue> out;
  auto t = model.find(tablet);
  if (t == model.end()) return out;
  for (auto k = t->second.lower_bound(start); k != t->second.end(); ++k) {
    if (!end.empty() && k->first >= end) break;
    std::optional<std::string> v = ModelGet(model, tablet, k->first, ts);
    if (v.has_value()) out.push_back(KeyValue{k->first, *v});
    if (limit != 0 && out.size() >= limit) break;
  }
  return out;
}

std::string RandomKey(Random& rng) {
  static const std::string kKeys[] = {"",   "a",   std::string("a\0", 2), "ab", "b", "ba", "c",
                                      "zz", "\xff"};
  std::string key = kKeys[rng.Uniform(9)];
  if (rng.Bernoulli(0.3)) key += std::to_string(rng.Uniform(5));
  return key;
}

TEST(MvccModelTest, ReadsMatchAModelThatNeverForgets) {
  SCOPED_TRACE(absl::StrCat("seed ", kSeed));
  Random rng(kSeed);
  StoreLocation location(EnvKind::kMemory);
  std::unique_ptr<Engine> engine = *location.Open();
  Model model;
  std::map<uint64_t, Timestamp> horizon;
  for (uint64_t t = 1; t <= kTablets; ++t) horizon[t] = truetime::kMinTimestamp;
  Timestamp now = 1000;

  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE(absl::StrCat("step ", step));
    const uint64_t tablet = 1 + rng.Uniform(kTablets);
    const uint64_t op = rng.Uniform(100);
    now += static_cast<Timestamp>(rng.Uniform(3));
    // Reads go anywhere from somewhat below the horizon up to a bit past the newest write.
    const Timestamp lowest = std::max<Timestamp>(
        0, horizon[tablet] == truetime::kMinTimestamp ? 0 : horizon[tablet] - 20);
    const Timestamp read_ts = rng.Range(lowest, now + 5);
    if (op < 40) {
      // Writes land above the horizon, at a random recent timestamp (not necessarily in order).
      const Timestamp ts =
          std::max(horizon[tablet] + 1, now - static_cast<Timestamp>(rng.Uniform(50)));
      const std::string key = RandomKey(rng);
      if (rng.Bernoulli(0.25)) {
        ASSERT_TRUE(engine->Delete(tablet, key, ts).ok());
        model[tablet][key][ts] = std::nullopt;
      } else {
        const std::string value = absl::StrCat("v", step);
        ASSERT_TRUE(engine->Put(tablet, key, ts, value).ok());
        model[tablet][key][ts] = value;
      }
    } else if (op < 70) {
      const std::string key = RandomKey(rng);
      absl::StatusOr<std::optional<std::string>> got = engine->Get(tablet, key, read_ts);
      if (read_ts < horizon[tablet]) {
        ASSERT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_EQ(*got, ModelGet(model, tablet, key, read_ts)) << "Get " << key << " @ " << read_ts;
      }
    } else if (op < 95) {
      std::string start = RandomKey(rng);
      std::string end = rng.Bernoulli(0.3) ? "" : RandomKey(rng);
      if (!end.empty() && end < start) std::swap(start, end);
      const size_t limit = rng.Uniform(4);
      absl::StatusOr<std::vector<KeyValue>> got = engine->Scan(tablet, start, end, read_ts, limit);
      if (read_ts < horizon[tablet]) {
        ASSERT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition);
      } else {
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_EQ(*got, ModelScan(model, tablet, start, end, read_ts, limit))
            << "Scan [" << start << ", " << end << ") @ " << read_ts << " limit " << limit;
      }
    } else if (op < 99) {
      const Timestamp h = now - static_cast<Timestamp>(rng.Uniform(100));
      ASSERT_TRUE(engine->CollectGarbage(tablet, h).ok());
      horizon[tablet] = std::max(horizon[tablet], h);
      ASSERT_EQ(engine->GcHorizon(tablet), horizon[tablet]);
    } else {
      engine.reset();
      engine = *location.Open();
    }
  }
}

}  // namespace
}  // namespace meridian::storage
