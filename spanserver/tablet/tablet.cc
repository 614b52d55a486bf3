#include "spanserver/tablet/tablet.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "proto/kv.pb.h"

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

}  // namespace meridian::tablet
