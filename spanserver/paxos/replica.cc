#include "spanserver/paxos/replica.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "common/check.h"

namespace meridian::paxos {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kFollower:
      return "follower";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "unknown";
}

bool Ready::Empty() const {
  return !soft_state && !hard_state && entries.empty() && messages.empty() &&
         messages_after_persist.empty() && committed.empty() && !snapshot_request;
}

Replica::Replica(const Options& options, LogStorage* storage, Interval now)
    : options_(options),
      storage_(storage),
      rng_(options.seed ^ (options.id * 0x9e3779b97f4a7c15ULL)) {
  CHECK(options_.id != kNoReplica);
  CHECK(storage_ != nullptr);
  last_now_ = now;
  hard_ = storage_->LoadHardState();
  if (hard_.members.empty()) {
    hard_.members = options_.members;
    hard_.learners = options_.learners;
    hard_dirty_ = true;
  }
  durable_promised_ = hard_.promised;
  ballot_ = hard_.promised;
  compacted_ = storage_->Compacted();
  last_index_ = std::max(storage_->LastIndex(), compacted_);
  applied_ = options_.applied;
  commit_ = std::min(applied_, last_index_);
  if (applied_ < compacted_) {
    // The state machine restarted behind the log's first slot (a snapshot's install was cut
    // short): the compacted slots are chosen, but only a snapshot can bring it past them.
    commit_ = compacted_;
    snapshot_needed_ = true;
  }
  local_match_ = commit_;
  persisted_match_ = commit_;
  // A replica that may have voted before a restart cannot know for whom, so it votes for no one
  // until a whole lease has passed. One that never promised anything never voted.
  if (!hard_.promised.IsZero() || last_index_ > 0) {
    vote_end_ = now.latest + options_.lease_us;
  }
  LoadConfig();
  CHECK_MSG(IsMember(options_.id), "a replica must be a member of its own group");
  ResetElectionTimer(now);
}

void Replica::ResetElectionTimer(Interval now) {
  const int64_t timeout = options_.election_timeout_us;
  election_deadline_ =
      Local(now) + timeout + static_cast<int64_t>(rng_.Uniform(static_cast<uint64_t>(timeout) + 1));
}

// ---------------------------------------------------------------------------------------------
// Log access.

std::optional<Entry> Replica::GetEntry(Index index) {
  // Nothing is stored past last_index_ (LocalMatch probes there on every Accept), and a miss
  // costs storage a search through every level.
  if (index <= compacted_ || index > last_index_) return std::nullopt;
  auto it = recent_.find(index);
  if (it != recent_.end()) return it->second.entry;
  return storage_->Get(index);
}

void Replica::PutEntry(Entry entry) {
  CHECK(entry.index > 0);
  last_index_ = std::max(last_index_, entry.index);
  OnEntryPut(entry);
  pending_.entries.push_back(entry);
  recent_[entry.index] = RecentEntry{std::move(entry), false};
}

std::vector<Entry> Replica::CollectEntries(Index lo, Index hi, size_t max_entries, bool* more) {
  std::vector<Entry> out;
  size_t bytes = 0;
  *more = false;
  for (Index i = lo; i <= hi; ++i) {
    if (out.size() >= max_entries || (!out.empty() && bytes >= options_.max_message_bytes)) {
      *more = true;
      break;
    }
    std::optional<Entry> e = GetEntry(i);
    if (!e) continue;
    bytes += e->command.size();
    out.push_back(std::move(*e));
  }
  return out;
}

void Replica::Promise(const Ballot& ballot) {
  if (ballot > hard_.promised) {
    hard_.promised = ballot;
    hard_dirty_ = true;
  }
}

Index Replica::LocalMatch() {
  local_match_ = std::max(local_match_, commit_);
  while (true) {
    std::optional<Entry> e = GetEntry(local_match_ + 1);
    if (!e || e->ballot != ballot_) break;
    ++local_match_;
  }
  return local_match_;
}

