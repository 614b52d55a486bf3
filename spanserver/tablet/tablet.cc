#include "spanserver/tablet/tablet.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/kv.pb.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::tablet {

std::string EncodePutCommand(Timestamp commit_ts, std::string_view key, std::string_view value) {
  proto::TabletCommand command;
  command.set_commit_ts(commit_ts);
  command.mutable_put()->set_key(key.data(), key.size());
  command.mutable_put()->set_value(value.data(), value.size());
  return command.SerializeAsString();
}

std::string EncodeDeleteCommand(Timestamp commit_ts, std::string_view key) {
  proto::TabletCommand command;
  command.set_commit_ts(commit_ts);
  command.mutable_delete_()->set_key(key.data(), key.size());
  return command.SerializeAsString();
}

std::string EncodeApplyResult(Timestamp commit_ts) { return absl::StrCat(commit_ts); }

absl::StatusOr<Timestamp> DecodeApplyResult(std::string_view result) {
  Timestamp ts = 0;
  if (!absl::SimpleAtoi(absl::string_view(result.data(), result.size()), &ts)) {
    return absl::InternalError(
        absl::StrCat("not a tablet apply result: '", std::string(result), "'"));
  }
  return ts;
}

TabletStateMachine::TabletStateMachine(uint64_t tablet_id, storage::Engine* engine)
    : tablet_id_(tablet_id), engine_(engine) {}

absl::StatusOr<std::string> TabletStateMachine::Apply(const paxos::Entry& entry) {
  storage::WriteBatch batch;
  ASSIGN_OR_RETURN(std::string result, ApplyToBatch(entry, &batch));
  if (!batch.empty()) RETURN_IF_ERROR(engine_->Write(batch, /*sync=*/false));
  return result;
}

absl::StatusOr<std::string> TabletStateMachine::ApplyToBatch(const paxos::Entry& entry,
                                                             storage::WriteBatch* batch) {
  if (entry.type == paxos::EntryType::kNoop) return std::string();
  proto::TabletCommand command;
  if (!command.ParseFromString(entry.command)) {
    return absl::InvalidArgumentError(
        absl::StrCat("tablet ", tablet_id_, ": entry ", entry.index, " is not a TabletCommand"));
  }
  const Timestamp ts = command.commit_ts();
  if (ts <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("tablet ", tablet_id_, ": entry ", entry.index, " has commit_ts ", ts));
  }
  switch (command.op_case()) {
    case proto::TabletCommand::kPut:
      if (command.put().key().empty()) break;
      batch->Put(tablet_id_, command.put().key(), ts, command.put().value());
      return EncodeApplyResult(ts);
    case proto::TabletCommand::kDelete:
      if (command.delete_().key().empty()) break;
      batch->Delete(tablet_id_, command.delete_().key(), ts);
      return EncodeApplyResult(ts);
    case proto::TabletCommand::kTxnCommit:
    case proto::TabletCommand::kTxnPrepare:
    case proto::TabletCommand::kTxnFinish:
    case proto::TabletCommand::kTxnAbort:
    case proto::TabletCommand::kSafeTime:
      return absl::FailedPreconditionError(
          absl::StrCat("tablet ", tablet_id_, ": entry ", entry.index,
                       " is a transaction record; data groups apply them through TxnTablet"));
    case proto::TabletCommand::OP_NOT_SET:
      return absl::InvalidArgumentError(
          absl::StrCat("tablet ", tablet_id_, ": entry ", entry.index, " has no operation"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("tablet ", tablet_id_, ": entry ", entry.index, " has an empty key"));
}

}  // namespace meridian::tablet
