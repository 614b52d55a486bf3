// `meridian workload append`: the list-append workload, recorded as an Elle-style history
// (tools/history/history.h) for `meridian check-history`.
//
// Workload: C threads (history processes 0..C-1) each run, until the duration ends, either a
// read-write transaction of 1-4 operations on random keys (append: a locking Get of the key's
// list, then a Put of the list with a new value; read: a Get), or (one in five) a read-only
// transaction over 1-3 distinct keys. A list is stored as comma-separated decimal integers.
// Appended values come from one counter, so every (key, value) is unique. The keys are cleared
// (one transaction) before the history starts, so every list starts empty. At the end process C
// reads every key in one read-only transaction, so every append that committed is observed.
// Outcomes: ok (committed; reads known), fail (certainly not committed: aborted in every attempt,
// or another error before the commit), info (the commit's outcome is unknown).
#include <atomic>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "tools/command.h"
#include "tools/history/history.h"
#include "tools/workload.h"

namespace meridian::tools {
namespace {

absl::StatusOr<std::vector<int64_t>> ParseList(const std::optional<std::string>& value,
                                               const std::string& key) {
  std::vector<int64_t> list;
  if (!value.has_value() || value->empty()) return list;
  for (const absl::string_view part : absl::StrSplit(*value, ',')) {
    int64_t element = 0;
    if (!absl::SimpleAtoi(part, &element)) {
      return absl::DataLossError(
          absl::StrCat("key ", key, " holds a malformed list '", *value, "'"));
    }
    list.push_back(element);
  }
  return list;
}

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

// Runs one transaction of `process` and records it; false if the history could not be written.
bool RunOne(Client& client, history::HistoryWriter& writer, const std::vector<std::string>& keys,
            Random& random, std::atomic<int64_t>& next_value, int64_t process,
            const TransactionOptions& txn_options, AppendCounters& counters) {
  std::vector<history::Op> ops;
  const bool read_only = random.Uniform(5) == 0;
  if (read_only) {
    const size_t n = std::min<size_t>(1 + random.Uniform(3), keys.size());
    std::vector<size_t> chosen;
    while (chosen.size() < n) {
      const size_t k = random.Uniform(keys.size());
      if (std::find(chosen.begin(), chosen.end(), k) == chosen.end()) chosen.push_back(k);
    }
    for (const size_t k : chosen) ops.push_back(history::Read(keys[k]));
  } else {
    const size_t n = 1 + random.Uniform(4);
    for (size_t i = 0; i < n; ++i) {
      const std::string& key = keys[random.Uniform(keys.size())];
      ops.push_back(random.Bernoulli(0.5) ? history::Append(key, next_value.fetch_add(1))
                                          : history::Read(key));
    }
  }
  history::Event invoke = MakeEvent(history::EventType::kInvoke, process, ops);
  if (absl::StatusOr<int64_t> w = writer.Write(invoke); !w.ok()) {
    std::fprintf(stderr, "meridian workload: history: %s\n", w.status().ToString().c_str());
    return false;
  }

  std::vector<history::Op> done = ops;
  absl::StatusOr<int64_t> commit_ts = 0;
  if (read_only) {
    std::vector<std::string> read_keys;
    for (const history::Op& op : ops) read_keys.push_back(op.key);
    absl::StatusOr<ReadResult> result = client.ReadOnly(read_keys);
    if (result.ok()) {
      for (size_t i = 0; i < ops.size() && commit_ts.ok(); ++i) {
        absl::StatusOr<std::vector<int64_t>> list = ParseList(result->values[i], ops[i].key);
        if (list.ok()) {
          done[i].read = *std::move(list);
        } else {
          commit_ts = list.status();
        }
      }
      if (commit_ts.ok()) commit_ts = result->read_ts;
    } else {
      commit_ts = result.status();
    }
  } else {
    int attempts = 0;
    commit_ts = client.RunTransaction(
        [&](Transaction& txn) -> absl::Status {
          ++attempts;
          done = ops;
          for (history::Op& op : done) {
            absl::StatusOr<std::optional<std::string>> value = txn.Get(op.key);
            if (!value.ok()) return value.status();
            absl::StatusOr<std::vector<int64_t>> list = ParseList(*value, op.key);
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
        txn_options);
    counters.retries += std::max(0, attempts - 1);
  }

  history::Event completion = MakeEvent(history::EventType::kFail, process, {});
  if (commit_ts.ok()) {
    completion.type = history::EventType::kOk;
    completion.txn = std::move(done);
    completion.commit_ts = *commit_ts;
    ++counters.ok;
    if (read_only) ++counters.read_only;
  } else {
    if (commit_ts.status().code() == absl::StatusCode::kDataLoss) {
      std::printf("ANOMALY: %s\n", std::string(commit_ts.status().message()).c_str());
    }
    const bool unknown = IsOutcomeUnknown(commit_ts.status());
    completion.type = unknown ? history::EventType::kInfo : history::EventType::kFail;
    completion.txn = ops;
    // The first few errors, so a run that fails a lot says why.
    if (++(unknown ? counters.info : counters.fail) <= kErrorsShown) {
      std::fprintf(stderr, "process %lld: %s transaction %s: %s\n", static_cast<long long>(process),
                   read_only ? "read-only" : "read-write", unknown ? "outcome unknown" : "failed",
                   commit_ts.status().ToString().c_str());
    }
  }
  if (absl::StatusOr<int64_t> w = writer.Write(completion); !w.ok()) {
    std::fprintf(stderr, "meridian workload: history: %s\n", w.status().ToString().c_str());
    return false;
  }
  return true;
}

}  // namespace

int RunAppendWorkload(Client& client, const WorkloadConfig& config) {
  absl::StatusOr<std::vector<std::string>> prefixes = KeyPrefixes(client, config.spread);
  if (!prefixes.ok()) {
    std::fprintf(stderr, "meridian workload: cannot read the topology: %s\n",
                 prefixes.status().ToString().c_str());
    return kExitUsage;
  }
  std::vector<std::string> keys;
  for (int i = 0; i < config.keys; ++i) {
    keys.push_back(absl::StrCat((*prefixes)[i % prefixes->size()], "append/k", i));
  }
  absl::StatusOr<std::unique_ptr<history::HistoryWriter>> writer =
      history::HistoryWriter::Create(config.history_path);
  if (!writer.ok()) {
    std::fprintf(stderr, "meridian workload: %s\n", writer.status().ToString().c_str());
    return kExitUsage;
  }
  TransactionOptions txn_options;
  txn_options.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
  // The checker assumes every list starts empty: clear what an earlier run left.
  std::vector<Mutation> clear;
  for (const std::string& key : keys) clear.push_back(Mutation::Delete(key));
  if (absl::StatusOr<int64_t> cleared = client.Commit(clear, txn_options); !cleared.ok()) {
    std::fprintf(stderr, "meridian workload: clearing the keys failed: %s\n",
                 cleared.status().ToString().c_str());
    return kExitUsage;
  }
  std::printf("append: %d keys over %zu group(s), %d clients for %s, history %s\n", config.keys,
              prefixes->size(), config.clients, absl::FormatDuration(config.duration).c_str(),
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
      while (!stop.load() && !write_failed.load()) {
        if (!RunOne(client, **writer, keys, random, next_value, c, txn_options, counters)) {
          write_failed = true;
        }
      }
    });
  }
  const absl::Time start = absl::Now();
  const absl::Time end = start + config.duration;
  for (int second = 1; absl::Now() < end && !write_failed.load(); ++second) {
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
    std::printf("t=%ds txns ok=%lld (read-only %lld) fail=%lld info=%lld retries=%lld\n", second,
                static_cast<long long>(counters.ok.load()),
                static_cast<long long>(counters.read_only.load()),
                static_cast<long long>(counters.fail.load()),
                static_cast<long long>(counters.info.load()),
                static_cast<long long>(counters.retries.load()));
    std::fflush(stdout);
  }
  stop = true;
  for (std::thread& t : threads) t.join();

