// The transaction checkers; see txn_checkers.h.
//
// Seed/workload/faults: none. Checkers: outcome, snapshot, realtime, bank.
#include "tests/sim/txn_checkers.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace meridian::sim {
namespace {

std::string Show(const Value& v) { return v ? absl::StrCat("'", *v, "'") : "<none>"; }

bool RealTimeRead(TxnKind kind) { return kind != TxnKind::kSnapshotStale; }

}  // namespace

std::optional<Violation> CheckOutcomes(const std::vector<TxnRecord>& records,
                                       const std::map<txn::TxnId, Decision>& decisions,
                                       const AttemptMap& attempt_writes) {
  for (const auto& [id, d] : decisions) {
    if (!d.committed) continue;
    auto a = attempt_writes.find(id);
    if (a == attempt_writes.end()) {
      return Violation{"outcome", absl::StrCat("txn ", id, " committed@", d.ts,
                                               " but no client sent a commit for it")};
    }
    const TxnRecord& r = records[a->second.record];
    if (r.txn != id) {
      return Violation{"outcome", absl::StrCat("txn ", id, " committed@", d.ts,
                                               " but its client retried it as txn ", r.txn,
                                               " after an abort: ", r.ToString())};
    }
    if (r.outcome == TxnOutcome::kFail) {
      return Violation{"outcome",
                       absl::StrCat("txn ", id, " committed@", d.ts,
                                    " but its client was told it failed: ", r.ToString())};
    }
  }
  for (const TxnRecord& r : records) {
    if (r.kind != TxnKind::kReadWrite || r.outcome != TxnOutcome::kOk) continue;
    auto d = decisions.find(r.txn);
    if (d == decisions.end() || !d->second.committed || d->second.ts != r.ts) {
      return Violation{"outcome",
                       absl::StrCat("client told committed@", r.ts, " but the replicas applied ",
                                    d == decisions.end()  ? "no decision"
                                    : d->second.committed ? absl::StrCat("commit@", d->second.ts)
                                                          : "abort",
                                    ": ", r.ToString())};
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckSnapshots(const std::vector<TxnRecord>& records,
                                        const std::map<txn::TxnId, Decision>& decisions,
                                        const AttemptMap& attempt_writes) {
  struct Version {
    Value value;
    txn::TxnId txn = 0;
  };
  std::map<std::string, std::map<txn::Timestamp, Version>> versions;
  for (const auto& [id, d] : decisions) {
    if (!d.committed) continue;
    auto a = attempt_writes.find(id);
    if (a == attempt_writes.end()) continue;  // CheckOutcomes reports it
    for (const auto& [key, value] : a->second.writes) {
      auto [it, inserted] = versions[key].try_emplace(d.ts, Version{value, id});
      if (!inserted) {
        return Violation{"snapshot", absl::StrCat("txns ", it->second.txn, " and ", id,
                                                  " both wrote key ", key, " at ts ", d.ts)};
      }
    }
  }
  auto at = [&](const std::string& key, txn::Timestamp ts, bool inclusive) -> const Version* {
    auto k = versions.find(key);
    if (k == versions.end()) return nullptr;
    auto it = inclusive ? k->second.upper_bound(ts) : k->second.lower_bound(ts);
    if (it == k->second.begin()) return nullptr;
    return &std::prev(it)->second;
  };
  for (const TxnRecord& r : records) {
    if (r.outcome != TxnOutcome::kOk) continue;
    const bool read_only = r.kind != TxnKind::kReadWrite;
    for (const auto& [key, value] : r.reads) {
      const Version* v = at(key, r.ts, /*inclusive=*/read_only);
      const Value expected = v == nullptr ? Value() : v->value;
      if (expected != value) {
        return Violation{
            "snapshot",
            absl::StrCat(read_only ? "read at " : "read-write txn committed at ", r.ts, " read ",
                         key, "=", Show(value), " but the committed version ",
                         read_only ? "at or below" : "below", " that timestamp is ", Show(expected),
                         v == nullptr ? "" : absl::StrCat(" (txn ", v->txn, ")"), ": ",
                         r.ToString())};
      }
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckRealTime(const std::vector<TxnRecord>& records) {
  // Ok read-write transactions by completion time, with the running maximum commit timestamp
  // (globally, and per key written).
  struct Done {
    TrueUs complete_us;
    txn::Timestamp ts;
    size_t record;
  };
  std::vector<Done> global;
  std::map<std::string, std::vector<Done>> per_key;
  for (size_t i = 0; i < records.size(); ++i) {
    const TxnRecord& r = records[i];
    if (r.kind != TxnKind::kReadWrite || r.outcome != TxnOutcome::kOk) continue;
    global.push_back({r.complete_us, r.ts, i});
    for (const auto& [key, value] : r.writes) per_key[key].push_back({r.complete_us, r.ts, i});
  }
  auto prefix_max = [](std::vector<Done>& v) {
    std::sort(v.begin(), v.end(),
              [](const Done& a, const Done& b) { return a.complete_us < b.complete_us; });
    for (size_t i = 1; i < v.size(); ++i) {
      if (v[i].ts < v[i - 1].ts) {
        v[i].ts = v[i - 1].ts;
        v[i].record = v[i - 1].record;
      }
    }
  };
  prefix_max(global);
  for (auto& [key, v] : per_key) prefix_max(v);
  // The newest-timestamped entry of `v` that completed strictly before `t`.
  auto before = [](const std::vector<Done>& v, TrueUs t) -> const Done* {
    auto it = std::lower_bound(v.begin(), v.end(), t,
                               [](const Done& d, TrueUs x) { return d.complete_us < x; });
    return it == v.begin() ? nullptr : &*std::prev(it);
  };
  for (const TxnRecord& r : records) {
    if (r.outcome != TxnOutcome::kOk || !RealTimeRead(r.kind)) continue;
    if (r.kind == TxnKind::kReadWrite) {
      const Done* w = before(global, r.invoke_us);
      if (w != nullptr && r.ts <= w->ts) {
        return Violation{"realtime",
                         absl::StrCat("txn committed@", r.ts, " was invoked after ",
                                      records[w->record].ToString(), " completed, yet ts ", r.ts,
                                      " <= ", w->ts, ": ", r.ToString())};
      }
      continue;
    }
    for (const auto& [key, value] : r.reads) {
      auto k = per_key.find(key);
      if (k == per_key.end()) continue;
      const Done* w = before(k->second, r.invoke_us);
      if (w != nullptr && r.ts < w->ts) {
        return Violation{
            "realtime",
            absl::StrCat("read of ", key, " at ", r.ts, " was invoked after ",
                         records[w->record].ToString(),
                         " completed, yet reads below its commit ts ", w->ts, ": ", r.ToString())};
      }
    }
  }
  return std::nullopt;
}

std::optional<Violation> CheckBank(const std::vector<TxnRecord>& records,
                                   const std::vector<std::string>& accounts, int64_t total) {
  for (const TxnRecord& r : records) {
    if (r.outcome != TxnOutcome::kOk) continue;
    int present = 0;
    int64_t sum = 0;
    bool all_read = true;
    std::string bad;
    for (const std::string& a : accounts) {
      auto it = r.reads.find(a);
      if (it == r.reads.end()) {
        all_read = false;
        break;
      }
      if (!it->second) continue;
      ++present;
      int64_t v = 0;
      const std::string& s = *it->second;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec != std::errc() || p != s.data() + s.size()) {
        bad = absl::StrCat(a, " holds '", s, "', not a number");
      } else if (v < 0) {
        bad = absl::StrCat(a, " is negative (", v, ")");
      }
      sum += v;
    }
    if (!all_read) continue;
    if (bad.empty() && present != 0 && present != static_cast<int>(accounts.size())) {
      bad = absl::StrCat(present, " of ", accounts.size(), " accounts exist (a partial setup)");
    }
    if (bad.empty() && present != 0 && sum != total) {
      bad = absl::StrCat("total ", sum, " != ", total);
    }
    if (!bad.empty()) return Violation{"bank", absl::StrCat(bad, ": ", r.ToString())};
  }
  return std::nullopt;
}

}  // namespace meridian::sim