void Replica::Send(Message m, bool after_persist) {
  m.group = options_.group;
  m.from = options_.id;
  if (after_persist && !options_.testing_ack_before_sync) {
    pending_.messages_after_persist.push_back(std::move(m));
  } else {
    pending_.messages.push_back(std::move(m));
  }
}

// ---------------------------------------------------------------------------------------------
// Events.

void Replica::Tick(Interval now) {
  last_now_ = now;
  const Timestamp local = Local(now);
  switch (role_) {
    case Role::kFollower:
      if (local >= election_deadline_) StartCampaign(now, Ballot{});
      break;
    case Role::kCandidate:
      if (local - campaign_started_ >= options_.campaign_retry_us) {
        // Ask again with the same ballot: voters whose lease votes have run out may now promise.
        campaign_started_ = local;
        for (auto& [id, peer] : peers_) {
          if (!peer.promised) SendPrepare(id, now);
        }
      }
      break;
    case Role::kLeader:
      if (local >= next_heartbeat_) {
        next_heartbeat_ = local + options_.heartbeat_interval_us;
        // Renews our own lease vote even when there is no follower to send to (a group of one).
        if (peers_.empty()) NextLeaseSeq(now);
        for (auto& [id, peer] : peers_) {
          // Anything sent but not acknowledged by now is presumed lost: send it again.
          if (peer.match < last_index_) peer.next = peer.match + 1;
          SendAcceptTo(id, now);
        }
        // Send times older than a lease can no longer extend it.
        const Timestamp horizon = now.earliest - options_.lease_us;
        while (!lease_seq_sent_.empty() && lease_seq_sent_.front() < horizon) {
          lease_seq_sent_.pop_front();
          ++lease_seq_first_;
        }
      }
      UpdateLease(now);
      AdvanceCommit(now);
      CheckTransfer(now);
      MaybeTransferToPreferred(now);
      break;
  }
}

void Replica::Step(const Message& m, Interval now) {
  last_now_ = now;
  const bool unconfigured = config_.voters.empty();
  // A Prepare or an Accept may come from a replica that joined while this one was away: this
  // replica's configuration is then stale, and only that leader's log can bring it up to date
  // (seed 135). Their ballots keep them safe. Replies are taken from members only: a leader that
  // counted a stranger's Accepted (peers_[m.from] makes a voter) would count a removed replica.
  const bool from_leader = m.type == MessageType::kPrepare || m.type == MessageType::kAccept;
  if (m.group != options_.group || m.to != options_.id ||
      (!IsMember(m.from) && !unconfigured && !from_leader) || m.from == options_.id) {
    ++dropped_messages_;
    return;
  }
  if (!InBounds(m)) {
    ++refused_messages_;
    return;
  }
  max_round_seen_ = std::max(max_round_seen_, m.ballot.round);
  switch (m.type) {
    case MessageType::kPrepare:
      HandlePrepare(m, now);
      break;
    case MessageType::kPromise:
      HandlePromise(m, now);
      break;
    case MessageType::kAccept:
      HandleAccept(m, now);
      break;
    case MessageType::kAccepted:
      HandleAccepted(m, now);
      break;
    case MessageType::kTimeoutNow:
      HandleTimeoutNow(m, now);
      break;
  }
}

