// The "append" workload (Elle's list-append): keys spread over the groups, each holding a list of
// unique integers. A read-write transaction does 1-4 operations: append a unique integer to key k
// (a locking Read of the current list, then a buffered write of list+[v]) or read key k (the
// list, seeing the transaction's own earlier appends); read-only transactions read 1-4 keys at
// the leader, at the client's now, or at an older timestamp. Each transaction is recorded with
// invoke and completion in true simulated time and its outcome (ok/fail/unknown).
// Checker "append": the history (Elle-style, every transaction but stale snapshot reads, which
// promise nothing in real time) goes to meridian_history's list-append checker
// (tools/history/append_checker.h), which looks for every strict-serializability anomaly without
// trusting timestamps. The common transaction checkers (txn_workload.h) check serializability in
// timestamp order, stale reads included.
//
// Seed: the plan mix from the clients' Random. Faults/checkers: see txn_workload.h.
#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/sim/txn_workload.h"
#include "tools/history/append_checker.h"
#include "tools/history/history.h"

namespace meridian::sim {
namespace {

struct AppendOp {
  bool append = false;
  std::string key;
  int64_t value = 0;  // append only
};

using List = std::vector<int64_t>;

std::optional<List> ParseList(const Value& v) {
  List list;
  if (!v || v->empty()) return list;
  for (absl::string_view part : absl::StrSplit(*v, ' ')) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
    if (ec != std::errc() || p != part.data() + part.size()) return std::nullopt;
    list.push_back(n);
  }
  return list;
}

std::string FormatList(const List& list) { return absl::StrJoin(list, " "); }

class AppendProgram : public TxnProgram {
 public:
  void Configure(TxnSwarmParams& params) override {
    keys_.clear();
    for (int i = 0; i < params.keys; ++i) keys_.push_back(absl::StrCat("k", i));
    ops_.clear();
    next_value_ = 1;
  }
  std::vector<std::string> Keys() const override { return keys_; }
  std::optional<TxnPlan> Setup() override { return std::nullopt; }

  TxnPlan Next(Random& rng, const TxnSwarmParams& params) override {
    TxnPlan plan;
    plan.tag = ops_.size();
    std::vector<AppendOp>& ops = ops_.emplace_back();
    plan.read_only = rng.Bernoulli(params.read_only_p);
    const size_t n = 1 + rng.Uniform(4);
    for (size_t i = 0; i < n; ++i) {
      AppendOp op;
      op.key = keys_[rng.Uniform(keys_.size())];
      op.append = !plan.read_only && rng.Bernoulli(0.6);
      if (op.append) op.value = next_value_++;
      if (std::find(plan.keys.begin(), plan.keys.end(), op.key) == plan.keys.end()) {
        plan.keys.push_back(op.key);
      }
      ops.push_back(op);
    }
    plan.label = plan.read_only ? "ro" : "rw";
    for (const AppendOp& op : ops) {
      absl::StrAppend(&plan.label, op.append ? " a:" : " r:", op.key,
                      op.append ? absl::StrCat("+", op.value) : "");
    }
    if (!plan.read_only) {
      plan.decide = [ops](const KeyValues& reads) -> std::optional<KeyValues> {
        std::map<std::string, List> state;
        for (const auto& [k, v] : reads) {
          std::optional<List> list = ParseList(v);
          if (!list) return std::nullopt;  // garbage: refuse (the checker reports the read)
          state[k] = *list;
        }
        KeyValues writes;
        for (const AppendOp& op : ops) {
          if (!op.append) continue;
          state[op.key].push_back(op.value);
          writes[op.key] = FormatList(state[op.key]);
        }
        return writes;
      };
    }
    return plan;
  }

  TxnPlan ReadPlan(const std::vector<std::string>& keys) override {
    TxnPlan plan;
    plan.read_only = true;
    plan.tag = ops_.size();
    plan.keys = keys;
    plan.label = "probe";
    std::vector<AppendOp>& ops = ops_.emplace_back();
    for (const std::string& k : keys) {
      ops.push_back(AppendOp{false, k, 0});
      absl::StrAppend(&plan.label, " r:", k);
    }
    return plan;
  }

