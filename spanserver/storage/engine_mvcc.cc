// Engine's MVCC reads and garbage collection. The layout they rely on is in format.h: all versions
// of one user key are contiguous and newest first, so the newest version at or below read_ts is
// the first key at or after UserKeyPrefix + desc_int64(read_ts).
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <memory>

#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {
namespace {

// GC writes its deletions in chunks of this many, so memory stays bounded on a large tablet.
constexpr size_t kGcDeletesPerWrite = 1024;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> Engine::Get(uint64_t tablet, std::string_view key,
                                                       Timestamp read_ts) const {
  internal::ReadSnapshot snapshot(db_.get());
  RETURN_IF_ERROR(CheckReadable(tablet, read_ts));
  const std::string prefix = format::UserKeyPrefix(tablet, key);
  std::string target = prefix;
  keyenc::AppendDescendingInt64(&target, read_ts);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(snapshot.options()));
  it->Seek(target);
  // Checked also when the iterator is valid: a table whose block failed its checksum is skipped
  // by the merge, which then stands on a later key of another table (the error is in status()).
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  if (!it->Valid()) return std::nullopt;
  const std::string_view found = internal::ToView(it->key());
  if (!StartsWith(found, prefix)) return std::nullopt;
  if (found.size() != prefix.size() + format::kTimestampBytes) {
    return absl::DataLossError("storage: malformed data key under " + std::string(key));
  }
  bool tombstone = false;
  std::string_view value;
  RETURN_IF_ERROR(format::ParseDataValue(internal::ToView(it->value()), &tombstone, &value));
  if (tombstone) return std::nullopt;
  return std::string(value);
}

absl::StatusOr<std::vector<KeyValue>> Engine::Scan(uint64_t tablet, std::string_view start,
                                                   std::string_view end, Timestamp read_ts,
                                                   size_t limit) const {
  internal::ReadSnapshot snapshot(db_.get());
  RETURN_IF_ERROR(CheckReadable(tablet, read_ts));
  const std::string start_key = format::UserKeyPrefix(tablet, start);
  const std::string end_key = end.empty()
                                  ? keyenc::PrefixSuccessor(format::TabletDataPrefix(tablet))
                                  : format::UserKeyPrefix(tablet, end);
  std::vector<KeyValue> out;
  // The UserKeyPrefix of the last key whose visible version was found; its older versions are
  // skipped.
  std::string decided;
  format::DataKeyParts parts;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(snapshot.options()));
  for (it->Seek(start_key); it->Valid(); it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (key >= end_key) break;
    if (!decided.empty() && StartsWith(key, decided)) continue;
    RETURN_IF_ERROR(format::ParseDataKey(key, &parts));
    if (parts.ts > read_ts) continue;
    decided.assign(key.data(), key.size() - format::kTimestampBytes);
    bool tombstone = false;
    std::string_view value;
    RETURN_IF_ERROR(format::ParseDataValue(internal::ToView(it->value()), &tombstone, &value));
    if (tombstone) continue;
    out.push_back(KeyValue{std::move(parts.user_key), std::string(value)});
    if (limit != 0 && out.size() >= limit) break;
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  return out;
}

absl::StatusOr<uint64_t> Engine::CollectGarbage(uint64_t tablet, Timestamp horizon) {
  absl::MutexLock gc_lock(&gc_mu_);
  if (gc_blocked_.contains(tablet)) return uint64_t{0};
  horizon = std::max(horizon, GcHorizon(tablet));
  // Raise the horizon before deleting anything (see CheckReadable), and persist it first: the
  // LevelDB log is applied in order, so no deletion can survive a crash without the horizon.
  {
    absl::MutexLock lock(&horizons_mu_);
    horizons_[tablet] = horizon;
  }
  {
    leveldb::WriteBatch batch;
    batch.Put(format::HorizonKey(tablet), format::HorizonValue(horizon));
    RETURN_IF_ERROR(internal::FromLevelDb(db_->Write(leveldb::WriteOptions(), &batch)));
  }

  internal::ReadSnapshot snapshot(db_.get());
  const std::string prefix = format::TabletDataPrefix(tablet);
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(snapshot.options()));
  leveldb::WriteBatch deletes;
  size_t pending = 0;
  uint64_t removed = 0;
  // The UserKeyPrefix of the current key and whether its newest version <= horizon was seen.
  std::string current;
  bool seen_at_or_below_horizon = false;
  format::DataKeyParts parts;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (!StartsWith(key, prefix)) break;
    RETURN_IF_ERROR(format::ParseDataKey(key, &parts));
    const std::string_view key_prefix = key.substr(0, key.size() - format::kTimestampBytes);
    if (key_prefix != current) {
      current.assign(key_prefix.data(), key_prefix.size());
      seen_at_or_below_horizon = false;
    }
    if (parts.ts > horizon) continue;
    bool drop = seen_at_or_below_horizon;
    if (!seen_at_or_below_horizon) {
      seen_at_or_below_horizon = true;
      bool tombstone = false;
      std::string_view value;
      RETURN_IF_ERROR(format::ParseDataValue(internal::ToView(it->value()), &tombstone, &value));
      drop = tombstone;
    }
    if (!drop) continue;
    deletes.Delete(it->key());
    ++removed;
    if (++pending == kGcDeletesPerWrite) {
      RETURN_IF_ERROR(internal::FromLevelDb(db_->Write(leveldb::WriteOptions(), &deletes)));
      deletes.Clear();
      pending = 0;
    }
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  if (pending > 0) {
    RETURN_IF_ERROR(internal::FromLevelDb(db_->Write(leveldb::WriteOptions(), &deletes)));
  }
  return removed;
}

}  // namespace meridian::storage
