// paxos::Replica: one replica of one Paxos group, as a pure state machine.
//
// The replica owns no thread, socket, file or clock (the style of etcd's RawNode). The
// application feeds it events — Step(message), Tick(now), Propose(command) — each with a
// TrueTime reading, then takes the resulting work with TakeReady(), carries it out in the order
// the Ready fields describe, and calls Advance(). Reads of the replica's own log go through
// LogStorage.
//
// The protocol (ARCHITECTURE.md "Paxos", SPANNER.md §4.1.1):
// * Multi-Paxos with a stable leader. Ballots are (round, replica). A candidate runs phase 1 once
//   over every slot past its commit point: each acceptor reports what it accepted there; the
//   candidate re-proposes the highest-ballot value of each slot and fills holes with no-ops,
//   then appends a no-op of its own so that its first commit settles everything before it.
// * Phase 2 is pipelined (up to max_inflight_entries past the commit point) and batched (entries
//   proposed between two TakeReady calls travel in one Accept per follower). A slot is chosen
//   once a majority holds it under the leader's ballot; acceptors report a contiguous "match"
//   point, so the commit point is the majority's match. The commit point rides on every Accept.
// * An acceptor applies slot i only when it holds i under the ballot of a leader that announced
//   commit >= i, so a stale value accepted under an older ballot is never applied.
// * Leader leases with TrueTime. Every Promise and Accepted may carry a lease vote. A vote cast at
//   the voter's TT.now().latest = v lasts until v + lease_us; while it lasts the voter votes for
//   no other ballot. The leader's lease ends at the majority-quorum value of (TT.now().earliest
//   when the voted-on message was sent) + lease_us, counting its own vote the same way, and holds
//   while TT.now().latest < that end. Hence the leases of one group never overlap in absolute
//   time. A restarted replica cannot know whom it voted for, so it votes for no one until one
//   lease has passed.
// * Lease votes and Paxos promises are separate, so that candidates that split the votes cannot
//   lock the group (each voter stuck on a different failed candidate for a lease): a replica
//   promises any higher ballot unless its vote still supports a leader it has heard from (that
//   keeps a healthy leader in place), but votes only as above. A leader advances its commit
//   point only while it holds its lease, which starts after every earlier lease ended; so an old
//   leader's lease reads never miss an acknowledged write, and a hard leader failure costs about
//   one lease, as in Spanner.
// * Timestamps (AssignTimestamp) are handed out only inside the lease and below its end; the
//   largest is s_max. A leader that hands over (TransferLeadership) first waits until
//   TT.after(s_max), then stops using its lease and tells the target to campaign at once; voters
//   that voted for the abdicated ballot may then vote for the target immediately.
// * A follower does not forward proposals: Propose fails with UNAVAILABLE naming the leader.
// * Compaction and snapshots. The application checkpoints its state machine and then removes log
//   slots at or below the checkpoint (Compact); every replica does so on its own. A slot is
//   compacted only once applied here, so it is chosen. Whoever needs a compacted slot — a follower
//   the leader can no longer send it to (Accept.snapshot), a candidate whose phase 1 reaches into
//   an acceptor's compacted prefix (Promise.snapshot: it cannot recover those slots, so it steps
//   down), a replica whose state machine restarts behind its own compaction point — asks the
//   application for a snapshot (Ready::snapshot_request). Until one is installed
//   (InstallSnapshot) it applies nothing and does not campaign, but it still accepts, promises
//   and votes: the acceptor's state is its log, which a snapshot does not touch.
// * Membership changes (ProposeConfig), Raft's single-server rule in Paxos terms: a config entry
//   is in effect on a replica as soon as it is in its log (an overwritten one is undone), and a
//   leader proposes one only after the previous one is committed, and only once its own first
//   entry is, changing the voters by at most one. So any two configurations in use at once differ
//   by one voter and their majorities intersect, for promises, accepts and lease votes alike. A
//   candidate states its configuration's slot in its Prepare; a voter that holds a newer one
//   refuses it, so no candidate runs under a configuration older than the newest committed one.
//   Learners receive and apply the log but never vote, campaign or count. A removed replica stops
//   campaigning (removed()); its lease votes bind it until they expire like anyone's. The leader
//   cannot remove itself: transfer leadership first.
//
// Thread safety: none. One thread (or one Asio strand) drives a replica.
#ifndef MERIDIAN_SPANSERVER_PAXOS_REPLICA_H_
#define MERIDIAN_SPANSERVER_PAXOS_REPLICA_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/random.h"
#include "spanserver/paxos/log_storage.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian::paxos {

using truetime::Interval;
using truetime::Timestamp;

