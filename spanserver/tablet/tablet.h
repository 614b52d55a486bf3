// The non-transactional records of a data group's Paxos log: a put or a delete of one key at the
// commit timestamp the leader assigned inside its lease, and their apply result. Servers no
// longer propose them (the Kv service's writes are one-write transactions now, see
// TxnService::CommitWrite), but logs written before that hold them, so TxnTablet (txn_tablet.h)
// still applies them through txn::TransactionManager, and tests build them with these helpers.
//
// An applied write's result is its commit timestamp, encoded with EncodeApplyResult (empty for a
// no-op or an ignored record) and read back with DecodeApplyResult.
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
