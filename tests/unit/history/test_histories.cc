#include "tests/unit/history/test_histories.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/random.h"

namespace meridian::history::testing {
namespace {

std::vector<Op> WithoutResults(std::vector<Op> ops) {
  for (Op& op : ops) op.read.reset();
  return ops;
}

// The model: lists by key, and the keys transactions pick from.
class Model {
 public:
  Model(Random& random, const RandomOptions& options) : random_(random), options_(options) {
    for (int i = 0; i < options_.keys; ++i) live_.push_back(NewKey());
  }

  // Random ops, reads unfilled.
  std::vector<Op> RandomTxn() {
    std::vector<Op> ops;
    const int n = static_cast<int>(random_.Range(1, options_.max_ops));
    for (int i = 0; i < n; ++i) {
      const size_t slot = random_.Uniform(live_.size());
      const std::string key = live_[slot];
      if (random_.Bernoulli(0.5)) {
        ops.push_back(Read(key));
      } else {
        ops.push_back(Append(key, next_value_++));
        if (++appends_[key] >= options_.appends_per_key) live_[slot] = NewKey();
      }
    }
    return ops;
  }

  // Applies `ops` atomically and fills in the reads.
  void Apply(std::vector<Op>* ops) {
    for (Op& op : *ops) {
      if (op.kind == OpKind::kAppend) {
        lists_[op.key].push_back(op.value);
      } else {
        op.read = lists_[op.key];
      }
    }
  }

  std::vector<Op> ReadAll() const {
    std::vector<Op> ops;
    for (const std::string& key : all_) ops.push_back(Read(key));
    return ops;
  }

  EventType Outcome() {
    const double p = random_.NextDouble();
    if (p < options_.fail_rate) return EventType::kFail;
    if (p < options_.fail_rate + options_.info_rate) return EventType::kInfo;
    return EventType::kOk;
  }

 private:
  std::string NewKey() {
    all_.push_back(absl::StrCat("k", all_.size()));
    return all_.back();
  }

  Random& random_;
  const RandomOptions& options_;
  std::vector<std::string> live_;
  std::vector<std::string> all_;
  std::map<std::string, int> appends_;
  std::map<std::string, std::vector<int64_t>> lists_;
  int64_t next_value_ = 1;
};

void MustOk(const absl::StatusOr<int64_t>& index) {
  CHECK_MSG(index.ok(), index.status().ToString());
}

// Completes `ops` on `process` with `outcome` at `time`, applying it to the model as it should.
void Complete(Model& model, Random& random, HistoryBuilder& builder, int64_t process, int64_t time,
              EventType outcome, std::vector<Op> ops) {
  switch (outcome) {
    case EventType::kOk:
      model.Apply(&ops);
      MustOk(builder.Ok(process, time, std::move(ops)));
      break;
    case EventType::kFail:
      MustOk(builder.Fail(process, time));
      break;
    default:
      if (random.Bernoulli(0.5)) model.Apply(&ops);
      MustOk(builder.Info(process, time));
  }
}

void FinalRead(Model& model, HistoryBuilder& builder, int64_t time) {
  std::vector<Op> ops = model.ReadAll();
  MustOk(builder.Invoke(0, time, ops));
  model.Apply(&ops);
  MustOk(builder.Ok(0, time + 1, std::move(ops)));
}

}  // namespace

History MakeHistory(const std::vector<TxnSpec>& txns) {
  struct Pending {
    int64_t time;
    size_t order;
    Event event;
  };
  std::vector<Pending> events;
  for (const TxnSpec& t : txns) {
    Event invoke{.type = EventType::kInvoke,
                 .process = t.process,
                 .time_us = t.start,
                 .txn = WithoutResults(t.ops),
                 .commit_ts = std::nullopt};
    events.push_back(Pending{t.start, events.size(), std::move(invoke)});
    if (t.end < 0) continue;
    Event done{.type = t.outcome,
               .process = t.process,
               .time_us = t.end,
               .txn = t.outcome == EventType::kOk ? t.ops : WithoutResults(t.ops),
               .commit_ts = std::nullopt};
    events.push_back(Pending{t.end, events.size(), std::move(done)});
  }
  std::sort(events.begin(), events.end(), [](const Pending& a, const Pending& b) {
    return std::tie(a.time, a.order) < std::tie(b.time, b.order);
  });
  History history;
  for (Pending& p : events) {
    p.event.index = static_cast<int64_t>(history.size());
    history.push_back(std::move(p.event));
  }
  const absl::Status valid = ValidateHistory(history);
  CHECK_MSG(valid.ok(), valid.ToString());
  return history;
}

History RandomSerialHistory(uint64_t seed, const RandomOptions& options) {
  Random random(seed);
  Model model(random, options);
  HistoryBuilder builder;
  int64_t time = 1000;
  for (int i = 0; i < options.txns; ++i) {
    const int64_t process = static_cast<int64_t>(random.Uniform(options.processes));
    std::vector<Op> ops = model.RandomTxn();
    MustOk(builder.Invoke(process, time, ops));
    time += random.Range(1, 5);
    Complete(model, random, builder, process, time, model.Outcome(), std::move(ops));
    time += random.Range(1, 5);
  }
  if (options.final_read) FinalRead(model, builder, time);
  return std::move(builder).Take();
}

History RandomConcurrentHistory(uint64_t seed, const RandomOptions& options) {
  Random random(seed);
  Model model(random, options);
  HistoryBuilder builder;
  std::vector<std::optional<std::vector<Op>>> pending(options.processes);
  int64_t time = 1000;
  int invoked = 0;
  while (true) {
    std::vector<int64_t> busy;
    for (size_t p = 0; p < pending.size(); ++p) {
      if (pending[p].has_value()) busy.push_back(static_cast<int64_t>(p));
    }
    const bool can_invoke = invoked < options.txns;
    if (!can_invoke && busy.empty()) break;
    // Once every transaction is invoked, only complete.
    const int64_t process = can_invoke ? static_cast<int64_t>(random.Uniform(options.processes))
                                       : busy[random.Uniform(busy.size())];
    auto& slot = pending[process];
    if (!slot.has_value()) {
      slot = model.RandomTxn();
      MustOk(builder.Invoke(process, time, *slot));
      ++invoked;
    } else {
      Complete(model, random, builder, process, time, model.Outcome(), *std::move(slot));
      slot.reset();
    }
    time += random.Range(0, 3);
  }
  if (options.final_read) FinalRead(model, builder, time + 1);
  return std::move(builder).Take();
}

}  // namespace meridian::history::testing
