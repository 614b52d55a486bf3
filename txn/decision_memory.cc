// DecisionMemory and BoundedIdSet; see decision_memory.h.
#include "txn/decision_memory.h"

#include <utility>

namespace meridian::txn {

bool BoundedIdSet::Insert(TxnId txn) {
  if (!ids_.insert(txn).second) return false;
  KeepNewest(txn, cap_, order_, ids_);
  return true;
}

void BoundedIdSet::clear() {
  ids_.clear();
  order_.clear();
}

DecisionMemory::DecisionMemory(const TransactionManagerOptions& opt)
    : max_local_decisions_(opt.max_local_decisions),
      max_abort_decisions_(opt.max_abort_decisions),
      forgotten_commits_(opt.max_forgotten_ids),
      forgotten_aborts_(opt.max_forgotten_ids) {}

const Decision* DecisionMemory::Find(TxnId txn) const {
  auto it = decisions_.find(txn);
  return it == decisions_.end() ? nullptr : &it->second;
}

void DecisionMemory::Remember(TxnId txn, Decision decision) {
  const bool local = decision.participants.empty();
  const bool committed = decision.committed;
  decisions_.emplace(txn, std::move(decision));
  if (local) {
    KeepNewest(txn, max_local_decisions_, local_decisions_, decisions_);
    return;
  }
  if (committed) {
    unforgotten_commits_.insert(txn);
    return;
  }
  abort_decisions_.push_back(txn);
  while (abort_decisions_.size() > max_abort_decisions_) {
    const TxnId old = abort_decisions_.front();
    abort_decisions_.pop_front();
    decisions_.erase(old);
    forgotten_aborts_.Insert(old);
  }
}

void DecisionMemory::Forget(TxnId txn) {
  auto d = decisions_.find(txn);
  if (d == decisions_.end() || d->second.participants.empty() || !d->second.committed) return;
  decisions_.erase(d);
  unforgotten_commits_.erase(txn);
  forgotten_commits_.Insert(txn);
}

}  // namespace meridian::txn
