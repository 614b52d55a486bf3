// TxnTablet: the checks and hooks of range moves and splits (the checks themselves are
// txn::RangeGuard's); see txn_tablet.h.
#include <string>
#include <utility>

#include "spanserver/tablet/txn_tablet.h"

namespace meridian::tablet {

bool TxnTablet::RefuseKeys(truetime::Interval now, const std::vector<std::string_view>& keys,
                           bool locking, ReplyFn& done) {
  absl::Status refusal = guard_.CheckKeys(manager_->ownership(), now.earliest, keys, locking);
  if (refusal.ok()) return false;
  txn::Reply r;
  r.status = std::move(refusal);
  done(std::move(r));
  return true;
}

bool TxnTablet::RefuseRanges(truetime::Interval now, const std::vector<txn::KeyRange>& ranges,
                             bool locking, ReplyFn& done) {
  absl::Status refusal;
  for (const txn::KeyRange& range : ranges) {
    refusal = guard_.CheckRange(manager_->ownership(), now.earliest, range, locking);
    if (!refusal.ok()) break;
  }
  if (refusal.ok()) return false;
  txn::Reply r;
  r.status = std::move(refusal);
  done(std::move(r));
  return true;
}

absl::Status TxnTablet::CheckServed(std::string_view start, std::string_view end) const {
  return guard_.CheckServed(manager_->ownership(), start, end);
}

void TxnTablet::Fence(paxos::Replica& r, truetime::Interval now, const txn::RangeClaim& range,
                      int64_t until_us) {
  guard_.Fence(range, until_us);
  txn::Actions a;
  txn::PaxosReplicaPort port(r);
  manager_->WoundIn(port, now, range.start, range.end, &a);
  Dispatch(std::move(a));
}

size_t TxnTablet::BusyIn(std::string_view start, std::string_view end) const {
  return manager_->BusyIn(start, end);
}

}  // namespace meridian::tablet
