// The records of a data group's Paxos log: what the transaction manager proposes and applies.
// Each normal entry's command is one record, a serialized proto::TabletCommand (proto/kv.proto);
// the numbers below are its protobuf field numbers. Protobuf leaves out fields that are zero or
// empty, and a field left out reads back as zero or empty.
//
//   record      := ts:int64(1) op                     exactly one op
//   op          := put(2) | delete(3) | commit(4) | prepare(5) | finish(6) | abort(7)
//                | safe_time(8) | ownership(9)
//   put         := key:bytes(1) value:bytes(2)        a single write: WriteRecord
//   delete      := key:bytes(1)                       a single delete: WriteRecord, no value
//   commit      := txn:uint64(1) start_ts:int64(2) mutation*(3) read:bytes*(4) participant*(5)
//   prepare     := txn:uint64(1) start_ts:int64(2) coordinator:uint64(3) mutation*(4)
//                  read:bytes*(5)
//   finish      := txn:uint64(1) committed:bool(2) commit_ts:int64(3)
//   abort       := txn:uint64(1) participant_group:uint64*(2)
//   safe_time   := forget:uint64*(1)
//   mutation    := key:bytes(1) value:bytes(2) is_delete:bool(3)      is_delete: no value
//   participant := group:uint64(1) prepare_ts:int64(2)
//   ownership   := op:enum(1) claim*(2) version*(3) horizon:int64(4) limit:uint64(5)
//   claim       := start:bytes(1) end:bytes(2) generation:uint64(3)
//   version     := key:bytes(1) ts:int64(2) value:bytes(3) is_delete:bool(4)
//
// What `ts` is: every record's timestamp, assigned by the leader inside its lease, increasing in
// the order it proposes. Records take effect in timestamp order: one at or below a record already
// applied (an earlier leader's, recovered late) is ignored. For a single write and a commit it is
// the commit timestamp; for a prepare, the prepare timestamp; for a finish, an abort or a
// safe-time record only a bound for t_paxos_safe (a finish carries the transaction's commit
// timestamp in its own field).
//
// Who writes what: the coordinator's leader logs commit (its decision, with its own writes and
// the participants' reported prepare timestamps) and abort (the decision, with the participants
// to tell); a participant's leader logs prepare and finish (the outcome it learned); any leader
// logs safe_time when idle or asked for a newer snapshot, and a coordinator's leader lists in it
// the decisions every participant acknowledged (`forget`). The manager never proposes single
// writes (every write is a transaction), but a log may hold them; spanserver/tablet/tablet.h
// encodes them.
//
// DecodeRecord returns DATA_LOSS — the log and this code disagree — when the bytes are not a
// TabletCommand, ts <= 0, no op is set, or a single write names an empty key.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_TXN_RECORDS_H_
#define MERIDIAN_TXN_RECORDS_H_

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "txn/ownership.h"
#include "txn/types.h"

namespace meridian::txn {

struct WriteRecord {  // put (value) or delete (no value)
  Mutation write;
  friend bool operator==(const WriteRecord&, const WriteRecord&) = default;
};
struct CommitRecord {
  TxnId txn = 0;
  Timestamp start_ts = 0;
  std::vector<Mutation> writes;              // the coordinator group's own
  std::vector<std::string> reads;            // keys read in the coordinator group
  std::vector<ParticipantRef> participants;  // with their reported prepare timestamps
  friend bool operator==(const CommitRecord&, const CommitRecord&) = default;
};
struct PrepareRecord {
  TxnId txn = 0;
  Timestamp start_ts = 0;
  GroupId coordinator = 0;
  std::vector<Mutation> writes;
  std::vector<std::string> reads;          // S-locked again by a new leader
  std::vector<KeyRange> read_ranges = {};  // scanned here: S-locked again by a new leader
  friend bool operator==(const PrepareRecord&, const PrepareRecord&) = default;
};
struct FinishRecord {
  TxnId txn = 0;
  bool committed = false;
  Timestamp commit_ts = 0;  // the transaction's, when committed
  friend bool operator==(const FinishRecord&, const FinishRecord&) = default;
};
struct AbortRecord {
  TxnId txn = 0;
  std::vector<GroupId> participants;
  friend bool operator==(const AbortRecord&, const AbortRecord&) = default;
};
struct SafeTimeRecord {
  std::vector<TxnId> forget;  // commit decisions every participant acknowledged
  friend bool operator==(const SafeTimeRecord&, const SafeTimeRecord&) = default;
};

struct OwnershipRecord {
  enum class Op : uint8_t { kIngest, kRelease, kAdopt, kDrop };
  Op op = Op::kIngest;
  std::vector<RangeClaim> claims;
  std::vector<Version> versions;  // kIngest
  Timestamp horizon = 0;          // kAdopt
  uint64_t limit = 0;             // kDrop
  friend bool operator==(const OwnershipRecord&, const OwnershipRecord&) = default;
};

using RecordBody = std::variant<WriteRecord, CommitRecord, PrepareRecord, FinishRecord, AbortRecord,
                                SafeTimeRecord, OwnershipRecord>;

struct Record {
  Timestamp ts = 0;
  RecordBody body;
  friend bool operator==(const Record&, const Record&) = default;
};

// The record's bytes (consumes `record`: its strings move into the encoding).
std::string EncodeRecord(Record record);
// Parses a record. DATA_LOSS as above; the message says what is wrong.
absl::StatusOr<Record> DecodeRecord(std::string_view bytes);
// One line, for logs and golden tests: "prepare ts=5 txn=7 start=3 coordinator=1 writes=[k=v]
// reads=[k]".
std::string RecordToString(const Record& record);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_RECORDS_H_