absl::StatusOr<Index> Replica::Propose(std::string command, Interval now) {
  last_now_ = now;
  if (role_ != Role::kLeader) {
    return absl::UnavailableError(absl::StrCat(
        "replica ", options_.id, " of group ", options_.group, " is not the leader; leader is ",
        leader_ == kNoReplica ? std::string("unknown") : absl::StrCat(leader_)));
  }
  if (transfer_target_ != kNoReplica) {
    return absl::UnavailableError(absl::StrCat("leadership of group ", options_.group,
                                               " is moving to replica ", transfer_target_));
  }
  if (command.size() > options_.max_command_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("command of ", command.size(),
                                                   " bytes exceeds the limit of ",
                                                   options_.max_command_bytes, " bytes"));
  }
  if (last_index_ - commit_ >= options_.max_inflight_entries) {
    return absl::ResourceExhaustedError(
        absl::StrCat("group ", options_.group, " has ", last_index_ - commit_,
                     " uncommitted entries, the in-flight limit; retry later"));
  }
  const Index index = last_index_ + 1;
  PutEntry(Entry{index, ballot_, EntryType::kNormal, std::move(command)});
  return index;
}

void Replica::Campaign(Interval now) {
  last_now_ = now;
  StartCampaign(now, Ballot{});
}

absl::Status Replica::TransferLeadership(ReplicaId target, Interval now) {
  last_now_ = now;
  if (role_ != Role::kLeader) {
    return absl::FailedPreconditionError("only the leader can transfer leadership");
  }
  if (target == options_.id || !config_.IsVoter(target)) {
    return absl::FailedPreconditionError(
        absl::StrCat("replica ", target, " is not another member of group ", options_.group));
  }
  if (transfer_target_ == target) return absl::OkStatus();  // under way: its deadline stands
  if (target == transfer_failed_target_ && Local(now) < transfer_retry_after_) {
    // Proposals wait while a transfer runs; one asked for again and again (a driver
    // reconciling every tick) once kept a group from committing anything (membership seed
    // 101257).
    return absl::UnavailableError(absl::StrCat("the last transfer to replica ", target,
                                               " timed out (it is not caught up); try later"));
  }
  transfer_target_ = target;
  transfer_deadline_ = Local(now) + options_.transfer_timeout_us;
  CheckTransfer(now);
  return absl::OkStatus();
}

absl::StatusOr<Index> Replica::LeaseRead(Interval now) {
  last_now_ = now;
  if (!HasLease(now)) {
    return absl::UnavailableError(absl::StrCat("replica ", options_.id, " of group ",
                                               options_.group, " holds no leader lease"));
  }
  if (commit_ < first_own_index_) {
    return absl::UnavailableError("the new leader has not committed its first entry yet");
  }
  return commit_;
}

absl::StatusOr<Timestamp> Replica::AssignTimestamp(Interval now, Timestamp at_least) {
  last_now_ = now;
  if (!HasLease(now) || transfer_target_ != kNoReplica) {
    return absl::UnavailableError(absl::StrCat("replica ", options_.id, " of group ",
                                               options_.group, " holds no leader lease"));
  }
  const Timestamp s = std::max({now.latest, s_max_ + 1, at_least});
  if (s >= lease_end_) {
    return absl::UnavailableError(
        absl::StrCat("timestamp ", s, " would fall past the lease end ", lease_end_));
  }
  s_max_ = s;
  return s;
}

bool Replica::HasLease(Interval now) const {
  return role_ == Role::kLeader && now.latest < lease_end_;
}

// ---------------------------------------------------------------------------------------------
// Phase 2.

uint64_t Replica::NextLeaseSeq(Interval now) {
  const uint64_t seq = ++lease_seq_;
  lease_seq_sent_.push_back(now.earliest);  // at lease_seq_first_ + size - 1 == seq
  if ((role_ == Role::kLeader || role_ == Role::kCandidate) &&
      CanGrantVote(ballot_, Ballot{}, now)) {
    GrantVote(ballot_, now, /*to_leader=*/role_ == Role::kLeader);
    self_vote_from_ = now.earliest;
  }
  return seq;
}

std::optional<Timestamp> Replica::LeaseSeqSentAt(uint64_t seq) const {
  if (seq < lease_seq_first_ || seq - lease_seq_first_ >= lease_seq_sent_.size()) {
    return std::nullopt;
  }
  return lease_seq_sent_[seq - lease_seq_first_];
}

