#include "replication/snapshot.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/key_encoding.h"
#include "common/status_macros.h"
#include "spanserver/storage/write_batch.h"

namespace meridian::replication {
namespace {

// Keys erased per batch while installing.
constexpr size_t kEraseBatchKeys = 10'000;

}  // namespace

std::string EncodeCheckpoint(paxos::Index index, std::string_view image) {
  std::string out;
  out.reserve(8 + image.size());
  keyenc::AppendUint64(&out, index);
  out.append(image);
  return out;
}

absl::Status DecodeCheckpoint(std::string_view bytes, paxos::Index* index, std::string* image) {
  uint64_t i = 0;
  if (!keyenc::ConsumeUint64(&bytes, &i).ok()) {
    return absl::DataLossError("malformed checkpoint record: shorter than its index");
  }
  *index = i;
  image->assign(bytes);
  return absl::OkStatus();
}

absl::Status EraseRanges(storage::Engine* engine, const std::vector<KeyRange>& ranges) {
  for (const KeyRange& range : ranges) {
    while (true) {
      storage::WriteBatch batch;
      ASSIGN_OR_RETURN(const size_t erased,
                       engine->EraseRange(range.start, range.end, kEraseBatchKeys, &batch));
      if (erased == 0) break;
      RETURN_IF_ERROR(engine->Write(batch, /*sync=*/false));
    }
  }
  return engine->Write(storage::WriteBatch(), /*sync=*/true);
}

SnapshotReader::SnapshotReader(storage::Engine* engine,
                               std::shared_ptr<storage::Engine::Snapshot> view,
                               std::vector<KeyRange> ranges, paxos::Index index, std::string image,
                               paxos::Config config, paxos::Index config_index)
    : engine_(engine),
      view_(std::move(view)),
      ranges_(std::move(ranges)),
      index_(index),
      image_(std::move(image)),
      config_(std::move(config)),
      config_index_(config_index) {
  if (!ranges_.empty()) cursor_ = ranges_.front().start;
}

absl::StatusOr<std::vector<storage::KeyValue>> SnapshotReader::Next(size_t max_bytes) {
  while (range_ < ranges_.size()) {
    ASSIGN_OR_RETURN(std::vector<storage::KeyValue> pairs,
                     engine_->ReadRaw(view_.get(), cursor_, ranges_[range_].end, max_bytes));
    if (!pairs.empty()) {
      cursor_ = pairs.back().key;
      cursor_.push_back('\0');  // the smallest key above the last one read
      return pairs;
    }
    if (++range_ < ranges_.size()) cursor_ = ranges_[range_].start;
  }
  return std::vector<storage::KeyValue>{};
}

SnapshotWriter::SnapshotWriter(storage::Engine* engine, paxos::GroupId group,
                               std::vector<KeyRange> ranges)
    : engine_(engine), group_(group), ranges_(std::move(ranges)) {}

absl::Status SnapshotWriter::Begin() {
  storage::WriteBatch marker;
  marker.SaveGroupRecord(kInstallRecord, group_, "");
  RETURN_IF_ERROR_CTX(engine_->Write(marker, /*sync=*/true), "recording the snapshot install");
  // A data group's tablet id is its group id (spanserver/tablet/txn_tablet.h).
  engine_->BlockGc(group_);
  RETURN_IF_ERROR_CTX(EraseRanges(engine_, ranges_), "erasing the group's data");
  begun_ = true;
  return absl::OkStatus();
}

bool SnapshotWriter::InRanges(std::string_view key) const {
  for (const KeyRange& r : ranges_) {
    if (key >= r.start && key < r.end) return true;
  }
  return false;
}

absl::Status SnapshotWriter::Add(const std::vector<storage::KeyValue>& pairs) {
  if (!begun_) return absl::FailedPreconditionError("snapshot pairs before Begin()");
  storage::WriteBatch batch;
  std::string last = last_key_;
  for (const storage::KeyValue& kv : pairs) {
    if (!InRanges(kv.key)) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot of group ", group_, " carries a key outside its data ranges"));
    }
    if (pairs_ + (&kv - pairs.data()) > 0 && kv.key <= last) {
      return absl::InvalidArgumentError(
          absl::StrCat("snapshot of group ", group_, " carries keys out of order"));
    }
    last = kv.key;
    batch.PutRaw(kv.key, kv.value);
  }
  RETURN_IF_ERROR(engine_->Write(batch, /*sync=*/false));
  last_key_ = std::move(last);
  pairs_ += pairs.size();
  return absl::OkStatus();
}

}  // namespace meridian::replication
