// DecisionMemory and BoundedIdSet; see decision_memory.h.
#include "txn/decision_memory.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "common/status_macros.h"

namespace meridian::txn {
namespace {

absl::Status CheckBound(size_t size, size_t cap, const char* what) {
  if (size <= cap) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("the checkpoint holds ", size, " ", what,
                                                    ", more than this manager keeps (", cap,
                                                    "): it was written under other options"));
}

}  // namespace

bool BoundedIdSet::Insert(TxnId txn) {
  if (!ids_.insert(txn).second) return false;
  KeepNewest(txn, cap_, order_, ids_);
  return true;
}

void BoundedIdSet::clear() {
  ids_.clear();
  order_.clear();
}

absl::Status BoundedIdSet::CheckRestore(const std::vector<TxnId>& ids, const char* what) const {
  return CheckBound(ids.size(), cap_, what);
}

void BoundedIdSet::Restore(const std::vector<TxnId>& ids) {
  CHECK(ids.size() <= cap_);
  clear();
  ids_.insert(ids.begin(), ids.end());
  CHECK(ids_.size() == ids.size());
  order_.assign(ids.begin(), ids.end());
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

DecisionMemory::Image DecisionMemory::Save() const {
  Image image;
  image.decisions.assign(decisions_.begin(), decisions_.end());
  std::sort(image.decisions.begin(), image.decisions.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  image.local_decisions.assign(local_decisions_.begin(), local_decisions_.end());
  image.abort_decisions.assign(abort_decisions_.begin(), abort_decisions_.end());
  image.unforgotten_commits.assign(unforgotten_commits_.begin(), unforgotten_commits_.end());
  image.forgotten_commits = forgotten_commits_.Ids();
  image.forgotten_aborts = forgotten_aborts_.Ids();
  return image;
}

absl::Status DecisionMemory::CheckRestore(const Image& image) const {
  // The deques hold at most their bound between calls (KeepNewest, Remember).
  RETURN_IF_ERROR(
      CheckBound(image.local_decisions.size(), max_local_decisions_, "single-group decisions"));
  RETURN_IF_ERROR(
      CheckBound(image.abort_decisions.size(), max_abort_decisions_, "abort decisions"));
  RETURN_IF_ERROR(forgotten_commits_.CheckRestore(image.forgotten_commits, "forgotten commit ids"));
  return forgotten_aborts_.CheckRestore(image.forgotten_aborts, "forgotten abort ids");
}

void DecisionMemory::Restore(Image image) {
  CHECK(decisions_.empty() && local_decisions_.empty() && abort_decisions_.empty());
  CHECK(CheckRestore(image).ok());
  for (auto& [txn, d] : image.decisions) decisions_.emplace(txn, std::move(d));
  CHECK(decisions_.size() == image.decisions.size());
  local_decisions_.assign(image.local_decisions.begin(), image.local_decisions.end());
  abort_decisions_.assign(image.abort_decisions.begin(), image.abort_decisions.end());
  unforgotten_commits_.insert(image.unforgotten_commits.begin(), image.unforgotten_commits.end());
  forgotten_commits_.Restore(image.forgotten_commits);
  forgotten_aborts_.Restore(image.forgotten_aborts);
}

}  // namespace meridian::txn
