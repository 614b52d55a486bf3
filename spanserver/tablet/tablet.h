// The non-transactional records of a data group's Paxos log: a put or a delete of one key at the
// commit timestamp the leader assigned inside its lease (the Kv service's single-key writes), and
// the apply result their proposer gets back. TxnTablet (txn_tablet.h) applies them, together with
// the transaction records, through txn::TransactionManager.
//
// An applied write's result is its commit timestamp, encoded with EncodeApplyResult (empty for a
// no-op or an ignored record); the proposer decodes it with DecodeApplyResult to commit-wait on it.
//
// Thread safety: pure functions.
#ifndef MERIDIAN_SPANSERVER_TABLET_TABLET_H_
#define MERIDIAN_SPANSERVER_TABLET_TABLET_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "truetime/interval.h"

namespace meridian::tablet {

using truetime::Timestamp;

// The serialized proto::TabletCommand for a put or a delete at `commit_ts`.
std::string EncodePutCommand(Timestamp commit_ts, std::string_view key, std::string_view value);
std::string EncodeDeleteCommand(Timestamp commit_ts, std::string_view key);

// Apply's result for an entry committed at `commit_ts`, and its inverse. DecodeApplyResult fails
// with INTERNAL when `result` is not such an encoding (e.g. the empty result of a no-op).
std::string EncodeApplyResult(Timestamp commit_ts);
absl::StatusOr<Timestamp> DecodeApplyResult(std::string_view result);

}  // namespace meridian::tablet

#endif  // MERIDIAN_SPANSERVER_TABLET_TABLET_H_