void Replica::SendAcceptTo(ReplicaId to, Interval now) {
  Peer& peer = peers_[to];
  Message m;
  m.type = MessageType::kAccept;
  m.to = to;
  m.ballot = ballot_;
  m.commit = commit_;
  bool more = false;
  if (peer.next <= compacted_) {
    // The slots it lacks are compacted away here: it must install a snapshot. Heartbeats set
    // next back to match + 1 and so repeat the hint until its match passes the compaction point.
    m.snapshot = compacted_;
    peer.next = last_index_ + 1;
  } else if (peer.next <= last_index_) {
    m.entries = CollectEntries(peer.next, last_index_, options_.max_batch_entries, &more);
    peer.next = m.entries.empty() ? last_index_ + 1 : m.entries.back().index + 1;
    // Slots at or below the commit point may hold a chosen value under an older ballot;
    // proposing the chosen value again under ours is always safe, and lets the follower count
    // the slot as matching our ballot.
    for (Entry& e : m.entries) e.ballot = ballot_;
  }
  m.lease_seq = NextLeaseSeq(now);
  Send(std::move(m), /*after_persist=*/false);
}

void Replica::HandleAccept(const Message& m, Interval now) {
  Message reply;
  if (RejectIfStale(m, MessageType::kAccepted, &reply)) return;
  Promise(m.ballot);
  if (ballot_ != m.ballot || role_ != Role::kFollower) BecomeFollower(m.ballot, m.from, now);
  leader_ = m.from;
  ResetElectionTimer(now);
  for (const Entry& e : m.entries) {
    if (e.index <= commit_) continue;
    std::optional<Entry> cur = GetEntry(e.index);
    if (cur && *cur == e) continue;
    PutEntry(e);
  }
  leader_commit_ = std::max(leader_commit_, m.commit);
  commit_ = std::max(commit_, std::min(leader_commit_, LocalMatch()));
  if (m.snapshot > commit_ || snapshot_needed_) NeedSnapshot(m.from, m.snapshot);
  reply.lease_granted = CanGrantVote(m.ballot, Ballot{}, now);
  if (reply.lease_granted) GrantVote(m.ballot, now, /*to_leader=*/true);
  reply.match = local_match_;
  reply.index = m.entries.empty() ? 0 : m.entries.back().index;
  reply.commit = commit_;
  Send(std::move(reply), /*after_persist=*/true);
}

void Replica::HandleAccepted(const Message& m, Interval now) {
  if (m.reject) {
    max_round_seen_ = std::max(max_round_seen_, m.promised.round);
    if (m.promised > ballot_ && role_ == Role::kLeader) {
      BecomeFollower(ballot_, m.promised.replica, now);
    }
    return;
  }
  if (role_ != Role::kLeader || m.ballot != ballot_) return;
  if (m.match > last_index_) {
    // Under our ballot an acceptor holds only slots we sent it, and we send none past our log
    // (a follower's commit point, which counts in its match, is chosen, so within our log too):
    // a match beyond it is forged or corrupt and must not count towards a commit.
    ++refused_messages_;
    return;
  }
  Peer& peer = peers_[m.from];
  // The newest report wins, even when lower: a follower that restarted forgets which chosen
  // slots it held, and must be sent them again.
  peer.match = m.match;
  peer.next = std::max(peer.next, peer.match + 1);
  if (m.lease_granted) {
    if (options_.testing_lease_from_receive) {
      peer.lease_vote_from = std::max(peer.lease_vote_from, now.earliest);
    } else {
      if (std::optional<Timestamp> sent = LeaseSeqSentAt(m.lease_seq)) {
        peer.lease_vote_from = std::max(peer.lease_vote_from, *sent);
      }
    }
  }
  if (m.index > m.match && peer.next > m.match + 1 && peer.hole_resent != m.match + 1) {
    // The follower has a hole below what it just received: resend from the hole, once per hole
    // (duplicated replies must not multiply resends; heartbeats retry the rest).
    peer.hole_resent = m.match + 1;
    peer.next = m.match + 1;
    SendAcceptTo(m.from, now);
  }
  UpdateLease(now);
  AdvanceCommit(now);
  CheckTransfer(now);
}

