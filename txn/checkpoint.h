// txn::CheckpointImage: the transaction manager's replicated state as of its last applied log
// entry — what TransactionManager::Checkpoint writes and Restore reads, so that the Paxos log up
// to that entry can be truncated — and its bytes, a serialized proto::TxnCheckpoint
// (proto/checkpoint.proto); the numbers below are its protobuf field numbers. Protobuf leaves out
// fields that are zero or empty, and a field left out reads back as zero or empty.
//
//   checkpoint  := version:uint32(1) group:uint64(2) applied(3) participant(4) decisions(5)
//                  claim*(6) end:fixed64(15)
//   claim       := start:bytes(1) end:bytes(2) generation:uint64(3) released:bool(4) ts:int64(5)
//   applied     := index:uint64(1) last_write_ts:int64(2) paxos_safe:int64(3)
//   participant := prepared*(1) finished:uint64*(2)
//   prepared    := txn:uint64(1) start_ts:int64(2) prepare_ts:int64(3) coordinator:uint64(4)
//                  mutation*(5) read:bytes*(6)
//   decisions   := decision*(1) local:uint64*(2) abort:uint64*(3) unforgotten_commit:uint64*(4)
//                  forgotten_commit:uint64*(5) forgotten_abort:uint64*(6)
//   decision    := txn:uint64(1) committed:bool(2) commit_ts:int64(3) participant:uint64*(4)
//   mutation    := key:bytes(1) value:bytes(2) is_delete:bool(3)      as in records.h
//
// What each part means (the parts' headers say more):
//   applied      AppliedState: the index of the last entry applied, LastTS, t_paxos_safe.
//   prepared     Participant: a prepared transaction (its prepare record, as applied).
//   finished     Participant: the ids of outcomes applied here (max_finished_outcomes).
//   decision     DecisionMemory: a coordinator's decision, as its record applied.
//   local        DecisionMemory: single-group decisions, in the order max_local_decisions
//                drops them.
//   abort        DecisionMemory: abort decisions with participants (max_abort_decisions).
//   unforgotten_commit  commit decisions with participants that no forget record named yet.
//   forgotten_commit, forgotten_abort  the ids left of dropped decisions (max_forgotten_ids).
//   claim        Ownership: a range the group's ownership records named, by start (ascending,
//                disjoint); an image without claims (older ones too) has none.
//
// Order: one state has one encoding. Prepared transactions and decisions are by ascending txn,
// unforgotten_commit ascending (they are maps and sets in memory). finished, local, abort and the
// forgotten lists are oldest first, as the bounds drop them, and are restored verbatim, so that a
// replica that restored an image drops the same ids later as one that replayed the whole log.
// local and abort may name ids no longer among the decisions: they still count against their
// bound (KeepNewest).
//
// version is kCheckpointVersion; a change of layout or meaning takes a new one. An image of
// another version is refused, never guessed at. end is kCheckpointEnd: protobuf writes fields in
// field number order, so an image cut short lacks it even where the cut falls between two fields
// (which protobuf itself would parse). Corruption inside the bytes is the storage's to detect.
//
// Not in an image: the data (the Store's; it must hold every version the image's entries wrote
// when the image is restored), and soft state — leader state, commit waits, waiting reads,
// timers, when a prepared transaction was last reported or asked about — which a replay of the
// log does not rebuild alike either (Coordinator::Save, Participant::Restore say why).
//
// DecodeCheckpoint returns DATA_LOSS when the bytes are not a TxnCheckpoint, the version is not
// kCheckpointVersion, end is not kCheckpointEnd, or a list that must be ascending or hold
// distinct ids does not.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_TXN_CHECKPOINT_H_
#define MERIDIAN_TXN_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "txn/applied_state.h"
#include "txn/decision_memory.h"
#include "txn/ownership.h"
#include "txn/participant.h"
#include "txn/types.h"

namespace meridian::txn {

inline constexpr uint32_t kCheckpointVersion = 1;
inline constexpr uint64_t kCheckpointEnd = 0x4d54584e43503031;  // "MTXNCP01"

struct CheckpointImage {
  GroupId group = 0;
  AppliedState::Image applied;
  Participant::Image participant;
  DecisionMemory::Image decisions;
  std::vector<Ownership::Entry> ownership;  // by start
};

std::string EncodeCheckpoint(const CheckpointImage& image);
// Parses an image. DATA_LOSS as above; the message says what is wrong.
absl::StatusOr<CheckpointImage> DecodeCheckpoint(std::string_view bytes);

}  // namespace meridian::txn

#endif  // MERIDIAN_TXN_CHECKPOINT_H_
