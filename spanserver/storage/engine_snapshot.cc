// Engine, part four: group records (compaction point, checkpoint, install marker), consistent
// snapshots of the store, and the raw reads and writes that stream a group's data between servers.
#include <leveldb/db.h>
#include <leveldb/iterator.h>

#include <memory>

#include "common/status_macros.h"
#include "spanserver/storage/engine.h"
#include "spanserver/storage/format.h"
#include "spanserver/storage/leveldb_util.h"

namespace meridian::storage {

absl::StatusOr<std::optional<std::string>> Engine::LoadGroupRecord(char record,
                                                                   uint64_t group) const {
  return GetOptional(format::GroupRecordKey(static_cast<format::GroupRecord>(record), group));
}

Engine::Snapshot::~Snapshot() { db_->ReleaseSnapshot(snapshot_); }

std::unique_ptr<Engine::Snapshot> Engine::TakeSnapshot() const {
  return std::unique_ptr<Snapshot>(new Snapshot(db_.get(), db_->GetSnapshot()));
}

absl::StatusOr<std::vector<KeyValue>> Engine::ReadRaw(const Snapshot* snapshot,
                                                      std::string_view start, std::string_view end,
                                                      size_t max_bytes) const {
  leveldb::ReadOptions options = internal::CheckedReads();
  options.fill_cache = false;  // a snapshot stream reads everything once
  if (snapshot != nullptr) options.snapshot = snapshot->snapshot_;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  std::vector<KeyValue> out;
  size_t bytes = 0;
  for (it->Seek(internal::ToSlice(start)); it->Valid(); it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (key >= end) break;
    if (!out.empty() && bytes >= max_bytes) break;
    const std::string_view value = internal::ToView(it->value());
    bytes += key.size() + value.size();
    out.push_back(KeyValue{std::string(key), std::string(value)});
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  return out;
}

absl::StatusOr<size_t> Engine::EraseRange(std::string_view start, std::string_view end,
                                          size_t max_keys, WriteBatch* batch) const {
  leveldb::ReadOptions options = internal::CheckedReads();
  options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(options));
  size_t erased = 0;
  for (it->Seek(internal::ToSlice(start)); it->Valid() && erased < max_keys; it->Next()) {
    const std::string_view key = internal::ToView(it->key());
    if (key >= end) break;
    batch->EraseRaw(key);
    ++erased;
  }
  RETURN_IF_ERROR(internal::FromLevelDb(it->status()));
  return erased;
}

absl::Status Engine::ReloadHorizon(uint64_t tablet) {
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetOptional(format::HorizonKey(tablet)));
  Timestamp horizon = truetime::kMinTimestamp;
  if (value) RETURN_IF_ERROR(format::ParseHorizonValue(*value, &horizon));
  absl::MutexLock lock(&horizons_mu_);
  if (value) {
    horizons_[tablet] = horizon;
  } else {
    horizons_.erase(tablet);
  }
  return absl::OkStatus();
}

void Engine::BlockGc(uint64_t tablet) {
  absl::MutexLock lock(&gc_mu_);
  gc_blocked_.insert(tablet);
}

void Engine::UnblockGc(uint64_t tablet) {
  absl::MutexLock lock(&gc_mu_);
  gc_blocked_.erase(tablet);
}

}  // namespace meridian::storage
