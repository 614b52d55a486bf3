// PaxosLog: the index against a model, segments and their removal, reads from disk, recovery
// after power cuts (FaultInjectionEnv over LevelDB's in-memory env), and damage it must refuse.
//
// The power-cut checker: after a cut, the recovered log must equal the model after every record
// of every synced Write and some prefix of the records written after the last one. It is shown
// to catch a planted bug (a log that acknowledges sync without syncing).
#include "spanserver/storage/paxos_log.h"

#include <gtest/gtest.h>
#include <leveldb/env.h>
#include <leveldb/helpers/memenv.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/random.h"
#include "tests/unit/storage/fault_injection_env.h"

namespace meridian::storage {
namespace {

using testing::FaultInjectionEnv;

constexpr char kDir[] = "/paxos_log";

// What the log should hold.
struct Model {
  struct G {
    std::optional<std::string> hard_state;
    uint64_t compacted = 0;
    std::map<uint64_t, std::string> slots;
    bool operator==(const G&) const = default;
  };
  std::map<uint64_t, G> groups;

  void Apply(const PaxosLogBatch::Record& r) {
    G& g = groups[r.group];
    switch (r.type) {
      case PaxosLogBatch::Type::kHardState:
        g.hard_state = *r.data;
        break;
      case PaxosLogBatch::Type::kEntry:
        if (r.index > g.compacted) g.slots[r.index] = *r.data;
        break;
      case PaxosLogBatch::Type::kCompact:
        if (r.index > g.compacted) {
          g.compacted = r.index;
          g.slots.erase(g.slots.begin(), g.slots.upper_bound(r.index));
        }
        break;
      case PaxosLogBatch::Type::kHeader:
        break;
    }
  }
};

// The log's contents as a Model (groups with nothing are left out of both).
Model Snapshot(const PaxosLog& log) {
  Model m;
  for (const uint64_t id : log.Groups()) {
    Model::G& g = m.groups[id];
    g.hard_state = log.HardState(id);
    g.compacted = log.Compacted(id);
    absl::StatusOr<std::vector<LogEntry>> entries = log.Read(id, 0, UINT64_MAX, SIZE_MAX);
    EXPECT_TRUE(entries.ok()) << entries.status();
    if (!entries.ok()) continue;
    for (LogEntry& e : *entries) g.slots[e.index] = std::move(e.data);
  }
  return m;
}

Model Trimmed(Model m) {
  for (auto it = m.groups.begin(); it != m.groups.end();) {
    const Model::G& g = it->second;
    it = (!g.hard_state && g.compacted == 0 && g.slots.empty()) ? m.groups.erase(it) : ++it;
  }
  return m;
}

class PaxosLogTest : public ::testing::Test {
 protected:
  PaxosLogTest() { Reset(); }

  // A new, empty file system.
  void Reset() {
    env_.reset();
    mem_.reset(leveldb::NewMemEnv(leveldb::Env::Default()));
    env_ = std::make_unique<FaultInjectionEnv>(mem_.get());
    next_.clear();
  }

 public:
  PaxosLogBatch RandomBatchFor(Random& rnd) { return RandomBatch(rnd, 4); }

 protected:
  PaxosLogOptions Options() {
    PaxosLogOptions o;
    o.env = env_.get();
    o.segment_bytes = 16 << 10;
    o.max_segments = 4;
    o.cache_bytes_per_group = 4 << 10;
    return o;
  }

