// The values that flow in and out of txn::TransactionManager and its parts: mutations, the
// Store the data is written through, client requests and their replies, group-to-group messages,
// the Actions a call returns, and what an applied record did. See transaction_manager.h for the
// protocol they belong to.
//
// Thread safety: plain values, except Store (see its comment).
#ifndef MERIDIAN_TXN_TYPES_H_
#define MERIDIAN_TXN_TYPES_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"
#include "txn/lock_table.h"

namespace meridian::txn {

using paxos::GroupId;
using truetime::Interval;

// A write buffered by a transaction: a value, or a delete when `value` is empty.
struct Mutation {
  std::string key;
  std::optional<std::string> value;  // nullopt = delete

  friend bool operator==(const Mutation&, const Mutation&) = default;
};

// One version of a key as a range move copies it: a value or a tombstone at its commit timestamp.
struct Version {
  std::string key;
  Timestamp ts = 0;
  std::optional<std::string> value;  // nullopt = a tombstone
  friend bool operator==(const Version&, const Version&) = default;
};

// A key range [start, end) (an empty end: +infinity).
struct KeyRange {
  std::string start;
  std::string end;
  friend bool operator==(const KeyRange&, const KeyRange&) = default;
};

// A range read: the first `limit` (> 0) keys of `range` that have a value, in key order.
struct ScanSpan {
  KeyRange range;
  uint32_t limit = 0;
  friend bool operator==(const ScanSpan&, const ScanSpan&) = default;
};

// One key and its value, as a scan returns them.
struct Row {
  std::string key;
  std::string value;
  friend bool operator==(const Row&, const Row&) = default;
};

// The group's multi-version data, owned by the driver (LevelDB in the server, a map in the
// simulator). Write must be idempotent: replaying the log rewrites the same versions.
class Store {
 public:
  virtual ~Store() = default;
  // The newest version of `key` at or below `ts`: nullopt when there is none or it is a delete.
  virtual absl::StatusOr<std::optional<std::string>> Get(std::string_view key, Timestamp ts) = 0;
  // Writes every mutation as the version at `ts`, atomically.
  virtual absl::Status Write(Timestamp ts, const std::vector<Mutation>& writes) = 0;
  // The first `limit` keys of [start, end) whose newest version at or below `ts` is a value,
  // with it, in key order. A store without range reads answers UNIMPLEMENTED.
  virtual absl::StatusOr<std::vector<Row>> Scan(std::string_view start, std::string_view end,
                                                Timestamp ts, size_t limit);
  // Range moves (txn/ownership.h); a store without them refuses ownership records with
  // UNIMPLEMENTED. Writes each version at its own timestamp (idempotent).
  virtual absl::Status WriteVersions(const std::vector<Version>& versions);
  // Erases up to `limit` versions of keys in [start, end); returns how many.
  virtual absl::StatusOr<uint64_t> EraseVersions(std::string_view start, std::string_view end,
                                                 uint64_t limit);
  // Raises the GC horizon to at least `horizon`: reads below it fail.
  virtual absl::Status RaiseHorizon(Timestamp horizon);
};

// A request from a client, identified by the driver's `id` (echoed in its Reply).
using RequestId = uint64_t;

struct ParticipantRef {
  GroupId group = 0;
  // As the participant replied to its Prepare; 0 when the client sent its Commit together with
  // the prepares. Used only by the plant testing_trust_client_prepare_ts: the coordinator waits
  // for the participants' own reports (kPrepared).
  Timestamp prepare_ts = 0;

