#include "sql_lite/error.h"

#include <cstdio>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "sql_lite/text_util.h"

namespace meridian::sql {
namespace {

// Payload grammar: offset ':' line ':' column, each a decimal int32.
constexpr char kPositionPayload[] = "type.meridian/sql_lite.SourcePos";

}  // namespace

std::string PosToString(SourcePos pos) {
  return absl::StrCat("line ", pos.line, ", column ", pos.column);
}

absl::Status SyntaxError(SourcePos pos, std::string_view message) {
  absl::Status status =
      absl::InvalidArgumentError(absl::StrCat(Sv(message), " at ", PosToString(pos)));
  status.SetPayload(kPositionPayload,
                    absl::Cord(absl::StrCat(pos.offset, ":", pos.line, ":", pos.column)));
  return status;
}

absl::Status WithPosition(const absl::Status& status, SourcePos pos) {
  if (status.ok() || ErrorPosition(status).has_value()) return status;
  absl::Status out(status.code(), absl::StrCat(status.message(), " at ", PosToString(pos)));
  out.SetPayload(kPositionPayload,
                 absl::Cord(absl::StrCat(pos.offset, ":", pos.line, ":", pos.column)));
  return out;
}

std::optional<SourcePos> ErrorPosition(const absl::Status& status) {
  const auto payload = status.GetPayload(kPositionPayload);
  if (!payload.has_value()) return std::nullopt;
  SourcePos pos;
  const std::string text(*payload);
  if (std::sscanf(text.c_str(), "%d:%d:%d", &pos.offset, &pos.line, &pos.column) != 3) {
    return std::nullopt;
  }
  return pos;
}

}  // namespace meridian::sql
