// paxos::Replica, part three: membership changes (see replica.h, "Membership changes").
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/check.h"
#include "spanserver/paxos/codec.h"
#include "spanserver/paxos/replica.h"

namespace meridian::paxos {
namespace {

// Voters in one configuration and not in the other, counted both ways.
size_t VoterChanges(const Config& a, const Config& b) {
  size_t changes = 0;
  for (ReplicaId id : a.voters) changes += b.IsVoter(id) ? 0 : 1;
  for (ReplicaId id : b.voters) changes += a.IsVoter(id) ? 0 : 1;
  return changes;
}

}  // namespace

bool Replica::IsMember(ReplicaId id) const {
  if (config_.Contains(id)) return true;
  const auto in = [id](const std::vector<ReplicaId>& ids) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  };
  return in(hard_.members) || in(hard_.learners);
}

void Replica::LoadConfig() {
  bool more = false;
  const Index from = std::max({hard_.config_index, compacted_, commit_}) + 1;
  for (const Entry& e : CollectEntries(from, last_index_, SIZE_MAX, &more)) {
    if (e.type == EntryType::kConfig) OnEntryPut(e);
  }
  RefreshConfig();
}

void Replica::OnEntryPut(const Entry& e) {
  if (e.index <= hard_.config_index) return;
  if (e.type == EntryType::kConfig) {
    absl::StatusOr<Config> config = DecodeConfig(e.command);
    CHECK_MSG(config.ok(), absl::StrCat("group ", options_.group, " slot ", e.index, ": ",
                                        config.status().ToString()));
    if (!pending_config_ || pending_config_->first <= e.index) {
      pending_config_ = std::make_pair(e.index, *std::move(config));
      RefreshConfig();
    }
  } else if (pending_config_ && pending_config_->first == e.index) {
    pending_config_.reset();  // overwritten: that configuration was never chosen
    RefreshConfig();
  }
}

void Replica::OnEntryCommitted(const Entry& e) {
  if (e.type != EntryType::kConfig || e.index <= hard_.config_index) return;
  absl::StatusOr<Config> config = DecodeConfig(e.command);
  CHECK_MSG(config.ok(), absl::StrCat("group ", options_.group, " slot ", e.index, ": ",
                                      config.status().ToString()));
  CommitConfig(*config, e.index);
}

void Replica::CommitConfig(const Config& config, Index index) {
  hard_.members = config.voters;
  hard_.learners = config.learners;
  hard_.config_index = index;
  hard_dirty_ = true;
  if (pending_config_ && pending_config_->first <= index) pending_config_.reset();
  RefreshConfig();
}

void Replica::RefreshConfig() {
  if (pending_config_) {
    config_ = pending_config_->second;
    config_index_ = pending_config_->first;
  } else {
    config_ = Config{hard_.members, hard_.learners};
    config_index_ = hard_.config_index;
  }
  // Peers: the configuration in effect, and while it is not committed the committed one too, so
  // that a replica being removed still learns of it (and a reverted change needs no re-adding).
  std::set<ReplicaId> wanted;
  for (ReplicaId id : config_.voters) wanted.insert(id);
  for (ReplicaId id : config_.learners) wanted.insert(id);
  if (pending_config_) {
    wanted.insert(hard_.members.begin(), hard_.members.end());
    wanted.insert(hard_.learners.begin(), hard_.learners.end());
  }
  wanted.erase(options_.id);
  for (auto it = peers_.begin(); it != peers_.end();) {
    it = wanted.contains(it->first) ? std::next(it) : peers_.erase(it);
  }
  for (ReplicaId id : wanted) {
    auto [it, added] = peers_.try_emplace(id);
    // A new peer starts from our commit point, as every peer does when we start leading.
    if (added) it->second.next = commit_ + 1;
    it->second.voter = CountsAsVoter(id);
  }
  if (!IsVoter() && role_ != Role::kFollower) BecomeFollower(ballot_, leader_, last_now_);
  UpdateLease(last_now_);  // backed by this configuration's voters only
}

absl::StatusOr<Index> Replica::ProposeConfig(const Config& next, Interval now) {
  last_now_ = now;
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError("only the leader can change the configuration");
  }
  if (pending_config_ && !options_.testing_two_config_changes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the configuration change in slot ", pending_config_->first, " is not committed yet"));
  }
  if (commit_ < first_own_index_) {
    return absl::FailedPreconditionError("the new leader has not committed its first entry yet");
  }
  std::set<ReplicaId> seen;
  for (ReplicaId id : next.voters) seen.insert(id);
  for (ReplicaId id : next.learners) seen.insert(id);
  if (next.voters.empty() || seen.contains(kNoReplica) ||
      seen.size() != next.voters.size() + next.learners.size()) {
    return absl::FailedPreconditionError(
        "a configuration needs at least one voter and lists each replica once");
  }
  if (VoterChanges(config_, next) > 1 && !options_.testing_two_config_changes) {
    return absl::FailedPreconditionError(
        absl::StrCat("from ", config_.ToString(), " to ", next.ToString(),
                     " changes more than one voter; change one at a time"));
  }
  if (!next.IsVoter(options_.id)) {
    return absl::FailedPreconditionError(
        "the leader cannot remove itself as a voter; transfer the leadership first");
  }
  const Index index = last_index_ + 1;
  PutEntry(Entry{index, ballot_, EntryType::kConfig, EncodeConfig(next)});
  return index;
}

}  // namespace meridian::paxos
