#include "spanserver/storage/write_batch.h"

#include <leveldb/write_batch.h>

#include <utility>

#include "spanserver/storage/format.h"

namespace meridian::storage {
namespace {

leveldb::Slice ToSlice(std::string_view s) { return leveldb::Slice(s.data(), s.size()); }

}  // namespace

WriteBatch::WriteBatch() : rep_(std::make_unique<leveldb::WriteBatch>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&& other) noexcept
    : rep_(std::move(other.rep_)), count_(std::exchange(other.count_, 0)) {}
WriteBatch& WriteBatch::operator=(WriteBatch&& other) noexcept {
  rep_ = std::move(other.rep_);
  count_ = std::exchange(other.count_, 0);
  return *this;
}

leveldb::WriteBatch& WriteBatch::Rep() {
  if (rep_ == nullptr) rep_ = std::make_unique<leveldb::WriteBatch>();
  return *rep_;
}

void WriteBatch::Put(uint64_t tablet, std::string_view key, truetime::Timestamp ts,
                     std::string_view value) {
  Rep().Put(format::DataKey(tablet, key, ts), format::PutValue(value));
  ++count_;
}

void WriteBatch::Delete(uint64_t tablet, std::string_view key, truetime::Timestamp ts) {
  Rep().Put(format::DataKey(tablet, key, ts), format::TombstoneValue());
  ++count_;
}

void WriteBatch::AppendLog(uint64_t group, uint64_t index, std::string_view entry) {
  Rep().Put(format::LogKey(group, index), ToSlice(entry));
  ++count_;
}

void WriteBatch::EraseLog(uint64_t group, uint64_t index) {
  Rep().Delete(format::LogKey(group, index));
  ++count_;
}

void WriteBatch::SaveHardState(uint64_t group, std::string_view hard_state) {
  Rep().Put(format::HardStateKey(group), ToSlice(hard_state));
  ++count_;
}

void WriteBatch::EraseHardState(uint64_t group) {
  Rep().Delete(format::HardStateKey(group));
  ++count_;
}

void WriteBatch::SaveReplicaMarker(uint64_t group, std::string_view marker) {
  Rep().Put(format::ReplicaMarkerKey(group), ToSlice(marker));
  ++count_;
}

void WriteBatch::SaveGroupRecord(char record, uint64_t group, std::string_view value) {
  Rep().Put(format::GroupRecordKey(static_cast<format::GroupRecord>(record), group),
            ToSlice(value));
  ++count_;
}

void WriteBatch::EraseGroupRecord(char record, uint64_t group) {
  Rep().Delete(format::GroupRecordKey(static_cast<format::GroupRecord>(record), group));
  ++count_;
}

void WriteBatch::PutRaw(std::string_view key, std::string_view value) {
  Rep().Put(ToSlice(key), ToSlice(value));
  ++count_;
}

void WriteBatch::EraseRaw(std::string_view key) {
  Rep().Delete(ToSlice(key));
  ++count_;
}

void WriteBatch::Append(const WriteBatch& other) {
  if (other.rep_ == nullptr) return;
  Rep().Append(*other.rep_);
  count_ += other.count_;
}

void WriteBatch::Clear() {
  Rep().Clear();
  count_ = 0;
}

size_t WriteBatch::ApproximateBytes() const {
  return rep_ == nullptr ? leveldb::WriteBatch().ApproximateSize() : rep_->ApproximateSize();
}

}  // namespace meridian::storage