  friend bool operator==(const ParticipantRef&, const ParticipantRef&) = default;
};

// A read-write transaction's read at the leader: of `keys` under S locks on each, or — when
// `scan` is set, and then `keys` is empty — of a range under an S lock on all of it, so that no
// other transaction can write a key into it (a phantom) before this one ends.
struct ReadRequest {
  TxnRef txn;
  std::vector<std::string> keys;
  std::optional<ScanSpan> scan = std::nullopt;
  // X-lock the keys at once (proto TxnReadRequest.for_update); a scan is S-locked regardless.
  bool for_update = false;
};
struct PrepareRequest {
  TxnRef txn;
  GroupId coordinator = 0;
  std::vector<Mutation> writes;    // this group's writes
  std::vector<std::string> reads;  // keys this transaction read here (must still be S-locked)
  std::vector<KeyRange> read_ranges = {};  // ranges it scanned here (must still be S-locked)
};
struct CommitRequest {
  TxnRef txn;
  std::vector<Mutation> writes;              // the coordinator group's own writes
  std::vector<std::string> reads;            // keys read in the coordinator group
  std::vector<ParticipantRef> participants;  // every other group, prepared
  std::vector<KeyRange> read_ranges = {};    // ranges scanned in the coordinator group
  Timestamp max_commit_ts = 0;               // nonzero: abort rather than commit above it (proto's)
};
struct AbortRequest {
  TxnId txn = 0;
  bool coordinator = false;  // this group was to coordinate: log an abort decision
  std::vector<GroupId> participants;
};
// Read-only reads take `keys`, or — when `scan` is set, and then `keys` is empty — a range.
struct ReadOnlyRequest {  // strong read-only transaction in one group, at its leader
  std::vector<std::string> keys;
  std::optional<ScanSpan> scan = std::nullopt;
};
struct SnapshotReadRequest {  // at any replica
  std::vector<std::string> keys;
  Timestamp read_ts = 0;
  std::optional<ScanSpan> scan = std::nullopt;
};

struct Reply {
  RequestId id = 0;
  absl::Status status;
  std::vector<std::optional<std::string>> values;  // reads: one per key, in request order
  std::vector<Row> rows = {};                      // scans: at most the limit, in key order
  bool more = false;  // scans: the limit cut the range short; go on after the last row
  Timestamp ts = 0;   // Prepare: p; Commit: s; ReadOnly/SnapshotRead: the read timestamp
  // UNAVAILABLE only: the request's record was in flight when leadership was lost, so it may or
  // may not take effect (never retry it blindly).
  bool outcome_unknown = false;
  // Commit replies: how long the reply waited, after the commit record applied, for
  // TT.after(s) (the part of commit wait that Paxos did not hide; for metrics).
  int64_t commit_wait_us = 0;
};

// Group-to-group messages, sent to the leader of `to` (the driver routes them; losing one is
// safe: participants ask again).
struct GroupMessage {
  enum class Type : uint8_t {
    kOutcome,   // coordinator -> participant: the decision
    kInquiry,   // participant -> coordinator: what happened to txn? (abort it if undecided)
    kAck,       // participant -> coordinator: the outcome is applied (logged) here
    kPrepared,  // participant -> coordinator: prepared here at commit_ts (its prepare timestamp)
  };
  Type type = Type::kOutcome;
  GroupId from = 0;
  GroupId to = 0;
  TxnId txn = 0;
  bool committed = false;   // kOutcome
  Timestamp commit_ts = 0;  // kOutcome, when committed; kPrepared: the prepare timestamp
  // The first try of a message on the common path (a coordinator's outcome once its commit wait
  // ends, a participant's ack once its finish applied): the sender may send it to the leader of
  // `to` it believes in, alone, instead of to every replica (only the leader acts on it). Every
  // retry (inquiries, answers to them, outcome resends) leaves this false and reaches every
  // replica, so a stale belief costs a retry interval, never progress.
  bool leader_only = false;
};

struct Actions {
  std::vector<Reply> replies;
  std::vector<GroupMessage> messages;
  // Call Tick once TT.after(tick_after) holds (a commit wait ends); 0 = nothing pending beyond
  // the driver's regular tick.
  Timestamp tick_after = 0;
};

// Asks the driver to tick once TT.after(t): the earliest such request wins (later ones are asked
// again by the ticks that follow).
inline void WakeAt(Actions* out, Timestamp t) {
  out->tick_after = out->tick_after == 0 ? t : std::min(out->tick_after, t);
}

// What one applied record did, for logs and the simulator's recorders.
struct ApplyResult {
  enum class Kind : uint8_t {
    kNone,       // a no-op or safe-time record
    kWrite,      // a single write: a put or delete record, outside any transaction
    kCommit,     // a coordinator's commit decision (its writes applied at ts)
    kAbort,      // a coordinator's abort decision
    kPrepare,    // a participant prepared at ts
    kFinish,     // a participant applied the outcome (its writes at ts when committed)
    kIgnored,    // a duplicate or superseded record (e.g. a commit after an abort decision)
    kOwnership,  // an ownership record took effect (ts: its timestamp; txn: versions erased)
    kRefused,    // an ownership record that could not take effect (changed nothing)
  };
  Kind kind = Kind::kNone;
  TxnId txn = 0;
  Timestamp ts = 0;
};

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_TYPES_H_
