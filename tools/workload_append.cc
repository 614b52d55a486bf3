// `meridian workload append`: the list-append workload, recorded as an Elle-style history
// (tools/history/history.h) for `meridian check-history`.
//
// Workload: C threads (history processes 0..C-1) each run, until the duration ends, either a
// read-write transaction of 1-4 operations on random keys (append a new value to a key's list, or
// read it), or (one in five) a read-only transaction over 1-3 distinct keys. Appended values come
// from one counter, so every (key, value) is unique. Every list is empty before the history
// starts (AppendBackend::Prepare). At the end process C reads every key in one read-only
// transaction, so every append that committed is observed. Outcomes: ok (committed; reads known),
// fail (certainly not committed: aborted in every attempt, or another error before the commit),
// info (the commit's outcome is unknown).
//
// The transactions run through an AppendBackend (append_backend.h): the SDK's key-value
// transactions (here: a locking Get of the key's list, then a Put of the list with the new
// value), or SQL statements with --sql (workload_append_sql.cc).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "tools/append_backend.h"
#include "tools/command.h"
#include "tools/history/history.h"
#include "tools/workload.h"

namespace meridian::tools {

absl::StatusOr<std::vector<int64_t>> ParseAppendList(const std::optional<std::string>& value,
                                                     const std::string& key) {
  std::vector<int64_t> list;
  if (!value.has_value()) return list;
  absl::string_view text = *value;
  absl::ConsumePrefix(&text, ",");
  if (text.empty()) return list;
  for (const absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t element = 0;
    if (!absl::SimpleAtoi(part, &element)) {
      return absl::DataLossError(
          absl::StrCat("key ", key, " holds a malformed list '", *value, "'"));
    }
    list.push_back(element);
  }
  return list;
}

namespace {

// The SDK backend: keys '<c>append/k<i>' spread over the groups (KeyPrefixes), a list stored as
// the key's value.
class SdkAppendWorker final : public AppendWorker {
 public:
  SdkAppendWorker(Client& client, const TransactionOptions& options)
      : client_(client), options_(options) {}

  absl::StatusOr<AppendOutcome> ReadWrite(const std::vector<history::Op>& ops,
                                          int* attempts) override {
    AppendOutcome outcome;
    absl::StatusOr<int64_t> commit_ts = client_.RunTransaction(
        [&](Transaction& txn) -> absl::Status {
          ++*attempts;
          outcome.ops = ops;
          for (history::Op& op : outcome.ops) {
            absl::StatusOr<std::optional<std::string>> value = txn.Get(op.key);
            if (!value.ok()) return value.status();
            absl::StatusOr<std::vector<int64_t>> list = ParseAppendList(*value, op.key);
            if (!list.ok()) return list.status();
            if (op.kind == history::OpKind::kRead) {
              op.read = *std::move(list);
            } else {
              list->push_back(op.value);
              txn.Put(op.key, absl::StrJoin(*list, ","));
            }
          }
          return absl::OkStatus();
        },
        options_);
    if (!commit_ts.ok()) return commit_ts.status();
    outcome.ts = *commit_ts;
    return outcome;
  }

  absl::StatusOr<AppendOutcome> ReadOnly(const std::vector<history::Op>& ops) override {
    std::vector<std::string> keys;
    for (const history::Op& op : ops) keys.push_back(op.key);
    absl::StatusOr<ReadResult> result = client_.ReadOnly(keys);
    if (!result.ok()) return result.status();
    AppendOutcome outcome{.ops = ops, .ts = result->read_ts};
    for (size_t i = 0; i < ops.size(); ++i) {
      absl::StatusOr<std::vector<int64_t>> list = ParseAppendList(result->values[i], ops[i].key);
      if (!list.ok()) return list.status();
      outcome.ops[i].read = *std::move(list);
    }
    return outcome;
  }

 private:
  Client& client_;
  const TransactionOptions options_;
};

class SdkAppendBackend final : public AppendBackend {
 public:
  SdkAppendBackend(Client& client, const WorkloadConfig& config)
      : client_(client), config_(config) {
    options_.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
  }

