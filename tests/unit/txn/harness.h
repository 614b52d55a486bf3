// A tiny in-process harness for 2PC tests of txn::TransactionManager without Paxos: groups of
// replicas, each a manager over an in-memory store and a FakeReplica port; a group log the test
// commits by hand; a queue of group messages the test delivers; and a clock the test advances
// (every replica reads TT.now() = [now - epsilon, now + epsilon]). Everything the managers do —
// proposals, applied records, replies, messages sent, wake-up requests — is printed, for golden
// interaction scripts: a proposal when it is made, a call's Actions once it returns.
// Single-threaded.
#ifndef MERIDIAN_TESTS_UNIT_TXN_HARNESS_H_
#define MERIDIAN_TESTS_UNIT_TXN_HARNESS_H_

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/unit/txn/fake_replica.h"
#include "txn/transaction_manager.h"

namespace meridian::txn::testing {

// A multi-version map: key -> timestamp -> value (nullopt: a delete).
class MapStore : public Store {
 public:
  absl::StatusOr<std::optional<std::string>> Get(std::string_view key, Timestamp ts) override;
  absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes) override;
  absl::StatusOr<std::vector<Row>> Scan(std::string_view start, std::string_view end, Timestamp ts,
                                        size_t limit) override;
  absl::Status WriteVersions(const std::vector<Version>& versions) override;
  absl::StatusOr<uint64_t> EraseVersions(std::string_view start, std::string_view end,
                                         uint64_t limit) override;
  absl::Status RaiseHorizon(Timestamp horizon) override;
  Timestamp horizon() const { return horizon_; }
  size_t versions() const;

 private:
  std::map<std::string, std::map<Timestamp, std::optional<std::string>>, std::less<>> data_;
  Timestamp horizon_ = 0;
};

class Harness {
 public:
  explicit Harness(int64_t epsilon_us = 1000) : epsilon_(epsilon_us) {}

  // Group `g` with replicas 1..n, none leading yet.
  void AddGroup(GroupId g, int replicas, const TransactionManagerOptions& options);
  bool HasGroup(GroupId g) const { return groups_.count(g) != 0; }
  // Replica `r` of `g` leads under a new ballot, with its lease; the others follow it.
  void Lead(GroupId g, int r);
  void SetLease(GroupId g, int r, bool held);
  // A crash and restart: a new store and manager, which replay the committed log.
  void Restart(GroupId g, int r);

  // Calls `f` on the manager of replica `r` of `g` (0: the replica that leads, else replica 1)
  // with its port, the time and a fresh Actions, then prints and carries out the Actions.
  using Call = std::function<void(TransactionManager&, ReplicaPort&, Interval, Actions*)>;
  void Do(GroupId g, int r, const Call& f);
  RequestId NextRequest() { return next_request_++; }

  // Commits the next `count` proposed entries of `g` (all when 0) and applies them on every
  // replica, in log order.
  void Commit(GroupId g, size_t count);
  // The proposals of `g` not committed yet are lost (as a new leader may lose them).
  void DropProposals(GroupId g);
  // Delivers the queued group messages that `filter` accepts, in order, to the replica that leads
  // the target group (dropped when none does); the others stay queued.
  void Deliver(const std::function<bool(const GroupMessage&)>& filter);
  // Queues a second copy of each queued message that `filter` accepts (a duplicating network).
  void Duplicate(const std::function<bool(const GroupMessage&)>& filter);
  void ClearMessages() { queue_.clear(); }
  // Moves time forward and ticks every replica of every group.
  void Tick(int64_t us);

  // One line per replica of `g`: role, leading, prepared, safe time, LastTS, memory.
  void Status(GroupId g);
  // The log of `g`, and the manager of its replica `r`, for tests that check them directly.
  const FakeLog& group_log(GroupId g) const { return groups_.at(g).log; }
  const TransactionManager& manager(GroupId g, int r) const {
    return *groups_.at(g).replicas.at(r - 1).manager;
  }
  int64_t now() const { return now_; }
  Interval Now() const { return Interval{now_ - epsilon_, now_ + epsilon_}; }
  std::vector<std::string>& log() { return log_; }

 private:
  struct Replica {
    std::string name;
    std::unique_ptr<FakeReplica> port;
    std::unique_ptr<MapStore> store;
    std::unique_ptr<TransactionManager> manager;
    size_t applied = 0;
  };
  struct Group {
    TransactionManagerOptions options;
    FakeLog log;
    std::vector<Replica> replicas;  // replica r at r - 1
    int64_t round = 0;
    int leader = 0;
  };

  void Build(Group& group, Replica& replica, GroupId g);
  void ApplyUpTo(Group& group, Replica& replica, bool print);
  void Carry(const std::string& name, Actions& actions);

  const int64_t epsilon_;
  int64_t now_ = 1'000'000;
  std::map<GroupId, Group> groups_;
  std::deque<GroupMessage> queue_;
  std::vector<std::string> log_;
  RequestId next_request_ = 1;
};

// "prepared 2->1 txn=7 ts=5 leader-only", for logs.
std::string MessageToString(const GroupMessage& m);
// "reply r4 OK ts=5 values=[v,<none>]" or "reply r4 ABORTED: why", for logs.
std::string ReplyToString(const Reply& r);

}  // namespace meridian::txn::testing

#endif  // MERIDIAN_TESTS_UNIT_TXN_HARNESS_H_
