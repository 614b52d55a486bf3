// `meridian storage-demo`: TrueTime and MVCC storage, step by step, on one real LevelDB in a
// scratch directory. It also checks every value it reads, so a wrong answer fails the demo (exit
// 1).
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/check.h"
#include "common/status_macros.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/group_commit_writer.h"
#include "spanserver/storage/write_batch.h"
#include "tools/command.h"
#include "truetime/clock_source_factory.h"
#include "truetime/truetime.h"

namespace meridian::tools {
namespace {

using storage::Engine;
using storage::GroupCommitWriter;
using storage::WriteBatch;
using truetime::Interval;
using truetime::Timestamp;
using truetime::TrueTime;

constexpr uint64_t kTablet = 1;
constexpr char kKey[] = "greeting";
constexpr char kNone[] = "(nothing)";

double MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

struct CommitResult {
  Timestamp ts = 0;
  int64_t epsilon_us = 0;
  double wait_ms = 0;   // from choosing s until TT.after(s)
  double write_ms = 0;  // the synced write, overlapped with the wait
};

// A write of a transaction: a value, or nullopt for a delete.
using Write = std::pair<std::string, std::optional<std::string>>;

std::string ShowWrite(const Write& write) {
  return write.second.has_value() ? absl::StrCat(write.first, "=\"", *write.second, "\"")
                                  : absl::StrCat("delete ", write.first);
}

// Commits `writes` the Spanner way: s = TT.now().latest, the versions at s are written synced
// while commit wait runs, and the commit is over once both are done.
absl::StatusOr<CommitResult> Commit(TrueTime& tt, GroupCommitWriter& writer, Timestamp previous,
                                    const std::vector<Write>& writes) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(const Interval now, tt.Now());
  CommitResult result{.ts = now.latest, .epsilon_us = now.epsilon_us()};
  // The previous commit waited until TT.after(previous), and TT.now() never goes backwards.
  CHECK(result.ts > previous);
  WriteBatch batch;
  for (const auto& [key, value] : writes) {
    if (value.has_value()) {
      batch.Put(kTablet, key, result.ts, *value);
    } else {
      batch.Delete(kTablet, key, result.ts);
    }
  }
  absl::Notification written;
  absl::Status write_status;
  RETURN_IF_ERROR(writer.Submit(std::move(batch), /*sync=*/true, [&](absl::Status status) {
    write_status = std::move(status);
    result.write_ms = MillisSince(start);
    written.Notify();
  }));
  const absl::Status wait_status = tt.WaitUntilAfter(result.ts).status();
  result.wait_ms = MillisSince(start);
  written.WaitForNotification();  // `result` and `write_status` are shared with the callback
  RETURN_IF_ERROR(wait_status);
  RETURN_IF_ERROR_CTX(write_status, "synced write");
  return result;
}

// The value of kKey at `ts`, quoted, or kNone; INTERNAL if that is not `want`.
absl::StatusOr<std::string> Read(const Engine& engine, Timestamp ts, const std::string& want) {
  ASSIGN_OR_RETURN(const std::optional<std::string> value, engine.Get(kTablet, kKey, ts));
  const std::string shown = value.has_value() ? absl::StrCat("\"", *value, "\"") : kNone;
  if (shown != want) {
    return absl::InternalError(
        absl::StrCat("read of ", kKey, " at ", ts, " returned ", shown, ", expected ", want));
  }
  return shown;
}

// Prints a numbered step's title and its explanation (which starts and ends with a newline).
void Section(const char* title, const char* text) { std::printf("\n%s%s", title, text); }

absl::Status RunDemo(const std::string& dir, truetime::ClockSourceKind kind, int64_t epsilon_us) {
  ASSIGN_OR_RETURN(std::unique_ptr<truetime::ClockSource> source,
                   truetime::MakeClockSource(kind, {.fixed_epsilon_us = epsilon_us}));
  TrueTime tt(std::move(source), {.max_epsilon_us = std::max<int64_t>(10'000, epsilon_us)});
  ASSIGN_OR_RETURN_CTX(std::unique_ptr<Engine> engine, Engine::Open(dir), "opening " + dir);
  GroupCommitWriter writer(engine.get());

  ASSIGN_OR_RETURN(const Interval now, tt.Now());
  Section("1. TrueTime", R"(
   TT.now() returns an interval [earliest, latest] guaranteed to contain the true
   time; epsilon (ε) is half its width: how unsure this machine is of the time.
)");
  std::printf("     %-16s %s\n", "clock source", tt.source().Describe().c_str());
  std::printf("     %-16s [%ld, %ld] (microseconds since the Unix epoch)\n", "TT.now()",
              now.earliest, now.latest);
  std::printf("     %-16s %ld us\n", "epsilon", now.epsilon_us());

  Section("2. Commits with commit wait", R"(
   Each transaction takes s = TT.now().latest as its commit timestamp and writes its
   versions at s, synced to disk by the group-commit writer. Meanwhile it waits until
   TT.after(s) holds, at least 2ε: commit wait. It is acknowledged only when both are
   done, so any transaction that starts later gets a larger timestamp: timestamp order
   is real-time order (external consistency).
)");
  const char* const row = "     %-4s %-23s %-10s %-13s %-14s %s\n";
  std::printf(row, "txn", "commit timestamp s", "epsilon", "commit wait", "synced write", "writes");
  const std::vector<std::vector<Write>> txns = {{{kKey, "hello v1"}, {"apple", "red"}},
                                                {{kKey, "hello v2"}, {"banana", "yellow"}},
                                                {{kKey, "hello v3"}, {"cherry", "dark red"}},
                                                {{kKey, std::nullopt}}};
  std::vector<Timestamp> t;  // t[i] is the commit timestamp of T(i+1)
  double total_wait_ms = 0;
  for (const std::vector<Write>& writes : txns) {
    ASSIGN_OR_RETURN(const CommitResult c,
                     Commit(tt, writer, t.empty() ? truetime::kMinTimestamp : t.back(), writes));
    t.push_back(c.ts);
    total_wait_ms += c.wait_ms;
    std::printf(
        row, absl::StrCat("T", t.size()).c_str(), absl::StrCat(c.ts, " = t", t.size()).c_str(),
        absl::StrCat(c.epsilon_us, " us").c_str(), absl::StrFormat("%.3f ms", c.wait_ms).c_str(),
        absl::StrFormat("%.3f ms", c.write_ms).c_str(),
        absl::StrJoin(writes, " ", [](std::string* out, const Write& w) {
          out->append(ShowWrite(w));
        }).c_str());
  }

  Section("3. Reads at a timestamp (MVCC)", R"(
   Every write adds a version; a read at timestamp t sees the newest version at or
   below t. Reading at an older t is a snapshot read: the database exactly as it was
   at t, without locks, while newer versions keep arriving.
)");
  ASSIGN_OR_RETURN(const Interval later, tt.Now());
  const std::vector<std::tuple<std::string, Timestamp, std::string, std::string>> reads = {
      {"t3", t[2], "\"hello v3\"", "the newest version before the delete"},
      {"t2", t[1], "\"hello v2\"", "snapshot read: an older version"},
      {"t1", t[0], "\"hello v1\"", "snapshot read: the first version"},
      {"t1 - 1us", t[0] - 1, kNone, "before the first write"},
      {"t4", t[3], kNone, "T4 wrote a tombstone version"},
      {"TT.now().latest", later.latest, kNone, "still deleted now"}};
  const char* const read_row = "     %-28s %-14s %s\n";
  std::printf(read_row, absl::StrCat("read ", kKey, " at").c_str(), "sees", "why");
  for (const auto& [at, ts, want, why] : reads) {
    ASSIGN_OR_RETURN(const std::string shown, Read(*engine, ts, want));
    std::printf(read_row, at.c_str(), shown.c_str(), why.c_str());
  }

  Section("4. Scans", R"(
   A scan reads every key at one timestamp: one consistent snapshot of them all.
)");
  for (size_t i = 0; i < t.size(); ++i) {
    ASSIGN_OR_RETURN(const std::vector<storage::KeyValue> rows,
                     engine->Scan(kTablet, "", "", t[i]));
    std::printf("     at t%zu   %s\n", i + 1,
                absl::StrJoin(rows, " ", [](std::string* out, const storage::KeyValue& kv) {
                  out->append(ShowWrite({kv.key, kv.value}));
                }).c_str());
  }

  Section("5. Garbage collection", R"(
   Old versions are not kept forever: CollectGarbage(horizon) removes every version no
   read at or above the horizon can see. A read below the horizon then fails, rather
   than return an answer with versions missing.
)");
  ASSIGN_OR_RETURN(const uint64_t removed, engine->CollectGarbage(kTablet, t[2]));
  std::printf(read_row, "CollectGarbage(horizon=t3)", absl::StrCat(removed, " removed").c_str(),
              "versions that no read at t3 or later can see");
  ASSIGN_OR_RETURN(const std::string kept, Read(*engine, t[2], "\"hello v3\""));
  std::printf(read_row, absl::StrCat("read ", kKey, " at t3").c_str(), kept.c_str(),
              "at the horizon: kept");
  const absl::Status below = engine->Get(kTablet, kKey, t[1]).status();
  if (!absl::IsFailedPrecondition(below)) {
    return absl::InternalError(
        absl::StrCat("read below the GC horizon: ", below.ToString(), ", not FAILED_PRECONDITION"));
  }
  std::printf(read_row, absl::StrCat("read ", kKey, " at t2").c_str(), "fails",
              below.ToString().c_str());

  std::printf("\nDone: %zu commits, average commit wait %.3f ms at epsilon %ld us.\n", t.size(),
              total_wait_ms / t.size(), now.epsilon_us());
  return absl::OkStatus();
}

int UsageError(const std::string& message) {
  std::fprintf(stderr,
               "meridian storage-demo: %s\nRun 'meridian storage-demo --help' for its flags.\n",
               message.c_str());
  return kExitUsage;
}

int Run(const Flags& flags) {
  const absl::StatusOr<truetime::ClockSourceKind> kind =
      truetime::ParseClockSourceKind(flags.at("truetime_source"));
  if (!kind.ok()) return UsageError(std::string(kind.status().message()));
  int64_t epsilon_us = 0;
  if (!absl::SimpleAtoi(flags.at("truetime_epsilon_us"), &epsilon_us) || epsilon_us < 0 ||
      epsilon_us > 1'000'000) {
    return UsageError("--truetime_epsilon_us takes a number of microseconds in [0, 1000000]");
  }
  const bool keep = flags.at("keep") == "true";

  // The demo needs an empty directory: versions left by an earlier run would show up in its reads.
  std::string dir = flags.at("dir");
  std::error_code error;
  if (dir.empty()) {
    char pattern[] = "/tmp/meridian-demo-XXXXXX";
    if (mkdtemp(pattern) == nullptr) {
      std::perror("meridian storage-demo: mkdtemp");
      return kExitError;
    }
    dir = pattern;
  } else if (std::filesystem::exists(dir, error) && !std::filesystem::is_empty(dir, error)) {
    return UsageError("--dir=" + dir + " is not empty; give a new or empty directory");
  }

  std::printf("Meridian demo: TrueTime and MVCC storage on one LevelDB\n  data directory   %s%s\n",
              dir.c_str(), keep ? " (kept)" : " (removed at exit; --keep keeps it)");
  const absl::Status status = RunDemo(dir, *kind, epsilon_us);
  std::fflush(stdout);
  if (!keep) std::filesystem::remove_all(dir, error);
  if (!status.ok()) {
    std::fprintf(stderr, "meridian storage-demo: %s\n", status.ToString().c_str());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

Command StorageDemoCommand() {
  Command command;
  command.name = "storage-demo";
  command.summary =
      "TrueTime, commit wait and MVCC snapshot reads on a local LevelDB, step by step";
  command.description =
      "Writes and reads MVCC versions at TrueTime timestamps in a fresh LevelDB: commits\n"
      "with commit wait (printing epsilon and the wait), snapshot reads at older timestamps,\n"
      "a delete, scans, and garbage collection below a horizon.";
  command.flags = {
      {"truetime_source", "fixed", "clock source: auto, ntp or fixed"},
      {"truetime_epsilon_us", "1000", "epsilon of the fixed source, in microseconds"},
      {"dir", "", "new or empty directory for the LevelDB (default: a new one in /tmp)"},
      {"keep", "false", "keep the directory instead of removing it at exit",
       /*is_bool=*/true}};
  command.run = Run;
  return command;
}

}  // namespace meridian::tools