  std::optional<Violation> Check(const std::vector<TxnRecord>& records) override;

 private:
  std::vector<std::string> keys_;
  std::vector<std::vector<AppendOp>> ops_;  // by plan tag
  int64_t next_value_ = 1;
};

std::optional<Violation> AppendProgram::Check(const std::vector<TxnRecord>& records) {
  namespace h = meridian::history;
  // Events in true-time order. A client whose transaction ended unknown is retired (its invoke
  // stays pending: info) and continues as a new process, as in Jepsen.
  struct Timed {
    TrueUs t;
    int order;  // completions before invokes at one instant (no real-time edge either way)
    size_t seq;
    h::Event event;
  };
  std::vector<Timed> timed;
  std::map<size_t, int64_t> process_of_client;
  int64_t next_process = static_cast<int64_t>(records.size()) + 1;
  for (size_t i = 0; i < records.size(); ++i) {
    const TxnRecord& r = records[i];
    if (r.kind == TxnKind::kSnapshotStale) continue;  // no real-time promise: left out
    auto [p, inserted] = process_of_client.try_emplace(r.client, static_cast<int64_t>(r.client));
    const int64_t process = p->second;
    const std::vector<AppendOp>& ops = ops_[r.tag];
    h::Event invoke;
    invoke.type = h::EventType::kInvoke;
    invoke.process = process;
    invoke.time_us = r.invoke_us;
    for (const AppendOp& op : ops) {
      invoke.txn.push_back(op.append ? h::Append(op.key, op.value) : h::Read(op.key));
    }
    timed.push_back({r.invoke_us, 1, timed.size(), invoke});
    if (r.outcome == TxnOutcome::kUnknown) {
      p->second = next_process++;
      continue;
    }
    h::Event done = invoke;
    done.time_us = r.complete_us;
    if (r.outcome == TxnOutcome::kFail) {
      done.type = h::EventType::kFail;
    } else {
      done.type = h::EventType::kOk;
      done.commit_ts = r.ts;
      std::map<std::string, List> state;
      for (const auto& [k, v] : r.reads) {
        std::optional<List> list = ParseList(v);
        if (!list) {
          return Violation{"append",
                           absl::StrCat("unparsable list '", v.value_or(""), "': ", r.ToString())};
        }
        state[k] = *std::move(list);
      }
      done.txn.clear();
      for (const AppendOp& op : ops) {
        if (op.append) {
          state[op.key].push_back(op.value);
          done.txn.push_back(h::Append(op.key, op.value));
        } else {
          done.txn.push_back(h::Read(op.key, state[op.key]));
        }
      }
    }
    timed.push_back({r.complete_us, 0, timed.size(), std::move(done)});
  }
  std::sort(timed.begin(), timed.end(), [](const Timed& a, const Timed& b) {
    return std::tie(a.t, a.order, a.seq) < std::tie(b.t, b.order, b.seq);
  });
  h::HistoryBuilder builder;
  for (Timed& t : timed) {
    absl::StatusOr<int64_t> added = builder.Add(std::move(t.event));
    if (!added.ok()) {
      return Violation{"append", absl::StrCat("bad history: ", added.status().ToString())};
    }
  }
  absl::StatusOr<h::CheckResult> result = h::CheckAppendHistory(builder.history());
  if (!result.ok()) {
    return Violation{"append",
                     absl::StrCat("checker refused the history: ", result.status().ToString())};
  }
  if (result->ok) return std::nullopt;
  std::string detail = result->summary;
  if (!result->anomalies.empty())
    absl::StrAppend(&detail, " first: ", result->anomalies[0].ToString());
  for (char& ch : detail) {
    if (ch == '\n') ch = ' ';
  }
  return Violation{"append", detail};
}

}  // namespace

SeedResult AppendWorkload::RunSeed(uint64_t seed, const RunOptions& options) {
  AppendProgram program;
  return RunTxnSeed(seed, options, program);
}

}  // namespace meridian::sim