// Bounds on ballot rounds taken from the wire (Step refuses a message with a ballot outside them;
// see Replica::InBounds). Rounds grow by one per campaign: even at one campaign per microsecond
// a group would need 146,000 years to reach kMaxBallotRound, so a round above it is forged or
// corrupt, and `round + 1` in StartCampaign can never overflow. kMaxBallotRoundStep limits how
// far one message can raise the rounds this replica knows of: an honest group raises them by a
// handful per election, so 2^32 above the highest round seen here is decades of back-to-back
// elections, while a forger needs 2^30 accepted messages to walk the rounds up to the cap.
inline constexpr int64_t kMaxBallotRound = int64_t{1} << 62;
inline constexpr int64_t kMaxBallotRoundStep = int64_t{1} << 32;

struct Options {
  GroupId group = 0;
  ReplicaId id = kNoReplica;
  // The group's voters and learners; used when the hard state holds no configuration yet. A
  // replica joining a running group starts with no voters and itself as learner: unconfigured,
  // it accepts any replica of the group as its leader until the log or a snapshot configures it.
  std::vector<ReplicaId> members;
  std::vector<ReplicaId> learners;
  // The state machine's applied index at start; committed entries after it are handed out again.
  Index applied = 0;
  uint64_t seed = 1;  // election jitter

  int64_t lease_us = 2'000'000;
  // How often a leader sends Accepts (heartbeats) that extend its lease and resend lost entries.
  int64_t heartbeat_interval_us = 250'000;
  // A follower campaigns after this long (plus up to the same again, at random) without hearing
  // from a leader, once its own lease vote has expired.
  int64_t election_timeout_us = 1'000'000;
  // A candidate whose phase 1 has not finished retries after this long with a higher ballot.
  int64_t campaign_retry_us = 500'000;
  // A leader transfer that has not finished by then is abandoned.
  int64_t transfer_timeout_us = 2'000'000;

  // Limits. Each is enforced with a clear error or by cutting a message short.
  size_t max_command_bytes = 1 << 20;  // Propose fails with INVALID_ARGUMENT past it
  size_t max_message_bytes = 4 << 20;  // Accept and Promise payloads are cut at this size
  size_t max_batch_entries = 512;      // entries per Accept message
  size_t max_inflight_entries = 4096;  // Propose fails with RESOURCE_EXHAUSTED past it
  ReplicaId preferred_leader = kNoReplica;

  // Planted bugs: each breaks one rule on purpose so that the simulator's checkers can be shown
  // to catch it. Never set outside tests.
  bool testing_skip_vote_wait = false;      // vote for any ballot while a vote is still running
  bool testing_ack_before_sync = false;     // answer Prepare/Accept before the state is durable
  bool testing_skip_recovery = false;       // a new leader ignores values reported in phase 1
  bool testing_lease_from_receive = false;  // the leader measures its lease from replies, not sends
  // Compact() compacts the whole log, past the applied point, and counts it all applied.
  bool testing_compact_above_applied = false;
  // ProposeConfig neither waits for the previous change to be committed nor limits a change to
  // one voter, so two configurations in use at once may have disjoint majorities.
  bool testing_two_config_changes = false;
  // A learner counts toward quorums (accepts, promises, lease votes) and answers Prepares and
  // campaigns as if it were a voter.
  bool testing_learner_votes = false;
};

enum class Role : uint8_t { kFollower, kCandidate, kLeader };
const char* RoleName(Role role);

// What changed that the application may care about (leadership, lease), reported when changed.
struct SoftState {
  Role role = Role::kFollower;
  ReplicaId leader = kNoReplica;  // best knowledge; kNoReplica when unknown
  Ballot ballot;                  // the leader's ballot as far as this replica knows
  Timestamp lease_end = 0;        // leader only: lease valid while TT.now().latest < lease_end
  friend bool operator==(const SoftState&, const SoftState&) = default;
};

// The replica needs a snapshot of the state machine through at least `at_least` (a slot it can no
// longer get from any log): the application fetches one from replica `from`, installs it and
// calls InstallSnapshot(), or calls SnapshotFailed().
struct SnapshotRequest {
  ReplicaId from = kNoReplica;
  Index at_least = 0;
  friend bool operator==(const SnapshotRequest&, const SnapshotRequest&) = default;
};

