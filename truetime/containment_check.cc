#include "truetime/containment_check.h"

#include "absl/strings/str_cat.h"

namespace meridian::truetime {

absl::Status CheckContainsTrueTime(const Interval& interval, Timestamp true_us) {
  if (true_us < interval.earliest) {
    return absl::InternalError(absl::StrCat(
        "TrueTime violation: true time ", true_us, " is before earliest of [", interval.earliest,
        ", ", interval.latest, "] by ", interval.earliest - true_us, " us"));
  }
  if (true_us > interval.latest) {
    return absl::InternalError(absl::StrCat(
        "TrueTime violation: true time ", true_us, " is after latest of [", interval.earliest, ", ",
        interval.latest, "] by ", true_us - interval.latest, " us"));
  }
  return absl::OkStatus();
}

}  // namespace meridian::truetime