  absl::StatusOr<std::vector<std::string>> Prepare(int count) override {
    absl::StatusOr<std::vector<std::string>> prefixes = KeyPrefixes(client_, config_.spread);
    if (!prefixes.ok()) return prefixes.status();
    std::vector<std::string> keys;
    for (int i = 0; i < count; ++i) {
      keys.push_back(absl::StrCat((*prefixes)[i % prefixes->size()], "append/k", i));
    }
    // The checker assumes every list starts empty: clear what an earlier run left.
    std::vector<Mutation> clear;
    for (const std::string& key : keys) clear.push_back(Mutation::Delete(key));
    if (absl::StatusOr<int64_t> cleared = client_.Commit(clear, options_); !cleared.ok()) {
      return absl::Status(cleared.status().code(),
                          absl::StrCat("clearing the keys failed: ", cleared.status().message()));
    }
    std::printf("append: %d keys over %zu group(s)\n", count, prefixes->size());
    return keys;
  }

  std::unique_ptr<AppendWorker> NewWorker() override {
    return std::make_unique<SdkAppendWorker>(client_, options_);
  }

 private:
  Client& client_;
  const WorkloadConfig config_;
  TransactionOptions options_;
};

history::Event MakeEvent(history::EventType type, int64_t process, std::vector<history::Op> txn) {
  history::Event event;
  event.type = type;
  event.process = process;
  event.time_us = WallMicros();
  event.txn = std::move(txn);
  return event;
}

// Failed or unknown transactions printed to stderr, of each kind.
constexpr int64_t kErrorsShown = 5;

struct AppendCounters {
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> fail{0};
  std::atomic<int64_t> info{0};
  std::atomic<int64_t> read_only{0};  // of ok
  std::atomic<int64_t> retries{0};
};

// The operations of one transaction: 1-3 distinct reads (read-only), or 1-4 reads and appends.
std::vector<history::Op> ChooseOps(const std::vector<std::string>& keys, Random& random,
                                   std::atomic<int64_t>& next_value, bool read_only) {
  std::vector<history::Op> ops;
  if (read_only) {
    const size_t n = std::min<size_t>(1 + random.Uniform(3), keys.size());
    std::vector<size_t> chosen;
    while (chosen.size() < n) {
      const size_t k = random.Uniform(keys.size());
      if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
    }
    for (const size_t k : chosen) ops.push_back(history::Read(keys[k]));
    return ops;
  }
  const size_t n = 1 + random.Uniform(4);
  for (size_t i = 0; i < n; ++i) {
    const std::string& key = keys[random.Uniform(keys.size())];
    ops.push_back(random.Bernoulli(0.5) ? history::Append(key, next_value.fetch_add(1))
                                        : history::Read(key));
  }
  return ops;
}

// Runs one transaction of `process` and records it; false if the history could not be written.
bool RunOne(AppendWorker& worker, history::HistoryWriter& writer,
            const std::vector<std::string>& keys, Random& random, std::atomic<int64_t>& next_value,
            int64_t process, AppendCounters& counters) {
  const bool read_only = random.Uniform(5) == 0;
  std::vector<history::Op> ops = ChooseOps(keys, random, next_value, read_only);
  history::Event invoke = MakeEvent(history::EventType::kInvoke, process, ops);
  if (absl::StatusOr<int64_t> w = writer.Write(invoke); !w.ok()) {
    std::fprintf(stderr, "meridian workload: history: %s\n", w.status().ToString().c_str());
    return false;
  }
  int attempts = 0;
  absl::StatusOr<AppendOutcome> outcome =
      read_only ? worker.ReadOnly(ops) : worker.ReadWrite(ops, &attempts);
  counters.retries += std::max(0, attempts - 1);

  history::Event completion = MakeEvent(history::EventType::kFail, process, {});
  if (outcome.ok()) {
    completion.type = history::EventType::kOk;
    completion.txn = std::move(outcome->ops);
    completion.commit_ts = outcome->ts;
    ++counters.ok;
    if (read_only) ++counters.read_only;
  } else {
    if (outcome.status().code() == absl::StatusCode::kDataLoss) {
      std::printf("ANOMALY: %s\n", std::string(outcome.status().message()).c_str());
    }
    const bool unknown = IsOutcomeUnknown(outcome.status());
    completion.type = unknown ? history::EventType::kInfo : history::EventType::kFail;
    completion.txn = ops;
    // The first few errors, so a run that fails a lot says why.
    if (++(unknown ? counters.info : counters.fail) <= kErrorsShown) {
      std::fprintf(stderr, "process %lld: %s transaction %s: %s\n", static_cast<long long>(process),
                   read_only ? "read-only" : "read-write", unknown ? "outcome unknown" : "failed",
                   outcome.status().ToString().c_str());
    }
  }
  if (absl::StatusOr<int64_t> w = writer.Write(completion); !w.ok()) {
    std::fprintf(stderr, "meridian workload: history: %s\n", w.status().ToString().c_str());
    return false;
  }
  return true;
}

void PrintProgress(const char* label, const AppendCounters& counters) {
  std::printf(
      "%s txns ok=%lld (read-only %lld) fail=%lld info=%lld retries=%lld", label,
      static_cast<long long>(counters.ok.load()), static_cast<long long>(counters.read_only.load()),
      static_cast<long long>(counters.fail.load()), static_cast<long long>(counters.info.load()),
      static_cast<long long>(counters.retries.load()));
}

// The final read of every key, as its own process (retried a few times: it is what makes every
// committed append visible to the checker). True when one succeeded.
bool FinalRead(AppendWorker& worker, history::HistoryWriter& writer,
               const std::vector<std::string>& keys, int64_t first_process) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::vector<history::Op> ops;
    for (const std::string& key : keys) ops.push_back(history::Read(key));
    const int64_t process = first_process + attempt;
    if (!writer.Write(MakeEvent(history::EventType::kInvoke, process, ops)).ok()) return false;
    absl::StatusOr<AppendOutcome> outcome = worker.ReadOnly(ops);
    history::Event completion = MakeEvent(history::EventType::kFail, process, ops);
    if (outcome.ok()) {
      completion.type = history::EventType::kOk;
      completion.txn = std::move(outcome->ops);
      completion.commit_ts = outcome->ts;
    } else if (outcome.status().code() == absl::StatusCode::kDataLoss) {
      std::printf("ANOMALY: %s\n", std::string(outcome.status().message()).c_str());
    } else {
      std::fprintf(stderr, "final read failed: %s\n", outcome.status().ToString().c_str());
    }
    if (!writer.Write(completion).ok()) return false;
    if (completion.type == history::EventType::kOk) return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<AppendBackend> NewSdkAppendBackend(Client& client, const WorkloadConfig& config) {
  return std::make_unique<SdkAppendBackend>(client, config);
}

int RunAppendWorkload(Client& client, const WorkloadConfig& config) {
  std::unique_ptr<AppendBackend> backend =
      config.sql ? NewSqlAppendBackend(client, config) : NewSdkAppendBackend(client, config);
  absl::StatusOr<std::vector<std::string>> keys = backend->Prepare(config.keys);
  if (!keys.ok()) {
    std::fprintf(stderr, "meridian workload: %s\n", keys.status().ToString().c_str());
    return kExitUsage;
  }
  absl::StatusOr<std::unique_ptr<history::HistoryWriter>> writer =
      history::HistoryWriter::Create(config.history_path);
  if (!writer.ok()) {
    std::fprintf(stderr, "meridian workload: %s\n", writer.status().ToString().c_str());
    return kExitUsage;
  }
  std::printf("append%s: %d clients for %s, history %s\n", config.sql ? " --sql" : "",
              config.clients, absl::FormatDuration(config.duration).c_str(),
              config.history_path.c_str());
  std::fflush(stdout);

  AppendCounters counters;
  std::atomic<bool> stop{false};
  std::atomic<bool> write_failed{false};
  std::atomic<int64_t> next_value{1};  // appended values, unique in the run
  Random seeds(config.seed);
  std::vector<std::thread> threads;
  for (int c = 0; c < config.clients; ++c) {
    threads.emplace_back([&, c, random = seeds.Fork()]() mutable {
      std::unique_ptr<AppendWorker> worker = backend->NewWorker();
      while (!stop.load() && !write_failed.load()) {
        if (!RunOne(*worker, **writer, *keys, random, next_value, c, counters)) {
          write_failed = true;
        }
      }
    });
  }
  const absl::Time end = absl::Now() + config.duration;
  for (int second = 1; absl::Now() < end && !write_failed.load(); ++second) {
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
    PrintProgress(absl::StrCat("t=", second, "s").c_str(), counters);
    std::printf("\n");
    std::fflush(stdout);
  }
  stop = true;
  for (std::thread& t : threads) t.join();

  const bool final_read =
      !write_failed.load() && FinalRead(*backend->NewWorker(), **writer, *keys, config.clients);
  const absl::Status closed = (*writer)->Close();
  PrintProgress("summary:", counters);
  std::printf("; final read %s; history %s\n", final_read ? "ok" : "FAILED",
              config.history_path.c_str());
  if (write_failed.load() || !closed.ok()) {
    std::fprintf(stderr, "meridian workload: the history could not be written%s\n",
                 closed.ok() ? "" : (": " + closed.ToString()).c_str());
    return kExitError;
  }
  std::printf("check it with: meridian check-history %s\n", config.history_path.c_str());
  return kExitOk;
}

}  // namespace meridian::tools