// The work a replica hands to its application. Carry it out in this order:
//  1. Send `messages` (they need nothing durable).
//  2. Persist `hard_state` (if set) and `entries` (each overwrites its slot) and sync.
//  3. Send `messages_after_persist`.
//  4. Apply `committed` to the state machine, in order. This may also happen any time after
//     step 1: committed entries are chosen and durable on a majority already.
//  5. Call Advance(). Then start fetching `snapshot_request` if set (the replica applies
//     nothing more until InstallSnapshot()).
struct Ready {
  std::optional<SoftState> soft_state;
  std::optional<HardState> hard_state;
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Message> messages_after_persist;
  std::vector<Entry> committed;
  std::optional<SnapshotRequest> snapshot_request;

  bool MustSync() const { return hard_state.has_value() || !entries.empty(); }
  bool Empty() const;
};

class Replica {
 public:
  // Restores the replica from `storage` (hard state and log). `storage` must outlive it.
  Replica(const Options& options, LogStorage* storage, Interval now);

  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Advances timers: elections, heartbeats, retransmissions, transfer timeouts, preferred leader.
  void Tick(Interval now);
  // Handles one message addressed to this replica. Messages for another group or replica, or from
  // a non-member, are dropped and counted in dropped_messages(). Messages whose fields are out of
  // bounds (InBounds: forged or corrupt) are refused, change nothing and count in
  // refused_messages().
  void Step(const Message& message, Interval now);
  // Leader only: appends `command` to the log; returns its slot. The proposal took effect iff the
  // entry applied at that slot carries the same command. UNAVAILABLE names the leader when this
  // replica is not it; RESOURCE_EXHAUSTED when the in-flight window is full; INVALID_ARGUMENT
  // past max_command_bytes.
  absl::StatusOr<Index> Propose(std::string command, Interval now);
  // Starts phase 1 now with a higher ballot (used by tests and by a leader transfer).
  void Campaign(Interval now);
  // Leader only: hands leadership to `target` (a soft handoff). The leader stops taking
  // proposals, brings the target up to date, waits until TT.after(s_max), abdicates and tells the
  // target to campaign. Fails with FAILED_PRECONDITION when not leader or target not a member.
  absl::Status TransferLeadership(ReplicaId target, Interval now);
  // Leader only: proposes `next` as the group's configuration; returns its slot. It takes effect
  // here at once and is committed like any entry. FAILED_PRECONDITION while another change is
  // not committed, before the leader's first entry is, when it changes the voters by more than
  // one, removes this leader, or is malformed (no voters, a replica listed twice).
  absl::StatusOr<Index> ProposeConfig(const Config& next, Interval now);
  void SetPreferredLeader(ReplicaId id) { options_.preferred_leader = id; }

  // Leader only, inside its lease: a commit point such that a read of the state machine once it
  // has applied that index is linearizable. UNAVAILABLE otherwise.
  absl::StatusOr<Index> LeaseRead(Interval now);
  // Leader only, inside its lease: a timestamp > every one it assigned, >= at_least, >=
  // now.latest, and below the lease end. UNAVAILABLE when that is impossible.
  absl::StatusOr<Timestamp> AssignTimestamp(Interval now, Timestamp at_least);

  // The application made its state machine's state through `upto` durable (a checkpoint) and
  // removed every log slot at or below `upto` from storage. `upto` must not pass applied().
  void Compact(Index upto);
  // Between rounds (no Ready outstanding): the application installed, durably, a snapshot of the
  // state machine through `index` and removed every log slot at or below it. The replica
  // applies from index + 1 on. A snapshot at or below applied() changes nothing.
  void InstallSnapshot(Index index, Interval now);
  // The same, with the configuration committed at the snapshot's point (slot `config_index`).
  void InstallSnapshot(Index index, const Config& config, Index config_index, Interval now);
  // The requested snapshot could not be fetched; the next hint asks again.
  void SnapshotFailed() { snapshot_requested_ = false; }

  bool HasReady() const;
  // Moves out the pending work. Call Advance() before the next TakeReady().
  Ready TakeReady();
  // The last Ready was carried out: its entries and hard state are durable.
  void Advance(Interval now);

  ReplicaId id() const { return options_.id; }
  Role role() const { return role_; }
  ReplicaId leader() const { return leader_; }
  const Ballot& ballot() const { return ballot_; }
  Index commit() const { return commit_; }
  Index applied() const { return applied_; }
  Index last_index() const { return last_index_; }
  Index compacted() const { return compacted_; }
  // The configuration in effect here (the newest in the log) and its slot (0: the first one).
  const Config& config() const { return config_; }
  Index config_index() const { return config_index_; }
  // A committed configuration without this replica: it takes no part any more.
  bool removed() const { return !config_.Contains(options_.id); }
  // A configuration change is in the log and not committed yet.
  bool config_change_pending() const { return pending_config_.has_value(); }
  // Leader: how far `id`'s log is known to match ours (0 when unknown or not a peer).
  Index match_of(ReplicaId id) const {
    auto it = peers_.find(id);
    return it == peers_.end() ? 0 : it->second.match;
  }
  // The state machine cannot go on from the log: a snapshot must be installed first.
  bool snapshot_needed() const { return snapshot_needed_; }
  Timestamp s_max() const { return s_max_; }
  bool HasLease(Interval now) const;
  Timestamp lease_end() const { return lease_end_; }
  const HardState& hard_state() const { return hard_; }
  uint64_t dropped_messages() const { return dropped_messages_; }
  uint64_t refused_messages() const { return refused_messages_; }