  // The final read of every key, as its own process (retried a few times: it is what makes
  // every committed append visible to the checker).
  bool final_read = false;
  for (int attempt = 0; attempt < 5 && !final_read && !write_failed.load(); ++attempt) {
    std::vector<history::Op> ops;
    for (const std::string& key : keys) ops.push_back(history::Read(key));
    const int64_t process = config.clients + attempt;
    history::Event invoke = MakeEvent(history::EventType::kInvoke, process, ops);
    if (!(*writer)->Write(invoke).ok()) break;
    absl::StatusOr<ReadResult> result = client.ReadOnly(keys);
    history::Event completion = MakeEvent(history::EventType::kFail, process, ops);
    if (result.ok()) {
      completion.type = history::EventType::kOk;
      for (size_t i = 0; i < keys.size(); ++i) {
        absl::StatusOr<std::vector<int64_t>> list = ParseList(result->values[i], keys[i]);
        if (!list.ok()) {
          std::printf("ANOMALY: %s\n", std::string(list.status().message()).c_str());
          completion.type = history::EventType::kFail;
          break;
        }
        completion.txn[i].read = *std::move(list);
      }
      if (completion.type == history::EventType::kOk) {
        completion.commit_ts = result->read_ts;
        final_read = true;
      } else {
        completion.txn = ops;
      }
    } else {
      std::fprintf(stderr, "final read failed: %s\n", result.status().ToString().c_str());
    }
    if (!(*writer)->Write(completion).ok()) break;
  }
  const absl::Status closed = (*writer)->Close();
  std::printf(
      "summary: txns ok=%lld (read-only %lld) fail=%lld info=%lld retries=%lld; final "
      "read %s; history %s\n",
      static_cast<long long>(counters.ok.load()), static_cast<long long>(counters.read_only.load()),
      static_cast<long long>(counters.fail.load()), static_cast<long long>(counters.info.load()),
      static_cast<long long>(counters.retries.load()), final_read ? "ok" : "FAILED",
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
