// Engine's Paxos log and hard-state reads, log truncation and group listing.
#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <memory>

#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {

absl::StatusOr<std::vector<LogEntry>> Engine::ReadLog(uint64_t group, uint64_t lo, uint64_t hi,
                                                      size_t max_bytes) const {
  std::vector<LogEntry> out;
  if (lo >= hi) return out;
  const std::string end_key = format::LogKey(group, hi);
  size_t bytes = 0;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  for (it->Seek(format::LogKey(group, lo)); it->Valid(); it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (key >= end_key) break;
    uint64_t key_group = 0;
    LogEntry entry;
    RETURN_IF_ERROR(format::ParseLogKey(key, &key_group, &entry.index));
    if (key_group != group) break;
    const size_t size = it->value().size();
    if (!out.empty() && (bytes >= max_bytes || size > max_bytes - bytes)) break;
    bytes += size;
    entry.data = it->value().ToString();
    out.push_back(std::move(entry));
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  return out;
}

absl::StatusOr<std::optional<std::string>> Engine::ReadLogEntry(uint64_t group,
                                                                uint64_t index) const {
  std::string value;
  const leveldb::Status s =
      db_->Get(internal::CheckedReads(), format::LogKey(group, index), &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(internal::FromLevelDb(s));
  return value;
}

absl::StatusOr<std::optional<uint64_t>> Engine::FirstLogIndex(uint64_t group) const {
  const std::string prefix = format::GroupLogPrefix(group);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  it->Seek(prefix);
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  uint64_t key_group = 0;
  uint64_t index = 0;
  RETURN_IF_ERROR(format::ParseLogKey(internal::ToView(it->key()), &key_group, &index));
  return index;
}

absl::StatusOr<std::optional<uint64_t>> Engine::LastLogIndex(uint64_t group) const {
  const std::string prefix = format::GroupLogPrefix(group);
  const std::string after = keyenc::PrefixSuccessor(prefix);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  it->Seek(after);
  if (it->Valid()) {
    it->Prev();
  } else {
    RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
    it->SeekToLast();
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  if (!it->Valid() || !it->key().starts_with(prefix)) return std::nullopt;
  uint64_t key_group = 0;
  uint64_t index = 0;
  RETURN_IF_ERROR(format::ParseLogKey(internal::ToView(it->key()), &key_group, &index));
  return index;
}

absl::Status Engine::EraseLogRange(uint64_t group, uint64_t lo, uint64_t hi,
                                   WriteBatch* batch) const {
  const std::string prefix = format::GroupLogPrefix(group);
  const std::string end_key = hi == std::numeric_limits<uint64_t>::max()
                                  ? keyenc::PrefixSuccessor(prefix)
                                  : format::LogKey(group, hi);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  for (it->Seek(format::LogKey(group, lo)); it->Valid(); it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (key >= end_key) break;
    uint64_t key_group = 0;
    uint64_t index = 0;
    RETURN_IF_ERROR(format::ParseLogKey(key, &key_group, &index));
    batch->EraseLog(group, index);
  }
  return internal::FromLevelDb(it->status());
}

absl::Status Engine::TruncateLogPrefix(uint64_t group, uint64_t upto_exclusive,
                                       WriteBatch* batch) const {
  return EraseLogRange(group, 0, upto_exclusive, batch);
}

absl::Status Engine::TruncateLogSuffix(uint64_t group, uint64_t from_inclusive,
                                       WriteBatch* batch) const {
  return EraseLogRange(group, from_inclusive, std::numeric_limits<uint64_t>::max(), batch);
}

absl::Status Engine::TruncateLogPrefix(uint64_t group, uint64_t upto_exclusive) {
  WriteBatch batch;
  RETURN_IF_ERROR(TruncateLogPrefix(group, upto_exclusive, &batch));
  return batch.empty() ? absl::OkStatus() : Write(batch, /*sync=*/true);
}

absl::Status Engine::TruncateLogSuffix(uint64_t group, uint64_t from_inclusive) {
  WriteBatch batch;
  RETURN_IF_ERROR(TruncateLogSuffix(group, from_inclusive, &batch));
  return batch.empty() ? absl::OkStatus() : Write(batch, /*sync=*/true);
}

absl::StatusOr<std::optional<std::string>> Engine::LoadHardState(uint64_t group) const {
  return GetOptional(format::HardStateKey(group));
}

absl::StatusOr<std::optional<std::string>> Engine::LoadReplicaMarker(uint64_t group) const {
  return GetOptional(format::ReplicaMarkerKey(group));
}

absl::StatusOr<std::optional<std::string>> Engine::GetOptional(const std::string& key) const {
  std::string value;
  const leveldb::Status s = db_->Get(internal::CheckedReads(), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  RETURN_IF_ERROR(internal::FromLevelDb(s));
  return value;
}

absl::Status Engine::ListIds(char tag, std::vector<uint64_t>* ids) const {
  const std::string space(1, tag);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(internal::CheckedReads()));
  it->Seek(space);
  while (it->Valid() && it->key().starts_with(space)) {
    std::string_view key = internal::ToView(it->key());
    key.remove_prefix(1);
    uint64_t id = 0;
    if (!keyenc::ConsumeUint64(&key, &id).ok()) {
      return absl::DataLossError("storage: malformed key in space '" + space + "'");
    }
    ids->push_back(id);
    // Skip the rest of this id's keys.
    std::string id_prefix = space;
    keyenc::AppendUint64(&id_prefix, id);
    const std::string next = keyenc::PrefixSuccessor(id_prefix);
    if (next.empty() || next[0] != tag) break;
    it->Seek(next);
  }
  return internal::FromLevelDb(it->status());
}

absl::StatusOr<std::vector<uint64_t>> Engine::ListGroups() const {
  std::vector<uint64_t> log_groups;
  std::vector<uint64_t> hard_state_groups;
  RETURN_IF_ERROR(ListIds(format::kLogTag, &log_groups));
  RETURN_IF_ERROR(ListIds(format::kHardStateTag, &hard_state_groups));
  std::vector<uint64_t> out;
  std::set_union(log_groups.begin(), log_groups.end(), hard_state_groups.begin(),
                 hard_state_groups.end(), std::back_inserter(out));
  return out;
}

absl::StatusOr<std::vector<uint64_t>> Engine::ListMarkedGroups() const {
  std::vector<uint64_t> groups;
  RETURN_IF_ERROR(ListIds(format::kReplicaMarkerTag, &groups));
  return groups;
}

}  // namespace meridian::storage