 private:
  struct Peer {
    Index match = 0;                // highest slot known to hold our ballot contiguously
    Index next = 1;                 // next slot to send
    bool promised = false;          // phase 1: a complete promise arrived
    Index promise_from = 0;         // phase 1: next slot to ask for when the promise was cut
    Timestamp lease_vote_from = 0;  // earliest send time of the newest message it voted on
    Index hole_resent = 0;          // the hole last resent from, answering a gap report
    bool voter = true;              // counts for quorums (false: a learner)
  };

  // Input bounds (replica_inputs.cc).
  // Whether `m`'s fields are within what an honest peer can send; Step refuses it otherwise.
  bool InBounds(const Message& m) const;
  // A round from the wire: in [0, kMaxBallotRound] and at most kMaxBallotRoundStep above every
  // round known here.
  bool RoundInBounds(int64_t round) const;

  // Message handlers.
  // Fills the common fields of the reply to `m`; when `m` carries a ballot below our promise,
  // sends the reply as a rejection and returns true.
  bool RejectIfStale(const Message& m, MessageType reply_type, Message* reply);
  void HandlePrepare(const Message& m, Interval now);
  void HandlePromise(const Message& m, Interval now);
  void HandleAccept(const Message& m, Interval now);
  void HandleAccepted(const Message& m, Interval now);
  void HandleTimeoutNow(const Message& m, Interval now);

  // Leadership.
  void StartCampaign(Interval now, Ballot transfer_from);
  void BecomeFollower(Ballot promised, ReplicaId leader, Interval now);
  void BecomeLeader(Interval now);
  void SendPrepare(ReplicaId to, Interval now);
  void SendAcceptTo(ReplicaId to, Interval now);
  uint64_t NextLeaseSeq(Interval now);
  std::vector<Entry> CollectEntries(Index lo, Index hi, size_t max_entries, bool* more);
  void AdvanceCommit(Interval now);
  void UpdateLease(Interval now);
  void CheckTransfer(Interval now);
  void MaybeTransferToPreferred(Interval now);

  // Votes (leases).
  bool CanGrantVote(const Ballot& ballot, const Ballot& transfer_from, Interval now) const;
  // Whether this replica may campaign now, and the ballot whose vote it may release in doing so
  // (a ballot of its own that never led, or the ballot of a leader that handed over to it).
  bool CanCampaign(Interval now, Ballot* transfer_from) const;
  // `to_leader`: the vote goes to a ballot that leads (an Accept, or our own leadership), not to
  // a candidate.
  void GrantVote(const Ballot& ballot, Interval now, bool to_leader);

  // Log.
  std::optional<Entry> GetEntry(Index index);
  void PutEntry(Entry entry);
  void Promise(const Ballot& ballot);
  Index LocalMatch();  // highest i with every slot in (commit_, i] held under ballot_
  void CollectCommitted();
  // Marks that slots up to `at_least` can only come from a snapshot, and asks `from` for one
  // unless a request is running.
  void NeedSnapshot(ReplicaId from, Index at_least);
  void UpdateSoftState();

  void Send(Message m, bool after_persist);
  int Quorum() const { return static_cast<int>(config_.voters.size()) / 2 + 1; }
  bool IsVoter() const { return CountsAsVoter(options_.id); }
  // A voter of the configuration in effect (or, planted bug, a learner of a configured group).
  bool CountsAsVoter(ReplicaId id) const {
    return config_.IsVoter(id) ||
           (options_.testing_learner_votes && !config_.voters.empty() && config_.IsLearner(id));
  }
  // A voter or learner of the configuration in effect or of the committed one.
  bool IsMember(ReplicaId id) const;

  // Configuration (replica_config.cc).
  // At start: the committed configuration from the hard state, then the newest config entry of
  // the log after it, if any.
  void LoadConfig();
  // `e` was written to the log here (it may overwrite a config entry, undoing it).
  void OnEntryPut(const Entry& e);
  // `e` is committed and handed out: a config entry becomes the hard state's.
  void OnEntryCommitted(const Entry& e);
  void CommitConfig(const Config& config, Index index);
  // Recomputes config_ and the peers from the hard state and pending_config_.
  void RefreshConfig();
  Timestamp Local(Interval now) const { return now.earliest + (now.latest - now.earliest) / 2; }
  void ResetElectionTimer(Interval now);

