#include "sql_lite/kv.h"

#include <chrono>

namespace meridian::sql {

int64_t KvDatabase::NowMicros() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::vector<std::optional<std::string>>> KvReader::GetMany(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values;
  for (const std::string& key : keys) {
    absl::StatusOr<std::optional<std::string>> value = Get(key);
    if (!value.ok()) return value.status();
    values.push_back(*std::move(value));
  }
  return values;
}

absl::StatusOr<std::vector<std::optional<std::string>>> KvReader::GetManyForUpdate(
    const std::vector<std::string>& keys) {
  std::vector<std::optional<std::string>> values;
  for (const std::string& key : keys) {
    absl::StatusOr<std::optional<std::string>> value = GetForUpdate(key);
    if (!value.ok()) return value.status();
    values.push_back(*std::move(value));
  }
  return values;
}

absl::StatusOr<KvPointReads> KvDatabase::ReadKeys(const ReadBound& bound,
                                                  const std::vector<std::string>& keys) {
  KvPointReads out;
  absl::StatusOr<int64_t> ts = RunReadOnly(bound, [&](KvSnapshot& snapshot) -> absl::Status {
    out.values.clear();
    for (const std::string& key : keys) {
      absl::StatusOr<std::optional<std::string>> value = snapshot.Get(key);
      if (!value.ok()) return value.status();
      out.values.push_back(*std::move(value));
    }
    return absl::OkStatus();
  });
  if (!ts.ok()) return ts.status();
  out.read_timestamp = *ts;
  return out;
}

}  // namespace meridian::sql
