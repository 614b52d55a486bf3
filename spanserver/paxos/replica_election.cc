// paxos::Replica, part two: leader election — lease votes, phase 1 (recovery of every
// uncommitted slot) and leader transfer. See replica.h for the protocol; replica.cc holds the
// events, phase 2 and the output.
#include <algorithm>

#include "spanserver/paxos/replica.h"

namespace meridian::paxos {

// ---------------------------------------------------------------------------------------------
// Votes (leases).

bool Replica::CanGrantVote(const Ballot& ballot, const Ballot& transfer_from, Interval now) const {
  if (options_.testing_skip_vote_wait) return true;
  if (vote_ballot_ == ballot && !ballot.IsZero()) return true;
  // A vote for our own ballot that never led binds no one: only we could have used it.
  if (vote_ballot_.replica == options_.id && !vote_ballot_led_) return true;
  if (!transfer_from.IsZero() && transfer_from == vote_ballot_) return true;
  return now.After(vote_end_);
}

bool Replica::CanCampaign(Interval now, Ballot* transfer_from) const {
  if (transfer_from->IsZero() && vote_ballot_.replica == options_.id && !vote_ballot_led_) {
    *transfer_from = vote_ballot_;  // voters may release their votes for a candidacy that failed
  }
  return CanGrantVote(Ballot{}, *transfer_from, now);
}

void Replica::GrantVote(const Ballot& ballot, Interval now, bool to_leader) {
  if (vote_ballot_ != ballot) {
    vote_ballot_ = ballot;
    vote_ballot_led_ = false;
    vote_to_leader_ = to_leader;
    vote_end_ = now.latest + options_.lease_us;
  } else {
    vote_end_ = std::max(vote_end_, now.latest + options_.lease_us);
    vote_to_leader_ = vote_to_leader_ || to_leader;
  }
}

// ---------------------------------------------------------------------------------------------
// Phase 1.

void Replica::StartCampaign(Interval now, Ballot transfer_from) {
  if (snapshot_needed_) return;                   // a leader must apply, and this one cannot yet
  if (!IsVoter()) return;                         // a learner or a removed replica
  if (!CanCampaign(now, &transfer_from)) return;  // our lease vote for another ballot still runs
  const int64_t top = std::max({hard_.promised.round, ballot_.round, max_round_seen_});
  // Rounds from the wire stay at or below kMaxBallotRound (InBounds), so only a corrupt hard
  // state reaches it; a replica there cannot outbid it, and `top + 1` must not overflow.
  if (top >= kMaxBallotRound) return;
  const Ballot ballot{top + 1, options_.id};
  max_round_seen_ = ballot.round;
  role_ = Role::kCandidate;
  ballot_ = ballot;
  leader_ = kNoReplica;
  local_match_ = commit_;
  leader_commit_ = 0;
  lease_end_ = 0;
  transfer_target_ = kNoReplica;
  Promise(ballot);
  GrantVote(ballot, now, /*to_leader=*/false);
  campaign_started_ = Local(now);
  campaign_transfer_from_ = transfer_from;
  recovered_.clear();
  recover_to_ = last_index_;
  bool more = false;
  for (Entry& e : CollectEntries(commit_ + 1, last_index_, SIZE_MAX, &more)) {
    recovered_[e.index] = std::move(e);
  }
  const uint64_t seq = NextLeaseSeq(now);
  for (auto& [id, peer] : peers_) {
    peer = Peer{.voter = peer.voter};
    peer.promise_from = commit_ + 1;
    if (!peer.voter) continue;
    Message m;
    m.type = MessageType::kPrepare;
    m.to = id;
    m.ballot = ballot;
    m.index = peer.promise_from;
    m.lease_seq = seq;
    m.transfer_from = campaign_transfer_from_;
    m.config_index = config_index_;
    Send(std::move(m), /*after_persist=*/false);
  }
  // A group of one wins as soon as its own promise is durable (see Advance).
}

void Replica::SendPrepare(ReplicaId to, Interval now) {
  Message m;
  m.type = MessageType::kPrepare;
  m.to = to;
  m.ballot = ballot_;
  m.index = peers_[to].promise_from;
  m.lease_seq = NextLeaseSeq(now);
  m.transfer_from = campaign_transfer_from_;
  m.config_index = config_index_;
  Send(std::move(m), /*after_persist=*/false);
}

bool Replica::RejectIfStale(const Message& m, MessageType reply_type, Message* reply) {
  reply->type = reply_type;
  reply->to = m.from;
  reply->ballot = m.ballot;
  reply->lease_seq = m.lease_seq;
  if (m.ballot >= hard_.promised) return false;
  reply->reject = true;
  reply->promised = hard_.promised;
  Send(std::move(*reply), /*after_persist=*/false);
  return true;
}

void Replica::HandlePrepare(const Message& m, Interval now) {
  Message reply;
  // A learner answers too: the candidate counts only the voters of its own configuration, which
  // may make this replica one (a learner whose promotion entry a crash took back, seed 8).
  if (RejectIfStale(m, MessageType::kPromise, &reply)) return;
  reply.index = m.index;
  if (config_index_ > m.config_index) {
    // The candidate runs under an older configuration than ours: it may not lead.
    reply.reject = true;
    reply.promised = hard_.promised;
    reply.config_index = config_index_;
    Send(std::move(reply), /*after_persist=*/false);
    return;
  }
  const bool can_vote = CanGrantVote(m.ballot, m.transfer_from, now);
  if (!can_vote && vote_to_leader_) {
    // We follow a leader whose lease our vote still supports: do not help depose it.
    reply.reject = true;
    reply.promised = vote_ballot_;
    Send(std::move(reply), /*after_persist=*/false);
    return;
  }
  Promise(m.ballot);
  if (can_vote) GrantVote(m.ballot, now, /*to_leader=*/false);
  if (ballot_ != m.ballot) BecomeFollower(m.ballot, kNoReplica, now);
  ResetElectionTimer(now);
  reply.promised = hard_.promised;
  reply.commit = commit_;
  reply.lease_granted = can_vote;
  // Compacted slots cannot be reported: the candidate learns it must install a snapshot.
  if (m.index <= compacted_) reply.snapshot = compacted_;
  reply.entries = CollectEntries(std::max(m.index, compacted_ + 1), last_index_,
                                 options_.max_inflight_entries, &reply.more);
  Send(std::move(reply), /*after_persist=*/true);
}

void Replica::HandlePromise(const Message& m, Interval now) {
  if (role_ != Role::kCandidate || m.ballot != ballot_) return;
  auto it = peers_.find(m.from);
  if (it == peers_.end()) return;
  Peer& peer = it->second;
  if (m.reject) {
    max_round_seen_ = std::max(max_round_seen_, m.promised.round);
    if (m.promised > ballot_) BecomeFollower(ballot_, m.promised.replica, now);
    // A voter knows a newer configuration: wait to learn it from the leader.
    if (m.config_index > config_index_) BecomeFollower(ballot_, kNoReplica, now);
    return;
  }
  if (!peer.voter || peer.promised) return;  // a learner's, or a duplicate
  for (const Entry& e : m.entries) {
    // An acceptor reports values it accepted before promising our ballot, so under lower
    // ballots: nobody sends Accepts under a ballot still in phase 1. One under ours or higher is
    // forged, and would win the highest-ballot rule below over a value that may be chosen.
    if (e.ballot >= ballot_) {
      ++refused_messages_;
      return;
    }
  }
  if (m.snapshot >= peer.promise_from) {
    // Slots we must recover were chosen, applied and compacted there; only a snapshot has them.
    BecomeFollower(ballot_, kNoReplica, now);
    NeedSnapshot(m.from, m.snapshot);
    return;
  }
  for (const Entry& e : m.entries) {
    if (e.index <= commit_) continue;
    auto cur = recovered_.find(e.index);
    if (cur == recovered_.end() || e.ballot > cur->second.ballot) recovered_[e.index] = e;
    recover_to_ = std::max(recover_to_, e.index);
  }
  if (m.lease_granted) {
    if (std::optional<Timestamp> sent = LeaseSeqSentAt(m.lease_seq)) {
      peer.lease_vote_from = std::max(peer.lease_vote_from, *sent);
    }
  }
  if (m.more) {
    peer.promise_from = m.entries.empty() ? peer.promise_from : m.entries.back().index + 1;
    SendPrepare(m.from, now);
    return;
  }
  peer.promised = true;
  int promises = durable_promised_ == ballot_ && IsVoter() ? 1 : 0;
  for (const auto& [id, p] : peers_) promises += p.promised && p.voter ? 1 : 0;
  if (promises >= Quorum()) BecomeLeader(now);
}

void Replica::BecomeLeader(Interval now) {
  role_ = Role::kLeader;
  leader_ = options_.id;
  if (vote_ballot_ == ballot_) vote_ballot_led_ = true;
  persisted_match_ = commit_;
  if (options_.testing_skip_recovery) {
    // Planted bug: forget what the acceptors reported and overwrite their slots.
    recover_to_ = commit_;
    recovered_.clear();
  }
  // Taken out first: writing a recovered configuration entry may show that this replica is no
  // voter after all, and RefreshConfig then steps it down (which clears recovered_). The slots
  // are still written from phase 1's findings — values where an acceptor reported one — and
  // nothing is sent; a step-down that cleared recovered_ midway once turned chosen values into
  // no-ops under the new ballot (found by the membership simulation, seed 95).
  const std::map<Index, Entry> recovered = std::move(recovered_);
  recovered_.clear();
  const Index recover_to = recover_to_;
  for (Index i = commit_ + 1; i <= recover_to; ++i) {
    auto it = recovered.find(i);
    Entry e = it != recovered.end() ? it->second : Entry{i, {}, EntryType::kNoop, ""};
    e.index = i;
    e.ballot = ballot_;
    PutEntry(std::move(e));
  }
  if (role_ != Role::kLeader) return;
  if (options_.testing_skip_recovery) last_index_ = commit_;
  first_own_index_ = last_index_ + 1;
  PutEntry(Entry{first_own_index_, ballot_, EntryType::kNoop, ""});
  for (auto& [id, peer] : peers_) {
    peer.next = commit_ + 1;
    peer.match = 0;
  }
  next_heartbeat_ = Local(now);  // heartbeat (and send the recovered slots) at the next chance
  UpdateLease(now);
  for (auto& [id, peer] : peers_) SendAcceptTo(id, now);
  next_heartbeat_ = Local(now) + options_.heartbeat_interval_us;
}

void Replica::BecomeFollower(Ballot ballot, ReplicaId leader, Interval now) {
  role_ = Role::kFollower;
  if (ballot != ballot_) {
    ballot_ = ballot;
    local_match_ = commit_;
    leader_commit_ = 0;
  }
  leader_ = leader;
  lease_end_ = 0;
  transfer_target_ = kNoReplica;
  recovered_.clear();
  first_own_index_ = 0;
  for (auto& [id, peer] : peers_) peer = Peer{.voter = peer.voter};
  ResetElectionTimer(now);
}

// ---------------------------------------------------------------------------------------------
// Leader transfer.

void Replica::CheckTransfer(Interval now) {
  if (role_ != Role::kLeader || transfer_target_ == kNoReplica) return;
  if (Local(now) > transfer_deadline_) {
    // The target did not catch up in time: keep leading, and give proposals as long a window
    // before another transfer to it may begin.
    transfer_failed_target_ = transfer_target_;
    transfer_retry_after_ = Local(now) + options_.transfer_timeout_us;
    transfer_target_ = kNoReplica;
    return;
  }
  const Peer& target = peers_[transfer_target_];
  if (target.match < last_index_ || commit_ < last_index_) return;
  if (!now.After(s_max_)) return;  // timestamps we handed out must be in the past first
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.to = transfer_target_;
  m.ballot = ballot_;
  const ReplicaId target_id = transfer_target_;
  Send(std::move(m), /*after_persist=*/false);
  // Abdicate: no lease from here on; our vote for our own ballot is released to the target.
  BecomeFollower(ballot_, target_id, now);
}

void Replica::MaybeTransferToPreferred(Interval now) {
  const ReplicaId preferred = options_.preferred_leader;
  if (preferred == kNoReplica || preferred == options_.id || !config_.IsVoter(preferred) ||
      transfer_target_ != kNoReplica || commit_ < first_own_index_) {
    return;
  }
  if (peers_[preferred].match >= last_index_) {
    transfer_target_ = preferred;
    transfer_deadline_ = Local(now) + options_.transfer_timeout_us;
    CheckTransfer(now);
  }
}

void Replica::HandleTimeoutNow(const Message& m, Interval now) {
  if (m.ballot != ballot_ || m.from != leader_ || role_ != Role::kFollower) return;
  StartCampaign(now, m.ballot);
}

}  // namespace meridian::paxos