void Replica::AdvanceCommit(Interval now) {
  // A new leader commits nothing before its lease starts, which is after every earlier lease
  // ended: an old leader serving lease reads can never miss a write that was acknowledged.
  if (!HasLease(now)) return;
  std::vector<Index> matches;
  if (IsVoter()) matches.push_back(persisted_match_);
  for (const auto& [id, peer] : peers_) {
    if (peer.voter) matches.push_back(peer.match);
  }
  if (static_cast<int>(matches.size()) < Quorum()) return;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const Index chosen = matches[Quorum() - 1];
  if (chosen > commit_) commit_ = std::min(chosen, last_index_);
}

void Replica::UpdateLease(Interval now) {
  (void)now;
  if (role_ != Role::kLeader) {
    lease_end_ = 0;
    return;
  }
  // Recomputed from the votes of the configuration in effect, never carried over: a lease that
  // votes of an older configuration backed would outlive the changes that removed its voters, and
  // a majority of a configuration two changes later, which need not meet them, could elect
  // another leader inside it (seed 22188). Any configuration that can elect a leader now is this
  // one or differs from it by one voter, so their majorities meet the one backing this lease.
  std::vector<Timestamp> votes;
  if (vote_ballot_ == ballot_ && IsVoter()) votes.push_back(self_vote_from_);
  for (const auto& [id, peer] : peers_) {
    if (peer.voter) votes.push_back(peer.lease_vote_from);
  }
  if (static_cast<int>(votes.size()) < Quorum()) {
    lease_end_ = 0;
    return;
  }
  std::sort(votes.begin(), votes.end(), std::greater<>());
  const Timestamp from = votes[Quorum() - 1];
  lease_end_ = from > 0 ? from + options_.lease_us : 0;
}

// ---------------------------------------------------------------------------------------------
// Output.

void Replica::CollectCommitted() {
  if (snapshot_needed_) return;  // the slots after applied_ may be compacted away
  for (Index i = applied_ + 1; i <= commit_; ++i) {
    std::optional<Entry> e = GetEntry(i);
    CHECK_MSG(e.has_value(), absl::StrCat("committed slot ", i, " missing"));
    OnEntryCommitted(*e);
    pending_.committed.push_back(std::move(*e));
  }
  applied_ = std::max(applied_, commit_);
}

void Replica::NeedSnapshot(ReplicaId from, Index at_least) {
  snapshot_needed_ = true;
  if (snapshot_requested_) return;
  snapshot_requested_ = true;
  pending_.snapshot_request = SnapshotRequest{from, std::max(at_least, compacted_)};
}

void Replica::Compact(Index upto) {
  if (options_.testing_compact_above_applied) {
    // Planted bug: compact the whole log, past the applied point, and never apply the rest.
    upto = std::max(upto, last_index_);
    applied_ = std::max(applied_, upto);
    commit_ = std::max(commit_, upto);
  }
  CHECK_MSG(upto <= applied_,
            absl::StrCat("compaction to ", upto, " passes the applied point ", applied_));
  if (upto <= compacted_) return;
  compacted_ = upto;
  recent_.erase(recent_.begin(), recent_.upper_bound(upto));
}

void Replica::InstallSnapshot(Index index, const Config& config, Index config_index, Interval now) {
  if (index > applied_ && config_index > hard_.config_index && config_index <= index) {
    CommitConfig(config, config_index);
  }
  InstallSnapshot(index, now);
}