  std::unique_ptr<PaxosLog> OpenLog(PaxosLogOptions options) {
    absl::StatusOr<std::unique_ptr<PaxosLog>> log = PaxosLog::Open(kDir, options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  // A random batch over `groups` groups: entries (new and overwritten), hard states, and now
  // and then a compaction.
  PaxosLogBatch RandomBatch(Random& rnd, int groups) {
    PaxosLogBatch b;
    const int n = 1 + static_cast<int>(rnd.Uniform(6));
    for (int i = 0; i < n; ++i) {
      const uint64_t g = 1 + rnd.Uniform(groups);
      uint64_t& next = next_[g];
      const uint64_t kind = rnd.Uniform(20);
      if (kind < 12) {
        ++next;
        b.PutEntry(g, next, std::string(1 + rnd.Uniform(700), static_cast<char>('a' + next % 26)));
      } else if (kind < 15 && next > 0) {
        b.PutEntry(g, next - rnd.Uniform(std::min<uint64_t>(next, 3)),
                   absl::StrCat("overwrite-", rnd.Next()));
      } else if (kind < 19) {
        b.SaveHardState(g, absl::StrCat("hs-", g, "-", rnd.Next()));
      } else if (next > 4) {
        b.Compact(g, next - 1 - rnd.Uniform(3));
      }
    }
    return b;
  }

  std::unique_ptr<leveldb::Env> mem_;
  std::unique_ptr<FaultInjectionEnv> env_;
  std::map<uint64_t, uint64_t> next_;  // last index put per group
};

TEST_F(PaxosLogTest, KeepsWhatWasWrittenAcrossReopensSegmentsAndEvictions) {
  Random rnd(7);
  Model model;
  auto log = OpenLog(Options());
  for (int w = 0; w < 600; ++w) {
    PaxosLogBatch b = RandomBatch(rnd, 5);
    for (const auto& r : b.records()) model.Apply(r);
    ASSERT_TRUE(log->Write(b, /*sync=*/rnd.Bernoulli(0.5)).ok());
    if (w % 150 == 75) {
      EXPECT_EQ(Snapshot(*log).groups, Trimmed(model).groups) << "before reopen " << w;
      log.reset();
      log = OpenLog(Options());
      ASSERT_NE(log, nullptr);
    }
    ASSERT_EQ(Snapshot(*log).groups, Trimmed(model).groups) << "after write " << w;
  }
  const PaxosLog::Stats stats = log->stats();
  EXPECT_GT(stats.segments_removed, 0u);
  EXPECT_GT(stats.disk_reads, 0u);  // 4 KiB of cache per group: older entries come from disk
  EXPECT_LE(stats.segments, Options().max_segments + 2);
}

// A group that stops compacting would keep every later segment; its live slots are copied
// forward instead, and the log stays bounded.
TEST_F(PaxosLogTest, AGroupThatStopsCompactingDoesNotKeepTheLogGrowing) {
  auto log = OpenLog(Options());
  PaxosLogBatch idle;
  for (uint64_t i = 1; i <= 5; ++i) idle.PutEntry(9, i, absl::StrCat("idle-", i));
  idle.SaveHardState(9, "idle-hard-state");
  ASSERT_TRUE(log->Write(idle, true).ok());
  for (uint64_t i = 1; i <= 2000; ++i) {
    PaxosLogBatch b;
    b.PutEntry(1, i, std::string(300, 'x'));
    if (i > 10) b.Compact(1, i - 10);
    ASSERT_TRUE(log->Write(b, true).ok());
  }
  const PaxosLog::Stats stats = log->stats();
  EXPECT_LE(stats.segments, Options().max_segments + 1);
  EXPECT_GT(stats.relocated_entries, 0u);
  log.reset();
  log = OpenLog(Options());
  ASSERT_NE(log, nullptr);
  absl::StatusOr<std::vector<LogEntry>> entries = log->Read(9, 0, 100, SIZE_MAX);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 5u);
  EXPECT_EQ((*entries)[4].data, "idle-5");
  EXPECT_EQ(log->HardState(9), "idle-hard-state");
  EXPECT_EQ(log->LastIndex(1), 2000u);
  EXPECT_EQ(log->Compacted(1), 1990u);
}

// Returns what is wrong with `recovered`, given every record written and how many of them the
// last synced Write covered.
std::string CheckRecovered(const Model& recovered,
                           const std::vector<PaxosLogBatch::Record>& records, size_t synced) {
  Model m;
  for (size_t i = 0; i < synced; ++i) m.Apply(records[i]);
  for (size_t k = synced;; ++k) {
    if (Trimmed(m).groups == recovered.groups) return "";
    if (k == records.size()) break;
    m.Apply(records[k]);
  }
  return absl::StrCat("the recovered log is not the state after the ", synced,
                      " synced records plus any prefix of the ", records.size() - synced,
                      " after them");
}

// Runs writes with power cuts; returns the first problem found, or "".
std::string RunPowerCuts(PaxosLogTest* t, FaultInjectionEnv& env, PaxosLogOptions options,
                         uint64_t seed, bool torn) {
  Random rnd(seed);
  std::vector<PaxosLogBatch::Record> records;
  size_t synced = 0;
  for (int cut = 0; cut < 6; ++cut) {
    absl::StatusOr<std::unique_ptr<PaxosLog>> log = PaxosLog::Open(kDir, options);
    if (!log.ok()) return "reopen failed: " + log.status().ToString();
    Model recovered = Snapshot(**log);
    if (std::string why = CheckRecovered(recovered, records, synced); !why.empty()) {
      return absl::StrCat("seed ", seed, " cut ", cut, ": ", why);
    }
    // What survived is the new baseline.
    records.clear();
    for (const auto& [id, g] : recovered.groups) {
      PaxosLogBatch b;
      if (g.hard_state) b.SaveHardState(id, *g.hard_state);
      if (g.compacted) b.Compact(id, g.compacted);
      for (const auto& [i, d] : g.slots) b.PutEntry(id, i, d);
      for (const auto& r : b.records()) records.push_back(r);
    }
    synced = records.size();
    const int writes = 20 + static_cast<int>(rnd.Uniform(60));
    for (int w = 0; w < writes; ++w) {
      PaxosLogBatch b = t->RandomBatchFor(rnd);
      const bool sync = rnd.Bernoulli(1.0 / 3);
      for (const auto& r : b.records()) records.push_back(r);
      if (!(*log)->Write(b, sync).ok()) return "write failed";
      if (sync) synced = records.size();
    }
    env.SetFilesystemActive(false);
    log->reset();
    Random tear(seed * 100 + cut);
    if (!env.PowerCut(torn ? &tear : nullptr).ok()) return "power cut failed";
  }
  return "";
}

TEST_F(PaxosLogTest, PowerCutsLoseNothingSyncedAndKeepAPrefixOfTheRest) {
  for (const bool torn : {false, true}) {
    for (uint64_t seed = 1; seed <= 8; ++seed) {
      Reset();
      EXPECT_EQ(RunPowerCuts(this, *env_, Options(), seed, torn), "")
          << (torn ? "torn tails" : "clean cuts");
    }
  }
}

TEST_F(PaxosLogTest, ThePowerCutCheckerCatchesALogThatDoesNotSync) {
  PaxosLogOptions options = Options();
  options.testing_ignore_sync = true;
  int caught = 0;
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    Reset();
    options.env = env_.get();
    const std::string why = RunPowerCuts(this, *env_, options, seed, /*torn=*/false);
    EXPECT_EQ(why.find("failed"), std::string::npos) << why;
    if (!why.empty()) ++caught;
  }
  EXPECT_GT(caught, 0);
}

TEST_F(PaxosLogTest, AnEarlierSegmentThatLostRecordsIsDataLoss) {
  auto log = OpenLog(Options());
  for (uint64_t i = 1; i <= 200; ++i) {
    PaxosLogBatch b;
    b.PutEntry(1, i, std::string(400, 'y'));
    ASSERT_TRUE(log->Write(b, true).ok());
  }
  ASSERT_GE(log->stats().segments, 3u);
  log.reset();
  // Cut the first segment short, as a disk that lost part of a file would.
  std::vector<std::string> children;
  ASSERT_TRUE(mem_->GetChildren(kDir, &children).ok());
  std::sort(children.begin(), children.end());
  std::string first;
  for (const std::string& c : children) {
    if (c.ends_with(".log")) {
      first = absl::StrCat(kDir, "/", c);
      break;
    }
  }
  std::string bytes;
  ASSERT_TRUE(leveldb::ReadFileToString(mem_.get(), first, &bytes).ok());
  ASSERT_TRUE(
      leveldb::WriteStringToFile(mem_.get(), bytes.substr(0, bytes.size() - 1000), first).ok());
  absl::StatusOr<std::unique_ptr<PaxosLog>> reopened = PaxosLog::Open(kDir, Options());
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), absl::StatusCode::kDataLoss) << reopened.status();
}

TEST_F(PaxosLogTest, AFailedSyncFailsEveryLaterWrite) {
  auto log = OpenLog(Options());
  PaxosLogBatch b;
  b.PutEntry(1, 1, "x");
  env_->FailWrites(leveldb::Status::IOError("No space left on device"));
  EXPECT_FALSE(log->Write(b, true).ok());
  env_->FailWrites(leveldb::Status::OK());
  absl::Status again = log->Write(b, true);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.message().find("No space"), std::string_view::npos) << again;
}

}  // namespace
}  // namespace meridian::storage
