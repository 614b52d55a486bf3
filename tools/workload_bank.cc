// `meridian workload bank`: transfers between accounts under a conservation check (workload.h).
//
// Workload: N accounts of 100 written in one transaction; C threads transfer a random amount in
// [1, balance] from one random account to another (both read under locks, both written), or
// nothing when the source is empty. Checker (its own thread, back to back with a 100 ms pause):
// a strong read-only transaction over every account must sum to 100 * N with no negative or
// missing balance, and a snapshot read at its read timestamp must return the same values.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/random.h"
#include "tools/command.h"
#include "tools/workload.h"

namespace meridian::tools {
namespace {

constexpr int64_t kInitialBalance = 100;
// Failed or unknown transfers printed to stderr, of each kind.
constexpr int64_t kErrorsShown = 5;

struct BankCounters {
  std::atomic<int64_t> committed{0};
  std::atomic<int64_t> retries{0};  // attempts beyond the first of each transfer
  std::atomic<int64_t> failed{0};   // definitely not committed
  std::atomic<int64_t> unknown{0};
  std::atomic<int64_t> checks{0};
  std::atomic<int64_t> check_errors{0};  // a check's read failed (not a violation)
  std::atomic<int64_t> violations{0};
};

absl::StatusOr<int64_t> ParseBalance(const std::optional<std::string>& value,
                                     const std::string& key) {
  int64_t balance = 0;
  if (!value.has_value() || !absl::SimpleAtoi(*value, &balance)) {
    return absl::DataLossError(absl::StrCat("account ", key, " holds ",
                                            value.has_value() ? "'" + *value + "'" : "nothing"));
  }
  return balance;
}

// One check; returns the violation found, or "" (a read error is counted, not a violation).
std::string Check(Client& client, const std::vector<std::string>& keys, BankCounters& counters) {
  absl::StatusOr<ReadResult> strong = client.ReadOnly(keys, ReadOnlyOptions::Strong());
  if (!strong.ok()) {
    ++counters.check_errors;
    std::fprintf(stderr, "check: strong read failed: %s\n", strong.status().ToString().c_str());
    return "";
  }
  int64_t total = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<int64_t> balance = ParseBalance(strong->values[i], keys[i]);
    if (!balance.ok()) return std::string(balance.status().message());
    if (*balance < 0) return absl::StrCat("account ", keys[i], " is negative: ", *balance);
    total += *balance;
  }
  const int64_t want = kInitialBalance * static_cast<int64_t>(keys.size());
  if (total != want) {
    return absl::StrCat("total ", total, " != ", want, " at read_ts ", strong->read_ts);
  }
  absl::StatusOr<ReadResult> snapshot =
      client.ReadOnly(keys, ReadOnlyOptions::AtTimestamp(strong->read_ts));
  if (!snapshot.ok()) {
    ++counters.check_errors;
    std::fprintf(stderr, "check: snapshot read at %lld failed: %s\n",
                 static_cast<long long>(strong->read_ts), snapshot.status().ToString().c_str());
    return "";
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (snapshot->values[i] != strong->values[i]) {
      return absl::StrCat("snapshot read at ", strong->read_ts, " of ", keys[i], " gave ",
                          snapshot->values[i].value_or("(none)"), ", the strong read ",
                          strong->values[i].value_or("(none)"));
    }
  }
  ++counters.checks;
  return "";
}

}  // namespace

