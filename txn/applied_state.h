// txn::AppliedState: what the applied log has made of a replica's data — the versions written
// through the Store, the newest commit timestamp among them (LastTS), t_paxos_safe (the highest
// record timestamp applied), and the index of the last entry applied.
//
// Invariant: paxos_safe() only grows. Records take effect in increasing timestamp order: one at
// or below paxos_safe() changes nothing here, identically on every replica.
//
// Owned by the TransactionManager, shared by its parts. Thread safety: none.
#ifndef MERIDIAN_TXN_APPLIED_STATE_H_
#define MERIDIAN_TXN_APPLIED_STATE_H_

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"
#include "txn/types.h"

namespace meridian::txn {

class AppliedState {
 public:
  // `store` is not owned and must outlive this.
  explicit AppliedState(Store* store) : store_(store) {}

  // Writes `writes` as the versions at `ts` and raises LastTS to `ts`; on a Store error nothing
  // changes here (the replica must stop: the log and the store disagree).
  absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes);
  // The newest version at or below `ts` of each key, in order.
  absl::StatusOr<std::vector<std::optional<std::string>>> Read(const std::vector<std::string>& keys,
                                                               Timestamp ts) const;

  // The first `limit` keys of `range` with a value at or below `ts` (Store::Scan).
  absl::StatusOr<std::vector<Row>> Scan(const KeyRange& range, Timestamp ts, size_t limit) const {
    return store_->Scan(range.start, range.end, ts, limit);
  }

  Store* store() const { return store_; }
  Timestamp last_write_ts() const { return last_write_ts_; }
  // Data that arrived otherwise than through Write (a range adopted from another group, whose
  // versions are all below `ts`) counts as written at `ts`: a strong read-only transaction reads
  // at LastTS when nothing is prepared, and must see it.
  void RaiseLastWrite(Timestamp ts) { last_write_ts_ = std::max(last_write_ts_, ts); }
  Timestamp paxos_safe() const { return paxos_safe_; }
  void set_paxos_safe(Timestamp ts) { paxos_safe_ = ts; }
  paxos::Index index() const { return index_; }
  void set_index(paxos::Index index) { index_ = index; }

  // --- Checkpoints (txn/checkpoint.h): the fields above. The versions are not in an image:
  // they are the Store's, which must hold them when the image is restored.
  struct Image {
    paxos::Index index = 0;
    Timestamp last_write_ts = 0;
    Timestamp paxos_safe = 0;
  };
  Image Save() const { return Image{index_, last_write_ts_, paxos_safe_}; }
  void Restore(const Image& image) {
    index_ = image.index;
    last_write_ts_ = image.last_write_ts;
    paxos_safe_ = image.paxos_safe;
  }

 private:
  Store* const store_;
  Timestamp last_write_ts_ = 0;
  Timestamp paxos_safe_ = 0;
  paxos::Index index_ = 0;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_APPLIED_STATE_H_
