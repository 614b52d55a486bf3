// TabletStateMachine: the replicated state of one tablet (one data group's key range) over the
// spanserver's shared storage::Engine. It is the replication::StateMachine a GroupHost applies
// committed Paxos entries to; the tablet id is the group id.
//
// Each normal entry carries a serialized proto::TabletCommand: a put or a delete of one key at the
// commit timestamp the leader assigned inside its lease. Apply writes that MVCC version (a value or
// a tombstone) without sync; ApplyToBatch, which GroupHost uses, adds it to the round's batch
// instead. Either way the Paxos log is the durable record, and after a restart every committed
// entry is applied again from the start. Re-applying is idempotent because a version is
// keyed by (tablet, key, commit_ts), so the same entry rewrites the same LevelDB key and value.
// No-op entries change nothing.
//
// Apply's result is the entry's commit timestamp, encoded with EncodeApplyResult (empty for a
// no-op); the proposer decodes it with DecodeApplyResult to commit-wait on it.
//
// Thread safety: Apply is called on the group's strand only (GroupHost guarantees one handler at a
// time). The encode/decode helpers are pure functions. The Engine is thread-safe and shared.
#ifndef MERIDIAN_SPANSERVER_TABLET_TABLET_H_
#define MERIDIAN_SPANSERVER_TABLET_TABLET_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "replication/group_host.h"
#include "spanserver/paxos/types.h"
#include "truetime/interval.h"

namespace meridian {
namespace storage {
class Engine;
class WriteBatch;
}  // namespace storage

namespace tablet {

using truetime::Timestamp;

// The serialized proto::TabletCommand for a put or a delete at `commit_ts`.
std::string EncodePutCommand(Timestamp commit_ts, std::string_view key, std::string_view value);
std::string EncodeDeleteCommand(Timestamp commit_ts, std::string_view key);

// Apply's result for an entry committed at `commit_ts`, and its inverse. DecodeApplyResult fails
// with INTERNAL when `result` is not such an encoding (e.g. the empty result of a no-op).
std::string EncodeApplyResult(Timestamp commit_ts);
absl::StatusOr<Timestamp> DecodeApplyResult(std::string_view result);

class TabletStateMachine : public replication::StateMachine {
 public:
  // `engine` is not owned and must outlive the state machine.
  TabletStateMachine(uint64_t tablet_id, storage::Engine* engine);

  // Writes the entry's version. INVALID_ARGUMENT for a command that does not parse, has no
  // operation, an empty key or a non-positive commit timestamp; the engine's error when the write
  // fails. Nothing is written on error.
  absl::StatusOr<std::string> Apply(const paxos::Entry& entry) override;
  // As Apply, but adds the version to `batch` rather than writing it. Nothing is added on error.
  absl::StatusOr<std::string> ApplyToBatch(const paxos::Entry& entry,
                                           storage::WriteBatch* batch) override;

  uint64_t tablet_id() const { return tablet_id_; }

 private:
  const uint64_t tablet_id_;
  storage::Engine* const engine_;
};

}  // namespace tablet
}  // namespace meridian

#endif  // MERIDIAN_SPANSERVER_TABLET_TABLET_H_
