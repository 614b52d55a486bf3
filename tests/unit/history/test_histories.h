// Histories for the history tests: hand-made ones from a list of transactions with chosen times,
// and random ones from a model execution. Seed: given by each caller. Workload: list-append over
// a few keys, each key retired after a fixed number of appends. Faults: random fail and info
// outcomes. Checker: tools/history/append_checker.h. Thread safety: plain functions.
#ifndef MERIDIAN_TESTS_UNIT_HISTORY_TEST_HISTORIES_H_
#define MERIDIAN_TESTS_UNIT_HISTORY_TEST_HISTORIES_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "tools/history/history.h"

namespace meridian::history::testing {

inline Op A(const std::string& key, int64_t value) { return Append(key, value); }
inline Op R(const std::string& key, std::initializer_list<int64_t> list) {
  return Read(key, std::vector<int64_t>(list));
}

// A transaction of a hand-made history: invoked at `start`, completed at `end` with `outcome`
// (end < 0: never completes). `ops` carry the read results an ok completion reports.
struct TxnSpec {
  int64_t process = 0;
  int64_t start = 0;
  int64_t end = 0;
  EventType outcome = EventType::kOk;
  std::vector<Op> ops;
};

inline TxnSpec Ok(int64_t process, int64_t start, int64_t end, std::vector<Op> ops) {
  return TxnSpec{process, start, end, EventType::kOk, std::move(ops)};
}
inline TxnSpec Fail(int64_t process, int64_t start, int64_t end, std::vector<Op> ops) {
  return TxnSpec{process, start, end, EventType::kFail, std::move(ops)};
}
inline TxnSpec Info(int64_t process, int64_t start, int64_t end, std::vector<Op> ops) {
  return TxnSpec{process, start, end, EventType::kInfo, std::move(ops)};
}

// Orders the invokes and completions by time (ties in the order given) and numbers them.
History MakeHistory(const std::vector<TxnSpec>& txns);

struct RandomOptions {
  int txns = 200;
  int processes = 5;         // concurrent only
  int keys = 4;              // live at a time
  int max_ops = 4;           // per transaction, at least 1
  int appends_per_key = 20;  // then the key is retired for a fresh one
  double fail_rate = 0.1;
  double info_rate = 0.1;  // half of info transactions take effect
  bool final_read = true;  // end with a transaction reading every key
};

// One transaction at a time, each invoked after the previous completed; each takes effect (or
// not) as a whole. Strictly serializable by construction.
History RandomSerialHistory(uint64_t seed, const RandomOptions& options);

// Several processes with overlapping transactions; each takes effect atomically at the moment
// it completes (an info one maybe). Strictly serializable by construction.
History RandomConcurrentHistory(uint64_t seed, const RandomOptions& options);

}  // namespace meridian::history::testing

#endif  // MERIDIAN_TESTS_UNIT_HISTORY_TEST_HISTORIES_H_
