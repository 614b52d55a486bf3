// A replica outside the Harness, for checkpoint tests: a manager over its own MapStore and
// FakeReplica port, fed a group's committed log by hand as a follower — so that it can stop at
// any entry, write or restore a checkpoint there and go on — and then made the leader of its own
// copy of that log, to show how it answers requests. Its proposals go to that copy only.
//
// Thread safety: none; single-threaded tests.
#ifndef MERIDIAN_TESTS_UNIT_TXN_REPLAY_REPLICA_H_
#define MERIDIAN_TESTS_UNIT_TXN_REPLAY_REPLICA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/unit/txn/fake_replica.h"
#include "tests/unit/txn/harness.h"
#include "txn/transaction_manager.h"

namespace meridian::txn::testing {

class ReplayReplica {
 public:
  // A fresh manager of `group` over a copy of `store`.
  ReplayReplica(GroupId group, const TransactionManagerOptions& options, const MapStore& store);

  ReplayReplica(const ReplayReplica&) = delete;
  ReplayReplica& operator=(const ReplayReplica&) = delete;

  TransactionManager& manager() { return *manager_; }
  const MapStore& store() const { return store_; }

  // Applies the committed entries of `log` after the manager's applied index, up to `to`, at
  // `now`, as a follower. Stops at the first error and returns it.
  absl::Status ApplyUpTo(const FakeLog& log, paxos::Index to, Interval now);

  // From now on this replica leads, with its lease, its own copy of `log` committed up to the
  // manager's applied index.
  void Lead(const FakeLog& log);
  // Runs `call` on the manager and its port, and returns what it did, a line each: proposals,
  // then replies, messages sent and the wake-up asked for.
  std::string Do(const Harness::Call& call, Interval now);

 private:
  FakeLog log_;
  std::vector<std::string> out_;
  FakeReplica port_;
  MapStore store_;
  std::unique_ptr<TransactionManager> manager_;
};

}  // namespace meridian::txn::testing

#endif  // MERIDIAN_TESTS_UNIT_TXN_REPLAY_REPLICA_H_
