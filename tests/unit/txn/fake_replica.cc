#include "tests/unit/txn/fake_replica.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "txn/records.h"

namespace meridian::txn::testing {

void FakeReplica::SetRole(bool leads, const paxos::Ballot& ballot, paxos::ReplicaId leader) {
  leads_ = leads;
  lease_ = leads;
  ballot_ = ballot;
  leader_ = leader;
}

absl::StatusOr<paxos::Index> FakeReplica::LeaseRead(truetime::Interval now) {
  if (!HasLease(now)) return absl::UnavailableError(absl::StrCat(name_, ": no lease"));
  return log_->committed;
}

absl::StatusOr<truetime::Timestamp> FakeReplica::AssignTimestamp(truetime::Interval now,
                                                                 truetime::Timestamp at_least) {
  if (!HasLease(now)) return absl::UnavailableError(absl::StrCat(name_, ": no lease"));
  last_assigned_ = std::max({last_assigned_ + 1, at_least, now.latest});
  return last_assigned_;
}

absl::StatusOr<paxos::Index> FakeReplica::Propose(std::string command, truetime::Interval) {
  if (!leads_) return absl::UnavailableError(absl::StrCat(name_, ": not the leader"));
  log_->commands.push_back(std::move(command));
  const paxos::Index index = log_->commands.size();
  absl::StatusOr<Record> record = DecodeRecord(log_->commands.back());
  out_->push_back(absl::StrCat(name_, " propose #", index, " ",
                               record.ok() ? RecordToString(*record) : record.status().ToString()));
  return index;
}

}  // namespace meridian::txn::testing
