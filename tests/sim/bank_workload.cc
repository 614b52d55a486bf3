// The "bank" workload: N accounts (6-16) spread over the groups, set to 100 each by a setup
// transaction; transfers move 1-30 between two random accounts (read both, write both, refuse to
// go negative); audits read every account in a read-write transaction; read-only transactions
// read every account (or a few) at the leader, at the client's now, or at an older timestamp.
// Checker "bank": every successful read of all accounts sees the same total and no negative
// balance (plus the common transaction checkers, txn_workload.h).
//
// Seed: the plan mix from the clients' Random. Faults/checkers: see txn_workload.h.
#include <algorithm>
#include <charconv>
#include <memory>

#include "absl/strings/str_cat.h"
#include "tests/sim/txn_checkers.h"
#include "tests/sim/txn_workload.h"

namespace meridian::sim {
namespace {

constexpr int64_t kInitialBalance = 100;

std::optional<int64_t> Balance(const Value& v) {
  if (!v) return std::nullopt;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || p != v->data() + v->size()) return std::nullopt;
  return n;
}

class BankProgram : public TxnProgram {
 public:
  void Configure(TxnSwarmParams& params) override {
    accounts_.clear();
    for (int i = 0; i < params.keys; ++i) accounts_.push_back(absl::StrCat("acct", i));
  }
  std::vector<std::string> Keys() const override { return accounts_; }

  std::optional<TxnPlan> Setup() override {
    TxnPlan plan;
    plan.label = "setup";
    plan.decide = [accounts = accounts_](const KeyValues&) -> std::optional<KeyValues> {
      KeyValues writes;
      for (const std::string& a : accounts) writes[a] = absl::StrCat(kInitialBalance);
      return writes;
    };
    return plan;
  }

  TxnPlan Next(Random& rng, const TxnSwarmParams& params) override {
    TxnPlan plan;
    if (rng.Bernoulli(params.read_only_p)) {
      plan.read_only = true;
      if (rng.Bernoulli(0.7)) {
        plan.label = "read_all";
        plan.keys = accounts_;
      } else {
        plan.label = "read_some";
        const size_t n = 1 + rng.Uniform(3);
        for (size_t i = 0; i < n; ++i) {
          const std::string& a = accounts_[rng.Uniform(accounts_.size())];
          if (std::find(plan.keys.begin(), plan.keys.end(), a) == plan.keys.end()) {
            plan.keys.push_back(a);
          }
        }
      }
      return plan;
    }
    if (rng.Bernoulli(0.1)) {
      plan.label = "audit";
      plan.keys = accounts_;
      plan.decide = [](const KeyValues&) -> std::optional<KeyValues> { return KeyValues{}; };
      return plan;
    }
    const size_t from = rng.Uniform(accounts_.size());
    size_t to = rng.Uniform(accounts_.size() - 1);
    if (to >= from) ++to;
    const int64_t amount = rng.Range(1, 30);
    plan.label = absl::StrCat("transfer ", amount, " ", accounts_[from], "->", accounts_[to]);
    plan.keys = {accounts_[from], accounts_[to]};
    plan.decide = [a = accounts_[from], b = accounts_[to],
                   amount](const KeyValues& reads) -> std::optional<KeyValues> {
      const std::optional<int64_t> x = Balance(reads.at(a));
      const std::optional<int64_t> y = Balance(reads.at(b));
      if (!x || !y || *x < amount) return std::nullopt;
      return KeyValues{{a, absl::StrCat(*x - amount)}, {b, absl::StrCat(*y + amount)}};
    };
    return plan;
  }

  TxnPlan ReadPlan(const std::vector<std::string>& keys) override {
    TxnPlan plan;
    plan.read_only = true;
    plan.label = "probe";
    plan.keys = keys;
    return plan;
  }

  std::optional<Violation> Check(const std::vector<TxnRecord>& records) override {
    return CheckBank(records, accounts_, kInitialBalance * static_cast<int64_t>(accounts_.size()));
  }

 private:
  std::vector<std::string> accounts_;
};

}  // namespace

SeedResult BankWorkload::RunSeed(uint64_t seed, const RunOptions& options) {
  BankProgram program;
  return RunTxnSeed(seed, options, program);
}

}  // namespace meridian::sim
