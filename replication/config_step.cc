#include "replication/config_step.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace meridian::replication {
namespace {

bool Contains(const std::vector<paxos::ReplicaId>& ids, paxos::ReplicaId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

std::vector<paxos::ReplicaId> Without(std::vector<paxos::ReplicaId> ids, paxos::ReplicaId id) {
  ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
  return ids;
}

ConfigStep Propose(paxos::Config config, std::string why) {
  return ConfigStep{ConfigStep::Kind::kPropose, std::move(config), paxos::kNoReplica,
                    std::move(why)};
}

}  // namespace

ConfigStep NextConfigStep(const paxos::Config& current, bool change_pending,
                          const std::vector<paxos::ReplicaId>& wanted, paxos::ReplicaId self,
                          const std::function<bool(paxos::ReplicaId)>& caught_up) {
  if (change_pending || wanted.empty()) return {};
  for (paxos::ReplicaId id : current.learners) {
    if (!Contains(wanted, id)) {
      return Propose({current.voters, Without(current.learners, id)},
                     absl::StrCat("learner ", id, " is no longer wanted"));
    }
  }
  for (paxos::ReplicaId id : wanted) {
    if (!current.Contains(id)) {
      paxos::Config next = current;
      next.learners.push_back(id);
      return Propose(std::move(next), absl::StrCat("replica ", id, " joins as a learner"));
    }
  }
  for (paxos::ReplicaId id : current.learners) {
    if (caught_up(id)) {
      paxos::Config next{current.voters, Without(current.learners, id)};
      next.voters.push_back(id);
      return Propose(std::move(next), absl::StrCat("learner ", id, " caught up and votes"));
    }
  }
  for (paxos::ReplicaId id : wanted) {
    if (!current.IsVoter(id)) return {};  // still learning: keep every voter meanwhile
  }
  for (paxos::ReplicaId id : current.voters) {
    if (Contains(wanted, id)) continue;
    if (id != self) {
      return Propose({Without(current.voters, id), current.learners},
                     absl::StrCat("voter ", id, " is no longer wanted"));
    }
    for (paxos::ReplicaId to : wanted) {
      if (to != self && caught_up(to)) {
        return ConfigStep{ConfigStep::Kind::kTransferLeadership,
                          {},
                          to,
                          absl::StrCat("this leader is no longer wanted; handing over to ", to)};
      }
    }
    return {};
  }
  return {};
}

std::string TakeConfigStep(paxos::Replica& r, const std::vector<paxos::ReplicaId>& wanted,
                           truetime::Interval now) {
  const ConfigStep step = NextConfigStep(r.config(), r.config_change_pending(), wanted, r.id(),
                                         [&r](paxos::ReplicaId id) {
                                           const paxos::Index match = r.match_of(id);
                                           return match > 0 && match + kCaughtUpLag >= r.commit();
                                         });
  switch (step.kind) {
    case ConfigStep::Kind::kNone:
      return "";
    case ConfigStep::Kind::kPropose: {
      absl::StatusOr<paxos::Index> index = r.ProposeConfig(step.config, now);
      return absl::StrCat(
          "configuration ", step.config.ToString(), " (", step.why, "): ",
          index.ok() ? absl::StrCat("proposed in slot ", *index) : index.status().ToString());
    }
    case ConfigStep::Kind::kTransferLeadership: {
      const absl::Status s = r.TransferLeadership(step.transfer_to, now);
      return step.why + (s.ok() ? "" : ": " + s.ToString());
    }
  }
  return "";
}

}  // namespace meridian::replication