int RunBankWorkload(Client& client, const WorkloadConfig& config) {
  absl::StatusOr<std::vector<std::string>> prefixes = KeyPrefixes(client, config.spread);
  if (!prefixes.ok()) {
    std::fprintf(stderr, "meridian workload: cannot read the topology: %s\n",
                 prefixes.status().ToString().c_str());
    return kExitUsage;
  }
  std::vector<std::string> keys;
  std::vector<Mutation> init;
  for (int i = 0; i < config.accounts; ++i) {
    keys.push_back(absl::StrFormat("%sbank/acct/%04d", (*prefixes)[i % prefixes->size()], i));
    init.push_back(Mutation::Put(keys.back(), absl::StrCat(kInitialBalance)));
  }
  TransactionOptions txn_options;
  txn_options.deadline = std::chrono::milliseconds(config.txn_deadline_ms);
  absl::StatusOr<int64_t> initialized = client.Commit(init, txn_options);
  if (!initialized.ok()) {
    std::fprintf(stderr, "meridian workload: initializing %d accounts failed: %s\n",
                 config.accounts, initialized.status().ToString().c_str());
    return kExitUsage;
  }
  std::printf("bank: %d accounts of %lld over %zu group(s), committed at %lld; %d clients for %s\n",
              config.accounts, static_cast<long long>(kInitialBalance), prefixes->size(),
              static_cast<long long>(*initialized), config.clients,
              absl::FormatDuration(config.duration).c_str());
  std::fflush(stdout);

  BankCounters counters;
  std::atomic<bool> stop{false};
  absl::Mutex violation_mu;
  std::string first_violation;  // guarded by violation_mu
  auto record_violation = [&](const std::string& violation) {
    ++counters.violations;
    std::printf("VIOLATION: %s\n", violation.c_str());
    std::fflush(stdout);
    absl::MutexLock lock(&violation_mu);
    if (first_violation.empty()) first_violation = violation;
  };

  Random seeds(config.seed);
  std::vector<std::thread> threads;
  for (int c = 0; c < config.clients; ++c) {
    threads.emplace_back([&, random = seeds.Fork()]() mutable {
      while (!stop.load()) {
        const size_t from = random.Uniform(keys.size());
        size_t to = random.Uniform(keys.size() - 1);
        if (to >= from) ++to;
        int attempts = 0;
        absl::StatusOr<int64_t> result = client.RunTransaction(
            [&](Transaction& txn) -> absl::Status {
              ++attempts;
              absl::StatusOr<std::optional<std::string>> a = txn.Get(keys[from]);
              if (!a.ok()) return a.status();
              absl::StatusOr<std::optional<std::string>> b = txn.Get(keys[to]);
              if (!b.ok()) return b.status();
              absl::StatusOr<int64_t> balance_a = ParseBalance(*a, keys[from]);
              if (!balance_a.ok()) return balance_a.status();
              absl::StatusOr<int64_t> balance_b = ParseBalance(*b, keys[to]);
              if (!balance_b.ok()) return balance_b.status();
              if (*balance_a <= 0) return absl::OkStatus();
              const int64_t amount = random.Range(1, *balance_a);
              if (!config.testing_break_transfers) {
                txn.Put(keys[from], absl::StrCat(*balance_a - amount));
              }
              txn.Put(keys[to], absl::StrCat(*balance_b + amount));
              return absl::OkStatus();
            },
            txn_options);
        counters.retries += std::max(0, attempts - 1);
        if (result.ok()) {
          ++counters.committed;
        } else if (result.status().code() == absl::StatusCode::kDataLoss) {
          record_violation(std::string(result.status().message()));
        } else {
          const bool unknown = IsOutcomeUnknown(result.status());
          // The first few errors, so a run that fails a lot says why.
          if (++(unknown ? counters.unknown : counters.failed) <= kErrorsShown) {
            std::fprintf(stderr, "transfer %s: %s\n", unknown ? "outcome unknown" : "failed",
                         result.status().ToString().c_str());
          }
        }
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop.load()) {
      const std::string violation = Check(client, keys, counters);
      if (!violation.empty()) record_violation(violation);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  const absl::Time start = absl::Now();
  const absl::Time end = start + config.duration;
  for (int second = 1; absl::Now() < end; ++second) {
    absl::SleepFor(std::min(absl::Seconds(1), end - absl::Now()));
    std::printf(
        "t=%ds transfers committed=%lld retries=%lld failed=%lld unknown=%lld | checks ok=%lld "
        "errors=%lld violations=%lld\n",
        second, static_cast<long long>(counters.committed.load()),
        static_cast<long long>(counters.retries.load()),
        static_cast<long long>(counters.failed.load()),
        static_cast<long long>(counters.unknown.load()),
        static_cast<long long>(counters.checks.load()),
        static_cast<long long>(counters.check_errors.load()),
        static_cast<long long>(counters.violations.load()));
    std::fflush(stdout);
  }
  stop = true;
  for (std::thread& t : threads) t.join();
  // A last check once every transfer has ended.
  const std::string violation = Check(client, keys, counters);
  if (!violation.empty()) record_violation(violation);

  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "summary: transfers committed=%lld (%.1f/s) retries=%lld failed=%lld unknown=%lld; "
      "checks ok=%lld errors=%lld violations=%lld\n",
      static_cast<long long>(counters.committed.load()), counters.committed.load() / elapsed,
      static_cast<long long>(counters.retries.load()),
      static_cast<long long>(counters.failed.load()),
      static_cast<long long>(counters.unknown.load()),
      static_cast<long long>(counters.checks.load()),
      static_cast<long long>(counters.check_errors.load()),
      static_cast<long long>(counters.violations.load()));
  if (counters.violations.load() > 0) {
    absl::MutexLock lock(&violation_mu);
    std::printf("FAILED: the bank invariant broke; first violation: %s\n", first_violation.c_str());
    return kExitError;
  }
  std::printf("OK: the invariant held in every check\n");
  return kExitOk;
}

}  // namespace meridian::tools