  Options options_;
  LogStorage* storage_;
  Random rng_;

  HardState hard_;  // what is (or is being made) durable
  bool hard_dirty_ = false;
  Role role_ = Role::kFollower;
  Ballot ballot_;  // the ballot this replica leads or follows
  ReplicaId leader_ = kNoReplica;
  Index last_index_ = 0;
  Index commit_ = 0;         // every slot <= commit_ is chosen and held here under a known ballot
  Index applied_ = 0;        // handed out for applying
  Index leader_commit_ = 0;  // the commit point announced by the current ballot's leader
  Index compacted_ = 0;      // no slot at or below it is stored; each is chosen and applied
  Config config_;            // in effect: pending_config_'s, else the hard state's
  Index config_index_ = 0;
  std::optional<std::pair<Index, Config>> pending_config_;  // in the log, not committed yet
  bool snapshot_needed_ = false;     // applied_ is behind a slot no log here can supply
  bool snapshot_requested_ = false;  // a snapshot_request went out and is not answered yet

  // Entries handed out (or to be handed out) for persisting, kept until they are both durable
  // and handed out for applying: read before storage_, which may not hold them yet, and so that
  // applying them and sending them to peers does not read them back from storage.
  struct RecentEntry {
    Entry entry;
    bool durable = false;
  };
  std::map<Index, RecentEntry> recent_;
  Index persisted_match_ = 0;  // leader: its own durable match point
  Index local_match_ = 0;      // LocalMatch() cache for ballot_
  Ballot durable_promised_;    // the promised ballot known to be on stable storage

  // Lease votes.
  Ballot vote_ballot_;            // whom this replica's current vote is for
  Timestamp vote_end_ = 0;        // TT time (voter's latest) until which the vote holds
  bool vote_ballot_led_ = false;  // vote_ballot_ is our own ballot and we led with it
  bool vote_to_leader_ = false;   // vote_ballot_ was granted to a leader, not a candidate
  int64_t max_round_seen_ = 0;    // the highest round in any ballot we heard of

  // Leader and candidate state.
  std::map<ReplicaId, Peer> peers_;
  uint64_t lease_seq_ = 0;
  // TT.now().earliest when each lease sequence number from lease_seq_first_ to lease_seq_ was
  // sent. The numbers are consecutive, so a deque indexed from lease_seq_first_ (one was a map:
  // a node allocation and a tree walk for every Accept sent and every Accepted received).
  std::deque<Timestamp> lease_seq_sent_;
  uint64_t lease_seq_first_ = 1;
  // When lease sequence number `seq` was sent; nullopt when it is unknown or forgotten.
  std::optional<Timestamp> LeaseSeqSentAt(uint64_t seq) const;
  Timestamp lease_end_ = 0;
  Timestamp self_vote_from_ = 0;  // earliest send time of the newest round this replica self-voted
  Timestamp s_max_ = 0;
  Index first_own_index_ = 0;         // the leader's first entry in its ballot; reads wait for it
  std::map<Index, Entry> recovered_;  // candidate: highest-ballot value reported per slot
  Index recover_to_ = 0;              // candidate: highest slot reported in phase 1
  Timestamp campaign_started_ = 0;
  Ballot campaign_transfer_from_;  // the vote our Prepares ask voters to release

  // Transfer.
  ReplicaId transfer_target_ = kNoReplica;
  Timestamp transfer_deadline_ = 0;
  // A transfer that timed out: no new one to the same target before transfer_retry_after_, so
  // that a caller asking again and again cannot keep the group refusing proposals.
  ReplicaId transfer_failed_target_ = kNoReplica;
  Timestamp transfer_retry_after_ = 0;

  // Timers (local time).
  Timestamp election_deadline_ = 0;
  Timestamp next_heartbeat_ = 0;

  // Output.
  Ready pending_;
  bool ready_outstanding_ = false;
  std::vector<Entry> taken_entries_;  // entries of the outstanding Ready, durable at Advance
  std::optional<HardState> taken_hard_;
  Interval last_now_;  // the newest reading passed in; used where no reading is given
  std::optional<SoftState> last_soft_;
  uint64_t dropped_messages_ = 0;
  uint64_t refused_messages_ = 0;
};

}  // namespace meridian::paxos

#endif  // MERIDIAN_SPANSERVER_PAXOS_REPLICA_H_
