// The bounded memories of the transaction manager: what a coordinator remembers of its decisions
// (DecisionMemory), and the sets of ids kept for the newest N transactions (BoundedIdSet) that a
// participant's applied outcomes and a leader's recent aborts use.
//
// Every bound drops the oldest entries first. On replicated state the calls happen in log order,
// so every replica keeps the same entries, and a replay after a restart rebuilds them exactly, as
// does restoring a checkpoint (txn/checkpoint.h): Save and Restore carry every order verbatim.
//
// What a coordinator must never do is answer "aborted" (presumed abort) for a transaction it
// committed, or decide twice. Hence:
//   * single-group decisions (no participants; every Kv put is one) are kept for
//     max_local_decisions later ones, only to answer a duplicated Commit with the first outcome;
//   * commit decisions with participants are kept until every participant acknowledged applying
//     the outcome (a forget record), then only their id is kept (max_forgotten_ids), so that a
//     stale inquiry, abort or Commit about one is ignored or refused;
//   * abort decisions with participants are kept for max_abort_decisions later ones, then only
//     their id (max_forgotten_ids): enough to refuse a late Commit and to answer "aborted".
//
// Thread safety: none.
#ifndef MERIDIAN_TXN_DECISION_MEMORY_H_
#define MERIDIAN_TXN_DECISION_MEMORY_H_

#include <cstddef>
#include <deque>
#include <set>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "txn/options.h"
#include "txn/types.h"

namespace meridian::txn {

// Records `txn` as the newest entry of `order`, and erases the oldest ones from `container` (and
// `order`) past `cap`. An id erased from `container` by other means stays in `order` and still
// counts against the cap until it is the oldest.
template <typename Container>
void KeepNewest(TxnId txn, size_t cap, std::deque<TxnId>& order, Container& container) {
  order.push_back(txn);
  while (order.size() > cap) {
    container.erase(order.front());
    order.pop_front();
  }
}

// The ids of the newest `cap` transactions inserted.
class BoundedIdSet {
 public:
  explicit BoundedIdSet(size_t cap) : cap_(cap) {}

  bool contains(TxnId txn) const { return ids_.contains(txn); }
  // Adds `txn` as the newest id, dropping the oldest past the cap (with cap 0, `txn` itself).
  // False, and nothing changes, when `txn` is there already.
  bool Insert(TxnId txn);
  size_t size() const { return ids_.size(); }
  void clear();

  // The ids, oldest first: what Insert would have to be given again to rebuild this set.
  std::vector<TxnId> Ids() const { return {order_.begin(), order_.end()}; }
  // FAILED_PRECONDITION unless `ids` fit the cap (an image written under other options).
  absl::Status CheckRestore(const std::vector<TxnId>& ids, const char* what) const;
  // Replaces the contents with `ids`, oldest first. Requires distinct ids, CheckRestore OK.
  void Restore(const std::vector<TxnId>& ids);

 private:
  const size_t cap_;
  absl::flat_hash_set<TxnId> ids_;
  std::deque<TxnId> order_;  // oldest first
};

// A coordinator's decision, as its record applied.
struct Decision {
  bool committed = false;
  Timestamp commit_ts = 0;  // when committed
  std::vector<GroupId> participants;

  friend bool operator==(const Decision&, const Decision&) = default;
};

class DecisionMemory {
 public:
  explicit DecisionMemory(const TransactionManagerOptions& opt);

  // The decision on `txn` while it is kept; null otherwise.
  const Decision* Find(TxnId txn) const;
  bool ForgottenCommit(TxnId txn) const { return forgotten_commits_.contains(txn); }
  bool ForgottenAbort(TxnId txn) const { return forgotten_aborts_.contains(txn); }
  // Decided long ago: only the id is left.
  bool Forgotten(TxnId txn) const { return ForgottenCommit(txn) || ForgottenAbort(txn); }
  // Decided, whether the decision is kept or only its id: a second decision must be ignored.
  bool Known(TxnId txn) const { return Find(txn) != nullptr || Forgotten(txn); }

  // Keeps the decision on `txn` (not Known), then applies the bounds above.
  void Remember(TxnId txn, Decision decision);
  // A forget record names `txn`: a kept commit decision with participants leaves only its id.
  // Anything else is left alone (aborts are bounded by count instead).
  void Forget(TxnId txn);

  // Commit decisions with participants that are still kept: what the leader asks acks for.
  const std::set<TxnId>& unforgotten_commits() const { return unforgotten_commits_; }
  size_t size() const { return decisions_.size(); }
  size_t forgotten_ids() const { return forgotten_commits_.size() + forgotten_aborts_.size(); }

  // --- Checkpoints (txn/checkpoint.h): everything here is replicated state.
  struct Image {
    std::vector<std::pair<TxnId, Decision>> decisions;  // by id, ascending
    // Verbatim, oldest first: each may name ids no longer in `decisions`, which still count
    // against their bound until they are the oldest.
    std::vector<TxnId> local_decisions;
    std::vector<TxnId> abort_decisions;
    std::vector<TxnId> unforgotten_commits;  // ascending
    std::vector<TxnId> forgotten_commits;    // oldest first
    std::vector<TxnId> forgotten_aborts;     // oldest first
  };
  Image Save() const;
  // FAILED_PRECONDITION when `image` exceeds this memory's bounds (written under other options).
  absl::Status CheckRestore(const Image& image) const;
  // Replaces the (empty) memory with `image`. Requires CheckRestore OK and distinct ids in
  // `decisions`, `unforgotten_commits` and each forgotten list (DecodeCheckpoint checks them).
  void Restore(Image image);

 private:
  const size_t max_local_decisions_;
  const size_t max_abort_decisions_;
  // Looked up on every commit and inquiry, never walked: hashed (a tree's lookups cost a few
  // percent of a busy server's CPU). Node-based, so a pointer survives other insertions.
  absl::node_hash_map<TxnId, Decision> decisions_;
  std::deque<TxnId> local_decisions_;  // decisions without participants, oldest first
  std::deque<TxnId> abort_decisions_;  // abort decisions with participants, oldest first
  // A set, not a scan of decisions_: that would be every single-group decision too.
  std::set<TxnId> unforgotten_commits_;
  BoundedIdSet forgotten_commits_;
  BoundedIdSet forgotten_aborts_;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_DECISION_MEMORY_H_
