#include "spanserver/storage/format.h"

#include "common/key_encoding.h"

namespace meridian::storage::format {
namespace {

absl::Status Malformed(const char* what, std::string_view bytes) {
  return absl::DataLossError(std::string("storage: malformed ") + what + " (" +
                             std::to_string(bytes.size()) + " bytes)");
}

std::string TaggedUint64(char tag, uint64_t id) {
  std::string out(1, tag);
  keyenc::AppendUint64(&out, id);
  return out;
}

// Parses `tag uint64` filling the whole of `key`.
absl::Status ParseTaggedUint64(std::string_view key, char tag, const char* what, uint64_t* id) {
  if (key.size() != 9 || key[0] != tag) return Malformed(what, key);
  key.remove_prefix(1);
  if (!keyenc::ConsumeUint64(&key, id).ok()) return Malformed(what, key);
  return absl::OkStatus();
}

}  // namespace

std::string TabletDataPrefix(uint64_t tablet) { return TaggedUint64(kDataTag, tablet); }

std::string UserKeyPrefix(uint64_t tablet, std::string_view user_key) {
  std::string out = TabletDataPrefix(tablet);
  keyenc::AppendBytes(&out, user_key);
  return out;
}

std::string DataKey(uint64_t tablet, std::string_view user_key, truetime::Timestamp ts) {
  std::string out = UserKeyPrefix(tablet, user_key);
  keyenc::AppendDescendingInt64(&out, ts);
  return out;
}

absl::Status ParseDataKey(std::string_view key, DataKeyParts* parts) {
  const std::string_view whole = key;
  if (key.empty() || key[0] != kDataTag) return Malformed("data key", whole);
  key.remove_prefix(1);
  if (!keyenc::ConsumeUint64(&key, &parts->tablet).ok() ||
      !keyenc::ConsumeBytes(&key, &parts->user_key).ok() ||
      !keyenc::ConsumeDescendingInt64(&key, &parts->ts).ok() || !key.empty()) {
    return Malformed("data key", whole);
  }
  return absl::OkStatus();
}

std::string PutValue(std::string_view value) {
  std::string out;
  out.reserve(1 + value.size());
  out.push_back(kPutTag);
  out.append(value);
  return out;
}

std::string TombstoneValue() { return std::string(1, kTombstoneTag); }

absl::Status ParseDataValue(std::string_view data_value, bool* tombstone, std::string_view* value) {
  if (data_value.empty()) return Malformed("data value", data_value);
  if (data_value[0] == kPutTag) {
    *tombstone = false;
    *value = data_value.substr(1);
    return absl::OkStatus();
  }
  if (data_value[0] == kTombstoneTag && data_value.size() == 1) {
    *tombstone = true;
    *value = std::string_view();
    return absl::OkStatus();
  }
  return Malformed("data value", data_value);
}

std::string GroupLogPrefix(uint64_t group) { return TaggedUint64(kLogTag, group); }

std::string LogKey(uint64_t group, uint64_t index) {
  std::string out = GroupLogPrefix(group);
  keyenc::AppendUint64(&out, index);
  return out;
}

absl::Status ParseLogKey(std::string_view key, uint64_t* group, uint64_t* index) {
  const std::string_view whole = key;
  if (key.size() != 17 || key[0] != kLogTag) return Malformed("log key", whole);
  key.remove_prefix(1);
  if (!keyenc::ConsumeUint64(&key, group).ok() || !keyenc::ConsumeUint64(&key, index).ok()) {
    return Malformed("log key", whole);
  }
  return absl::OkStatus();
}

std::string HardStateKey(uint64_t group) { return TaggedUint64(kHardStateTag, group); }

absl::Status ParseHardStateKey(std::string_view key, uint64_t* group) {
  return ParseTaggedUint64(key, kHardStateTag, "hard-state key", group);
}

std::string ReplicaMarkerKey(uint64_t group) { return TaggedUint64(kReplicaMarkerTag, group); }

std::string HorizonKey(uint64_t tablet) { return TaggedUint64(kHorizonTag, tablet); }

std::string FormatKey() { return std::string(1, kFormatTag); }

std::string FormatValue(uint64_t version) {
  std::string out;
  keyenc::AppendUint64(&out, version);
  return out;
}

absl::Status ParseFormatValue(std::string_view value, uint64_t* version) {
  const std::string_view whole = value;
  if (value.size() != 8 || !keyenc::ConsumeUint64(&value, version).ok()) {
    return Malformed("format version", whole);
  }
  return absl::OkStatus();
}

std::string GroupRecordKey(GroupRecord record, uint64_t group) {
  return TaggedUint64(static_cast<char>(record), group);
}

absl::Status ParseHorizonKey(std::string_view key, uint64_t* tablet) {
  return ParseTaggedUint64(key, kHorizonTag, "horizon key", tablet);
}

std::string HorizonValue(truetime::Timestamp horizon) {
  std::string out;
  keyenc::AppendInt64(&out, horizon);
  return out;
}

absl::Status ParseHorizonValue(std::string_view value, truetime::Timestamp* horizon) {
  const std::string_view whole = value;
  if (value.size() != 8 || !keyenc::ConsumeInt64(&value, horizon).ok()) {
    return Malformed("horizon value", whole);
  }
  return absl::OkStatus();
}

}  // namespace meridian::storage::format
