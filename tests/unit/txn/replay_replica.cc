// ReplayReplica; see replay_replica.h.
#include "tests/unit/txn/replay_replica.h"

#include <cstddef>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meridian::txn::testing {

ReplayReplica::ReplayReplica(GroupId group, const TransactionManagerOptions& options,
                             const MapStore& store)
    : port_(absl::StrCat("replay-g", group), &log_, &out_),
      store_(store),
      manager_(std::make_unique<TransactionManager>(group, &store_, options)) {}

absl::Status ReplayReplica::ApplyUpTo(const FakeLog& log, paxos::Index to, Interval now) {
  if (to > log.committed) {
    return absl::OutOfRangeError(absl::StrCat("entry ", to, " is not committed"));
  }
  for (paxos::Index i = manager_->applied_index() + 1; i <= to; ++i) {
    paxos::Entry entry;
    entry.index = i;
    entry.command = log.commands[i - 1];
    Actions ignored;
    absl::StatusOr<ApplyResult> r = manager_->Apply(port_, entry, now, &ignored);
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

void ReplayReplica::Lead(const FakeLog& log) {
  const auto applied = static_cast<std::ptrdiff_t>(manager_->applied_index());
  log_.commands.assign(log.commands.begin(), log.commands.begin() + applied);
  log_.committed = log_.commands.size();
  port_.SetRole(true, paxos::Ballot{1, 1}, 1);
}

std::string ReplayReplica::Do(const Harness::Call& call, Interval now) {
  Actions actions;
  call(*manager_, port_, now, &actions);
  std::vector<std::string> lines = std::move(out_);
  out_.clear();
  for (const Reply& reply : actions.replies) lines.push_back(ReplyToString(reply));
  for (const GroupMessage& m : actions.messages) {
    lines.push_back(absl::StrCat("send ", MessageToString(m)));
  }
  if (actions.tick_after != 0) lines.push_back(absl::StrCat("wake at ", actions.tick_after));
  return absl::StrJoin(lines, "\n");
}

}  // namespace meridian::txn::testing