void Replica::InstallSnapshot(Index index, Interval now) {
  CHECK_MSG(!ready_outstanding_, "InstallSnapshot called while a Ready is outstanding");
  last_now_ = now;
  snapshot_requested_ = false;
  if (index <= applied_) return;
  applied_ = index;
  commit_ = std::max(commit_, index);
  compacted_ = std::max(compacted_, index);
  last_index_ = std::max(last_index_, index);
  local_match_ = std::max(local_match_, commit_);
  snapshot_needed_ = applied_ < compacted_;
  recent_.erase(recent_.begin(), recent_.upper_bound(index));
  std::erase_if(pending_.entries, [index](const Entry& e) { return e.index <= index; });
  if (role_ == Role::kFollower && leader_ != kNoReplica) {
    // Tell the leader where to go on from, rather than at its next heartbeat: once the entries
    // the match counts are durable (some may have been accepted since the last round and not be
    // written yet; the simulator found a chosen slot lost that way, paxos seed 25982).
    Message m;
    m.type = MessageType::kAccepted;
    m.to = leader_;
    m.ballot = ballot_;
    m.match = LocalMatch();
    m.commit = commit_;
    Send(std::move(m), /*after_persist=*/true);
  }
}

void Replica::UpdateSoftState() {
  SoftState s{role_, leader_, ballot_, role_ == Role::kLeader ? lease_end_ : 0};
  if (!last_soft_ || *last_soft_ != s) {
    last_soft_ = s;
    pending_.soft_state = s;
  }
}

bool Replica::HasReady() const {
  if (ready_outstanding_) return false;
  if (hard_dirty_ || !pending_.Empty() || (commit_ > applied_ && !snapshot_needed_)) return true;
  if (role_ == Role::kLeader) {
    for (const auto& [id, peer] : peers_) {
      if (peer.next <= last_index_) return true;
    }
  }
  SoftState s{role_, leader_, ballot_, role_ == Role::kLeader ? lease_end_ : 0};
  return !last_soft_ || *last_soft_ != s;
}

Ready Replica::TakeReady() {
  CHECK_MSG(!ready_outstanding_, "TakeReady called twice without Advance");
  if (role_ == Role::kLeader) {
    // Batching: everything proposed since the last Ready goes out in one Accept per follower.
    for (auto& [id, peer] : peers_) {
      if (peer.next <= last_index_) SendAcceptTo(id, last_now_);
    }
  }
  CollectCommitted();
  UpdateSoftState();
  if (hard_dirty_) {
    pending_.hard_state = hard_;
    hard_dirty_ = false;
  }
  Ready ready = std::move(pending_);
  pending_ = Ready{};
  taken_entries_ = ready.entries;
  taken_hard_ = ready.hard_state;
  ready_outstanding_ = true;
  return ready;
}

void Replica::Advance(Interval now) {
  CHECK_MSG(ready_outstanding_, "Advance called without TakeReady");
  last_now_ = now;
  ready_outstanding_ = false;
  Index durable_own = persisted_match_;
  for (const Entry& e : taken_entries_) {
    auto it = recent_.find(e.index);
    if (it != recent_.end() && it->second.entry == e) it->second.durable = true;
    if (e.ballot == ballot_) durable_own = std::max(durable_own, e.index);
  }
  while (!recent_.empty() && recent_.begin()->first <= applied_ &&
         recent_.begin()->second.durable) {
    recent_.erase(recent_.begin());
  }
  taken_entries_.clear();
  if (taken_hard_) durable_promised_ = taken_hard_->promised;
  taken_hard_.reset();
  if (role_ == Role::kCandidate && durable_promised_ == ballot_) {
    int promises = IsVoter() ? 1 : 0;
    for (const auto& [id, p] : peers_) promises += p.promised && p.voter ? 1 : 0;
    if (promises >= Quorum()) BecomeLeader(now);
  } else if (role_ == Role::kLeader) {
    persisted_match_ = durable_own;
    UpdateLease(now);
    AdvanceCommit(now);
  }
}

}  // namespace meridian::paxos
