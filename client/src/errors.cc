#include "meridian/errors.h"

#include "absl/strings/cord.h"

namespace meridian {

bool IsOutcomeUnknown(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kOutcomeUnknownPayload).has_value();
}

absl::Status MarkOutcomeUnknown(absl::Status status) {
  if (!status.ok()) status.SetPayload(kOutcomeUnknownPayload, absl::Cord());
  return status;
}

}  // namespace meridian
